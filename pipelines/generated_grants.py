"""Review the IAM policies CDK Pipelines generates, statement by statement.

CDK Pipelines gives each of its roles an inline default policy built from CDK's grant
methods: read/write on the pipeline's artifact bucket and key, logs and test reports of its
own CodeBuild projects, assuming the CDK bootstrap roles. cdk-nag flags their wildcards
(`s3:GetObject*`, `<bucket>/*`, `log-group:/aws/codebuild/<project>:*`, ...).

Rather than acknowledging a hand-copied list of finding ids, this module renders each
statement the way cdk-nag does, and acknowledges a wildcard only when the whole statement
matches one of the reviewed shapes below, on that policy alone. A statement of any other
shape (a new grant in a future CDK version, or one of ours) is left alone, so its finding
still fails synthesis and gets a human review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from constructs import IConstruct

from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_wildcard_details, as_list, render, statements


@dataclass(frozen=True)
class ReviewedShape:
    """A kind of generated statement: which wildcard actions and resources it may hold."""

    reason: str
    actions: re.Pattern[str]
    """Every action of the statement must match."""
    resources: re.Pattern[str]
    """Every resource of the statement (rendered like cdk-nag) must match."""


def reviewed_shapes(
    artifact_bucket: str, artifact_key: str, replication_buckets: Sequence[str] = ()
) -> tuple[ReviewedShape, ...]:
    """The statement shapes CDK Pipelines generates, for this pipeline's bucket and key (by
    logical id) and its artifact buckets in other regions (by name)."""
    codebuild = r"arn:aws:(logs|codebuild):[a-z0-9-]+:\d{12}:"
    buckets = "|".join(
        [
            rf"<{artifact_bucket}\.Arn>",
            *(rf"arn:(aws|<AWS::Partition>):s3:::{re.escape(b)}" for b in replication_buckets),
        ]
    )
    keys = rf"<{artifact_key}\.Arn>" + (r"|\*" if replication_buckets else "")
    return (
        ReviewedShape(
            "CDK Pipelines' grant on the pipeline's own artifact buckets (one per region it "
            "deploys to): the object wildcard is every artifact key in those buckets, the "
            "action wildcards are the S3 read/write families of CDK's bucket grants.",
            re.compile(r"s3:(GetObject\*|GetBucket\*|List\*|DeleteObject\*|PutObject\S*|Abort\*)"),
            re.compile(rf"({buckets})(/\*)?"),
        ),
        ReviewedShape(
            "CDK Pipelines' use of the pipeline's artifact KMS keys; the action wildcards are "
            "the GenerateDataKey and ReEncrypt variants. A key in another region is known to "
            "this stack only by alias, which IAM cannot name, so CDK writes '*'; the role's "
            "OnlyArtifactKeys statement denies every key not tagged as an artifact key.",
            re.compile(r"kms:(Decrypt|DescribeKey|Encrypt|GenerateDataKey\*|ReEncrypt\*)"),
            re.compile(keys),
        ),
        ReviewedShape(
            "A CodeBuild project of this pipeline writing its own build logs and test reports: "
            "CodeBuild names both after the project, so the grant is scoped by that prefix.",
            re.compile(
                r"logs:(CreateLogGroup|CreateLogStream|PutLogEvents)|codebuild:("
                r"BatchPutCodeCoverages|BatchPutTestCases|CreateReport|CreateReportGroup|"
                r"UpdateReport)"
            ),
            re.compile(
                codebuild + r"(log-group:/aws/codebuild/(<\w+>|\*)(:\*)?|report-group/(<\w+>-)?\*)"
            ),
        ),
        ReviewedShape(
            "Self-mutation and asset publishing assume only the CDK bootstrap roles (the "
            "statement's condition requires their aws-cdk:bootstrap-role tag).",
            re.compile(r"sts:AssumeRole"),
            re.compile(r"arn:\*:iam::\d{12}:role/\*"),
        ),
        ReviewedShape(
            "Read-only: self-mutation's `cdk deploy` reads stack status (DescribeStacks) and "
            "lists a bucket (ListBucket); CDK Pipelines grants both on '*' because it does not "
            "name the pipeline's stacks and the CDK staging bucket in the grant. Both actions "
            "have resource types: an accepted trade-off of the generated grant.",
            re.compile(r"cloudformation:DescribeStacks|s3:ListBucket"),
            re.compile(r"\*"),
        ),
    )


def acknowledge_generated_grants(
    scope: IConstruct, shapes: Iterable[ReviewedShape], *, inline_reason: str
) -> None:
    """Acknowledge, policy by policy under `scope`, the wildcards of reviewed statements and
    NIST's no-inline-policy finding (CDK Pipelines owns these default policies).

    A `find_all` (one call into Node for the whole list), not an aspect: an aspect written in
    Python is called back from Node for every construct it visits, about 0.5 ms of CPU each,
    and the pipeline stack has some 230 constructs, most of them no policy."""
    shapes = tuple(shapes)
    for construct in scope.node.find_all():
        if not isinstance(construct, iam.CfnPolicy):
            continue
        details: dict[str, str] = {}
        for statement in statements(construct):
            actions = as_list(statement.get("Action"))
            resources = [render(r) for r in as_list(statement.get("Resource"))]
            shape = next((s for s in shapes if _fits(s, actions, resources)), None)
            if shape is None:
                continue
            for item in [f"Action::{a}" for a in actions] + [f"Resource::{r}" for r in resources]:
                if "*" in item:
                    details.setdefault(item, shape.reason)
        acknowledge_wildcard_details(construct, details)
        acknowledge_control(construct, "IAMNoInlinePolicy", inline_reason)


def _fits(shape: ReviewedShape, actions: list[str], resources: list[str]) -> bool:
    return all(shape.actions.fullmatch(a) for a in actions) and all(
        shape.resources.fullmatch(r) for r in resources
    )
