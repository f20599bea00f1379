"""The OrganizationSetup custom-resource handler against moto: create, update, delete,
already-registered, policy types that take time, RAM sharing, GuardDuty's detector, Security
Hub, and the answer CloudFormation always gets.

Every call the handler makes is recorded (`tests.aws_calls`); tests/test_handler_permissions.py
runs these tests again and checks each call against the function's policy in the template.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.guardduty.models import guardduty_backends
from moto.organizations.models import FakeDelegatedAdministrator

from runtime.organization_setup import handler as setup
from tests import aws_calls

REGION = "eu-west-1"
ANALYZER = "access-analyzer.amazonaws.com"
CONFIG = "config.amazonaws.com"
FSBP = "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS = "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0"


BACKUP_SETTINGS: dict[str, str] = {}
"""The management account's AWS Backup global settings, as the double keeps them."""


class Session:
    """boto3 clients on moto, each call recorded; where moto lacks a call or one of its
    effects, a narrow double does what AWS documents (through clients that are not recorded):

    - CloudTrail's delegated-admin registration is an Organizations registration for
      cloudtrail.amazonaws.com; GuardDuty's disable removes the admin account.
    - RAM's EnableSharingWithAwsOrganization is moto's own call, plus what moto leaves out:
      trusted access for ram.amazonaws.com and RAM's service-linked role.
    - Security Hub's configuration and standards calls (moto has none) keep their state in
      `hub_settings` and `standards`.
    - AWS Backup's global settings (moto has none) keep theirs in `BACKUP_SETTINGS`, the
      account's, which the `org` fixture resets.
    """

    region_name = REGION

    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.backdoor = boto3.Session(region_name=REGION)
        self.calls: list[aws_calls.Call] = []
        self.hub_settings: dict[str, Any] = {}
        self.standards: dict[str, str] = {}
        self.hub_admins: dict[str, set[str]] = {}
        """Security Hub's delegated administrators by region (moto cannot list them)."""

    def _record(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> None:
        aws_calls.record(service, operation, region=region, **params)
        self.calls.append(aws_calls.Call(service, operation, params, region=region))

    def client(self, name: str, region_name: str | None = None) -> Any:
        region = region_name or REGION
        client = self.session.client(name, region_name=region)
        client.meta.events.register(
            "before-parameter-build",
            lambda params, model, **_: self.calls.append(
                aws_calls.Call(name, model.name, dict(params), region=region)
            ),
        )
        aws_calls.watch(client)
        if name == "cloudtrail":
            organizations = self.backdoor.client("organizations")

            def register(MemberAccountId: str) -> None:
                self._record(
                    name, "RegisterOrganizationDelegatedAdmin", MemberAccountId=MemberAccountId
                )
                organizations.register_delegated_administrator(
                    AccountId=MemberAccountId, ServicePrincipal=setup.CLOUDTRAIL
                )

            def deregister(DelegatedAdminAccountId: str) -> None:
                self._record(
                    name,
                    "DeregisterOrganizationDelegatedAdmin",
                    DelegatedAdminAccountId=DelegatedAdminAccountId,
                )
                organizations.deregister_delegated_administrator(
                    AccountId=DelegatedAdminAccountId, ServicePrincipal=setup.CLOUDTRAIL
                )

            client.register_organization_delegated_admin = register
            client.deregister_organization_delegated_admin = deregister
        if name == "guardduty":

            def disable(AdminAccountId: str) -> None:
                self._record(
                    name,
                    "DisableOrganizationAdminAccount",
                    region=region,
                    AdminAccountId=AdminAccountId,
                )
                guardduty_backends[DEFAULT_ACCOUNT_ID][region].admin_account_ids.remove(
                    AdminAccountId
                )

            client.disable_organization_admin_account = disable
        if name == "ram":
            enable = client.enable_sharing_with_aws_organization

            def share() -> dict:
                answer = enable()
                self.backdoor.client("organizations").enable_aws_service_access(
                    ServicePrincipal=setup.RAM
                )
                self.backdoor.client("iam").create_role(
                    RoleName="AWSServiceRoleForResourceAccessManager",
                    Path=setup.RAM_ROLE_PATH,
                    AssumeRolePolicyDocument="{}",
                )
                return answer

            client.enable_sharing_with_aws_organization = share
        if name == "securityhub":
            self._double_security_hub(client, region)
        if name == "backup":
            self._double_backup(client)
        return client

    def _double_security_hub(self, client: Any, region: str) -> None:
        describe = client.describe_hub
        settings = self.hub_settings if region == REGION else {}
        admins = self.hub_admins.setdefault(region, set())

        def describe_hub() -> dict:
            return {**describe(), **settings}

        def update_security_hub_configuration(**changes: Any) -> dict:
            self._record("securityhub", "UpdateSecurityHubConfiguration", region=region, **changes)
            settings.update(changes)
            return {}

        def list_organization_admin_accounts() -> dict:
            self._record("securityhub", "ListOrganizationAdminAccounts", region=region)
            return {"AdminAccounts": [{"AccountId": a, "Status": "ENABLED"} for a in admins]}

        def enable_organization_admin_account(AdminAccountId: str) -> dict:
            self._record(
                "securityhub",
                "EnableOrganizationAdminAccount",
                region=region,
                AdminAccountId=AdminAccountId,
            )
            admins.add(AdminAccountId)
            return {}

        def disable_organization_admin_account(AdminAccountId: str) -> dict:
            self._record(
                "securityhub",
                "DisableOrganizationAdminAccount",
                region=region,
                AdminAccountId=AdminAccountId,
            )
            admins.discard(AdminAccountId)
            return {}

        def get_enabled_standards(**params: Any) -> dict:
            self._record("securityhub", "GetEnabledStandards", region=region, **params)
            return {
                "StandardsSubscriptions": [
                    {
                        "StandardsArn": arn,
                        "StandardsSubscriptionArn": subscription,
                        "StandardsStatus": "READY",
                    }
                    for arn, subscription in self.standards.items()
                    if f":{region}:" in arn
                ]
            }

        def batch_enable_standards(StandardsSubscriptionRequests: list) -> dict:
            self._record(
                "securityhub",
                "BatchEnableStandards",
                region=region,
                StandardsSubscriptionRequests=StandardsSubscriptionRequests,
            )
            for request in StandardsSubscriptionRequests:
                arn = request["StandardsArn"]
                self.standards[arn] = arn.replace("::standards/", ":123456789012:subscription/")
            return {}

        client.describe_hub = describe_hub
        client.update_security_hub_configuration = update_security_hub_configuration
        client.get_enabled_standards = get_enabled_standards
        client.batch_enable_standards = batch_enable_standards
        client.list_organization_admin_accounts = list_organization_admin_accounts
        client.enable_organization_admin_account = enable_organization_admin_account
        client.disable_organization_admin_account = disable_organization_admin_account

    def _double_backup(self, client: Any) -> None:
        def describe_global_settings() -> dict:
            self._record("backup", "DescribeGlobalSettings")
            return {"GlobalSettings": dict(BACKUP_SETTINGS)}

        def update_global_settings(GlobalSettings: dict) -> dict:
            self._record("backup", "UpdateGlobalSettings", GlobalSettings=GlobalSettings)
            BACKUP_SETTINGS.update(GlobalSettings)
            return {}

        client.describe_global_settings = describe_global_settings
        client.update_global_settings = update_global_settings

    def mutations(self) -> list[str]:
        return [
            c.operation
            for c in self.calls
            if not c.operation.startswith(("List", "Describe", "Get"))
        ]


@pytest.fixture
def org(monkeypatch):
    # moto 5.2's list of services that take a delegated administrator predates Config's
    # aggregator and CloudTrail's organisation trails; AWS accepts both.
    monkeypatch.setattr(
        FakeDelegatedAdministrator,
        "SUPPORTED_SERVICES",
        [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, CONFIG, setup.CLOUDTRAIL],
    )
    BACKUP_SETTINGS.clear()
    BACKUP_SETTINGS["isCrossAccountBackupEnabled"] = "false"
    with mock_aws():
        client = boto3.client("organizations", region_name=REGION)
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]

        def account(name: str) -> str:
            status = client.create_account(AccountName=name, Email=f"{name}@example.com")
            return status["CreateAccountStatus"]["AccountId"]

        def unit(name: str) -> str:
            return client.create_organizational_unit(ParentId=root, Name=name)[
                "OrganizationalUnit"
            ]["Id"]

        yield {
            "client": client,
            "root": root,
            "security": account("security"),
            "dev": account("dev"),
            "Security": unit("Security"),
            "Workloads": unit("Workloads"),
        }


@pytest.fixture
def account():
    """One account of its own (the security account's view: no organisation needed)."""
    with mock_aws():
        yield


def properties(org, *, admins=None, placement=None, sharing=True, backup=True) -> dict:
    return {
        **({"CrossAccountBackup": "true"} if backup else {}),
        "RootId": org["root"],
        "PolicyTypes": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"],
        "ServiceAccess": [ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY],
        "ResourceSharing": "true" if sharing else "false",
        "DelegatedAdministrators": [
            {"ServicePrincipal": s, "AccountId": org["security"]}
            for s in (admins or [ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY])
        ],
        "Placement": placement
        if placement is not None
        else [
            {"AccountId": org["security"], "ParentId": org["Security"]},
            {"AccountId": org["dev"], "ParentId": org["Workloads"]},
        ],
    }


def run(kind: str, props: dict, old: dict | None = None, session: Any = None):
    """Invoke the handler as CloudFormation does; its one answer."""
    answers: list[tuple[str, str, str, dict]] = []
    event = {
        "RequestType": kind,
        "ResourceProperties": props,
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "Setup",
        "ResponseURL": "https://example.invalid/response",
        **({"OldResourceProperties": old} if old else {}),
        **({"PhysicalResourceId": setup.physical_id_of(props)} if kind != "Create" else {}),
    }
    setup.handler(
        event,
        None,
        session=session or Session(),
        respond=lambda e, status, physical, reason, data: answers.append(
            (status, physical, reason, data)
        ),
    )
    (answer,) = answers
    return answer


def admins(org, service: str) -> set[str]:
    if service == setup.GUARDDUTY:
        return set(guardduty_backends[DEFAULT_ACCOUNT_ID][REGION].admin_account_ids)
    listed = org["client"].list_delegated_administrators(ServicePrincipal=service)
    return {a["Id"] for a in listed["DelegatedAdministrators"]}


def parent(org, account: str) -> str:
    return org["client"].list_parents(ChildId=account)["Parents"][0]["Id"]


def test_create_enables_policy_types_access_admins_and_places_accounts(org):
    status, physical, _, _ = run("Create", properties(org))
    assert (status, physical) == ("SUCCESS", f"organization-setup-{org['root']}")
    (root,) = org["client"].list_roots()["Roots"]
    assert {t["Type"] for t in root["PolicyTypes"] if t["Status"] == "ENABLED"} >= {
        "SERVICE_CONTROL_POLICY",
        "TAG_POLICY",
    }
    access = org["client"].list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert {s["ServicePrincipal"] for s in access} >= {ANALYZER, CONFIG}
    for service in (ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY):
        assert admins(org, service) == {org["security"]}, service
    assert parent(org, org["security"]) == org["Security"]
    assert parent(org, org["dev"]) == org["Workloads"]


def test_already_registered_and_placed_changes_nothing(org):
    run("Create", properties(org))
    again = Session()
    status, _, _, _ = run("Update", properties(org), old=properties(org), session=again)
    assert status == "SUCCESS"
    assert again.mutations() == []


def test_update_undoes_what_left_the_properties_and_applies_what_came(org):
    old = properties(org, admins=[ANALYZER, setup.GUARDDUTY])
    run("Create", old)
    new = properties(
        org,
        admins=[CONFIG],
        placement=[{"AccountId": org["security"], "ParentId": org["Security"]}],
    )
    status, _, _, _ = run("Update", new, old=old)
    assert status == "SUCCESS"
    assert admins(org, ANALYZER) == set()
    assert admins(org, setup.GUARDDUTY) == set()
    assert admins(org, CONFIG) == {org["security"]}
    assert parent(org, org["dev"]) == org["root"]  # no longer placed: back at the root
    assert parent(org, org["security"]) == org["Security"]


def test_delete_deregisters_and_returns_accounts_to_the_root_but_keeps_policy_types(org):
    run("Create", properties(org))
    status, _, _, _ = run("Delete", properties(org))
    assert status == "SUCCESS"
    for service in (ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY):
        assert admins(org, service) == set(), service
    assert parent(org, org["security"]) == parent(org, org["dev"]) == org["root"]
    (root,) = org["client"].list_roots()["Roots"]
    assert "SERVICE_CONTROL_POLICY" in {t["Type"] for t in root["PolicyTypes"]}


def test_a_failure_is_answered_with_its_reason(org):
    status, _, reason, _ = run("Create", {**properties(org), "RootId": "r-nope"})
    assert status == "FAILED"
    assert reason == "ValueError: RootId 'r-nope' is not this organisation's root"


def pending_first(session: Session, polls: int) -> list[str]:
    """Make ListRoots report each policy type PENDING_ENABLE for its first `polls` answers
    after EnablePolicyType (moto enables at once; AWS takes a while). The returned list logs
    what the handler saw."""
    seen: list[str] = []
    client = session.client("organizations")
    list_roots = client.list_roots
    enable = client.enable_policy_type
    pending: dict[str, int] = {}

    def enable_policy_type(**kwargs: Any) -> dict:
        pending[kwargs["PolicyType"]] = polls
        return enable(**kwargs)

    def roots() -> dict:
        answer = list_roots()
        for root in answer["Roots"]:
            for policy_type in root.get("PolicyTypes", []):
                if pending.get(policy_type["Type"], 0) > 0:
                    pending[policy_type["Type"]] -= 1
                    policy_type["Status"] = "PENDING_ENABLE"
                seen.append(f"{policy_type['Type']}={policy_type['Status']}")
        return answer

    client.enable_policy_type = enable_policy_type
    client.list_roots = roots
    other = session.client
    session.client = lambda name: client if name == "organizations" else other(name)
    return seen


def test_policy_types_are_waited_for_until_enabled(org, monkeypatch):
    """AttachPolicy needs the type ENABLED, not PENDING_ENABLE: the resource answers only
    then, so the SCPs that depend on it are created after."""
    slept: list[float] = []
    monkeypatch.setattr(setup, "sleep", slept.append)
    session = Session()
    seen = pending_first(session, polls=2)
    props = {"RootId": org["root"], "PolicyTypes": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]}
    status, _, _, _ = run("Create", props, session=session)
    assert status == "SUCCESS"
    assert seen[-2:] == ["SERVICE_CONTROL_POLICY=ENABLED", "TAG_POLICY=ENABLED"]
    assert "SERVICE_CONTROL_POLICY=PENDING_ENABLE" in seen
    assert slept == [setup.POLL_SECONDS] * 2


def test_a_policy_type_that_never_enables_fails_after_the_bounded_wait(org, monkeypatch):
    clock = iter(range(0, 10_000, setup.POLL_SECONDS))
    monkeypatch.setattr(setup, "monotonic", lambda: next(clock))
    monkeypatch.setattr(setup, "sleep", lambda seconds: None)
    session = Session()
    pending_first(session, polls=10_000)
    props = {"RootId": org["root"], "PolicyTypes": ["SERVICE_CONTROL_POLICY"]}
    status, _, reason, _ = run("Create", props, session=session)
    assert status == "FAILED"
    assert reason == (
        f"TimeoutError: policy types ['SERVICE_CONTROL_POLICY'] of root {org['root']} are "
        f"still not ENABLED after {setup.POLICY_TYPE_WAIT_SECONDS} s"
    )


def trusted(org) -> set[str]:
    access = org["client"].list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    return {s["ServicePrincipal"] for s in access}


def test_resource_sharing_is_enabled_through_ram_once(org):
    first = Session()
    run("Create", properties(org), session=first)
    assert "EnableSharingWithAwsOrganization" in first.mutations()
    assert setup.RAM in trusted(org)
    # Not through Organizations: that would leave RAM's service-linked role out.
    assert not [c for c in first.calls if c.params.get("ServicePrincipal") == setup.RAM]
    again = Session()
    run("Update", properties(org), old=properties(org), session=again)
    assert "EnableSharingWithAwsOrganization" not in again.mutations()


def test_trusted_access_for_ram_without_its_role_is_repaired_through_ram(org):
    org["client"].enable_aws_service_access(ServicePrincipal=setup.RAM)  # the wrong way
    session = Session()
    run("Create", properties(org), session=session)
    assert "EnableSharingWithAwsOrganization" in session.mutations()


def test_no_resource_sharing_unless_asked(org):
    session = Session()
    run("Create", properties(org, sharing=False), session=session)
    assert "EnableSharingWithAwsOrganization" not in session.mutations()
    assert setup.RAM not in trusted(org)


def test_the_answer_is_put_to_cloudformations_url(monkeypatch):
    sent = {}

    class Response:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        sent.update(method=request.get_method(), url=request.full_url, body=request.data)
        return Response()

    monkeypatch.setattr(setup.urllib.request, "urlopen", urlopen)
    event = {
        "StackId": "s",
        "RequestId": "r",
        "LogicalResourceId": "l",
        "ResponseURL": "https://cloudformation.invalid/x",
    }
    setup.send_response(event, "SUCCESS", "id", "done", {"DetectorId": "d1"})
    assert (sent["method"], sent["url"]) == ("PUT", "https://cloudformation.invalid/x")
    assert json.loads(sent["body"]) == {
        "Status": "SUCCESS",
        "Reason": "done",
        "PhysicalResourceId": "id",
        "StackId": "s",
        "RequestId": "r",
        "LogicalResourceId": "l",
        "Data": {"DetectorId": "d1"},
    }


def test_guardduty_members_are_enabled_and_disabled_with_the_resource():
    """In GuardDuty's administrator account (moto has no UpdateOrganizationConfiguration:
    botocore's Stubber checks the exact calls)."""
    from botocore.stub import Stubber

    client = aws_calls.watch(boto3.client("guardduty", region_name=REGION))
    stubber = Stubber(client)
    features = ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS"]
    for mode in ("ALL", "NONE"):
        stubber.add_response(
            "update_organization_configuration",
            {},
            {
                "DetectorId": "d1",
                "AutoEnableOrganizationMembers": mode,
                "Features": [{"Name": f, "AutoEnable": mode} for f in features],
            },
        )

    class GuardDutyOnly:
        def client(self, name: str) -> Any:
            return client if name == "guardduty" else boto3.client(name, region_name=REGION)

    props = {"GuardDutyOrganization": {"DetectorId": "d1", "Features": features}}
    with stubber:
        answers = [run(kind, props, session=GuardDutyOnly()) for kind in ("Create", "Delete")]
        stubber.assert_no_pending_responses()
    assert [a[:2] for a in answers] == [("SUCCESS", "organization-setup-guardduty")] * 2


FEATURES = ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"]


def detector_properties(frequency: str = "FIFTEEN_MINUTES") -> dict:
    return {"GuardDutyDetector": {"Features": FEATURES, "FindingPublishingFrequency": frequency}}


def detector(detector_id: str) -> dict:
    return boto3.client("guardduty", region_name=REGION).get_detector(DetectorId=detector_id)


def test_a_detector_is_created_where_there_is_none(account):
    session = Session()
    status, physical, _, data = run("Create", detector_properties(), session=session)
    assert (status, physical) == ("SUCCESS", "guardduty-detector")
    found = detector(data["DetectorId"])
    assert found["FindingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert {f["Name"]: f["Status"] for f in found["Features"]} == dict.fromkeys(FEATURES, "ENABLED")
    assert session.mutations() == ["CreateDetector"]


def test_the_detector_designation_made_is_taken_as_it_is_not_created_again(account, caplog):
    """Designating the delegated administrator may have turned GuardDuty on already; the
    baseline SCP lets only CloudFormation's execution role change a detector."""
    existing = boto3.client("guardduty", region_name=REGION).create_detector(
        Enable=True, FindingPublishingFrequency="SIX_HOURS"
    )["DetectorId"]
    session = Session()
    status, _, _, data = run("Create", detector_properties(), session=session)
    assert (status, data) == ("SUCCESS", {"DetectorId": existing})
    assert session.mutations() == []
    assert detector(existing)["FindingPublishingFrequency"] == "SIX_HOURS"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"GuardDuty detector {existing} is ENABLED with {sorted(FEATURES)} off; left as it is "
        "(UpdateDetector is CloudFormation's execution role's alone)",
        f"GuardDuty detector {existing} publishes findings every SIX_HOURS, not "
        "FIFTEEN_MINUTES; left as it is",
    ]


def test_deleting_the_detector_resource_leaves_guardduty_on(account):
    _, _, _, data = run("Create", detector_properties())
    session = Session()
    status, _, _, _ = run("Delete", detector_properties(), session=session)
    assert status == "SUCCESS"
    assert session.mutations() == []
    assert detector(data["DetectorId"])["Status"] == "ENABLED"


def hub_properties(standards=(FSBP, CIS)) -> dict:
    return {
        "SecurityHub": {
            "ControlFindingGenerator": "SECURITY_CONTROL",
            "AutoEnableControls": "true",
            "Standards": list(standards),
        }
    }


def test_security_hub_enabled_by_the_designation_is_taken_as_it_is(account):
    boto3.client("securityhub", region_name=REGION).enable_security_hub()  # the designation
    session = Session()
    session.standards[FSBP] = "fsbp-subscription"  # a default standard it turned on
    status, physical, _, data = run("Create", hub_properties(), session=session)
    assert (status, physical) == ("SUCCESS", "security-hub")
    assert data == {"HubArn": f"arn:aws:securityhub:{REGION}:{DEFAULT_ACCOUNT_ID}:hub/default"}
    assert session.mutations() == ["BatchEnableStandards"]  # no EnableSecurityHub
    assert [c.params for c in session.calls if c.operation == "BatchEnableStandards"] == [
        {"StandardsSubscriptionRequests": [{"StandardsArn": CIS}]}
    ]


def test_security_hub_is_enabled_where_it_is_off_and_its_settings_set(account):
    session = Session()
    session.hub_settings["ControlFindingGenerator"] = "STANDARD_CONTROL"
    status, _, _, _ = run("Create", hub_properties(), session=session)
    assert status == "SUCCESS"
    assert session.mutations() == [
        "EnableSecurityHub",
        "UpdateSecurityHubConfiguration",
        "BatchEnableStandards",
    ]
    assert sorted(session.standards) == sorted([FSBP, CIS])


def test_security_hub_enabled_meanwhile_is_no_failure(account):
    """EnableSecurityHub on an enabled hub is a ResourceConflictException."""
    from botocore.stub import Stubber

    client = aws_calls.watch(boto3.client("securityhub", region_name=REGION))
    hub = f"arn:aws:securityhub:{REGION}:{DEFAULT_ACCOUNT_ID}:hub/default"
    settings = {"ControlFindingGenerator": "SECURITY_CONTROL", "AutoEnableControls": True}
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_hub", "InvalidAccessException", http_status_code=401)
        stubber.add_client_error(
            "enable_security_hub", "ResourceConflictException", http_status_code=409
        )
        stubber.add_response("describe_hub", {"HubArn": hub, **settings})
        stubber.add_response(
            "get_enabled_standards",
            {
                "StandardsSubscriptions": [
                    {
                        "StandardsSubscriptionArn": f"{hub}-fsbp",
                        "StandardsArn": FSBP,
                        "StandardsInput": {},
                        "StandardsStatus": "READY",
                    }
                ]
            },
        )

        class HubOnly:
            def client(self, name: str) -> Any:
                return client

        status, _, _, data = run("Create", hub_properties([FSBP]), session=HubOnly())
        stubber.assert_no_pending_responses()
    assert (status, data) == ("SUCCESS", {"HubArn": hub})


def test_standards_and_the_hub_are_never_turned_off(account):
    """The baseline SCP keeps BatchDisableStandards and DisableSecurityHub for CloudFormation's
    execution role: a standard dropped from the list, or the deleted resource, leaves them on."""
    session = Session()
    run("Create", hub_properties(), session=session)
    before = len(session.mutations())
    run("Update", hub_properties([FSBP]), old=hub_properties(), session=session)
    status, _, _, _ = run("Delete", hub_properties([FSBP]), session=session)
    assert status == "SUCCESS"
    assert len(session.mutations()) == before
    assert sorted(session.standards) == sorted([FSBP, CIS])
    assert boto3.client("securityhub", region_name=REGION).describe_hub()["HubArn"]


# --- every allowed region ----------------------------------------------------------------

OTHERS = ["eu-central-1", "us-east-1"]
"""The sample's other allowed regions."""
FRANKFURT_FSBP = FSBP.replace(REGION, "eu-central-1")


def regional_properties(org, guardduty=(REGION, *OTHERS), security_hub=OTHERS) -> dict:
    """The management account's designations as the Organization stack makes them: GuardDuty
    in every allowed region, Security Hub in those CloudFormation's resource does not reach."""
    return {
        **properties(org, admins=[CONFIG]),
        "DelegatedAdministrators": [
            {"ServicePrincipal": CONFIG, "AccountId": org["security"]},
            {
                "ServicePrincipal": setup.GUARDDUTY,
                "AccountId": org["security"],
                "Regions": list(guardduty),
            },
            {
                "ServicePrincipal": setup.SECURITY_HUB,
                "AccountId": org["security"],
                "Regions": list(security_hub),
            },
        ],
    }


def guardduty_admins(region: str) -> set[str]:
    return set(guardduty_backends[DEFAULT_ACCOUNT_ID][region].admin_account_ids)


def test_guardduty_and_security_hub_administrators_are_designated_in_every_region(org):
    session = Session()
    status, _, _, _ = run("Create", regional_properties(org), session=session)
    assert status == "SUCCESS"
    for region in (REGION, *OTHERS):
        assert guardduty_admins(region) == {org["security"]}, region
    assert session.hub_admins == {r: {org["security"]} for r in OTHERS}
    designations = [
        (c.service, c.region)
        for c in session.calls
        if c.operation == "EnableOrganizationAdminAccount"
    ]
    assert sorted(designations) == sorted(
        [("guardduty", r) for r in (REGION, *OTHERS)] + [("securityhub", r) for r in OTHERS]
    )


def test_a_region_that_leaves_the_config_is_designated_no_longer_there(org):
    old = regional_properties(org)
    run("Create", old)
    session = Session()
    new = regional_properties(org, guardduty=[REGION, "us-east-1"], security_hub=["us-east-1"])
    status, _, _, _ = run("Update", new, old=old, session=session)
    assert status == "SUCCESS"
    assert guardduty_admins("eu-central-1") == set()
    assert guardduty_admins("us-east-1") == guardduty_admins(REGION) == {org["security"]}
    assert session.hub_admins["eu-central-1"] == set()
    assert session.hub_admins["us-east-1"] == {org["security"]}


def test_a_designation_without_regions_is_the_home_regions(org):
    """The Organization stack's properties before regions came: an update that adds regions
    keeps the home region's designation (it is not undone as if it had left)."""
    old = properties(org, admins=[setup.GUARDDUTY])
    run("Create", old)
    status, _, _, _ = run("Update", regional_properties(org), old=old)
    assert status == "SUCCESS"
    for region in (REGION, *OTHERS):
        assert guardduty_admins(region) == {org["security"]}, region


def test_a_detector_is_made_in_every_region_and_the_home_regions_answered(account):
    session = Session()
    props = detector_properties()
    props["GuardDutyDetector"]["Regions"] = OTHERS
    status, _, _, data = run("Create", props, session=session)
    assert status == "SUCCESS"
    for region in (REGION, *OTHERS):
        (found,) = boto3.client("guardduty", region_name=region).list_detectors()["DetectorIds"]
        features = boto3.client("guardduty", region_name=region).get_detector(DetectorId=found)
        assert {f["Name"]: f["Status"] for f in features["Features"]} == dict.fromkeys(
            FEATURES, "ENABLED"
        )
        if region == REGION:
            assert data == {"DetectorId": found}
    assert sorted(c.region for c in session.calls if c.operation == "CreateDetector") == sorted(
        [REGION, *OTHERS]
    )


def test_guardduty_members_are_enabled_in_every_region():
    """The home region with the detector id given, the others with the one detector each
    has (botocore's Stubber: moto has no UpdateOrganizationConfiguration)."""
    from botocore.stub import Stubber

    features = ["RUNTIME_MONITORING"]
    extra = {"RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT"]}
    clients, stubbers = {}, []
    for region, detector_id in ((REGION, "home"), *((r, f"d-{r}") for r in OTHERS)):
        client = aws_calls.watch(boto3.client("guardduty", region_name=region))
        stubber = Stubber(client)
        if region != REGION:
            stubber.add_response("list_detectors", {"DetectorIds": [detector_id]}, {})
        for mode in ("ALL", "NONE"):
            if region != REGION and mode == "NONE":
                stubber.add_response("list_detectors", {"DetectorIds": [detector_id]}, {})
            stubber.add_response(
                "update_organization_configuration",
                {},
                {
                    "DetectorId": detector_id,
                    "AutoEnableOrganizationMembers": mode,
                    "Features": [
                        {
                            "Name": "RUNTIME_MONITORING",
                            "AutoEnable": mode,
                            "AdditionalConfiguration": [
                                {"Name": "EKS_ADDON_MANAGEMENT", "AutoEnable": mode}
                            ],
                        }
                    ],
                },
            )
        stubber.activate()
        clients[region] = client
        stubbers.append(stubber)

    class Regional:
        region_name = REGION

        def client(self, name: str, region_name: str | None = None) -> Any:
            assert name == "guardduty"
            return clients[region_name or REGION]

    props = {
        "GuardDutyOrganization": {
            "DetectorId": "home",
            "Features": features,
            "AdditionalConfiguration": extra,
            "Regions": OTHERS,
        }
    }
    answers = [run(kind, props, session=Regional()) for kind in ("Create", "Delete")]
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()
    assert [a[0] for a in answers] == ["SUCCESS", "SUCCESS"]


def test_security_hub_is_on_in_every_region_with_that_regions_standards(account):
    session = Session()
    props = hub_properties()
    props["SecurityHub"]["Regions"] = {"eu-central-1": [FRANKFURT_FSBP]}
    status, _, _, data = run("Create", props, session=session)
    assert status == "SUCCESS"
    assert data == {"HubArn": f"arn:aws:securityhub:{REGION}:{DEFAULT_ACCOUNT_ID}:hub/default"}
    assert sorted(session.standards) == sorted([FSBP, CIS, FRANKFURT_FSBP])
    hub = boto3.client("securityhub", region_name="eu-central-1").describe_hub()
    assert hub["HubArn"].startswith("arn:aws:securityhub:eu-central-1:")
    assert [c.region for c in session.calls if c.operation == "EnableSecurityHub"] == [
        "eu-central-1",
        REGION,
    ]


def test_security_hub_is_enabled_for_new_accounts_in_the_other_regions():
    """Read first, set where off, never turned off (botocore's Stubber: moto's answers need
    an organisation)."""
    from botocore.stub import Stubber

    off = {"AutoEnable": False, "MemberAccountLimitReached": False}
    on = {"AutoEnable": True, "AutoEnableStandards": "DEFAULT"}
    clients, stubbers = {}, []
    for region in OTHERS:
        client = aws_calls.watch(boto3.client("securityhub", region_name=region))
        stubber = Stubber(client)
        stubber.add_response("describe_organization_configuration", off, {})
        stubber.add_response(
            "update_organization_configuration",
            {},
            {"AutoEnable": True, "AutoEnableStandards": "DEFAULT"},
        )
        stubber.add_response("describe_organization_configuration", on, {})  # the update
        stubber.activate()
        clients[region] = client
        stubbers.append(stubber)

    class Regional:
        region_name = REGION

        def client(self, name: str, region_name: str | None = None) -> Any:
            assert name == "securityhub" and region_name in OTHERS
            return clients[region_name]

    props = {"SecurityHubOrganization": {"Regions": OTHERS}}
    answers = [
        run(kind, props, old=props if kind == "Update" else None, session=Regional())
        for kind in ("Create", "Update", "Delete")
    ]
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()
    assert [a[:2] for a in answers] == [("SUCCESS", "security-hub-organization")] * 3


def test_cross_account_backup_is_enabled_once_with_aws_backups_trusted_access(org):
    """Copies into the security account's vault need both, from the management account."""
    first = Session()
    status, _, _, _ = run("Create", properties(org), session=first)
    assert status == "SUCCESS"
    assert setup.BACKUP in trusted(org)
    assert BACKUP_SETTINGS["isCrossAccountBackupEnabled"] == "true"
    assert "UpdateGlobalSettings" in first.mutations()
    again = Session()
    run("Update", properties(org), old=properties(org), session=again)
    assert again.mutations() == []
    gone = Session()
    run("Delete", properties(org), session=gone)
    assert "UpdateGlobalSettings" not in gone.mutations()  # left on: copies need it
    assert setup.BACKUP in trusted(org)


def test_no_cross_account_backup_unless_asked(org):
    session = Session()
    run("Create", properties(org, backup=False), session=session)
    assert BACKUP_SETTINGS["isCrossAccountBackupEnabled"] == "false"
    assert setup.BACKUP not in trusted(org)
