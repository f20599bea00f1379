"""Acknowledge IAM wildcard findings statement by statement, with the reason beside it.

cdk-nag reports each wildcard of a policy as its own finding id,
`AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]` or `[Resource::<Bucket.Arn>/*]`.
`acknowledge_wildcards` renders a policy's statements the way cdk-nag does and acknowledges
exactly the wildcards of the statements it is given a reason for (by Sid), on that policy
only. A statement without a reviewed Sid keeps its findings, so synthesis fails until
someone reviews it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from policies.acknowledgements import acknowledge_all


def statements(policy: iam.CfnPolicy | iam.CfnManagedPolicy) -> list[dict[str, Any]]:
    """The policy's statements as CloudFormation will see them."""
    document = Stack.of(policy).resolve(policy.policy_document)
    return document.get("Statement", [])


def wildcard_details(statement: Mapping[str, Any]) -> Iterator[str]:
    """The `Action::...` / `Resource::...` details cdk-nag reports for one statement."""
    for action in as_list(statement.get("Action")):
        if "*" in action:
            yield f"Action::{action}"
    for resource in as_list(statement.get("Resource")):
        rendered = render(resource)
        if "*" in rendered:
            yield f"Resource::{rendered}"


def acknowledge_wildcards(
    policy: iam.ManagedPolicy | iam.Policy, reasons: Mapping[str, str]
) -> None:
    """Acknowledge the wildcards of each statement whose Sid has a reason in `reasons`."""
    cfn = policy.node.default_child
    if not isinstance(cfn, iam.CfnPolicy | iam.CfnManagedPolicy):
        raise TypeError(f"{policy.node.path}: expected an L1 IAM policy, found {cfn!r}")
    acknowledged: dict[str, str] = {}
    for statement in statements(cfn):
        reason = reasons.get(statement.get("Sid", ""))
        if reason is None:
            continue
        for detail in wildcard_details(statement):
            acknowledged.setdefault(detail, reason)
    acknowledge_wildcard_details(cfn, acknowledged)


def wildcard_findings(reasons: Mapping[str, str]) -> dict[str, str]:
    """`{finding id: reason}`: AwsSolutions-IAM5 for each wildcard detail (`Action::...`,
    `Resource::...`) of `reasons`, to acknowledge with a construct's other findings."""
    return {f"AwsSolutions::AwsSolutions-IAM5[{detail}]": r for detail, r in reasons.items()}


def acknowledge_wildcard_details(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge AwsSolutions-IAM5 for each wildcard detail of `reasons` on `construct`,
    each for its reason."""
    acknowledge_all(construct, wildcard_findings(reasons))


def managed_policy_finding(policy_arn: str) -> str:
    """The AwsSolutions-IAM4 finding id for the AWS-managed policy `policy_arn`, rendered as
    cdk-nag prints it (`render`)."""
    return f"AwsSolutions::AwsSolutions-IAM4[Policy::{policy_arn}]"


def aws_managed_policy_finding(name: str) -> str:
    """The AwsSolutions-IAM4 finding id for the AWS-managed policy `name` attached by name
    (`ManagedPolicy.from_aws_managed_policy_name`), as cdk-nag prints it."""
    return managed_policy_finding(f"arn:<AWS::Partition>:iam::aws:policy/{name}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def render(value: Any) -> str:
    """A resource as cdk-nag prints it: Ref -> <Id>, GetAtt -> <Id.Attr>, joins concatenated."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    return str(value)


def acknowledge_aws_managed_policies(role: iam.CfnRole, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM4 for each AWS-managed policy attached to `role`, with the
    policy ARN rendered as cdk-nag prints it (conditional attachments included)."""
    arns = Stack.of(role).resolve(role.managed_policy_arns) or []
    rendered = (
        render(arn)
        if isinstance(arn, str) or "Fn::Join" in arn
        else json.dumps(arn, separators=(",", ":"))
        for arn in arns
    )
    acknowledge_all(
        role,
        {
            managed_policy_finding(policy): reason
            for policy in rendered
            if ":iam::aws:policy/" in policy
        },
    )
