"""The management account's Organization stack: OUs, the accounts placed in them, service
control policies and their attachments and sizes, the tag policy, delegated administrators."""

from __future__ import annotations

import json

import pytest

from constructs_lib.organization import guardrails
from constructs_lib.organization.structure import OrganizationGuardrails, ServiceControlPolicy
from stages.stacks.organization import SECURITY_SERVICES, UNIT_FOR_ROLE
from tests.conftest import new_stack
from tests.helpers import by_sid, props
from tests.test_config import broken, problems_of


@pytest.fixture(scope="module")
def stack(organisation):
    return organisation.stacks["management"]["Organization"]


def units(stack) -> dict[str, str]:
    """OU name -> logical id."""
    return {
        props(r)["Name"]: logical
        for logical, r in stack.of_type("AWS::Organizations::OrganizationalUnit").items()
    }


def scps(stack) -> dict[str, dict]:
    return {
        props(p)["Name"]: p
        for p in stack.of_type("AWS::Organizations::Policy").values()
        if props(p)["Type"] == "SERVICE_CONTROL_POLICY"
    }


def setup(stack) -> tuple[str, dict]:
    ((logical, resource),) = stack.of_type("Custom::OrganizationSetup").items()
    return logical, resource


def test_one_ou_per_account_role_under_the_root(stack, sample_config):
    found = stack.of_type("AWS::Organizations::OrganizationalUnit").values()
    assert {props(u)["Name"] for u in found} == {
        "Security",
        "Infrastructure",
        "Workloads",
        "Sandbox",
    }
    assert {props(u)["ParentId"] for u in found} == {sample_config.organization.root_id}


def test_every_member_account_is_placed_in_its_roles_ou(stack, sample_config):
    by_name = units(stack)
    _, resource = setup(stack)
    placement = {
        p["AccountId"]: p["ParentId"]["Fn::GetAtt"][0] for p in props(resource)["Placement"]
    }
    expected = {
        account.id: by_name[UNIT_FOR_ROLE[account.role]]
        for account in sample_config.accounts.values()
        if account.role != "management"
    }
    assert placement == expected


def test_scps_are_attached_where_they_belong_and_fit_the_limits(stack, sample_config):
    """The baseline, deploy-path and region SCPs sit on the root, so an account in no OU (or
    one added by hand) is covered too; SCPs never apply to the management account itself."""
    by_name = {**units(stack), "(root)": sample_config.organization.root_id}
    attached: dict[str, list[str]] = {}
    for name, policy in scps(stack).items():
        assert guardrails.size(props(policy)["Content"]) <= guardrails.SCP_MAX_CHARACTERS, name
        for target in props(policy)["TargetIds"]:
            key = target if isinstance(target, str) else target["Fn::GetAtt"][0]
            attached.setdefault(key, []).append(name)
    assert {unit: sorted(attached.get(logical, [])) for unit, logical in by_name.items()} == {
        "(root)": ["exco-baseline", "exco-deploy-path", "exco-regions"],
        "Security": ["exco-log-archive"],
        "Infrastructure": [],
        "Workloads": [],
        "Sandbox": [],
    }
    for names in attached.values():  # AWS's FullAWSAccess takes one of the five places
        assert len(names) + 1 <= guardrails.SCP_MAX_PER_TARGET


def test_scps_wait_for_the_policy_types_to_be_enabled(stack):
    """The setup answers only once each policy type is ENABLED on the root (it waits out
    PENDING_ENABLE: tests/test_organization_setup.py); every policy, and so every
    attachment, is created after it."""
    logical, resource = setup(stack)
    policies = stack.of_type("AWS::Organizations::Policy").values()
    for policy in policies:
        assert logical in policy["DependsOn"]
    assert {props(p)["Type"] for p in policies} <= set(props(resource)["PolicyTypes"])


def setup_policy(stack) -> tuple[str, dict[str, dict]]:
    """The setup function's policy: logical id, statements by Sid."""
    ((logical, policy),) = (
        (k, p)
        for k, p in stack.of_type("AWS::IAM::Policy").items()
        if "EnablePolicyTypes" in json.dumps(p)
    )
    return logical, {s["Sid"]: s for s in props(policy)["PolicyDocument"]["Statement"]}


def test_the_setup_runs_only_once_its_permissions_exist(stack):
    """CloudFormation would otherwise create the separate policy in parallel with the
    custom resource, whose function could then run without it."""
    policy, _ = setup_policy(stack)
    _, resource = setup(stack)
    assert resource["DependsOn"] == [policy]


def test_resource_sharing_with_the_organisation_is_enabled_through_ram(stack):
    """The network hub shares its Transit Gateway with the organisation: that needs RAM's
    EnableSharingWithAwsOrganization, which also creates RAM's service-linked role."""
    _, resource = setup(stack)
    assert props(resource)["ResourceSharing"] is True
    _, by_sid = setup_policy(stack)
    assert by_sid["ResourceSharing"]["Action"] == "ram:EnableSharingWithAwsOrganization"
    role = (
        "arn:aws:iam::111111111111:role/aws-service-role/ram.amazonaws.com/"
        "AWSServiceRoleForResourceAccessManager"
    )
    slr = by_sid["CreateServiceLinkedRoles"]
    assert role in slr["Resource"]
    assert "ram.amazonaws.com" in slr["Condition"]["StringEquals"]["iam:AWSServiceName"]
    trusted = by_sid["TrustedAccess"]["Condition"]["StringEquals"]
    assert "ram.amazonaws.com" in trusted["organizations:ServicePrincipal"]


def test_guardduty_designation_has_the_organizations_reads_guardduty_documents(stack):
    _, by_sid = setup_policy(stack)
    assert {
        "organizations:DescribeAccount",
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "organizations:ListDelegatedAdministrators",
        "organizations:ListAWSServiceAccessForOrganization",
    } <= set(by_sid["ReadTheOrganization"]["Action"])
    assert "guardduty.amazonaws.com" in json.dumps(by_sid["TrustedAccess"]["Condition"])


def test_get_role_is_limited_by_role_arns_not_by_a_condition_it_never_meets(stack):
    """iam:AWSServiceName is in CreateServiceLinkedRole's request only: under that
    condition, GetRole was never allowed."""
    _, by_sid = setup_policy(stack)
    (get_role,) = (s for s in by_sid.values() if "iam:GetRole" in json.dumps(s["Action"]))
    assert "Condition" not in get_role
    assert get_role["Action"] == "iam:GetRole"
    assert sorted(get_role["Resource"]) == [
        "arn:aws:iam::111111111111:role/aws-service-role/cloudtrail.amazonaws.com/"
        "AWSServiceRoleForCloudTrail",
        "arn:aws:iam::111111111111:role/aws-service-role/guardduty.amazonaws.com/"
        "AWSServiceRoleForAmazonGuardDuty",
        "arn:aws:iam::111111111111:role/aws-service-role/ram.amazonaws.com/"
        "AWSServiceRoleForResourceAccessManager",
    ]
    assert by_sid["CreateServiceLinkedRoles"]["Resource"] == get_role["Resource"]


def statements(policy: dict) -> dict[str, dict]:
    return by_sid(props(policy)["Content"]["Statement"])


def test_the_baseline_denies(stack):
    baseline = statements(scps(stack)["exco-baseline"])
    assert baseline["DenyLeavingTheOrganization"]["Action"] == ["organizations:LeaveOrganization"]
    assert baseline["DenyLongLivedAccessKeys"]["Action"] == ["iam:CreateAccessKey"]
    assert baseline["DenyMemberAccountRootUser"]["Condition"] == {
        "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}
    }
    services = baseline["DenyDisablingSecurityServices"]
    for action in (
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "guardduty:DeleteDetector",
        "securityhub:DisableSecurityHub",
        "config:StopConfigurationRecorder",
        "access-analyzer:DeleteAnalyzer",
    ):
        assert action in services["Action"], action
    # Only the platform's own deployments (the caller's account's execution role, an exact
    # ARN once resolved) may change them: tests/test_guardrails.py evaluates who.
    (exempt,) = services["Condition"]["ArnNotEquals"].values()
    assert (
        "arn:aws:iam::${aws:PrincipalAccount}:role/"
        "cdk-hnb659fds-cfn-exec-role-${aws:PrincipalAccount}-eu-west-1"
    ) in exempt
    assert not any("*" in arn for arn in exempt)


def test_regions_outside_the_allowed_list_are_denied_global_services_excepted(stack, sample_config):
    (deny,) = statements(scps(stack)["exco-regions"]).values()
    assert deny["Condition"] == {
        "StringNotEquals": {
            "aws:RequestedRegion": sorted(sample_config.organization.allowed_regions)
        }
    }
    assert {"iam:*", "organizations:*", "sts:*", "cloudfront:*", "route53:*"} <= set(
        deny["NotAction"]
    )


def test_the_log_archive_cannot_be_deleted_or_reconfigured(stack, organisation):
    """The object-locked archive and the Config bucket beside it, alike."""
    archive = organisation.stacks["security"]["LogArchive"]
    (name,) = (
        props(b)["BucketName"]
        for b in archive.of_type("AWS::S3::Bucket").values()
        if "ObjectLockEnabled" in props(b)
    )
    (config,) = (
        props(b)["BucketName"]
        for b in archive.of_type("AWS::S3::Bucket").values()
        if "-config-delivery-" in props(b)["BucketName"]
    )
    policy = statements(scps(stack)["exco-log-archive"])
    delete = policy["DenyDeletingTheLogArchive"]
    buckets = [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{config}"]
    assert delete["Resource"] == [*buckets, *(f"{b}/*" for b in buckets)]
    assert {"s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(delete["Action"])
    assert "Condition" not in delete  # not even the platform's deployments
    change = policy["DenyChangingTheLogArchive"]
    assert change["Resource"] == buckets
    assert {"s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"} <= set(change["Action"])


def test_tag_policy_on_the_root_spells_the_cost_allocation_tags(stack, sample_config):
    (policy,) = (
        p
        for p in stack.of_type("AWS::Organizations::Policy").values()
        if props(p)["Type"] == "TAG_POLICY"
    )
    assert props(policy)["TargetIds"] == [sample_config.organization.root_id]
    tags = props(policy)["Content"]["tags"]
    assert set(tags) == {*sample_config.tags, "Environment"}
    assert tags["CostCenter"] == {"tag_key": {"@@assign": "CostCenter"}}
    assert "prod" in tags["Environment"]["tag_value"]["@@assign"]


def test_the_security_account_administers_every_security_service(stack, sample_config):
    _, security = sample_config.account_with_role("security")
    _, resource = setup(stack)
    assert props(resource)["ServiceAccess"] == list(SECURITY_SERVICES)
    assert props(resource)["PolicyTypes"] == ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]
    admins = {
        a["ServicePrincipal"]: a["AccountId"] for a in props(resource)["DelegatedAdministrators"]
    }
    assert admins == {s: security.id for s in SECURITY_SERVICES}
    (hub,) = stack.of_type("AWS::SecurityHub::DelegatedAdmin").values()
    assert props(hub)["AdminAccountId"] == security.id  # CloudFormation has the home region's


def test_guardduty_and_security_hub_are_administered_in_every_allowed_region(stack, sample_config):
    """Their designation is regional: GuardDuty's in every allowed region through the setup,
    Security Hub's through CloudFormation at home and through the setup elsewhere."""
    allowed = sorted(sample_config.organization.allowed_regions)
    home = sample_config.organization.home_region
    _, resource = setup(stack)
    regions = {
        a["ServicePrincipal"]: a.get("Regions") for a in props(resource)["DelegatedAdministrators"]
    }
    assert regions["guardduty.amazonaws.com"] == allowed
    assert regions["securityhub.amazonaws.com"] == [r for r in allowed if r != home]
    assert regions["config.amazonaws.com"] is None  # Organizations' registration: global
    _, by_sid = setup_policy(stack)
    guardduty = by_sid["GuardDutyAdministrators"]
    assert guardduty["Condition"] == {"StringEquals": {"aws:RequestedRegion": allowed}}
    assert by_sid["SecurityHubAdministrators"]["Resource"] == [
        f"arn:aws:securityhub:{r}:{stack.account}:hub/default" for r in allowed if r != home
    ]


def test_the_setup_function_may_touch_only_this_organisation(stack, sample_config):
    org = sample_config.organization
    (function,) = stack.of_type("AWS::Lambda::Function").values()
    assert props(function)["Runtime"] == "python3.14"
    _, by_sid = setup_policy(stack)
    root = json.dumps(by_sid["EnablePolicyTypes"]["Resource"])
    assert f"root/{org.id}/{org.root_id}" in root
    moves = json.dumps(by_sid["PlaceAccounts"]["Resource"])
    assert f"ou/{org.id}/ou-*" in moves
    assert "account/*" not in moves


def scp(name: str, document: dict, units=("A",)) -> ServiceControlPolicy:
    return ServiceControlPolicy(name, "test", document, units)


def guardrails_with(policies) -> None:
    stack = new_stack()
    OrganizationGuardrails(
        stack,
        "Guardrails",
        organization_id="o-abcdefghij",
        root_id="r-abcd",
        units={"A": ["123456789012"]},
        policies=policies,
        tag_policy={"tags": {}},
        service_access=[],
        delegated_administrators={},
    )


def test_an_scp_over_the_size_limit_is_refused():
    huge = {"Version": "2012-10-17", "Statement": [{"Sid": "x" * 5200}]}
    with pytest.raises(
        ValueError, match="policies: 'big' is 5249 characters; SCPs are limited to 5120"
    ):
        guardrails_with([scp("big", huge)])


def test_an_scp_for_an_unknown_ou_is_refused():
    with pytest.raises(ValueError, match=r"policies: 'x' targets unknown OUs \['B'\]"):
        guardrails_with([scp("x", guardrails.deny_regions_outside(["eu-west-1"]), units=("B",))])


def test_more_than_five_scps_on_one_target_are_refused():
    """AWS's FullAWSAccess is one of the five an OU or the root may hold."""
    document = guardrails.deny_regions_outside(["eu-west-1"])
    with pytest.raises(
        ValueError,
        match=r"policies: \(root\) would hold 5 SCPs and FullAWSAccess; AWS allows 5 ",
    ):
        guardrails_with([scp(f"p{i}", document, units=("(root)",)) for i in range(5)])


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [("organization.id", "org-123")],
            "organization.id: must be the organisation id: o- and 10-32 lowercase letters or "
            "digits (got 'org-123')",
        ),
        (
            [("organization.root_id", ...)],
            "organization.root_id: required key is missing",
        ),
    ],
)
def test_bad_organization_ids_are_refused_with_their_path(sample_raw, edits, expected):
    assert problems_of(broken(sample_raw, *edits))[0].startswith(expected)


def test_the_setup_turns_on_cross_account_backup_with_exactly_its_permissions(stack):
    """The data accounts copy every recovery point into the security account's vault: the
    management account's setup enables AWS Backup's trusted access and its cross-account
    setting, and its function may do that and nothing more of AWS Backup."""
    (setup,) = stack.of_type("Custom::OrganizationSetup").values()
    assert props(setup)["CrossAccountBackup"] is True
    _, by_sid = setup_policy(stack)
    assert by_sid["CrossAccountBackup"]["Action"] == [
        "backup:DescribeGlobalSettings",
        "backup:UpdateGlobalSettings",
    ]
    backup_actions = {
        a
        for s in by_sid.values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if a.startswith("backup:")
    }
    assert backup_actions == {"backup:DescribeGlobalSettings", "backup:UpdateGlobalSettings"}
    services = by_sid["TrustedAccess"]["Condition"]["StringEquals"][
        "organizations:ServicePrincipal"
    ]
    assert "backup.amazonaws.com" in services
