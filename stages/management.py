"""The management (Organizations root / payer) account."""

from __future__ import annotations

from constructs import Construct

from config import PlatformConfig
from constructs_lib.budgets import AccountBudget, BudgetAlerts
from stages.base import PlatformStack, PlatformStage


class ManagementStage(PlatformStage):
    """Budgets for every account of the organisation (organisation guardrails come next)."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, config=config)
        self.budgets_stack = PlatformStack(
            self,
            "Budgets",
            description=f"{config.organization.name} monthly cost budgets per account",
        )
        BudgetAlerts(
            self.budgets_stack,
            "BudgetAlerts",
            account_budgets=[
                AccountBudget(
                    construct_id=name,
                    account_id=account.id,
                    monthly_limit_usd=account.monthly_budget_usd,
                )
                for name, account in config.accounts.items()
            ],
            thresholds_percent=config.budgets.thresholds_percent,
            alert_emails=config.budgets.alert_emails,
        )
