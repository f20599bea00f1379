"""Every taggable resource carries the platform's cost-allocation tags."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from policies.platform.rule import Resource, Rule, RuleContext, tags_of

TAGGABLE_TYPES_FILE = Path(__file__).with_name("taggable_types.txt")


@cache
def taggable_types() -> frozenset[str]:
    """CloudFormation types with a `Tags` property (generated from cfn-lint's schemas by
    tools/update_taggable_types.py; a test keeps it in step)."""
    return frozenset(TAGGABLE_TYPES_FILE.read_text().split())


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type not in taggable_types():
        return None
    keys = tags_of(resource)
    missing = [key for key in context.required_tags if key not in keys]
    return f"missing cost-allocation tag(s) {', '.join(missing)}" if missing else None


RULE = Rule(
    "CostAllocationTags",
    "Every taggable resource carries the organisation's cost-allocation tags.",
    _check,
)
