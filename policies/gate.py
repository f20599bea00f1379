"""Register the policy packs on an app (or any stage) as validation plugins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import MappingProxyType

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from policies.platform import PACK_NAME, PlatformChecks

NAG_PACKS = MappingProxyType(
    {
        "AwsSolutions": AwsSolutionsChecks,
        "NIST.800.53.R5": NIST80053R5Checks,
        "HIPAA.Security": HIPAASecurityChecks,
        "PCI.DSS.321": PCIDSS321Checks,
    }
)
"""cdk-nag packs by the namespace their finding ids start with (`<pack>::<rule>`)."""

PACKS = (*NAG_PACKS, PACK_NAME)
"""Every pack the gate can run; the platform pack always runs."""


def apply_policy_gate(
    scope: Stage,
    *,
    packs: Sequence[str] = tuple(NAG_PACKS),
    required_tags: Sequence[str] = (),
    destroyable_assemblies: Iterable[str] = (),
) -> None:
    """Make every unacknowledged finding of `packs` and of the platform pack fail synthesis.

    `scope` is the App in `app.py`; tests pass small apps of their own. Register once, at the
    root: plugins on the App also check every nested Stage.
    """
    unknown = [pack for pack in packs if pack not in NAG_PACKS]
    if unknown:
        raise ValueError(f"packs: unknown {unknown}; known: {list(NAG_PACKS)}")
    Validations.of(scope).add_plugins(
        *(NAG_PACKS[pack](scope) for pack in packs),
        PlatformChecks(required_tags=required_tags, destroyable_assemblies=destroyable_assemblies),
    )
