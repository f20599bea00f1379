"""Register the policy packs on an app (or any stage) as validation plugins."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

PACKS = ("AwsSolutions", "NIST.800.53.R5")
"""The packs every synthesis runs, by the namespace their finding ids start with."""


def apply_policy_gate(scope: Stage) -> None:
    """Make every unacknowledged finding of the packs in `PACKS` fail synthesis of `scope`.

    `scope` is the App in `app.py`; tests pass small apps of their own. Register once, at the
    root: plugins on the App also check every nested Stage.
    """
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), NIST80053R5Checks(scope))
