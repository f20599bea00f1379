"""The management (Organizations root / payer) account."""

from __future__ import annotations

from stages.platform_stage import PlatformStage
from stages.stacks.budgets import BudgetsStack
from stages.stacks.organization import OrganizationStack


class ManagementStage(PlatformStage):
    """The organisation's structure and guardrails, and budgets for every account."""

    def build(self) -> None:
        self.organization_stack = OrganizationStack(self, "Organization")
        self.guardrails = self.organization_stack.guardrails
        self.budgets_stack = BudgetsStack(self, "Budgets")
