"""CloudFormation's hard per-stack quotas, checked at synth time with a margin.

CloudFormation refuses a stack over these only when it is deployed; a stack that has grown
past `THRESHOLD` of one fails the policy gate instead, naming the stack and the figure, so it
is split during review rather than during a production deploy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

THRESHOLD = 0.8
"""Fail at 80% of a quota: room for one more change, not for a new construct."""

SECTION_QUOTAS = {"Resources": 500, "Outputs": 200, "Parameters": 200, "Mappings": 200}
"""Per-template maximums (CloudFormation quotas page)."""

TEMPLATE_BODY_BYTES = 1_000_000
"""The largest template CloudFormation accepts from S3 (CDK uploads every template there)."""

RULE_ID = "StackLimits"
DESCRIPTION = (
    f"Every stack stays under {THRESHOLD:.0%} of CloudFormation's per-stack quotas "
    "(resources, outputs, parameters, mappings, template size)."
)


@dataclass(frozen=True)
class Excess:
    section: str
    """The template section over the margin, or "Template" for its size."""
    last_id: str | None
    """The section's last logical id (where a finding is anchored), if any."""
    message: str


def excesses(template: dict, size_bytes: int) -> Iterator[Excess]:
    """What in one template is past THRESHOLD of its quota."""
    for section, quota in SECTION_QUOTAS.items():
        entries = template.get(section, {})
        if len(entries) > quota * THRESHOLD:
            yield Excess(
                section,
                next(reversed(entries)),
                f"{len(entries)} {section.lower()}: {len(entries) / quota:.0%} of "
                f"CloudFormation's {quota} per stack; split the stack",
            )
    if size_bytes > TEMPLATE_BODY_BYTES * THRESHOLD:
        resources = template.get("Resources", {})
        yield Excess(
            "Template",
            next(reversed(resources), None),
            f"template is {size_bytes:,} bytes: {size_bytes / TEMPLATE_BODY_BYTES:.0%} of "
            f"CloudFormation's {TEMPLATE_BODY_BYTES:,}; split the stack",
        )
