"""The project's own AWS-calling code may do what its tests make it do, and no sooner.

Each moto-backed test of the custom-resource handler (tests/test_organization_setup.py) and
of the health check (tests/test_health_check.py) runs again here with every AWS call
recorded (`tests.aws_calls`). Each call, and each request the service makes with the
caller's permissions while serving it, is checked against the IAM policy the synthesized
organisation (the session's `organisation`) gives the caller (`tests.iam_check`):

- a handler call, against the function of the custom resource whose properties the
  handler was invoked with (the management account's setup, or the security account's
  GuardDuty and Security Hub resources);
- the health check's reads, against the environment's health-check role (staging's), and its
  AssumeRole, against the pipeline's health-gate role.

moto's account and the organisation it builds get generated ids; they are mapped to the
sample config's (the same account, root, security and dev accounts), so resource ARNs are
checked exactly. And every custom resource depends on the policy of the function it invokes.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from runtime import health_check
from runtime.organization_setup import handler as setup_handler
from stages.naming import HEALTH_CHECK, PIPELINE_HEALTH_CHECK, role_name, shared_services
from tests import aws_calls, iam_check
from tests import test_health_check as health_tests
from tests import test_organization_setup as handler_tests
from tests.conftest import Organisation, SynthesizedStack

aws = health_tests.aws
account = handler_tests.account
org = handler_tests.org
"""The fixtures of the tests run here."""

SETUP_TYPES = (
    "Custom::OrganizationSetup",
    "Custom::GuardDutyDetector",
    "Custom::SecurityHub",
    "Custom::SecurityHubOrganization",
)
"""The custom resources whose function runs runtime/organization_setup/handler.py."""
GATED = "staging"
"""The environment whose health-check role the health check's reads are checked against."""


def cases_of(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(value)
    )


def run_recorded(module: ModuleType, name: str, request: pytest.FixtureRequest) -> list:
    """Run the test `name` of `module` with the fixtures it asks for; the calls recorded."""
    function: Callable[..., Any] = getattr(module, name)
    kwargs = {p: request.getfixturevalue(p) for p in inspect.signature(function).parameters}
    aws_calls.CALLS.clear()
    function(**kwargs)
    return list(aws_calls.CALLS)


# --- the custom-resource handler ---------------------------------------------------------


def setup_resources(organisation: Organisation) -> list[tuple[SynthesizedStack, dict]]:
    return [
        (stack, resource)
        for stack in organisation.all_stacks()
        for resource in stack.resources.values()
        if resource["Type"] in SETUP_TYPES
    ]


def resource_for(
    organisation: Organisation, properties: Mapping[str, Any]
) -> tuple[SynthesizedStack, dict]:
    """The one custom resource of the organisation that invokes the handler with
    properties like these (the same keys, or more)."""
    keys = set(properties)
    found = [
        (stack, resource)
        for stack, resource in setup_resources(organisation)
        if keys <= set(resource["Properties"]) - {"ServiceToken"}
    ]
    assert len(found) == 1, f"{len(found)} custom resources invoke the handler with {sorted(keys)}"
    return found[0]


def world_of(stack: SynthesizedStack, sample_config, moto_org: Mapping | None) -> iam_check.World:
    ids = {DEFAULT_ACCOUNT_ID: stack.account}
    if moto_org is not None:
        ids |= {
            moto_org["root"]: sample_config.organization.root_id,
            moto_org["security"]: sample_config.accounts["security"].id,
            moto_org["dev"]: sample_config.accounts["dev"].id,
        }
    return iam_check.World(
        account=stack.account,
        region=stack.region,
        organization_id=sample_config.organization.id,
        ids=ids,
    )


def service_control_policies(organisation: Organisation, account: str) -> list[dict]:
    """The SCP statements that apply to `account`: those of the SCPs attached to its OU (the
    management account's stack places it) and to the root; none in the management account
    itself."""
    stack = organisation.stacks["management"]["Organization"]
    if account == stack.account:
        return []
    (setup,) = stack.of_type("Custom::OrganizationSetup").values()
    (unit,) = (
        p["ParentId"]["Fn::GetAtt"][0]
        for p in setup["Properties"]["Placement"]
        if p["AccountId"] == account
    )
    root = setup["Properties"]["RootId"]
    return [
        statement
        for policy in stack.of_type("AWS::Organizations::Policy").values()
        if policy["Properties"]["Type"] == "SERVICE_CONTROL_POLICY"
        and (
            {"Fn::GetAtt": [unit, "Id"]} in policy["Properties"]["TargetIds"]
            or root in policy["Properties"]["TargetIds"]
        )
        for statement in policy["Properties"]["Content"]["Statement"]
    ]


def caller_denials(
    organisation: Organisation,
    stack: SynthesizedStack,
    role: str,
    calls: list,
    world: iam_check.World,
    edit: Callable[[list], list] = lambda statements: statements,
) -> list[str]:
    """What the role `role` of `stack` may not do of `calls`: its own policies, then the
    SCPs of its account (the role's name, or its logical id where CloudFormation generates
    the name, stands for its ARN: SCPs exempt roles by exact ARN)."""
    statements = edit(iam_check.role_statements(stack.template, role, world))
    name = stack.resources[role]["Properties"].get("RoleName", role)
    principal = f"arn:aws:iam::{stack.account}:role/{name}"
    scps = service_control_policies(organisation, stack.account)
    return [
        *iam_check.denials(calls, statements, world),
        *iam_check.scp_denials(calls, scps, world, principal),
    ]


def handler_denials(
    organisation: Organisation,
    sample_config,
    calls: list,
    moto_org: Mapping | None,
    edit: Callable[[list], list] = lambda statements: statements,
) -> list[str]:
    """What `calls` (tagged with the handler's properties) may not do; `edit` changes each
    function's statements first (to prove a missing one is noticed)."""
    problems = []
    for call in calls:
        if call.tag is None:
            problems.append(f"{call}: made outside a handler invocation")
            continue
        stack, resource = resource_for(organisation, call.tag)
        world = world_of(stack, sample_config, moto_org)
        role = iam_check.function_role(stack.template, resource)
        problems += caller_denials(organisation, stack, role, [call], world, edit)
    return list(dict.fromkeys(problems))


def record_handler(monkeypatch) -> None:
    """Tag each call the handler makes with the properties it was invoked with."""
    monkeypatch.setattr(
        setup_handler,
        "handler",
        aws_calls.tagging(
            setup_handler.handler, lambda event, *_, **__: event["ResourceProperties"]
        ),
    )


@pytest.mark.parametrize("name", cases_of(handler_tests))
def test_every_call_the_handler_tests_make_is_allowed(
    name, request, organisation, sample_config, monkeypatch
):
    record_handler(monkeypatch)
    calls = run_recorded(handler_tests, name, request)
    moto_org = request.getfixturevalue("org") if "org" in request.fixturenames else None
    assert handler_denials(organisation, sample_config, calls, moto_org) == []


@pytest.fixture
def created(request, monkeypatch) -> tuple[list, dict]:
    """The calls of a first deployment of the management account's setup, and moto's
    organisation."""
    record_handler(monkeypatch)
    moto_org = request.getfixturevalue("org")
    aws_calls.CALLS.clear()
    handler_tests.test_create_enables_policy_types_access_admins_and_places_accounts(moto_org)
    return list(aws_calls.CALLS), moto_org


def without(*sids: str) -> Callable[[list], list]:
    return lambda statements: [s for s in statements if s.get("Sid") not in sids]


def test_a_missing_statement_is_noticed_with_the_call_that_needs_it(
    created, organisation, sample_config
):
    create_calls, moto = created
    problems = handler_denials(
        organisation, sample_config, create_calls, moto, edit=without("PlaceAccounts")
    )
    security = sample_config.accounts["security"].id
    assert problems and all("organizations:MoveAccount" in p for p in problems)
    assert any(
        p.startswith(f"organizations.MoveAccount(AccountId='{moto['security']}'")
        and f"organizations:MoveAccount on arn:aws:organizations::111111111111:account/"
        f"o-exampleorg1/{security} is not allowed"
        in p
        for p in problems
    )


def test_what_a_service_does_for_the_caller_is_checked_too(created, organisation, sample_config):
    """GetRole under an iam:AWSServiceName condition (a key only CreateServiceLinkedRole's
    request carries) never applies: CloudTrail's registration, which reads its role with
    the caller's permissions, would be denied."""

    def old_statement(statements: list) -> list:
        return [
            *without("CreateServiceLinkedRoles", "ReadServiceLinkedRoles")(statements),
            {
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole", "iam:GetRole"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "iam:AWSServiceName": ["cloudtrail.amazonaws.com", "ram.amazonaws.com"]
                    }
                },
            },
        ]

    create_calls, moto = created
    problems = handler_denials(organisation, sample_config, create_calls, moto, edit=old_statement)
    assert problems == [
        f"cloudtrail.RegisterOrganizationDelegatedAdmin(MemberAccountId='{moto['security']}'): "
        "iam:GetRole on arn:aws:iam::111111111111:role/aws-service-role/"
        "cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail (which "
        "cloudtrail:RegisterOrganizationDelegatedAdmin makes) is not allowed"
    ]


def test_a_statement_naming_an_arn_for_an_action_without_resource_types_is_noticed():
    """GuardDuty's UpdateOrganizationConfiguration has no resource-level permissions, so a
    grant on the detector's ARN never applies (the Audit stack's old policy)."""
    call = aws_calls.Call(
        "guardduty",
        "UpdateOrganizationConfiguration",
        {"DetectorId": "d1", "AutoEnableOrganizationMembers": "ALL"},
    )
    world = iam_check.World(account="222222222222", region="eu-west-1")
    scoped = {
        "Effect": "Allow",
        "Action": "guardduty:UpdateOrganizationConfiguration",
        "Resource": "arn:aws:guardduty:eu-west-1:222222222222:detector/d1",
    }
    assert iam_check.denials([call], [scoped], world) == [
        f"{call}: guardduty:UpdateOrganizationConfiguration on * is not allowed"
    ]
    assert iam_check.denials([call], [{**scoped, "Resource": "*"}], world) == []


def test_a_call_the_security_accounts_scps_deny_is_noticed(organisation, sample_config):
    """The baseline SCP keeps guardduty:UpdateDetector for CloudFormation's execution role:
    the security account's setup function must never need it (it used to)."""
    stack, resource = resource_for(organisation, {"GuardDutyDetector": {}})
    world = world_of(stack, sample_config, None)
    role = iam_check.function_role(stack.template, resource)
    call = aws_calls.Call("guardduty", "UpdateDetector", {"DetectorId": "d1", "Enable": True})
    grant = {"Effect": "Allow", "Action": "guardduty:UpdateDetector", "Resource": "*"}
    problems = caller_denials(
        organisation, stack, role, [call], world, edit=lambda statements: [*statements, grant]
    )
    assert problems == [
        f"{call}: guardduty:UpdateDetector on "
        f"arn:aws:guardduty:eu-west-1:{stack.account}:detector/d1 is denied to "
        f"arn:aws:iam::{stack.account}:role/exco-security-services-setup by a service "
        "control policy"
    ]
    # Its organisation-wide switches are the setup function's alone: no other role's.
    call = aws_calls.Call(
        "guardduty", "UpdateOrganizationConfiguration", {"DetectorId": "d1", "AutoEnable": True}
    )
    scps = service_control_policies(organisation, stack.account)
    assert iam_check.scp_denials([call], scps, world, f"arn:aws:iam::{stack.account}:role/x")
    assert not iam_check.scp_denials(
        [call], scps, world, f"arn:aws:iam::{stack.account}:role/exco-security-services-setup"
    )


# --- the health check --------------------------------------------------------------------


def role_named(stack: SynthesizedStack, name: str) -> str:
    (logical,) = (
        logical
        for logical, resource in stack.of_type("AWS::IAM::Role").items()
        if resource["Properties"].get("RoleName") == name
    )
    return logical


@pytest.mark.parametrize("name", cases_of(health_tests))
def test_every_call_the_health_check_tests_make_is_allowed(
    name, request, organisation, sample_config, monkeypatch
):
    """Calls made inside the health check's own functions are its calls (the tests' set-up
    uses the same moto, untagged): `assume` as the pipeline's role, the rest as the
    environment's role."""
    real_client = boto3.session.Session.client
    monkeypatch.setattr(
        boto3.session.Session,
        "client",
        lambda self, *args, **kwargs: aws_calls.watch(real_client(self, *args, **kwargs)),
    )
    for function in ("_check_clusters", "_check_alarms"):
        monkeypatch.setattr(
            health_check,
            function,
            aws_calls.tagging(getattr(health_check, function), lambda *_: "environment"),
        )
    monkeypatch.setattr(
        health_check, "assume", aws_calls.tagging(health_check.assume, lambda *_: "caller")
    )
    calls = run_recorded(health_tests, name, request)

    environment = organisation.stacks[GATED]["Operations"]
    pipeline = organisation.top_level["Pipeline"]
    callers = {
        "environment": (environment, role_name(sample_config, GATED, HEALTH_CHECK)),
        "caller": (
            pipeline,
            role_name(sample_config, shared_services(sample_config), PIPELINE_HEALTH_CHECK),
        ),
    }
    world = iam_check.World(
        account=environment.account,
        region=environment.region,
        ids={DEFAULT_ACCOUNT_ID: environment.account},
    )
    problems = []
    for tag, (stack, role) in callers.items():
        mine = [c for c in calls if c.tag == tag]
        problems += caller_denials(organisation, stack, role_named(stack, role), mine, world)
    assert problems == []


def test_the_health_check_is_recorded_in_full(request, organisation, sample_config, monkeypatch):
    """The recording above sees the health check's reads (a check that recorded nothing
    would prove nothing)."""
    test_every_call_the_health_check_tests_make_is_allowed(
        "test_healthy_environment_passes", request, organisation, sample_config, monkeypatch
    )
    assert [(c.service, c.operation, c.tag) for c in aws_calls.CALLS if c.tag] == [
        ("eks", "ListClusters", "environment"),
        ("eks", "DescribeCluster", "environment"),
        ("eks", "ListNodegroups", "environment"),
        ("eks", "DescribeNodegroup", "environment"),
        ("cloudwatch", "DescribeAlarms", "environment"),
    ]


# --- order -----------------------------------------------------------------------------


def references(value: Any) -> set[str]:
    """The logical ids a template fragment refers to (Ref, Fn::GetAtt)."""
    if isinstance(value, list):
        return set().union(*(references(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set()
    if isinstance(value.get("Ref"), str):
        found.add(value["Ref"])
    if "Fn::GetAtt" in value:
        found.add(value["Fn::GetAtt"][0])
    return found | set().union(*(references(v) for v in value.values()))


def created_before(resources: Mapping[str, dict], logical: str) -> set[str]:
    """Every resource CloudFormation must create before `logical`: what it depends on or
    refers to, and so on."""
    seen: set[str] = set()
    todo = [logical]
    while todo:
        resource = resources.get(todo.pop(), {})
        depends = resource.get("DependsOn", [])
        for name in ({depends} if isinstance(depends, str) else set(depends)) | references(
            resource.get("Properties", {})
        ):
            if name in resources and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_every_custom_resource_waits_for_its_functions_policy(organisation):
    """CloudFormation creates a role's separate policy in parallel with whatever does not
    wait for it: a custom resource must (itself, or through its function), or its function
    may run before it has its permissions."""
    missing = []
    for stack in organisation.all_stacks():
        resources = stack.resources
        for logical, resource in resources.items():
            token = resource.get("Properties", {}).get("ServiceToken")
            if not (isinstance(token, dict) and "Fn::GetAtt" in token):
                continue
            function = resources.get(token["Fn::GetAtt"][0], {})
            if function.get("Type") != "AWS::Lambda::Function":
                continue
            role = iam_check.function_role(stack.template, resource)
            needed = {
                name
                for name, policy in resources.items()
                if policy["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                and {"Ref": role} in policy["Properties"].get("Roles", [])
            }
            absent = needed - created_before(resources, logical)
            if absent:
                missing.append(f"{stack.stage}/{stack.id}/{logical}: {sorted(absent)}")
    assert missing == []
    for stack, resource in setup_resources(organisation):  # this project's: directly
        role = iam_check.function_role(stack.template, resource)
        (policy,) = (
            name
            for name, r in stack.of_type("AWS::IAM::Policy").items()
            if {"Ref": role} in r["Properties"]["Roles"]
        )
        assert resource["DependsOn"] == [policy]


def test_the_setup_functions_policies_are_read_from_the_template(organisation, sample_config):
    """The statements checked above are the template's: the management function's include
    RAM's sharing, scoped as the template scopes it."""
    stack, resource = resource_for(organisation, {"RootId": "r"})
    world = world_of(stack, sample_config, None)
    statements = iam_check.role_statements(
        stack.template, iam_check.function_role(stack.template, resource), world
    )
    by_sid = {s.get("Sid"): s for s in statements}
    assert by_sid["ResourceSharing"]["Action"] == "ram:EnableSharingWithAwsOrganization"
    assert "iam:GetRole" not in json.dumps(by_sid["CreateServiceLinkedRoles"])
