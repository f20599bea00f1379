"""Acknowledgements tell the truth: a wildcard acknowledgement speaks for every statement it
silences, a reason that claims read-only access covers only reads, and a reason that claims
"no resource-level permissions" names actions that have none."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources as package_data
from typing import Any

import pytest
from aws_cdk import aws_iam as iam

from policies.acknowledgements import acknowledgements_on
from policies.gate import PACKS
from policies.wildcards import (
    acknowledge_wildcards,
    as_list,
    claims_no_resource_level,
    claims_read_only,
    covering_statements,
    is_read_action,
    reason_segments,
    statements,
    untrue_read_only_claims,
)
from tests.conftest import new_stack

IAM5 = "AwsSolutions::AwsSolutions-IAM5["

REPORTED_UNTRUE: set[tuple[str, str, str]] = set()
"""Untrue reasons in files this change may not edit, reported for their owners to fix; the
test fails when one is fixed, so the entry goes with it."""


def reported(untrue: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Each untrue (path, detail, kind) as its REPORTED_UNTRUE entry (matched by the end of
    the path: the same construct in every account), or as itself if none matches."""
    return {
        next(
            (r for r in REPORTED_UNTRUE if path.endswith(r[0]) and (detail, kind) == r[1:]),
            (path, detail, kind),
        )
        for path, detail, kind in untrue
    }


def policy_of(statements_: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
    return iam.ManagedPolicy(new_stack(), "Policy", statements=statements_)


def acknowledged(policy: iam.ManagedPolicy) -> dict[str, str]:
    cfn = policy.node.default_child
    assert cfn is not None
    return acknowledgements_on(cfn, PACKS)


DESCRIBE = iam.PolicyStatement(sid="Describe", actions=["ec2:DescribeVpcs"], resources=["*"])
CREATE = iam.PolicyStatement(
    sid="Create", actions=["elasticloadbalancing:CreateLoadBalancer"], resources=["*"]
)


def test_a_shared_wildcard_carries_the_reason_of_every_statement_it_silences():
    policy = policy_of([DESCRIBE, CREATE])
    acknowledge_wildcards(
        policy,
        {
            "Describe": "Describe calls have no resource-level permissions here.",
            "Create": "Creates only what carries the cluster tag, by the request condition.",
        },
    )
    assert acknowledged(policy) == {
        f"{IAM5}Resource::*]": "Describe: Describe calls have no resource-level permissions "
        "here. | Create: Creates only what carries the cluster tag, by the request condition."
    }


def test_a_wildcard_shared_with_an_unreviewed_statement_is_refused():
    policy = policy_of([DESCRIBE, CREATE])
    with pytest.raises(ValueError, match=r"Resource::\* is also in statement\(s\) \['Create'\]"):
        acknowledge_wildcards(
            policy, {"Describe": "Describe calls have no resource-level permissions here."}
        )


def test_a_read_only_reason_on_a_statement_that_changes_things_is_refused():
    mixed = iam.PolicyStatement(
        sid="FindOrCreate",
        actions=["guardduty:ListDetectors", "guardduty:CreateDetector"],
        resources=["*"],
    )
    with pytest.raises(ValueError, match=r"claims read-only .* \['guardduty:CreateDetector'\]"):
        acknowledge_wildcards(
            policy_of([mixed]), {"FindOrCreate": "Read-only calls on this account's detector."}
        )


def test_a_reason_for_a_statement_the_policy_lacks_is_refused():
    with pytest.raises(ValueError, match=r"Sids no statement has: \['Descibe'\]"):
        acknowledge_wildcards(
            policy_of([DESCRIBE]), {"Descibe": "Describe calls have no resource-level permissions."}
        )


@pytest.mark.parametrize(
    ("action", "reads"),
    [
        ("ec2:DescribeVpcs", True),
        ("s3:GetObject*", True),
        ("s3:List*", True),
        ("codebuild:BatchGetBuilds", True),
        ("route53:ListHostedZonesByName", True),
        ("codebuild:StartBuild", False),
        ("kms:Decrypt", False),
        ("iam:PassRole", False),
        ("s3:*", False),
        ("*", False),
        ("iam:Get", False),
    ],
)
def test_read_actions_are_told_by_their_name(action, reads):
    assert is_read_action(action) is reads


@pytest.mark.parametrize(
    ("reason", "claim"),
    [
        ("Read-only calls. The List calls ...", True),
        ("Describe calls have no resource-level permissions.", True),
        ("it only lists zone names and ids.", True),
        ("Secrets Manager appends a random suffix to each secret's ARN.", False),
        ("ListDetectors and CreateDetector have no resource-level permissions.", False),
    ],
)
def test_what_counts_as_claiming_read_only(reason, claim):
    assert claims_read_only(reason) is claim


# --- the sample organisation -------------------------------------------------------------


@cache
def resource_types() -> dict[str, dict]:
    """IAM actions and their resource types: the Service Authorization Reference as cfn-lint
    ships it (the source tests/iam_check.py uses)."""
    text = (
        package_data.files("cfnlint.data.AdditionalSpecs")
        .joinpath("Policies.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def has_resource_types(action: str) -> bool:
    prefix, _, name = action.partition(":")
    actions = resource_types().get(prefix, {}).get("Actions", {})
    pattern = re.compile(name.lower().replace("*", ".*"))
    return any(pattern.fullmatch(a) and spec.get("Resources") for a, spec in actions.items())


def named_actions(reason: str, statement: Mapping[str, Any]) -> list[str]:
    """The actions of `statement` the claim sentence of `reason` names (all, if none)."""
    sentence = next(s for s in re.split(r"(?<=[.;])\s+", reason) if claims_no_resource_level(s))
    actions = as_list(statement.get("Action"))
    named = [a for a in actions if a.split(":")[1] in sentence]
    return named or actions


def wildcard_acknowledgements(organisation):
    """(construct path, the policy's statements, {IAM5 finding: reason}) per policy."""
    for construct in organisation.app.node.find_all():
        found = {
            f: r for f, r in acknowledgements_on(construct, PACKS).items() if f.startswith(IAM5)
        }
        if not found:
            continue
        cfn = (
            construct.node.default_child
            if isinstance(construct, iam.ManagedPolicy | iam.Policy)
            else construct
        )
        assert isinstance(cfn, iam.CfnPolicy | iam.CfnManagedPolicy), construct.node.path
        yield construct.node.path, statements(cfn), found


def test_every_wildcard_acknowledgement_names_statements_that_hold_it(organisation):
    checked = 0
    for path, statements_, found in wildcard_acknowledgements(organisation):
        for finding in found:
            assert covering_statements(statements_, finding), (path, finding)
            checked += 1
    assert checked > 50


def test_every_read_only_claim_covers_only_reads(organisation):
    untrue = {
        (path, finding.removeprefix(IAM5).removesuffix("]"), "read-only")
        for path, statements_, found in wildcard_acknowledgements(organisation)
        for finding in untrue_read_only_claims(statements_, found)
    }
    assert reported(untrue) == {u for u in REPORTED_UNTRUE if u[2] == "read-only"}


def test_every_no_resource_level_claim_is_true_of_the_actions_it_names(organisation):
    untrue = set()
    for path, statements_, found in wildcard_acknowledgements(organisation):
        for finding, reason in found.items():
            covered = covering_statements(statements_, finding)
            for text, speaks_for in reason_segments(reason, covered):
                if not claims_no_resource_level(text):
                    continue
                scoped = [
                    a
                    for statement in speaks_for
                    for a in named_actions(text, statement)
                    if has_resource_types(a)
                ]
                if scoped:
                    untrue.add(
                        (path, finding.removeprefix(IAM5).removesuffix("]"), "resource-level")
                    )
    assert reported(untrue) == {u for u in REPORTED_UNTRUE if u[2] == "resource-level"}


def test_the_health_gate_reads_alarms_by_their_resource_type(organisation):
    """cloudwatch:DescribeAlarms is authorised on alarms: the gate's role is scoped to this
    account's alarms, and only eks:ListClusters (no resource type) stays on '*'."""
    stack = organisation.stacks["staging"]["Operations"]
    (policy,) = stack.of_type("AWS::IAM::ManagedPolicy").values()
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert by_sid["ReadAlarmStates"]["Action"] == "cloudwatch:DescribeAlarms"
    assert by_sid["ReadAlarmStates"]["Resource"] == [  # every region the account has alarms in
        f"arn:aws:cloudwatch:{region}:555555555555:alarm:*"
        for region in ("eu-central-1", "eu-west-1", "us-east-1")
    ]
    on_everything = [s["Action"] for s in by_sid.values() if s["Resource"] == "*"]
    assert on_everything == ["eks:ListClusters"]


DOCUMENTED_ON_EVERYTHING = {
    # GuardDuty's EnableOrganizationAdminAccount makes these on the accounts and OUs it
    # chooses, and GuardDuty documents them on '*'
    # (https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html).
    "organizations:DescribeAccount",
    "organizations:DescribeOrganizationalUnit",
}


def policies_named(organisation, ends: tuple[str, ...]) -> list[tuple[str, list[dict]]]:
    return [
        (path, statements_)
        for path, statements_, _ in wildcard_acknowledgements(organisation)
        if path.endswith(ends)
    ]


def test_no_read_that_takes_a_resource_stays_on_everything(organisation):
    """The load balancer controller's and ExternalDNS's reads, and the management account's
    setup function, keep on '*' only actions the Service Authorization Reference gives no
    resource type (ListParents, DescribeCertificate, GetWebACL, ListResourceRecordSets ...
    are on the narrowest ARNs they take)."""
    found = policies_named(
        organisation,
        (
            "AwsLoadBalancerController/Policy/Resource",
            "ExternalDns/Policy/Resource",
            "management/Organization/Guardrails/Function/Permissions/Resource",
        ),
    )
    assert {p.split("/")[-3] for p, _ in found} == {
        "AwsLoadBalancerController",
        "ExternalDns",
        "Function",
    }
    on_everything = {
        (path, action)
        for path, statements_ in found
        for statement in statements_
        if "*" in as_list(statement.get("Resource"))
        for action in as_list(statement.get("Action"))
        if is_read_action(action)
        and has_resource_types(action)
        and action not in DOCUMENTED_ON_EVERYTHING
    }
    assert on_everything == set()
