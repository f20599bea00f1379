"""The security team's signals, from the security account's home region: GuardDuty and Security
Hub findings of the whole organisation (every account, every allowed region) and the CIS
sign-in alarms on the organisation trail, on one encrypted topic delivered to the security
channel.

Where the events arrive (so one region of one account is enough):
- Security Hub sends every new or updated finding to EventBridge as `Security Hub Findings -
  Imported`; "for administrator accounts, the event feed includes events for findings from
  both their account and from their member accounts", and "in an aggregation Region, the event
  feed includes events for findings from the aggregation Region and the linked Regions"
  (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-integration-types.html).
  The security account is Security Hub's delegated administrator and its home region holds
  the finding aggregator over the other allowed regions (`SecurityServices`).
- GuardDuty findings are imported into Security Hub ("once you enable GuardDuty and Security
  Hub in the same account within the same AWS Region, GuardDuty starts sending all the
  generated findings to Security Hub":
  https://docs.aws.amazon.com/guardduty/latest/ug/securityhub-integration.html; both run in
  every account and allowed region),
  so GuardDuty's findings of every region reach the home region through the same aggregation:
  no per-region GuardDuty rule. GuardDuty's numeric severity maps to Security Hub's label
  (4.0-6.9 MEDIUM, 7.0-8.9 HIGH, 9.0-10 CRITICAL), so "severity 4 and above" is the labels
  MEDIUM, HIGH and CRITICAL
  (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html).
- AWS Config's non-compliance of the conformance rules is Security Hub's failed controls (the
  enabled standards' controls are Config rules Security Hub manages; their findings are
  aggregated like any other). Config's own `Config Rules Compliance Change` events stay in
  the account and region where the rule evaluates, and the organisation's Config aggregator
  is a read-only view that emits no events, so they would need a rule in every account and
  region.
- Root usage and console sign-ins without MFA: console sign-in events reach EventBridge only
  in the account (and, for root, the region) where the sign-in happens, so the security
  account would see its own only. The organisation trail sees every account's: it also
  delivers to a CloudWatch Logs log group here, where the CIS metric filters and alarms run
  (`SIGN_IN_FILTERS`).
- Findings hidden on purpose (`SUPPRESSION_FILTERS`): Security Hub automation rules and
  suppressed findings, GuardDuty suppression rules and archived findings, from the same log
  group, so in every account and region.

Chat channels receive the events unchanged (no input transformer into AWS Chatbot's custom
notification format, https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html):
the e-mails get the full finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.operations.notification import ChatChannel, ChatChannels, NotificationTopic

FINDINGS_IMPORTED = "Security Hub Findings - Imported"

GUARDDUTY_SEVERITY_LABELS = ("MEDIUM", "HIGH", "CRITICAL")
"""GuardDuty findings of severity 4.0 and above, as Security Hub labels them."""
SECURITY_HUB_SEVERITY_LABELS = ("HIGH", "CRITICAL")
"""Security Hub's other findings (controls, Inspector, Access Analyzer, ...) from HIGH up."""


def _finding(**match: Any) -> dict[str, Any]:
    """An event pattern matching Security Hub's imported findings that are new (not yet
    triaged: workflow NEW) and active (not archived), with `match` on the finding."""
    return {
        "source": ["aws.securityhub"],
        "detail-type": [FINDINGS_IMPORTED],
        "detail": {
            "findings": {
                **match,
                "Workflow": {"Status": ["NEW"]},
                "RecordState": ["ACTIVE"],
            }
        },
    }


def guardduty_pattern() -> dict[str, Any]:
    """GuardDuty's findings of severity 4.0 and above, from every account and region."""
    return _finding(ProductName=["GuardDuty"], Severity={"Label": list(GUARDDUTY_SEVERITY_LABELS)})


def security_hub_pattern() -> dict[str, Any]:
    """Every other product's findings (GuardDuty's have their own rule, so none posts twice)
    labelled HIGH or CRITICAL: failed controls of the standards (AWS Config rules), IAM Access
    Analyzer, Inspector, ..."""
    return _finding(
        ProductName=[{"anything-but": "GuardDuty"}],
        Severity={"Label": list(SECURITY_HUB_SEVERITY_LABELS)},
    )


SIGN_IN_FILTERS = {
    "RootUsage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }',
    "ConsoleSignInWithoutMfa": '{ ($.eventName = "ConsoleLogin") && '
    '($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && '
    '($.responseElements.ConsoleLogin = "Success") }',
}
"""The CIS metric filters (Security Hub controls CloudWatch.1 and CloudWatch.3:
https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html): any use
of an account's root user (its console sign-in included), and a successful console sign-in
of an IAM user without MFA."""
SUPPRESSION_FILTERS = {
    "FindingsSuppressed": '{ ($.eventSource = "securityhub.amazonaws.com" && '
    '($.eventName = "CreateAutomationRule" || $.eventName = "BatchUpdateAutomationRules" || '
    '$.eventName = "CreateAutomationRuleV2" || $.eventName = "UpdateAutomationRuleV2" || '
    '($.eventName = "BatchUpdateFindings" && $.requestParameters.Workflow.Status = '
    '"SUPPRESSED"))) || ($.eventSource = "guardduty.amazonaws.com" && '
    '((($.eventName = "CreateFilter" || $.eventName = "UpdateFilter") && '
    '$.requestParameters.action = "ARCHIVE") || $.eventName = "ArchiveFindings")) }',
}
"""Hiding findings from the security channel, in any account or region the trail records:
a Security Hub automation rule (it may set findings to SUPPRESSED before any rule here sees
them), findings suppressed by hand, and a GuardDuty suppression rule (a filter whose action is
ARCHIVE) or findings archived by hand. Allowed (the delegated administrator's daily work) but
never silent."""
METRIC_NAMESPACE = "SecuritySignals"


class SecurityFindings(Construct):
    """The security channel's topic (`topic_name`, encrypted, e-mails of the channel
    subscribed), its chat configurations (read-only), EventBridge rules sending GuardDuty's
    (`guardduty_pattern`) and Security Hub's (`security_hub_pattern`) findings to it, and,
    given the organisation trail's `trail_log_group`, the CIS metric filters
    (`SIGN_IN_FILTERS`) with an alarm each on the topic.

    Exposes `topic` (a `NotificationTopic`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        topic_name: str,
        display_name: str,
        emails: Sequence[str] = (),
        chat_channels: Mapping[str, ChatChannel] | None = None,
        trail_log_group: logs.ILogGroup | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.topic = NotificationTopic(
            self, "Topic", topic_name=topic_name, display_name=display_name, emails=emails
        )
        ChatChannels(
            self,
            "Chat",
            name_prefix=topic_name,
            channels=chat_channels or {},
            topic_arns=[self.topic.topic.topic_arn],
        )
        for name, pattern, description in (
            ("GuardDuty", guardduty_pattern(), "GuardDuty findings of medium severity and up"),
            ("SecurityHub", security_hub_pattern(), "Security Hub findings, high and critical"),
        ):
            # A raw rule: CDK's SNS target would add its own unconditioned publish grant to the
            # topic policy; the topic admits this account's EventBridge rules already.
            events.CfnRule(
                self,
                f"{name}Rule",
                description=f"{description}, of every account and region, to the security channel",
                event_pattern=pattern,
                state="ENABLED",
                targets=[
                    events.CfnRule.TargetProperty(
                        arn=self.topic.topic.topic_arn, id="SecurityTopic"
                    )
                ],
            )
        if trail_log_group is not None:
            action = cloudwatch_actions.SnsAction(self.topic.topic)
            for name, pattern in {**SIGN_IN_FILTERS, **SUPPRESSION_FILTERS}.items():
                metric_filter = logs.MetricFilter(
                    self,
                    f"{name}Filter",
                    log_group=trail_log_group,
                    filter_pattern=logs.FilterPattern.literal(pattern),
                    metric_namespace=METRIC_NAMESPACE,
                    metric_name=name,
                    metric_value="1",
                )
                alarm = cloudwatch.Alarm(
                    self,
                    f"{name}Alarm",
                    alarm_name=f"{topic_name}-{name}",
                    alarm_description=f"{name} in an account of the organisation (CIS): "
                    "find the event in the organisation trail's log group",
                    metric=metric_filter.metric(statistic="Sum", period=Duration.minutes(5)),
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                alarm.add_alarm_action(action)
