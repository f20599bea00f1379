"""No policy allows a whole service, or everything but a list: `*`, `service:*` and
`NotAction` in an Allow statement.

Checked wherever CloudFormation carries a policy document: IAM policies, managed policies and
the inline policies of roles, users and groups; KMS key policies; S3 bucket, SNS topic, SQS
queue, Secrets Manager, ECR repository, Backup vault, OpenSearch domain and CloudWatch Logs
resource policies (a document CloudFormation must compute, an `Fn::Join` of a JSON string,
is not read). Deny statements may use
any of them (`s3:*` without TLS, `kms:*` outside the artifact keys).

One statement is AWS's, not ours: a key policy's default statement that gives the key's own
account `kms:*`, so that IAM policies (not the key policy alone) decide who uses the key;
without it a key can become unmanageable
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
It passes only in that exact form: `kms:*`, on `*`, to the root principal of the account the
template deploys to (`RuleContext.account`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.platform.rule import Resource, Rule, RuleContext

DOCUMENTS: Mapping[str, tuple[str, ...]] = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies",),
    "AWS::IAM::User": ("Policies",),
    "AWS::IAM::Group": ("Policies",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::Backup::BackupVault": ("AccessPolicy",),
    "AWS::OpenSearchService::Domain": ("AccessPolicies",),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument",),
}
"""Resource type -> the properties that hold a policy document (`Policies`: a list of
`{PolicyName, PolicyDocument}`)."""


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _documents(resource_type: str, properties: Mapping[str, Any]) -> Iterator[Mapping]:
    for key in DOCUMENTS.get(resource_type, ()):
        value = properties.get(key)
        if key == "Policies":
            for policy in _as_list(value):
                if isinstance(policy, Mapping):
                    yield policy.get("PolicyDocument") or {}
        elif isinstance(value, str):  # some types take the document as a JSON string
            try:
                yield json.loads(value)
            except ValueError:
                continue
        elif isinstance(value, Mapping):
            yield value


_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|<self>):root")


def _rendered(value: Any) -> str | None:
    """A principal ARN as text: the partition as `aws`, this account (`AWS::AccountId`) as
    `<self>`; None for anything else CloudFormation might compute."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        rendered = [
            part
            if isinstance(part, str)
            else {"AWS::Partition": "aws", "AWS::AccountId": "<self>"}.get(part.get("Ref", ""))
            for part in parts
        ]
        return None if None in rendered else separator.join(rendered)  # type: ignore[arg-type]
    return None


def _is_own_root(principal: Any, account: str | None) -> bool:
    """`{"AWS": <the root of the account the template deploys to>}`."""
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return False
    match = _ROOT.fullmatch(_rendered(principal["AWS"]) or "")
    return bool(match) and match.group(1) in ("<self>", account)


def _default_key_statement(
    resource_type: str, statement: Mapping[str, Any], account: str | None
) -> bool:
    return (
        resource_type == "AWS::KMS::Key"
        and _as_list(statement.get("Action")) == ["kms:*"]
        and _as_list(statement.get("Resource")) == ["*"]
        and "Condition" not in statement
        and _is_own_root(statement.get("Principal"), account)
    )


def too_broad(
    resource_type: str, statement: Mapping[str, Any], account: str | None = None
) -> str | None:
    """What is too broad in one statement, or None (`account`: where the template deploys)."""
    if statement.get("Effect") != "Allow":
        return None
    if "NotAction" in statement:
        return f"allows NotAction {statement['NotAction']}"
    wildcards = [
        action
        for action in _as_list(statement.get("Action"))
        if isinstance(action, str) and (action == "*" or action.endswith(":*"))
    ]
    if not wildcards or _default_key_statement(resource_type, statement, account):
        return None
    return f"allows {', '.join(wildcards)}"


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type not in DOCUMENTS:
        return None
    for document in _documents(resource_type, resource.get("Properties", {})):
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, Mapping):
                continue
            problem = too_broad(resource_type, statement, context.account)
            if problem:
                return f"statement {statement.get('Sid', '(no Sid)')} {problem}"
    return None


RULE = Rule(
    "NoAdminWildcards",
    "No policy statement allows *, a whole service (service:*) or NotAction.",
    _check,
)
