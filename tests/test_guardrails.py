"""The guardrails hold against a member account's administrator: exemptions are exact ARNs of
the deploy path, the deploy path itself cannot be changed or borrowed, every denied action
exists, detection cannot be silenced, the archive's keys cannot be destroyed, and no platform
key lets a principal grant its use away."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources as package_data

import pytest

from facts.cdk import BOOTSTRAP_ROLE_NAME, cdk_role_arn
from pipelines.promotion import PIPELINE_STACK_ID
from stages.stacks.organization import PIPELINE_STACKS
from tests import iam_check
from tests.helpers import props

DEV, SECURITY = "444444444444", "222222222222"
ADMIN = f"arn:aws:iam::{DEV}:role/Admin"
"""Any administrator of a member account."""


@pytest.fixture(scope="module")
def scps(organisation) -> dict[str, dict]:
    stack = organisation.stacks["management"]["Organization"]
    return {
        props(p)["Name"]: props(p)["Content"]
        for p in stack.of_type("AWS::Organizations::Policy").values()
        if props(p)["Type"] == "SERVICE_CONTROL_POLICY"
    }


def statements(scps, *names) -> list[dict]:
    return [s for name in names for s in scps[name]["Statement"]]


def denied(scps, names, principal, action, resource, **context) -> bool:
    return iam_check.denied_by_scps(
        statements(scps, *names),
        action,
        resource,
        {
            **iam_check.principal_context(principal),
            "aws:RequestedRegion": "eu-west-1",
            **context,
        },
    )


@cache
def _authorization_reference() -> dict[str, set[str]]:
    """The Service Authorization Reference as cfn-lint ships it: service prefix -> actions
    (lower case)."""
    data = json.loads(
        package_data.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").read_text()
    )
    return {service: set(entry["Actions"]) for service, entry in data.items()}


def _exists(action: str) -> bool:
    service, name = action.lower().split(":")
    known = _authorization_reference().get(service, set())
    if "*" in name:
        prefix = name.rstrip("*")
        return any(a.startswith(prefix) for a in known)
    return name in known


def test_every_action_an_scp_names_exists(scps):
    """A misspelt action in a Deny denies nothing, silently."""
    for name, document in scps.items():
        for statement in document["Statement"]:
            for key in ("Action", "NotAction"):
                actions = statement.get(key, [])
                for action in [actions] if isinstance(actions, str) else actions:
                    if action != "*":
                        assert _exists(action), f"{name}: {action}"


def test_the_check_would_notice_a_misspelt_action():
    assert _exists("guardduty:CreateFilter")
    assert not _exists("guardduty:CreateFilters")


def test_exemptions_are_the_exact_deploy_path_of_every_member_account(scps, sample_config):
    """The execution roles of every member account in every region it deploys to, and no other
    role, may change the security services; the exemption names no pattern."""
    members = {n: a for n, a in sample_config.accounts.items() if a.role != "management"}
    execution = {
        cdk_role_arn("cfn-exec", account.id, region)
        for name, account in members.items()
        for region in sample_config.deployment_regions(name)
    }
    assert len(execution) == 18  # 6 member accounts x 3 allowed regions
    for role in execution:
        assert not denied(scps, ["exco-baseline"], role, "config:StopConfigurationRecorder", "*")
    for account in members.values():
        for other in (
            cdk_role_arn("cfn-exec", account.id, "ap-south-1"),  # a region it is not in
            cdk_role_arn("deploy", account.id, "eu-west-1"),
            f"arn:aws:iam::{account.id}:role/{BOOTSTRAP_ROLE_NAME}",
        ):
            assert denied(scps, ["exco-baseline"], other, "config:StopConfigurationRecorder", "*")
    for document in scps.values():
        for statement in document["Statement"]:
            for principals in statement.get("Condition", {}).get("ArnNotEquals", {}).values():
                assert not any("*" in p or "?" in p for p in principals), statement["Sid"]


def test_the_own_account_exemption_needs_the_known_deploy_path(scps):
    """The baseline names the execution role of the caller's own account
    (`${aws:PrincipalAccount}`), which in an account the platform does not know (one invited
    with CDK's own bootstrap) resolves to that account's role: only the known accounts' deploy
    roles may pass a `cdk-` role to CloudFormation, so nobody there can put it to work."""
    stranger = "999999999999"
    role = cdk_role_arn("cfn-exec", stranger, "eu-west-1")
    its_deploy_role = cdk_role_arn("deploy", stranger, "eu-west-1")
    assert denied(scps, ["exco-deploy-path"], its_deploy_role, "iam:PassRole", role)
    assert denied(
        scps,
        ["exco-deploy-path"],
        f"arn:aws:iam::{stranger}:role/{BOOTSTRAP_ROLE_NAME}",
        "iam:UpdateAssumeRolePolicy",
        role,
    )
    known = cdk_role_arn("deploy", DEV, "eu-west-1")
    assert not denied(
        scps,
        ["exco-deploy-path"],
        known,
        "iam:PassRole",
        cdk_role_arn("cfn-exec", DEV, "eu-west-1"),
    )


def test_an_admin_cannot_make_a_role_the_old_pattern_exempted(scps):
    """`arn:aws:iam::*:role/cdk-hnb659fds-cfn-exec-role-*` used to be exempt: any
    administrator could create a role of that name."""
    impostor = f"arn:aws:iam::{DEV}:role/cdk-hnb659fds-cfn-exec-role-mine"
    assert denied(scps, ["exco-deploy-path"], ADMIN, "iam:CreateRole", impostor)
    assert denied(scps, ["exco-baseline"], impostor, "guardduty:DeleteDetector", "*")
    real = cdk_role_arn("cfn-exec", DEV, "eu-west-1")
    assert not denied(scps, ["exco-baseline"], real, "guardduty:DeleteDetector", "*")


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{DEV}:role/OrganizationAccountAccessRole"),
        ("iam:DeleteRole", f"arn:aws:iam::{DEV}:role/OrganizationAccountAccessRole"),
        ("iam:AttachRolePolicy", cdk_role_arn("deploy", DEV, "eu-west-1")),
        ("iam:UpdateAssumeRolePolicy", cdk_role_arn("cfn-exec", DEV, "eu-west-1")),
        ("iam:DeleteRolePermissionsBoundary", cdk_role_arn("cfn-exec", DEV, "eu-west-1")),
        ("iam:TagRole", cdk_role_arn("lookup", DEV, "eu-west-1")),
        (
            "iam:CreatePolicyVersion",
            f"arn:aws:iam::{DEV}:policy/cdk-hnb659fds-permissions-boundary",
        ),
        (
            "iam:SetDefaultPolicyVersion",
            f"arn:aws:iam::{DEV}:policy/cdk-hnb659fds-cfn-exec-policy-eu-west-1",
        ),
        ("iam:DeletePolicy", f"arn:aws:iam::{DEV}:policy/cdk-hnb659fds-permissions-boundary"),
        ("iam:PassRole", cdk_role_arn("cfn-exec", DEV, "eu-west-1")),
        (
            "cloudformation:UpdateStack",
            f"arn:aws:cloudformation:eu-west-1:{DEV}:stack/dev-Cluster/x",
        ),
        (
            "cloudformation:ExecuteChangeSet",
            f"arn:aws:cloudformation:eu-west-1:{DEV}:stack/dev-Network/x",
        ),
        (
            "cloudformation:DeleteStack",
            f"arn:aws:cloudformation:us-east-1:{DEV}:stack/dev-EdgeGlobal/x",
        ),
    ],
)
def test_an_admin_cannot_change_or_borrow_the_deploy_path(scps, action, resource):
    assert denied(scps, ["exco-deploy-path"], ADMIN, action, resource)


def test_the_deploy_path_itself_still_works(scps):
    bootstrap = f"arn:aws:iam::{DEV}:role/OrganizationAccountAccessRole"
    deploy = cdk_role_arn("deploy", DEV, "eu-west-1")
    exec_role = cdk_role_arn("cfn-exec", DEV, "eu-west-1")
    path = ["exco-deploy-path", "exco-baseline"]
    assert not denied(scps, path, bootstrap, "iam:CreateRole", exec_role)
    assert not denied(
        scps,
        path,
        bootstrap,
        "iam:CreatePolicyVersion",
        f"arn:aws:iam::{DEV}:policy/cdk-hnb659fds-permissions-boundary",
    )
    # The deploy role hands CloudFormation the execution role (CDK's bootstrap template:
    # its deploy role policy is the only iam:PassRole of it).
    assert not denied(scps, path, deploy, "iam:PassRole", exec_role)
    assert not denied(
        scps,
        path,
        deploy,
        "cloudformation:ExecuteChangeSet",
        f"arn:aws:cloudformation:eu-west-1:{DEV}:stack/dev-Cluster/x",
    )
    # A role in this account named after another account's deploy role is nobody's.
    impostor = f"arn:aws:iam::{DEV}:role/cdk-hnb659fds-deploy-role-555555555555-eu-west-1"
    assert denied(scps, path, impostor, "iam:PassRole", exec_role)
    assert denied(scps, path, bootstrap, "iam:PassRole", exec_role)


def test_the_platform_has_no_nested_stacks_and_the_pipeline_stacks_are_named(organisation):
    """The execution role would operate a nested stack, and is not exempt for that."""
    for stack in organisation.all_stacks():
        assert not stack.of_type("AWS::CloudFormation::Stack"), stack.id
    assert f"{PIPELINE_STACK_ID}*" == PIPELINE_STACKS


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        (
            "guardduty:CreateFilter",
            "arn:aws:guardduty:eu-west-1:444444444444:detector/d/filter/f",
            {},
        ),
        ("guardduty:CreateIPSet", "*", {}),
        ("guardduty:DeleteThreatIntelSet", "*", {}),
        ("guardduty:DeletePublishingDestination", "*", {}),
        ("guardduty:UpdateOrganizationConfiguration", "*", {}),
        ("securityhub:CreateAutomationRule", "*", {}),
        ("securityhub:BatchUpdateStandardsControlAssociations", "*", {}),
        ("securityhub:UpdateSecurityHubConfiguration", "*", {}),
        ("config:PutConfigurationRecorder", "*", {}),
        ("config:PutDeliveryChannel", "*", {}),
        ("ec2:DeleteFlowLogs", "*", {}),
        ("access-analyzer:CreateArchiveRule", "*", {}),
        ("access-analyzer:ApplyArchiveRule", "*", {}),
        ("s3:PutAccountPublicAccessBlock", "*", {}),
        ("ram:CreateResourceShare", "*", {"ram:RequestedAllowsExternalPrincipals": "true"}),
        ("ram:UpdateResourceShare", "*", {"ram:RequestedAllowsExternalPrincipals": "true"}),
    ],
)
def test_an_admin_cannot_silence_detection(scps, action, resource, context):
    assert denied(scps, ["exco-baseline"], ADMIN, action, resource, **context)


def test_sharing_inside_the_organisation_stays_open(scps):
    assert not denied(
        scps,
        ["exco-baseline"],
        ADMIN,
        "ram:CreateResourceShare",
        "*",
        **{"ram:RequestedAllowsExternalPrincipals": "false"},
    )


def test_the_archive_keys_and_the_security_setup_are_the_execution_roles_alone(scps):
    admin = f"arn:aws:iam::{SECURITY}:role/Admin"
    exec_role = cdk_role_arn("cfn-exec", SECURITY, "eu-west-1")
    key = f"arn:aws:kms:eu-west-1:{SECURITY}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for action in (
        "kms:ScheduleKeyDeletion",
        "kms:PutKeyPolicy",
        "kms:DisableKey",
        "kms:CreateGrant",
    ):
        assert denied(scps, ["exco-log-archive"], admin, action, key), action
        assert not denied(scps, ["exco-log-archive"], exec_role, action, key), action
    setup_role = f"arn:aws:iam::{SECURITY}:role/exco-security-services-setup"
    function = f"arn:aws:lambda:eu-west-1:{SECURITY}:function:exco-security-services-setup"
    for action, resource in (
        ("iam:PassRole", setup_role),
        ("iam:PutRolePolicy", setup_role),
        ("iam:UpdateAssumeRolePolicy", setup_role),
        ("lambda:UpdateFunctionCode", function),
        ("lambda:InvokeFunction", function),
    ):
        assert denied(scps, ["exco-log-archive"], admin, action, resource), action
    # CloudFormation invokes the custom resource's function as the execution role.
    assert not denied(scps, ["exco-log-archive"], exec_role, "lambda:InvokeFunction", function)


def test_the_config_bucket_is_guarded_like_the_archive(scps):
    """Config delivers beside the object-locked archive (it refuses object lock): no one
    deletes that bucket or a recording, and only the execution role changes its settings."""
    admin = f"arn:aws:iam::{SECURITY}:role/Admin"
    exec_role = cdk_role_arn("cfn-exec", SECURITY, "eu-west-1")
    bucket = f"arn:aws:s3:::exco-security-config-delivery-{SECURITY}-eu-west-1"
    recording = f"{bucket}/AWSLogs/{DEV}/Config/eu-west-1/2025/1/1/ConfigHistory/x.json.gz"
    for principal in (admin, exec_role):
        assert denied(scps, ["exco-log-archive"], principal, "s3:DeleteBucket", bucket)
        for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert denied(scps, ["exco-log-archive"], principal, action, recording), action
    for action in (
        "s3:PutBucketPolicy",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketLogging",
    ):
        assert denied(scps, ["exco-log-archive"], admin, action, bucket), action
        assert not denied(scps, ["exco-log-archive"], exec_role, action, bucket), action


def _covers(statement: dict, action: str) -> bool:
    def match(patterns) -> bool:
        patterns = [patterns] if isinstance(patterns, str) else patterns
        return any(iam_check._like(p.lower(), action.lower()) for p in patterns)

    if "NotAction" in statement:
        return not match(statement["NotAction"])
    return match(statement.get("Action", []))


NON_AWS_RESOURCE_GRANTS: dict[str, str] = {}
"""Key (stage/stack/logical id) -> why a principal may create grants on it that are not for
an AWS resource. None needs one: the services that attach the platform's keys to resources
(EBS and Auto Scaling for nodes, RDS, OpenSearch, ElastiCache, MSK, Backup, Lambda, EKS)
create their grants as integrated services, with kms:GrantIsForAWSResource true."""

NOT_YET_CONVERTED: dict[str, str] = {}
"""Keys (by a part of their stack or logical id) that still carry CDK's default `kms:*` for
the account, and why: none."""


def test_no_key_lets_a_principal_grant_its_use_away(organisation):
    """Every statement that allows kms:CreateGrant on a platform key limits it to grants for
    AWS resources (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource)."""
    offenders = set()
    for stack in organisation.all_stacks():
        for logical, key in stack.of_type("AWS::KMS::Key").items():
            where = f"{stack.stage}/{stack.id}" if stack.stage else ""
            for statement in props(key)["KeyPolicy"]["Statement"]:
                if statement["Effect"] != "Allow" or not _covers(statement, "kms:CreateGrant"):
                    continue
                condition = statement.get("Condition", {})
                if condition.get("Bool", {}).get("kms:GrantIsForAWSResource") in ("true", True):
                    continue
                # Only through one service (e.g. CDK's statement for a Secrets Manager secret):
                # a grant can then be made only by that service, for its own resources.
                if "kms:ViaService" in condition.get("StringEquals", {}):
                    continue
                if f"{where}/{logical}" in NON_AWS_RESOURCE_GRANTS:
                    continue
                name = f"{where or stack.id}/{logical}"
                if not any(part in name for part in NOT_YET_CONVERTED):
                    offenders.add(name)
    assert not offenders


def test_the_archive_key_separates_administration_from_use(organisation):
    archive = organisation.stacks["security"]["LogArchive"]
    (key,) = archive.of_type("AWS::KMS::Key").values()
    use = (
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:ReEncryptFrom",
        "kms:CreateGrant",
    )
    for statement in props(key)["KeyPolicy"]["Statement"]:
        principal = json.dumps(statement["Principal"])
        if ":root" in principal:
            for action in use:
                if _covers(statement, action):
                    assert action == "kms:Decrypt", statement["Sid"]
                    assert statement["Condition"] == {
                        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
                    }
        elif "cloudtrail" in principal:  # the trail only writes
            assert not _covers(statement, "kms:Decrypt")


def test_guardduty_watches_databases_and_manages_the_eks_agent(organisation):
    audit = organisation.stacks["security"]["Audit"]
    (detector,) = audit.of_type("Custom::GuardDutyDetector").values()
    settings = props(detector)["GuardDutyDetector"]
    assert "RDS_LOGIN_EVENTS" in settings["Features"]
    assert settings["AdditionalConfiguration"] == {"RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT"]}


def test_security_hub_aggregates_the_other_allowed_regions(organisation, sample_config):
    audit = organisation.stacks["security"]["Audit"]
    (aggregator,) = audit.of_type("AWS::SecurityHub::FindingAggregator").values()
    assert props(aggregator) == {
        "RegionLinkingMode": "SPECIFIED_REGIONS",
        "Regions": sorted(set(sample_config.organization.allowed_regions) - {"eu-west-1"}),
    }
    (hub,) = audit.of_type("Custom::SecurityHub")
    assert aggregator["DependsOn"] == [hub]


def test_guardduty_and_security_hub_run_in_every_allowed_region(organisation, sample_config):
    """The security account's detector, GuardDuty's and Security Hub's organisation
    auto-enable and its hub with its standards cover every allowed region, not only the
    home region (CloudFormation's own resources) and the others (the setup function)."""
    audit = organisation.stacks["security"]["Audit"]
    others = sorted(set(sample_config.organization.allowed_regions) - {audit.region})
    (detector,) = audit.of_type("Custom::GuardDutyDetector").values()
    assert props(detector)["GuardDutyDetector"]["Regions"] == others
    (members,) = audit.of_type("Custom::OrganizationSetup").values()
    assert props(members)["GuardDutyOrganization"]["Regions"] == others
    (hub,) = audit.of_type("Custom::SecurityHub").values()
    assert sorted(props(hub)["SecurityHub"]["Regions"]) == others
    (elsewhere,) = audit.of_type("Custom::SecurityHubOrganization").values()
    assert props(elsewhere)["SecurityHubOrganization"] == {"Regions": others}
    assert audit.of_type("AWS::SecurityHub::OrganizationConfiguration")  # the home region


def test_disabling_detection_stays_denied_in_every_allowed_region(organisation, sample_config):
    """The baseline SCP's denies hold whatever region a call names: none of its detection
    statements is limited by aws:RequestedRegion, and the setup function's exemption from
    Security Hub's auto-enable deny is the only new one."""
    stack = organisation.stacks["management"]["Organization"]
    (baseline,) = (
        p["Properties"]["Content"]
        for p in stack.of_type("AWS::Organizations::Policy").values()
        if p["Properties"]["Name"].endswith("-baseline")
    )
    by_sid = {s["Sid"]: s for s in baseline["Statement"]}
    for sid in ("DenyDisablingSecurityServices", "DenyChangingDetectionSettings"):
        assert "aws:RequestedRegion" not in json.dumps(by_sid[sid].get("Condition", {})), sid
    auto = by_sid["DenyChangingAutoEnable"]
    assert auto["Action"] == ["securityhub:UpdateOrganizationConfiguration"]
    security = sample_config.accounts["security"].id
    exempt = auto["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert all(a.startswith(f"arn:aws:iam::{security}:role/") for a in exempt)
    assert f"arn:aws:iam::{security}:role/exco-security-services-setup" in exempt


def test_no_stack_declares_what_guardduty_runtime_monitoring_makes(organisation):
    """GuardDuty installs `aws-guardduty-agent` on every cluster itself (with a VPC endpoint
    and a security group): an AWS::EKS::Addon of that name would collide with it."""
    from facts.aws_behaviour import IMPLICIT_RESOURCES

    made = {b.resource_type for b in IMPLICIT_RESOURCES if b.where != "administrator"}
    assert {"AWS::EC2::VPCEndpoint", "AWS::EKS::Addon"} <= made
    for stack in organisation.all_stacks():
        for addon in stack.of_type("AWS::EKS::Addon").values():
            assert props(addon)["AddonName"] != "aws-guardduty-agent", stack.id


LOAD_BALANCER = (
    f"arn:aws:elasticloadbalancing:eu-west-1:{DEV}:loadbalancer/app/web/0123456789abcdef"
)
CLASSIC = f"arn:aws:elasticloadbalancing:eu-west-1:{DEV}:loadbalancer/web"


@pytest.mark.parametrize("resource", [LOAD_BALANCER, CLASSIC])
@pytest.mark.parametrize(
    "principal",
    [ADMIN, cdk_role_arn("cfn-exec", DEV, "eu-west-1"), cdk_role_arn("deploy", DEV, "eu-west-1")],
)
def test_no_one_creates_an_internet_facing_load_balancer(scps, principal, resource):
    """Not an administrator, a controller in a cluster, nor the deploy path: the internet
    comes in through CloudFront's VPC origin to an internal ALB. A request without a scheme
    gets AWS's default, internet-facing, so it is denied too."""
    create = "elasticloadbalancing:CreateLoadBalancer"
    root = ["exco-baseline"]
    scheme = "elasticloadbalancing:Scheme"
    assert denied(scps, root, principal, create, resource, **{scheme: "internet-facing"})
    assert denied(scps, root, principal, create, resource)
    assert not denied(scps, root, principal, create, resource, **{scheme: "internal"})


def test_the_load_balancer_deny_is_attached_at_the_root(organisation):
    """At the root, so it covers every member account, the workload accounts included."""
    stack = organisation.stacks["management"]["Organization"]
    (setup,) = stack.of_type("Custom::OrganizationSetup").values()
    (baseline,) = (
        p
        for p in stack.of_type("AWS::Organizations::Policy").values()
        if props(p)["Name"] == "exco-baseline"
    )
    assert props(baseline)["TargetIds"] == [props(setup)["RootId"]]
    assert "DenyInternetFacingLoadBalancers" in {
        s["Sid"] for s in props(baseline)["Content"]["Statement"]
    }


def test_the_edge_load_balancer_is_internal(organisation):
    """The one load balancer the platform declares is internal, so the deny never meets the
    deploy path."""
    found = [
        props(r).get("Scheme")
        for stack in organisation.all_stacks()
        for r in stack.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    ] + [
        props(r).get("Scheme")
        for stack in organisation.all_stacks()
        for r in stack.of_type("AWS::ElasticLoadBalancing::LoadBalancer").values()
    ]
    assert found and set(found) == {"internal"}
