"""Is a recorded AWS call allowed by the IAM policy a synthesized template gives its caller?

- `requests(call, world)`: the IAM requests one call makes. Its own action (the IAM service
  prefix and the operation's name; `SERVICE_PREFIXES` and `OPERATION_ACTIONS` hold the
  exceptions), on the resource ARNs the call names wherever the action has resource-level
  permissions, with the condition keys the request carries; plus the requests the service
  makes with the caller's permissions while it serves the call (`dependent_requests`, each
  with the AWS page that documents it). Whether an action has resource-level permissions
  comes from the Service Authorization Reference's data as cfn-lint ships it
  (`cfnlint/data/AdditionalSpecs/Policies.json`): an action without resource types is
  authorised against "*", so a statement that names an ARN for it never applies.
- `decide(statements, action, resource, context)`: moto's IAM policy evaluator
  (`moto.iam.access_control.IAMPolicyStatement`) matches a statement's actions and resources.
  Conditions are evaluated here with IAM's rules: moto treats a condition key missing from
  the request as satisfied and knows only StringEquals, whereas IAM treats a missing key as
  not matching (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
- `role_statements(template, role, world)`: the statements a template attaches to a role
  (inline, `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`), intrinsics resolved. AWS managed
  policies attached by ARN are not read: the functions' only one, AWSLambdaBasicExecutionRole,
  grants CloudWatch Logs, which no recorded call uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources as package_data
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult

from tests.aws_calls import Call

SERVICE_PREFIXES = {
    "accessanalyzer": "access-analyzer",
    "elb": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "stepfunctions": "states",
    "sso-admin": "sso",
    "opensearch": "es",
}
"""botocore service name -> IAM service prefix, where they differ."""

OPERATION_ACTIONS = {
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}
"""Operations whose IAM action is not named after them."""

SERVICE_LINKED_ROLES = {
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "malware-protection.guardduty.amazonaws.com": (
        "AWSServiceRoleForAmazonGuardDutyMalwareProtection"
    ),
    "cloudtrail.amazonaws.com": "AWSServiceRoleForCloudTrail",
    "ram.amazonaws.com": "AWSServiceRoleForResourceAccessManager",
    "securityhub.amazonaws.com": "AWSServiceRoleForSecurityHub",
}
"""Service principal -> the name of its service-linked role (each service's SLR page)."""


@dataclass(frozen=True)
class World:
    """Where the template's caller runs, and how moto's generated ids map to the template's."""

    account: str
    region: str
    organization_id: str = ""
    partition: str = "aws"
    ids: Mapping[str, str] = field(default_factory=dict)

    def id(self, value: str) -> str:
        return self.ids.get(value, value)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    def organizations(self, kind: str, value: str) -> str:
        """An Organizations ARN (`account`, `ou`, `root`) of the management account."""
        return (
            f"arn:{self.partition}:organizations::{self.account}:{kind}/"
            f"{self.organization_id}/{self.id(value)}"
        )

    def parent(self, parent_id: str) -> str:
        return self.organizations("root" if parent_id.startswith("r-") else "ou", parent_id)

    def service_linked_role(self, service: str) -> str:
        return self.arn(
            "iam",
            f"role/aws-service-role/{service}/{SERVICE_LINKED_ROLES[service]}",
            region=False,
        )

    def role(self, arn: str) -> str:
        """A role ARN of moto's account, in the template's account."""
        parts = arn.split(":")
        parts[4] = self.id(parts[4])
        return ":".join(parts)


@dataclass(frozen=True)
class Request:
    action: str
    resources: Sequence[str] = ("*",)
    context: Mapping[str, str] = field(default_factory=dict)
    on_behalf: str = ""
    """The operation that makes this request with the caller's permissions, if not the call."""


Params = Mapping[str, Any]

RESOURCES: dict[str, Callable[[Params, World], list[str]]] = {
    "organizations:enablepolicytype": lambda p, w: [w.organizations("root", p["RootId"])],
    "organizations:registerdelegatedadministrator": lambda p, w: [
        w.organizations("account", p["AccountId"])
    ],
    "organizations:deregisterdelegatedadministrator": lambda p, w: [
        w.organizations("account", p["AccountId"])
    ],
    "organizations:moveaccount": lambda p, w: [
        w.organizations("account", p["AccountId"]),
        w.parent(p["SourceParentId"]),
        w.parent(p["DestinationParentId"]),
    ],
    "organizations:listparents": lambda p, w: [
        w.organizations("account" if p["ChildId"].isdigit() else "ou", p["ChildId"])
    ],
    "organizations:describeaccount": lambda p, w: [w.organizations("account", p["AccountId"])],
    "guardduty:getdetector": lambda p, w: [w.arn("guardduty", f"detector/{p['DetectorId']}")],
    "guardduty:updatedetector": lambda p, w: [w.arn("guardduty", f"detector/{p['DetectorId']}")],
    **{
        f"securityhub:{operation}": lambda p, w: [w.arn("securityhub", "hub/default")]
        for operation in (
            "describehub",
            "enablesecurityhub",
            "updatesecurityhubconfiguration",
            "getenabledstandards",
            "batchenablestandards",
            "batchdisablestandards",
            "enableorganizationadminaccount",
            "disableorganizationadminaccount",
            "listorganizationadminaccounts",
            "describeorganizationconfiguration",
            "updateorganizationconfiguration",
        )
    },
    "eks:describecluster": lambda p, w: [w.arn("eks", f"cluster/{p['name']}")],
    "eks:listnodegroups": lambda p, w: [w.arn("eks", f"cluster/{p['clusterName']}")],
    # The node group's UUID is not in the request; any value stands for it.
    "eks:describenodegroup": lambda p, w: [
        w.arn("eks", f"nodegroup/{p['clusterName']}/{p['nodegroupName']}/0000")
    ],
    "cloudwatch:describealarms": lambda p, w: [
        w.arn("cloudwatch", f"alarm:{name}") for name in p.get("AlarmNames") or ["*"]
    ],
    "sts:assumerole": lambda p, w: [w.role(p["RoleArn"])],
    "iam:createservicelinkedrole": lambda p, w: [w.service_linked_role(p["AWSServiceName"])],
}
"""IAM action (lower case) -> the resource ARNs a call names, for actions with resource-level
permissions (ARN formats: the Service Authorization Reference)."""

CONTEXT: dict[str, Callable[[Params], dict[str, str]]] = {
    **{
        f"organizations:{operation}": lambda p: {
            "organizations:ServicePrincipal": p["ServicePrincipal"]
        }
        for operation in (
            "enableawsserviceaccess",
            "registerdelegatedadministrator",
            "deregisterdelegatedadministrator",
        )
    },
    "iam:createservicelinkedrole": lambda p: {"iam:AWSServiceName": p["AWSServiceName"]},
}
"""IAM action (lower case) -> the service-specific condition keys its request carries."""


def _creates_role(world: World, service: str, on_behalf: str) -> Request:
    return Request(
        "iam:CreateServiceLinkedRole",
        [world.service_linked_role(service)],
        {"iam:AWSServiceName": service},
        on_behalf,
    )


def _guardduty_roles(p: Params, w: World, on_behalf: str) -> list[Request]:
    """Turning GuardDuty on creates its service-linked role, and enabling EBS malware
    protection that feature's (https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions.html,
    https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions-malware-protection.html)."""
    requests = [_creates_role(w, "guardduty.amazonaws.com", on_behalf)]
    if any(f.get("Name") == "EBS_MALWARE_PROTECTION" for f in p.get("Features", [])):
        requests.append(_creates_role(w, "malware-protection.guardduty.amazonaws.com", on_behalf))
    return requests


def _guardduty_admin(p: Params, w: World) -> list[Request]:
    """The policy GuardDuty documents for EnableOrganizationAdminAccount
    (https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html): its
    reads are on "*", GuardDuty choosing the accounts and OUs."""
    principal = {"organizations:ServicePrincipal": "guardduty.amazonaws.com"}
    by = "guardduty:EnableOrganizationAdminAccount"
    return [
        Request("organizations:EnableAWSServiceAccess", ["*"], principal, by),
        Request(
            "organizations:RegisterDelegatedAdministrator",
            [w.organizations("account", p["AdminAccountId"])],
            principal,
            by,
        ),
        *(
            Request(f"organizations:{action}", ["*"], {}, by)
            for action in (
                "ListDelegatedAdministrators",
                "ListAWSServiceAccessForOrganization",
                "DescribeOrganizationalUnit",
                "DescribeAccount",
                "DescribeOrganization",
                "ListAccounts",
            )
        ),
    ]


def _security_hub_admin(p: Params, w: World) -> list[Request]:
    """Security Hub's designation makes the account Security Hub's delegated administrator
    in Organizations with the caller's permissions (the management account needs
    organizations:EnableAWSServiceAccess and RegisterDelegatedAdministrator:
    https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html)."""
    principal = {"organizations:ServicePrincipal": "securityhub.amazonaws.com"}
    by = "securityhub:EnableOrganizationAdminAccount"
    return [
        Request("organizations:EnableAWSServiceAccess", ["*"], principal, by),
        Request(
            "organizations:RegisterDelegatedAdministrator",
            [w.organizations("account", p["AdminAccountId"])],
            principal,
            by,
        ),
        Request("organizations:DescribeOrganization", ["*"], {}, by),
        Request("organizations:ListDelegatedAdministrators", ["*"], {}, by),
    ]


def _cloudtrail_admin(p: Params, w: World) -> list[Request]:
    """The statement CloudTrail documents for registering its delegated administrator
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator-permissions.html)."""
    by = "cloudtrail:RegisterOrganizationDelegatedAdmin"
    role = w.service_linked_role("cloudtrail.amazonaws.com")
    return [
        Request(
            "organizations:RegisterDelegatedAdministrator",
            [w.organizations("account", p["MemberAccountId"])],
            {"organizations:ServicePrincipal": "cloudtrail.amazonaws.com"},
            by,
        ),
        Request("organizations:ListAWSServiceAccessForOrganization", ["*"], {}, by),
        _creates_role(w, "cloudtrail.amazonaws.com", by),
        Request("iam:GetRole", [role], {}, by),
    ]


def _deregistration(service: str, account_param: str, by: str) -> Callable[..., list[Request]]:
    """Deregistering through a service's API deregisters in Organizations (CloudTrail's
    documented statement lists DeregisterDelegatedAdministrator; GuardDuty's Disable is its
    Enable undone)."""

    def requests(p: Params, w: World) -> list[Request]:
        return [
            Request(
                "organizations:DeregisterDelegatedAdministrator",
                [w.organizations("account", p[account_param])],
                {"organizations:ServicePrincipal": service},
                by,
            )
        ]

    return requests


def _ram_sharing(p: Params, w: World) -> list[Request]:
    """RAM's EnableSharingWithAwsOrganization enables trusted access for RAM and creates its
    service-linked role (https://docs.aws.amazon.com/goto/WebAPI/ram/EnableSharingWithAwsOrganization;
    the caller needs permissions in both services:
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html)."""
    by = "ram:EnableSharingWithAwsOrganization"
    return [
        Request(
            "organizations:EnableAWSServiceAccess",
            ["*"],
            {"organizations:ServicePrincipal": "ram.amazonaws.com"},
            by,
        ),
        Request("organizations:DescribeOrganization", ["*"], {}, by),
        Request("organizations:ListAWSServiceAccessForOrganization", ["*"], {}, by),
        _creates_role(w, "ram.amazonaws.com", by),
    ]


DEPENDENT: dict[str, Callable[[Params, World], list[Request]]] = {
    "guardduty:enableorganizationadminaccount": _guardduty_admin,
    "guardduty:disableorganizationadminaccount": _deregistration(
        "guardduty.amazonaws.com", "AdminAccountId", "guardduty:DisableOrganizationAdminAccount"
    ),
    "securityhub:enableorganizationadminaccount": _security_hub_admin,
    "cloudtrail:registerorganizationdelegatedadmin": _cloudtrail_admin,
    "cloudtrail:deregisterorganizationdelegatedadmin": _deregistration(
        "cloudtrail.amazonaws.com",
        "DelegatedAdminAccountId",
        "cloudtrail:DeregisterOrganizationDelegatedAdmin",
    ),
    "ram:enablesharingwithawsorganization": _ram_sharing,
    "guardduty:createdetector": lambda p, w: _guardduty_roles(p, w, "guardduty:CreateDetector"),
    "guardduty:updatedetector": lambda p, w: _guardduty_roles(p, w, "guardduty:UpdateDetector"),
    # Enabling Security Hub creates its service-linked role
    # (https://docs.aws.amazon.com/securityhub/latest/userguide/using-service-linked-roles.html).
    "securityhub:enablesecurityhub": lambda p, w: [
        _creates_role(w, "securityhub.amazonaws.com", "securityhub:EnableSecurityHub")
    ],
}
"""IAM action (lower case) -> what the service does with the caller's permissions."""


@cache
def authorization_reference() -> dict[str, Any]:
    """IAM actions and their resource types, as cfn-lint ships them."""
    text = (
        package_data.files("cfnlint.data.AdditionalSpecs")
        .joinpath("Policies.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def iam_action(call: Call) -> str:
    special = OPERATION_ACTIONS.get((call.service, call.operation))
    return special or f"{SERVICE_PREFIXES.get(call.service, call.service)}:{call.operation}"


def has_resource_types(action: str) -> bool:
    prefix, name = action.split(":")
    actions = authorization_reference().get(prefix, {}).get("Actions", {})
    if name.lower() not in actions:
        raise LookupError(
            f"{action} is not an action of the Service Authorization Reference: add the "
            "operation to OPERATION_ACTIONS or its service to SERVICE_PREFIXES"
        )
    return bool(actions[name.lower()].get("Resources"))


def in_region(call: Call, world: World) -> World:
    """`world` as the call sees it: in the region its client called."""
    return replace(world, region=call.region) if call.region else world


def requests(call: Call, world: World) -> list[Request]:
    """The IAM requests `call` makes: its own, then the service's on its behalf."""
    world = in_region(call, world)
    action = iam_action(call)
    key = action.lower()
    if has_resource_types(action):
        if key not in RESOURCES:
            raise LookupError(
                f"{action} has resource-level permissions: add how {call.operation}'s "
                "parameters name its resources to RESOURCES"
            )
        resources = RESOURCES[key](call.params, world)
    else:
        resources = ["*"]
    context = CONTEXT.get(key, lambda _: {})(call.params)
    own = Request(action, resources, context)
    return [own, *DEPENDENT.get(key, lambda p, w: [])(call.params, world)]


# --- evaluation ------------------------------------------------------------------------


def _like(pattern: str, value: str) -> bool:
    """IAM's wildcards: * any run of characters, ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda actual, expected: actual == expected,
    "StringEqualsIgnoreCase": lambda actual, expected: actual.lower() == expected.lower(),
    "StringLike": lambda actual, expected: _like(expected, actual),
    "ArnEquals": lambda actual, expected: actual == expected,
    "ArnLike": lambda actual, expected: _like(expected, actual),
    "Bool": lambda actual, expected: str(actual).lower() == str(expected).lower(),
}
"""Condition operators (the negated forms and ...IfExists are derived)."""


def _substitute(value: str, keys: Mapping[str, str]) -> str:
    """IAM policy variables (`${aws:PrincipalAccount}`) replaced by the request's context
    keys; a variable the request lacks leaves the value unmatchable."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: keys.get(m.group(1).lower(), "\0"), value)


def principal_context(principal_arn: str) -> dict[str, str]:
    """The context keys a principal brings to every request: its ARN and its account."""
    return {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": principal_arn.split(":")[4]}


def conditions_hold(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]):
    """IAM's evaluation of a statement's Condition block against a request's context keys
    (key names are case-insensitive; a missing key matches only ...IfExists and negated
    operators)."""
    keys = {k.lower(): v for k, v in context.items()}
    for operator, tests in condition.items():
        if ":" in operator:
            raise NotImplementedError(f"set operator {operator}: teach conditions_hold it")
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        negated = "Not" in base
        test = OPERATORS.get(base.replace("Not", ""))
        if test is None:
            raise NotImplementedError(f"condition operator {operator}: teach conditions_hold it")
        for key, expected in tests.items():
            actual = keys.get(key.lower())
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            values = expected if isinstance(expected, list) else [expected]
            matched = any(test(actual, _substitute(str(value), keys)) for value in values)
            if matched == negated:
                return False
    return True


def _matches(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether the statement's actions and resources cover the request (moto's matcher;
    IAM action names are case-insensitive, so both sides are compared in lower case)."""
    if "NotResource" in statement or "Principal" in statement:
        raise NotImplementedError("NotResource and Principal: not in an identity policy here")
    bare: dict[str, Any] = {"Effect": "Allow", "Resource": statement.get("Resource")}
    for element in ("Action", "NotAction"):
        if element in statement:
            values = statement[element]
            bare[element] = [v.lower() for v in (values if isinstance(values, list) else [values])]
    verdict = IAMPolicyStatement(bare).is_action_permitted(action.lower(), resource)
    return verdict == PermissionResult.PERMITTED


def decide(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str],
) -> bool:
    """Allowed: some Allow statement applies and no Deny statement does."""
    allowed = False
    for statement in statements:
        if not _matches(statement, action, resource):
            continue
        if not conditions_hold(statement.get("Condition", {}), context):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def denied_by_scps(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str],
) -> bool:
    """Whether a Deny statement of the service control policies applies (the organisation
    keeps AWS's FullAWSAccess as their allow)."""
    return any(
        statement["Effect"] == "Deny"
        and _matches(statement, action, resource)
        and conditions_hold(statement.get("Condition", {}), context)
        for statement in statements
    )


def scp_denials(
    calls: Iterable[Call],
    statements: Sequence[Mapping[str, Any]],
    world: World,
    principal_arn: str,
) -> list[str]:
    """Each request of `calls` (by `principal_arn`) that a service control policy denies."""
    problems: list[str] = []
    for call in calls:
        for request in requests(call, world):
            context = {
                **principal_context(principal_arn),
                "aws:RequestedRegion": in_region(call, world).region,
                **request.context,
            }
            for resource in request.resources:
                if denied_by_scps(statements, request.action, resource, context):
                    problem = (
                        f"{call}: {request.action} on {resource} is denied to {principal_arn} "
                        "by a service control policy"
                    )
                    if problem not in problems:
                        problems.append(problem)
    return problems


def denials(
    calls: Iterable[Call], statements: Sequence[Mapping[str, Any]], world: World
) -> list[str]:
    """Each request of `calls` that `statements` do not allow, described."""
    problems: list[str] = []
    for call in calls:
        region = {"aws:RequestedRegion": in_region(call, world).region}
        for request in requests(call, world):
            for resource in request.resources:
                if decide(statements, request.action, resource, {**region, **request.context}):
                    continue
                context = f" with {dict(request.context)}" if request.context else ""
                by = f" (which {request.on_behalf} makes)" if request.on_behalf else ""
                problem = f"{call}: {request.action} on {resource}{context}{by} is not allowed"
                if problem not in problems:
                    problems.append(problem)
    return problems


# --- templates -------------------------------------------------------------------------


def resolve(value: Any, world: World) -> Any:
    """Intrinsics as CloudFormation would resolve them in `world`; references to other
    resources become a marker that matches no real ARN."""
    if isinstance(value, list):
        return [resolve(v, world) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        pseudo = {
            "AWS::Partition": world.partition,
            "AWS::AccountId": world.account,
            "AWS::Region": world.region,
            "AWS::URLSuffix": "amazonaws.com",
        }
        return pseudo.get(value["Ref"], f"<unresolved {value['Ref']}>")
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, world)) for part in parts)
    if "Fn::GetAtt" in value:
        return f"<unresolved {'.'.join(value['Fn::GetAtt'])}>"
    if any(key.startswith("Fn::") for key in value):
        return f"<unresolved {json.dumps(value)}>"
    return {k: resolve(v, world) for k, v in value.items()}


def role_statements(
    template: Mapping[str, Any], role: str, world: World
) -> list[Mapping[str, Any]]:
    """Every statement the template attaches to the role with logical id `role`."""
    resources = template["Resources"]
    found = [
        statement
        for policy in resources[role]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for resource in resources.values():
        attached = {"Ref": role} in resource.get("Properties", {}).get("Roles", [])
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and attached:
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return resolve(found, world)


def function_role(template: Mapping[str, Any], custom_resource: Mapping[str, Any]) -> str:
    """The logical id of the role of the function a custom resource invokes."""
    (function, _) = custom_resource["Properties"]["ServiceToken"]["Fn::GetAtt"]
    (role, _) = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"]
    return role
