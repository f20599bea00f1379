"""Monthly cost budgets for every account, in the management (payer) account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.organization.budgets import AccountBudget, BudgetAlerts
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class BudgetsStack(PlatformStack):
    """One budget per account of the config, alerting at the configured thresholds."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} monthly cost budgets per account",
        )
        BudgetAlerts(
            self,
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
