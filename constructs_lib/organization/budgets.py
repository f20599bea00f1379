"""BudgetAlerts: a monthly cost budget per member account, alerting a topic and people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.shared.encryption import platform_key

MAX_SUBSCRIBERS = 10
"""AWS Budgets allows ten subscribers per notification; the topic takes one."""


@dataclass(frozen=True)
class AccountBudget:
    """One account's monthly budget. `construct_id` is a contract: keep it stable."""

    construct_id: str
    account_id: str
    monthly_limit_usd: int


class BudgetAlerts(Construct):
    """AWS Budgets (cost, monthly) filtered by linked account, for an organisation's payer.

    Each budget notifies when actual spend passes each threshold: by e-mail to
    `alert_emails` and through `topic` (KMS-encrypted, TLS-only, publishable only by AWS
    Budgets for this account), which chat integrations such as AWS Chatbot subscribe to.
    Deploy it in the management (payer) account: only there does a linked-account filter
    see every member's spend.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        account_budgets: Sequence[AccountBudget],
        thresholds_percent: Sequence[int] = (80, 100),
        alert_emails: Sequence[str] = (),
    ) -> None:
        """
        :param account_budgets: one entry per account to watch.
        :param thresholds_percent: notify when actual spend passes each percentage of the
            limit; default 80 and 100.
        :param alert_emails: addresses notified directly (at most nine; the topic is the
            tenth subscriber); default none, only the topic.
        """
        super().__init__(scope, id_)
        _validate(account_budgets, thresholds_percent, alert_emails)
        publish = self._topic(Stack.of(self).account)
        notifications = _notifications(self.topic.topic_arn, thresholds_percent, alert_emails)
        self.budgets = {}
        for entry in account_budgets:
            budget = budgets.CfnBudget(
                self,
                entry.construct_id,
                budget=budgets.CfnBudget.BudgetDataProperty(
                    budget_name=f"{entry.construct_id}-monthly",
                    budget_type="COST",
                    time_unit="MONTHLY",
                    budget_limit=budgets.CfnBudget.SpendProperty(
                        amount=entry.monthly_limit_usd, unit="USD"
                    ),
                    cost_filters={"LinkedAccount": [entry.account_id]},
                ),
                notifications_with_subscribers=notifications,
            )
            # Budgets must be allowed to publish before the first notification is evaluated.
            if publish.policy_dependable is not None:
                budget.node.add_dependency(publish.policy_dependable)
            self.budgets[entry.construct_id] = budget

    def _topic(self, account: str) -> iam.AddToResourcePolicyResult:
        """The alert topic (`topic`) and its key (`key`), both usable by AWS Budgets for this
        account only; returns the topic-policy statement budgets must wait for."""
        self.key = platform_key(self, "TopicKey", description="Encrypts budget alerts")
        budgets_service = iam.ServicePrincipal("budgets.amazonaws.com")
        only_this_account = {"StringEquals": {"aws:SourceAccount": account}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetsToEncryptAlerts",
                principals=[budgets_service],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions=only_this_account,
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="Budget alerts", master_key=self.key, enforce_ssl=True
        )
        return self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetsToPublish",
                principals=[budgets_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=only_this_account,
            )
        )


def _notifications(
    topic_arn: str, thresholds_percent: Sequence[int], alert_emails: Sequence[str]
) -> list[budgets.CfnBudget.NotificationWithSubscribersProperty]:
    """One notification per threshold of actual spend, to the topic and every address."""
    subscribers = [
        budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic_arn)
    ] + [
        budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
        for email in alert_emails
    ]
    return [
        budgets.CfnBudget.NotificationWithSubscribersProperty(
            notification=budgets.CfnBudget.NotificationProperty(
                notification_type="ACTUAL",
                comparison_operator="GREATER_THAN",
                threshold=threshold,
                threshold_type="PERCENTAGE",
            ),
            subscribers=subscribers,
        )
        for threshold in thresholds_percent
    ]


def _validate(
    account_budgets: Sequence[AccountBudget],
    thresholds_percent: Sequence[int],
    alert_emails: Sequence[str],
) -> None:
    if not account_budgets:
        raise ValueError("account_budgets: at least one budget is required; got none")
    if len(alert_emails) > MAX_SUBSCRIBERS - 1:
        raise ValueError(
            f"alert_emails: at most {MAX_SUBSCRIBERS - 1} addresses; got {len(alert_emails)}"
        )
    bad = [p for p in thresholds_percent if not 0 < p <= 1000]
    if bad or not thresholds_percent:
        raise ValueError(f"thresholds_percent: need values in 1..1000; got {thresholds_percent!r}")
