"""The OrganizationSetup custom-resource handler against moto's AWS Organizations: create,
update, delete, already-registered, and the answer CloudFormation always gets."""

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

REGION = "eu-west-1"
ANALYZER = "access-analyzer.amazonaws.com"
CONFIG = "config.amazonaws.com"


class Session:
    """boto3 clients on moto, plus the two calls moto lacks, done the way AWS does them:
    CloudTrail's delegated-admin registration is an Organizations registration for
    cloudtrail.amazonaws.com; GuardDuty's disable removes the admin account."""

    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.calls: list[str] = []
        self.session.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def client(self, name: str) -> Any:
        client = self.session.client(name)
        organizations = self.session.client("organizations")
        if name == "cloudtrail":
            client.register_organization_delegated_admin = lambda MemberAccountId: (
                self.calls.append("RegisterOrganizationDelegatedAdmin"),
                organizations.register_delegated_administrator(
                    AccountId=MemberAccountId, ServicePrincipal=setup.CLOUDTRAIL
                ),
            )
            client.deregister_organization_delegated_admin = lambda DelegatedAdminAccountId: (
                self.calls.append("DeregisterOrganizationDelegatedAdmin"),
                organizations.deregister_delegated_administrator(
                    AccountId=DelegatedAdminAccountId, ServicePrincipal=setup.CLOUDTRAIL
                ),
            )
        if name == "guardduty":

            def disable(AdminAccountId: str) -> None:
                self.calls.append("DisableOrganizationAdminAccount")
                guardduty_backends[DEFAULT_ACCOUNT_ID][REGION].admin_account_ids.remove(
                    AdminAccountId
                )

            client.disable_organization_admin_account = disable
        return client

    def mutations(self) -> list[str]:
        return [c for c in self.calls if not c.startswith(("List", "Describe", "Get"))]


@pytest.fixture
def org(monkeypatch):
    # moto 5.2's list of services that take a delegated administrator predates Config's
    # aggregator and CloudTrail's organisation trails; AWS accepts both.
    monkeypatch.setattr(
        FakeDelegatedAdministrator,
        "SUPPORTED_SERVICES",
        [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, CONFIG, setup.CLOUDTRAIL],
    )
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


def properties(org, *, admins=None, placement=None) -> dict:
    return {
        "RootId": org["root"],
        "PolicyTypes": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"],
        "ServiceAccess": [ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY],
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


def run(kind: str, props: dict, old: dict | None = None, session: Session | None = None):
    answers: list[tuple[str, str, str]] = []
    event = {
        "RequestType": kind,
        "ResourceProperties": props,
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "Setup",
        "ResponseURL": "https://example.invalid/response",
        **({"OldResourceProperties": old} if old else {}),
        **(
            {"PhysicalResourceId": f"organization-setup-{props['RootId']}"}
            if kind != "Create"
            else {}
        ),
    }
    setup.handler(
        event,
        None,
        session=session or Session(),
        respond=lambda e, status, physical, reason: answers.append((status, physical, reason)),
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
    status, physical, _ = run("Create", properties(org))
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
    status, _, _ = run("Update", properties(org), old=properties(org), session=again)
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
    status, _, _ = run("Update", new, old=old)
    assert status == "SUCCESS"
    assert admins(org, ANALYZER) == set()
    assert admins(org, setup.GUARDDUTY) == set()
    assert admins(org, CONFIG) == {org["security"]}
    assert parent(org, org["dev"]) == org["root"]  # no longer placed: back at the root
    assert parent(org, org["security"]) == org["Security"]


def test_delete_deregisters_and_returns_accounts_to_the_root_but_keeps_policy_types(org):
    run("Create", properties(org))
    status, _, _ = run("Delete", properties(org))
    assert status == "SUCCESS"
    for service in (ANALYZER, CONFIG, setup.CLOUDTRAIL, setup.GUARDDUTY):
        assert admins(org, service) == set(), service
    assert parent(org, org["security"]) == parent(org, org["dev"]) == org["root"]
    (root,) = org["client"].list_roots()["Roots"]
    assert "SERVICE_CONTROL_POLICY" in {t["Type"] for t in root["PolicyTypes"]}


def test_a_failure_is_answered_with_its_reason(org):
    status, _, reason = run("Create", {**properties(org), "RootId": "r-nope"})
    assert status == "FAILED"
    assert reason == "ValueError: RootId 'r-nope' is not this organisation's root"


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
    setup.send_response(event, "SUCCESS", "id", "done")
    assert (sent["method"], sent["url"]) == ("PUT", "https://cloudformation.invalid/x")
    assert json.loads(sent["body"]) == {
        "Status": "SUCCESS",
        "Reason": "done",
        "PhysicalResourceId": "id",
        "StackId": "s",
        "RequestId": "r",
        "LogicalResourceId": "l",
    }


def test_guardduty_members_are_enabled_and_disabled_with_the_resource():
    """In GuardDuty's administrator account (moto has no UpdateOrganizationConfiguration:
    botocore's Stubber checks the exact calls)."""
    from botocore.stub import Stubber

    client = boto3.client("guardduty", region_name=REGION)
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
        answers = []
        for kind in ("Create", "Delete"):
            setup.handler(
                {
                    "RequestType": kind,
                    "ResourceProperties": props,
                    "StackId": "s",
                    "RequestId": "r",
                    "LogicalResourceId": "l",
                    "ResponseURL": "https://example.invalid",
                },
                None,
                session=GuardDutyOnly(),
                respond=lambda e, status, physical, reason: answers.append((status, physical)),
            )
        stubber.assert_no_pending_responses()
    assert answers == [("SUCCESS", "organization-setup-guardduty")] * 2
