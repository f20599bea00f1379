"""What each stack needs that it does not create itself, and what each stack provides.

A need or an offer is a plain tuple key, e.g. `("bucket", name)`, `("role", account, name)`,
`("output", stack name, region, output)`, `("parameter", account, region, name)`,
`("trusted-access", service)`, `("delegated-admin", service, account)`,
`("delegated-admin-region", service, account, region)` (GuardDuty's and Security Hub's
regional designations), `("ram-sharing",)`, `("backup-cross-account",)`,
`("policy-type", type)`, `("service-linked-role", account, service)`,
`("acceptance", resource type, stack name, region)` (the owner's stack accepts requests made to
its resource: `WAITS_FOR_OWNER`). Only literal values in the
templates count: a reference to a resource of the same stack is CloudFormation's to order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from facts.aws_behaviour import SERVICE_LINKED_ROLE_NEEDS, WAITS_FOR_OWNER
from facts.cdk import CDK_QUALIFIER
from tools.rehearsal.plan import PlannedStack

Key = tuple[str, ...]

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
BOOTSTRAP_ROLE = re.compile(rf"^cdk-{CDK_QUALIFIER}-")
BOOTSTRAP_PARAMETER = f"/cdk-bootstrap/{CDK_QUALIFIER}/version"
AWS_PUBLIC_PARAMETERS = "/aws/service/"
"""AWS's public parameters (such as the latest Amazon Linux AMI ids), readable from every
account (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html)."""
ORGANIZATION_ARN = re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:(organization|ou)/")
ACCOUNT_ID = re.compile(r"^\d{12}$")
"""A RAM principal that is an account (config shares the network hub with named accounts)."""

ORGANIZATION_SERVICE_OF_TYPE = {
    "AWS::SecurityHub::OrganizationConfiguration": "securityhub.amazonaws.com",
    "AWS::SecurityHub::ConfigurationPolicy": "securityhub.amazonaws.com",
    "AWS::SecurityHub::FindingAggregator": "securityhub.amazonaws.com",
    "AWS::GuardDuty::Member": "guardduty.amazonaws.com",
}
"""Resource types only a delegated administrator can create (organisation-wide settings)."""


@dataclass(frozen=True)
class Need:
    key: Key
    resource: str
    """The logical id that needs it (or "" for the stack as a whole)."""
    why: str


def literal(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def offers(stack: PlannedStack) -> set[Key]:
    """What `stack` creates that another stack (or AWS) may rely on, once it has deployed."""
    found: set[Key] = set(stack.provides)
    for name in stack.template.get("Outputs", {}):
        found.add(("output", stack.stack_name, stack.region, name))
    for resource in stack.resources.values():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::S3::Bucket" and literal(props.get("BucketName")):
            found.add(("bucket", props["BucketName"]))
        elif kind == "AWS::IAM::Role" and literal(props.get("RoleName")):
            found.add(("role", stack.account_id, props["RoleName"]))
        elif kind == "AWS::SSM::Parameter" and literal(props.get("Name")):
            found.add(("parameter", stack.account_id, stack.region, props["Name"]))
        elif kind == "AWS::SecurityHub::DelegatedAdmin" and literal(props.get("AdminAccountId")):
            admin = ("delegated-admin", "securityhub.amazonaws.com", props["AdminAccountId"])
            found |= {admin, ("trusted-access", "securityhub.amazonaws.com")}
            found.add(("delegated-admin-region", *admin[1:], stack.region))
        elif kind == "AWS::IAM::ServiceLinkedRole" and literal(props.get("AWSServiceName")):
            found.add(("service-linked-role", stack.account_id, props["AWSServiceName"]))
        elif kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            found |= custom_resource_offers(stack, props)
    found |= acceptance_offers(stack)
    return found


def acceptance_offers(stack: PlannedStack) -> set[Key]:
    """A stack accepts requests to its resource (`WAITS_FOR_OWNER`) when the resource accepts
    them itself, or when one of the platform's acceptor custom resources runs a function that
    an enabled schedule of the same stack also runs: the requests come after it deploys."""
    found: set[Key] = set()
    resources = stack.resources.values()
    scheduled = {
        json.dumps(target.get("Arn"), sort_keys=True)
        for r in resources
        if r["Type"] == "AWS::Events::Rule"
        and (r.get("Properties") or {}).get("ScheduleExpression")
        and (r.get("Properties") or {}).get("State", "ENABLED") == "ENABLED"
        for target in (r.get("Properties") or {}).get("Targets", [])
    }
    for wait in WAITS_FOR_OWNER:
        owners = [r for r in resources if r["Type"] == wait.owner_type]
        accepts_itself = any(
            (r.get("Properties") or {}).get(wait.auto_accept_property) == "enable" for r in owners
        )
        acceptor = any(
            r["Type"] in wait.acceptors
            and json.dumps((r.get("Properties") or {}).get("ServiceToken"), sort_keys=True)
            in scheduled
            for r in resources
        )
        if owners and (accepts_itself or acceptor):
            found.add(("acceptance", wait.resource_type, stack.stack_name, stack.region))
    return found


def custom_resource_offers(stack: PlannedStack, props: dict[str, Any]) -> set[Key]:
    """Organisation settings the platform's setup resource makes, and service-linked roles a
    create-if-missing resource makes (`AwsCustomResource` calling iam:CreateServiceLinkedRole)."""
    found: set[Key] = set()
    for service in props.get("ServiceAccess", []) or []:
        found.add(("trusted-access", service))
    for admin in props.get("DelegatedAdministrators", []) or []:
        found.add(("delegated-admin", admin["ServicePrincipal"], admin["AccountId"]))
        for region in admin.get("Regions") or []:
            found.add(
                ("delegated-admin-region", admin["ServicePrincipal"], admin["AccountId"], region)
            )
    for policy_type in props.get("PolicyTypes", []) or []:
        found.add(("policy-type", policy_type))
    if str(props.get("ResourceSharing", "")).lower() == "true":
        found.add(("ram-sharing",))
    if str(props.get("CrossAccountBackup", "")).lower() == "true":
        found |= {("backup-cross-account",), ("trusted-access", "backup.amazonaws.com")}
    for call in (props.get("Create"), props.get("Update")):
        text = literal(call)
        if text and "createServiceLinkedRole" in text:
            service = json.loads(text).get("parameters", {}).get("AWSServiceName")
            if service:
                found.add(("service-linked-role", stack.account_id, service))
    if literal(props.get("ServiceLinkedRole")):
        found.add(("service-linked-role", stack.account_id, props["ServiceLinkedRole"]))
    return found


def needs(stack: PlannedStack, zones: frozenset[str] = frozenset()) -> list[Need]:
    """What `stack` needs to exist before its change set is prepared or executed; `zones` are
    the public hosted zones the rollout itself creates."""
    found: list[Need] = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] == "AWS::CertificateManager::Certificate":
            domain = literal(resource.get("Properties", {}).get("DomainName")) or ""
            parents = [z for z in zones if domain == z or domain.endswith("." + z)]
            if parents:
                # The topmost zone the rollout creates: only the registrar can delegate it.
                top = min(parents, key=len)
                why = "validates through DNS the public can resolve"
                found.append(Need(("registrar-delegation", top), logical_id, why))
    for name, parameter in stack.template.get("Parameters", {}).items():
        if parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
            path = parameter.get("Default", "")
            if path == BOOTSTRAP_PARAMETER:
                found.append(Need(("prerequisite", "cdk-bootstrap"), "", "the CDK bootstrap"))
            elif path.startswith(AWS_PUBLIC_PARAMETERS):
                continue  # AWS publishes them in every region (the latest AMI ids)
            else:
                key = ("parameter", stack.account_id, stack.region, path)
                found.append(Need(key, name, "reads it when its change set is made"))
    for logical_id, resource in stack.resources.items():
        found.extend(resource_needs(stack, logical_id, resource))
    return found


def public_zones(stacks: Iterator[PlannedStack]) -> frozenset[str]:
    """The public hosted zones the assembly creates, by name without the trailing dot."""
    return frozenset(
        props["Name"].rstrip(".")
        for stack in stacks
        for resource in stack.resources.values()
        if resource["Type"] == "AWS::Route53::HostedZone"
        and literal((props := resource.get("Properties", {})).get("Name"))
        and not props.get("VPCs")
    )


def resource_needs(stack: PlannedStack, logical_id: str, resource: dict[str, Any]) -> list[Need]:
    kind, props = resource["Type"], resource.get("Properties", {})
    found: list[Need] = []
    for value in walk(props):
        if isinstance(value, dict) and "Fn::GetStackOutput" in value:
            ref = value["Fn::GetStackOutput"]
            key = ("output", ref["StackName"], ref.get("Region", stack.region), ref["OutputName"])
            found.append(Need(key, logical_id, "Fn::GetStackOutput"))
            role = literal(ref.get("RoleArn"))
            if role and (match := ROLE_ARN.match(role)):
                found.append(Need(("role", *match.groups()), logical_id, "reads the output as"))
    for wait in (w for w in WAITS_FOR_OWNER if w.resource_type == kind):
        # The owner's resource, read from the owner's stack: that stack must accept.
        owner = props.get(wait.owner_property)
        if isinstance(owner, dict) and "Fn::GetStackOutput" in owner:
            ref = owner["Fn::GetStackOutput"]
            key = ("acceptance", kind, ref["StackName"], ref.get("Region", stack.region))
            why = "its create completes only once the owner accepts it"
            found.append(Need(key, logical_id, why))
    if kind in ("AWS::Config::DeliveryChannel", "AWS::CloudTrail::Trail"):
        bucket = literal(props.get("S3BucketName"))
        if bucket:
            found.append(Need(("bucket", bucket), logical_id, "delivers to it"))
    if kind == "AWS::CloudTrail::Trail" and props.get("IsOrganizationTrail"):
        found.append(Need(("trusted-access", "cloudtrail.amazonaws.com"), logical_id, "org trail"))
    if kind == "AWS::RAM::ResourceShare" and any(
        ORGANIZATION_ARN.match(p) or ACCOUNT_ID.match(p)
        for p in props.get("Principals", [])
        if isinstance(p, str)
    ):
        # Shared with accounts of the organisation, a share needs no invitation only once
        # sharing with the organisation is enabled.
        found.append(Need(("ram-sharing",), logical_id, "shares with the organisation"))
    if kind == "AWS::Backup::BackupPlan" and copies_to_another_account(stack, props):
        why = "copies recovery points into another account's vault"
        found.append(Need(("backup-cross-account",), logical_id, why))
    if kind == "AWS::Backup::BackupVault" and "backup:CopyIntoBackupVault" in json.dumps(
        props.get("AccessPolicy", {})
    ):
        why = "receives copies from other accounts"
        found.append(Need(("backup-cross-account",), logical_id, why))
    if kind == "AWS::Config::ConfigurationAggregator" and props.get(
        "OrganizationAggregationSource"
    ):
        found.append(admin_need("config.amazonaws.com", stack, logical_id))
    if kind == "AWS::AccessAnalyzer::Analyzer" and props.get("Type", "").startswith("ORGANIZATION"):
        found.append(admin_need("access-analyzer.amazonaws.com", stack, logical_id))
    if kind in ORGANIZATION_SERVICE_OF_TYPE:
        found.append(admin_need(ORGANIZATION_SERVICE_OF_TYPE[kind], stack, logical_id))
    if kind == "AWS::Organizations::Policy":
        found.append(Need(("policy-type", props.get("Type", "")), logical_id, "is attached"))
    principal = literal(props.get("PrincipalArn")) or ""
    if kind == "AWS::EKS::AccessEntry" and (match := ROLE_ARN.match(principal)):
        found.append(Need(("principal", *match.groups()), logical_id, "grants it access"))
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        found.extend(regional_admin_needs(stack, logical_id, props))
        for value in walk({k: v for k, v in props.items() if k != "ServiceToken"}):
            role = literal(value)
            if role and (match := ROLE_ARN.match(role)) and match.group(1) != stack.account_id:
                found.append(Need(("role", *match.groups()), logical_id, "assumes it"))
    for need in SERVICE_LINKED_ROLE_NEEDS:
        if kind == need.resource_type and (
            need.when_property is None or need.when_property in props
        ):
            key = ("service-linked-role", stack.account_id, need.service)
            found.append(Need(key, logical_id, f"needs {need.role_name} ({need.doc})"))
    return found


REGIONAL_SETUP = {
    "GuardDutyDetector": "guardduty.amazonaws.com",
    "GuardDutyOrganization": "guardduty.amazonaws.com",
    "SecurityHub": "securityhub.amazonaws.com",
    "SecurityHubOrganization": "securityhub.amazonaws.com",
}
"""The security account's setup properties that act in `Regions` as the service's delegated
administrator, which the management account designates per region."""


def regional_admin_needs(stack: PlannedStack, logical_id: str, props: dict) -> list[Need]:
    found = []
    for name, service in REGIONAL_SETUP.items():
        setting = props.get(name)
        if not isinstance(setting, dict) or not setting.get("Regions"):
            continue
        for region in sorted({stack.region, *setting["Regions"]}):
            key = ("delegated-admin-region", service, stack.account_id, region)
            found.append(Need(key, logical_id, f"acts as administrator in {region}"))
    return found


def copies_to_another_account(stack: PlannedStack, props: dict[str, Any]) -> bool:
    """Whether a backup plan's copy actions name a vault of another account."""
    return any(
        (vault := literal(action.get("DestinationBackupVaultArn")))
        and vault.split(":")[4] != stack.account_id
        for rule in props.get("BackupPlan", {}).get("BackupPlanRule", [])
        for action in rule.get("CopyActions", []) or []
    )


def admin_need(service: str, stack: PlannedStack, logical_id: str) -> Need:
    return Need(("delegated-admin", service, stack.account_id), logical_id, "organisation-wide")


def references(value: Any) -> set[str]:
    """Logical ids `value` refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    found: set[str] = set()
    for item in walk(value):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        getatt = item.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            found.add(getatt[0])
        sub = item.get("Fn::Sub")
        text = sub if isinstance(sub, str) else (sub[0] if isinstance(sub, list) and sub else "")
        found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
    return found


def depends_on(template: dict[str, Any]) -> dict[str, set[str]]:
    """Logical id -> every logical id CloudFormation creates before it (DependsOn, Ref,
    GetAtt, Sub), transitively."""
    resources = template.get("Resources", {})
    direct = {
        logical_id: (
            set(as_list(resource.get("DependsOn"))) | references(resource.get("Properties", {}))
        )
        & set(resources)
        for logical_id, resource in resources.items()
    }
    closed: dict[str, set[str]] = {}

    def close(logical_id: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if logical_id in closed:
            return closed[logical_id]
        result = set()
        for parent in direct.get(logical_id, ()):
            if parent in seen:
                continue
            result |= {parent} | close(parent, seen | {logical_id})
        closed[logical_id] = result
        return result

    for logical_id in resources:
        close(logical_id)
    return closed


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def custom_resource_policies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Custom resource -> the IAM policies attached to the role of the function behind it,
    created separately from the role (AWS::IAM::Policy / ManagedPolicy naming the role)."""
    resources = template.get("Resources", {})
    policies_of_role: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in resource.get("Properties", {}).get("Roles", []) or []:
                if isinstance(role, dict) and isinstance(role.get("Ref"), str):
                    policies_of_role.setdefault(role["Ref"], set()).add(logical_id)
    found: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if not (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"):
            continue
        token = resource.get("Properties", {}).get("ServiceToken")
        function = token.get("Fn::GetAtt", [None])[0] if isinstance(token, dict) else None
        target = resources.get(function or "", {})
        role = target.get("Properties", {}).get("Role")
        role_id = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
        if role_id in policies_of_role:
            found[logical_id] = policies_of_role[role_id]
    return found
