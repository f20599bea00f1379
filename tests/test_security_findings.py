"""The security account's route for the organisation's security findings and sign-in alarms to
the security channel (`constructs_lib/operations/security_findings.py`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_logs as logs

from config import parse_config
from constructs_lib.operations.notification import CHAT_GUARDRAIL
from constructs_lib.operations.security_findings import (
    SIGN_IN_FILTERS,
    SUPPRESSION_FILTERS,
    SecurityFindings,
)
from stages.naming import security_channels
from tests.conftest import new_stack
from tests.helpers import one, ref_of
from tests.test_config import broken

TOPIC = "exco-security-findings"


@pytest.fixture(scope="module")
def audit(organisation):
    return organisation.stacks["security"]["Audit"]


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the pattern forms the rules use: a field's list of values
    (or `anything-but` one value) matches a scalar in the list, or an array in the event
    with one such element; nested objects match field by field, and an array of objects in
    the event matches if one of them does
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html)."""
    if isinstance(event, list):
        return any(matches(pattern, item) for item in event)
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and matches(value, event[key]) for key, value in pattern.items()
        )
    for option in pattern:
        if isinstance(option, dict):
            if set(option) != {"anything-but"}:
                raise NotImplementedError(option)
            if event != option["anything-but"]:
                return True
        elif event == option:
            return True
    return False


def finding(product: str, label: str, workflow: str = "NEW", record: str = "ACTIVE") -> dict:
    return {
        "source": "aws.securityhub",
        "detail-type": "Security Hub Findings - Imported",
        "detail": {
            "findings": [
                {
                    "ProductName": product,
                    "Severity": {"Label": label},
                    "Workflow": {"Status": workflow},
                    "RecordState": record,
                }
            ]
        },
    }


def rules(audit) -> dict[str, dict]:
    return {
        name: rule["Properties"]
        for name, rule in audit.of_type("AWS::Events::Rule").items()
        if name.startswith("SecurityFindings")
    }


def rule(audit, prefix: str) -> dict:
    (found,) = (p for name, p in rules(audit).items() if name.startswith(prefix))
    return found


def topic_logical_id(audit) -> str:
    (logical,) = (
        k
        for k, v in audit.of_type("AWS::SNS::Topic").items()
        if v["Properties"]["TopicName"] == TOPIC
    )
    return logical


def test_guardduty_findings_of_medium_severity_and_up_are_sent(audit):
    pattern = rule(audit, "SecurityFindingsGuardDuty")["EventPattern"]
    assert pattern["source"] == ["aws.securityhub"]
    assert pattern["detail-type"] == ["Security Hub Findings - Imported"]
    assert pattern["detail"]["findings"]["ProductName"] == ["GuardDuty"]
    # GuardDuty 4.0-6.9 is MEDIUM, 7.0-8.9 HIGH, 9.0-10 CRITICAL; LOW (below 4) stays out.
    assert sorted(pattern["detail"]["findings"]["Severity"]["Label"]) == [
        "CRITICAL",
        "HIGH",
        "MEDIUM",
    ]
    for label, sent in (("LOW", False), ("MEDIUM", True), ("HIGH", True), ("CRITICAL", True)):
        assert matches(pattern, finding("GuardDuty", label)) is sent, label


def test_security_hub_findings_high_and_critical_new_and_active_are_sent(audit):
    pattern = rule(audit, "SecurityFindingsSecurityHub")["EventPattern"]
    findings = pattern["detail"]["findings"]
    assert sorted(findings["Severity"]["Label"]) == ["CRITICAL", "HIGH"]
    assert findings["Workflow"] == {"Status": ["NEW"]}
    assert findings["RecordState"] == ["ACTIVE"]
    assert matches(pattern, finding("Security Hub", "HIGH"))  # a failed control (Config rule)
    assert matches(pattern, finding("Inspector", "CRITICAL"))
    assert not matches(pattern, finding("Security Hub", "MEDIUM"))
    assert not matches(pattern, finding("Security Hub", "HIGH", workflow="NOTIFIED"))
    assert not matches(pattern, finding("Security Hub", "HIGH", workflow="SUPPRESSED"))
    assert not matches(pattern, finding("Security Hub", "CRITICAL", record="ARCHIVED"))


def test_each_finding_posts_once(audit):
    """GuardDuty's findings have their own rule; Security Hub's leaves them out."""
    both = [p["EventPattern"] for p in rules(audit).values()]
    assert len(both) == 2
    for label in ("MEDIUM", "HIGH", "CRITICAL"):
        assert sum(matches(p, finding("GuardDuty", label)) for p in both) == 1, label
    for p in both:
        assert not matches(p, finding("GuardDuty", "HIGH", record="ARCHIVED"))


def test_the_rules_publish_to_the_security_topic_only(audit):
    topic = topic_logical_id(audit)
    for properties in rules(audit).values():
        assert properties["State"] == "ENABLED"
        (target,) = properties["Targets"]
        assert ref_of(target["Arn"]) == topic


def test_only_this_account_s_alarms_and_rules_may_publish_and_use_the_key(audit):
    topic = topic_logical_id(audit)
    (policy,) = (
        p["Properties"]
        for p in audit.of_type("AWS::SNS::TopicPolicy").values()
        if [ref_of(t) for t in p["Properties"]["Topics"]] == [topic]
    )
    publish = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and "sns:Publish" in json.dumps(s["Action"])
    ]
    assert publish, "nothing may publish"
    for statement in publish:
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222222"}}
    key_id = audit.resources[topic]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_statements = audit.resources[key_id]["Properties"]["KeyPolicy"]["Statement"]
    services = [s for s in key_statements if "Service" in s.get("Principal", {})]
    assert services
    for statement in services:
        assert set(statement["Principal"]["Service"]) == {
            "cloudwatch.amazonaws.com",
            "events.amazonaws.com",
        }
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222222"}}


def test_the_security_channel_gets_a_read_only_chat_configuration(audit, sample_config):
    assert sample_config.notifications.security == "security-findings"
    (slack,) = (
        v["Properties"]
        for v in audit.of_type("AWS::Chatbot::SlackChannelConfiguration").values()
        if v["Properties"]["ConfigurationName"].startswith(TOPIC)
    )
    assert slack["SlackChannelId"] == "C00000003"
    assert slack["SlackWorkspaceId"] == "T00000000"
    assert [ref_of(t) for t in slack["SnsTopicArns"]] == [topic_logical_id(audit)]
    (guardrail,) = slack["GuardrailPolicies"]
    assert json.dumps(guardrail).endswith(f':iam::aws:policy/{CHAT_GUARDRAIL}"]]}}')


def test_the_trail_delivers_to_its_log_group_through_a_role_that_only_writes_there(audit):
    trail = one(audit, "AWS::CloudTrail::Trail")
    group = trail["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
    assert audit.resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert audit.resources[group]["Properties"]["RetentionInDays"] == 90
    assert "KmsKeyId" in audit.resources[group]["Properties"]
    role = trail["CloudWatchLogsRoleArn"]["Fn::GetAtt"][0]
    trust = audit.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudtrail.amazonaws.com"}]
    (policy,) = (
        p["Properties"]
        for p in audit.of_type("AWS::IAM::ManagedPolicy").values()
        if [ref_of(r) for r in p["Properties"].get("Roles", [])] == [role]
    )
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == {"Fn::GetAtt": [group, "Arn"]}
    # the acknowledgement of a trail without CloudWatch Logs is gone with the gap
    trail_resource = next(iter(audit.of_type("AWS::CloudTrail::Trail").values()))
    assert "CloudTrailCloudWatchLogsEnabled" not in json.dumps(trail_resource.get("Metadata", {}))


def test_the_cis_sign_in_filters_alarm_on_the_security_topic(audit):
    trail = one(audit, "AWS::CloudTrail::Trail")
    group = trail["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
    filters = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
        for f in audit.of_type("AWS::Logs::MetricFilter").values()
    }
    assert {name: f["FilterPattern"] for name, f in filters.items()} == {
        "RootUsage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        "ConsoleSignInWithoutMfa": '{ ($.eventName = "ConsoleLogin") && '
        '($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && '
        '($.responseElements.ConsoleLogin = "Success") }',
        **SUPPRESSION_FILTERS,
    }
    for f in filters.values():
        assert ref_of(f["LogGroupName"]) == group
        assert f["MetricTransformations"][0]["MetricValue"] == "1"
    topic = topic_logical_id(audit)
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in audit.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") != "AWS/Lambda"  # the setup function's own
    }
    assert set(alarms) == set(SIGN_IN_FILTERS) | set(SUPPRESSION_FILTERS)
    for name, alarm in alarms.items():
        assert alarm["Namespace"] == filters[name]["MetricTransformations"][0]["MetricNamespace"]
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
        assert [ref_of(a) for a in alarm["AlarmActions"]] == [topic]


def test_without_notifications_the_topic_exists_with_no_subscriber():
    stack = new_stack()
    group = logs.LogGroup(stack, "Group")
    SecurityFindings(
        stack, "Findings", topic_name="x-security-findings", display_name="x", trail_log_group=group
    )
    template = stack.node.root.synth().get_stack_by_name("Test").template["Resources"]
    types = [r["Type"] for r in template.values()]
    assert types.count("AWS::SNS::Topic") == 1
    assert "AWS::SNS::Subscription" not in types
    assert not [t for t in types if t.startswith("AWS::Chatbot::")]
    assert types.count("AWS::Events::Rule") == 2
    assert (
        types.count("AWS::CloudWatch::Alarm") == 3
    )  # two sign-in alarms and the suppression alarm


def test_the_security_channel_defaults_to_the_default_channel(sample_raw):
    config = parse_config(broken(sample_raw, ("notifications.security", ...)), source="t")
    assert list(security_channels(config)) == ["platform-alerts"]
    config = parse_config(
        broken(
            sample_raw,
            ("notifications", ...),
            *(
                (f"accounts.{name}.monitoring", ...)
                for name, account in sample_raw["accounts"].items()
                if "monitoring" in account
            ),
        ),
        source="t",
    )
    assert security_channels(config) == {}


def _matches(pattern: str, event: dict) -> bool:
    """Evaluate a CloudWatch Logs JSON filter pattern of `=`, `&&`, `||` and parentheses
    against an event (enough for the patterns above; anything else fails the test)."""
    import re

    body = pattern.strip()[1:-1]
    tokens = re.findall(r'\(|\)|&&|\|\||\$\.[\w.]+\s*(?:!=|=)\s*"[^"]*"', body)
    assert "".join(tokens).replace(" ", "") == body.replace(" ", ""), "unsupported pattern"

    def value(path: str):
        current = event
        for key in path.split(".")[1:]:
            if not isinstance(current, dict) or key not in current:
                return None
            current = current[key]
        return current

    python = []
    for token in tokens:
        if token in ("(", ")"):
            python.append(token)
        elif token == "&&":
            python.append(" and ")
        elif token == "||":
            python.append(" or ")
        else:
            path, op, literal = re.match(r'(\$\.[\w.]+)\s*(!=|=)\s*"([^"]*)"', token).groups()
            python.append(repr(value(path) == literal if op == "=" else value(path) != literal))
    return eval("".join(python))  # booleans and operators only


@pytest.mark.parametrize(
    ("event", "alarms"),
    [
        ({"eventSource": "securityhub.amazonaws.com", "eventName": "CreateAutomationRule"}, True),
        (
            {
                "eventSource": "securityhub.amazonaws.com",
                "eventName": "BatchUpdateFindings",
                "requestParameters": {"Workflow": {"Status": "SUPPRESSED"}},
            },
            True,
        ),
        (
            {
                "eventSource": "securityhub.amazonaws.com",
                "eventName": "BatchUpdateFindings",
                "requestParameters": {"Workflow": {"Status": "RESOLVED"}},
            },
            False,
        ),
        (
            {
                "eventSource": "guardduty.amazonaws.com",
                "eventName": "CreateFilter",
                "requestParameters": {"action": "ARCHIVE"},
            },
            True,
        ),
        (
            {
                "eventSource": "guardduty.amazonaws.com",
                "eventName": "CreateFilter",
                "requestParameters": {"action": "NOOP"},
            },
            False,
        ),
        ({"eventSource": "guardduty.amazonaws.com", "eventName": "ArchiveFindings"}, True),
        ({"eventSource": "guardduty.amazonaws.com", "eventName": "ListFindings"}, False),
    ],
)
def test_hiding_findings_alarms_and_reading_them_does_not(event, alarms):
    assert _matches(SUPPRESSION_FILTERS["FindingsSuppressed"], event) is alarms
