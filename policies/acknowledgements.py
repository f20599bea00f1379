"""The one way this project acknowledges a policy finding.

An acknowledgement silences exactly one finding id (`Pack::RuleId`, with the `[detail]` the
synth error prints where a rule reports several) on one construct, with a reason a security
reviewer would accept. This helper refuses the shortcuts that make acknowledgements
worthless: a rule id without its pack, a pack the gate does not run, an empty or boilerplate
reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from policies.gate import PACKS

MIN_REASON_LENGTH = 40
METADATA_TYPE = "aws:cdk:acknowledged-rules"
"""The metadata CDK records each acknowledgement under, as `{finding id: reason}`
(`Validations.ACKNOWLEDGED_RULES_METADATA_KEY`)."""
_FINDING_ID = re.compile(r"^[A-Za-z0-9.\-]+::[A-Za-z0-9.\-]+(\[.+\])?$")
BOILERPLATE = re.compile(
    r"^\s*(n/?a|none|todo|tbd|fixme|ok|fine|false positive|accepted|suppressed|not needed|"
    r"not required|ignore|intentional|by design|see above)\W*$",
    re.IGNORECASE,
)


def acknowledge(construct: IConstruct, finding_id: str, reason: str) -> None:
    """Acknowledge `finding_id` on `construct` (and only there) for `reason`."""
    acknowledge_all(construct, {finding_id: reason})


def acknowledge_all(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge each finding id of `reasons` on `construct` (and only there) for its reason.

    One call into CDK for all of them: each call crosses from Python to Node and back, and a
    workload account acknowledges about 140 findings on 37 constructs, so a construct's
    findings are best acknowledged together (`controls` builds the control packs' ids).
    """
    acknowledgments = [_checked(finding_id, reason) for finding_id, reason in reasons.items()]
    if acknowledgments:
        Validations.of(construct).acknowledge(*acknowledgments)


def _checked(finding_id: str, reason: str) -> Acknowledgment:
    if not _FINDING_ID.match(finding_id):
        raise ValueError(
            f"finding_id: expected 'Pack::RuleId' or 'Pack::RuleId[detail]' as printed by the "
            f"synth error; got {finding_id!r}"
        )
    pack = pack_of(finding_id)
    if pack not in PACKS:
        raise ValueError(
            f"finding_id: {pack!r} is not a pack the gate runs ({', '.join(PACKS)}), so "
            f"nothing would ever use this acknowledgement; got {finding_id!r}"
        )
    if len(reason.strip()) < MIN_REASON_LENGTH or BOILERPLATE.match(reason):
        raise ValueError(
            f"reason: say why {finding_id} is safe here, in at least {MIN_REASON_LENGTH} "
            f"characters; got {reason!r}"
        )
    return Acknowledgment(id=finding_id, reason=reason.strip())


def acknowledgements_on(construct: IConstruct, namespaces: Sequence[str]) -> dict[str, str]:
    """The acknowledgements made on `construct` itself for findings of `namespaces`, as
    `{finding id: reason}` (CDK acknowledges some of its own, in other namespaces)."""
    return {
        finding_id: reason
        for entry in construct.node.metadata
        if entry.type == METADATA_TYPE
        for finding_id, reason in entry.data.items()
        if pack_of(finding_id) in namespaces
    }


def pack_of(finding_id: str) -> str:
    """The pack (namespace) of a finding id: `AwsSolutions` of `AwsSolutions::AwsSolutions-S1`."""
    return finding_id.split("::")[0]


ALL_CONTROL_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
"""The compliance packs that share rule names (`<pack>::<pack>-<Rule>`)."""


def controls(rule: str, reason: str, *, packs: Sequence[str] = ALL_CONTROL_PACKS) -> dict[str, str]:
    """`{finding id: reason}` for one control rule in each pack of `packs`, to acknowledge
    together with a construct's other findings in one `acknowledge_all`.

    `packs` must name exactly the packs that report the rule (an acknowledgement that
    matches nothing fails the tests), e.g. LambdaDLQ is in NIST and HIPAA but not PCI.
    """
    return {f"{pack}::{pack}-{rule}": reason for pack in packs}


def acknowledge_control(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    packs: Sequence[str] = ALL_CONTROL_PACKS,
) -> None:
    """Acknowledge one control rule in each pack that has it (see `controls`), on
    `construct` only."""
    acknowledge_all(construct, controls(rule, reason, packs=packs))
