"""No S3 bucket can be made public."""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext

BLOCK_ALL = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type != "AWS::S3::Bucket":
        return None
    block = resource.get("Properties", {}).get("PublicAccessBlockConfiguration", {})
    open_ = [setting for setting in BLOCK_ALL if block.get(setting) is not True]
    return f"public access not blocked: {', '.join(open_)}" if open_ else None


RULE = Rule("NoPublicBuckets", "Every S3 bucket blocks all four kinds of public access.", _check)
