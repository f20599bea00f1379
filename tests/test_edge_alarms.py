"""Alarms on the edge (the distribution's 5xx rate, the web ACL's blocked-request spikes, both
in us-east-1) and on queues and pipes (Argo CD's notification path, Karpenter's interruption
queue), and the Monitored rule's view of them."""

from __future__ import annotations

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk.assertions import Template

from constructs_lib.operations.alarms import QUEUE_AGE_SECONDS, AlarmThresholds, StackAlarms
from policies.platform import monitored
from tests.conftest import new_stack
from tests.helpers import props

TOPIC = "arn:aws:sns:us-east-1:444444444444:exco-dev-alarms"


def alarms_by_name(stack) -> dict[str, dict]:
    return {
        props(a)["AlarmName"]: props(a) for a in stack.of_type("AWS::CloudWatch::Alarm").values()
    }


def dimensions(alarm: dict) -> dict:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_distribution_has_a_5xx_rate_alarm_in_us_east_1(organisation, sample_config, stage):
    """CloudFront publishes to us-east-1 only; the alarm takes the distribution id from the
    Edge stack's output (a cross-region reference) and posts to us-east-1's alarm topic."""
    stack = organisation.stacks[stage]["EdgeAlarms"]
    edge = organisation.stacks[stage]["Edge"]
    account = sample_config.accounts[stage]
    assert stack.region == "us-east-1"
    alarm = alarms_by_name(stack)[f"exco-{stage}-cdn-5xx-rate"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/CloudFront", "5xxErrorRate")
    assert alarm["Statistic"] == "Average"
    found = dimensions(alarm)
    assert found["Region"] == "Global"
    reference = found["DistributionId"]["Fn::GetStackOutput"]
    assert (reference["StackName"], reference["Region"]) == (f"{stage}-Edge", edge.region)
    (distribution,) = edge.of_type("AWS::CloudFront::Distribution")
    assert edge.template["Outputs"][reference["OutputName"]]["Value"] == {"Ref": distribution}
    assert alarm["Threshold"] == account.thresholds().error_rate_percent
    assert alarm["AlarmActions"] == [f"arn:aws:sns:us-east-1:{account.id}:exco-{stage}-alarms"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_origin_latency_is_published_and_alarmed(organisation, sample_config, stage):
    """OriginLatency exists only with the distribution's additional metrics on: the same stack
    turns them on for the distribution it alarms on."""
    stack = organisation.stacks[stage]["EdgeAlarms"]
    account = sample_config.accounts[stage]
    (subscription,) = stack.of_type("AWS::CloudFront::MonitoringSubscription").values()
    config = subscription["Properties"]["MonitoringSubscription"]
    assert config == {
        "RealtimeMetricsSubscriptionConfig": {"RealtimeMetricsSubscriptionStatus": "Enabled"}
    }
    alarm = alarms_by_name(stack)[f"exco-{stage}-cdn-origin-latency-p90"]
    assert (alarm["MetricName"], alarm["ExtendedStatistic"]) == ("OriginLatency", "p90")
    assert dimensions(alarm)["DistributionId"] == subscription["Properties"]["DistributionId"]
    assert alarm["Threshold"] == account.thresholds().latency_ms  # milliseconds, like the metric
    assert alarm["AlarmActions"] == [f"arn:aws:sns:us-east-1:{account.id}:exco-{stage}-alarms"]


def test_the_web_acl_has_a_blocked_request_spike_alarm(organisation, sample_config):
    """An anomaly band on BlockedRequests of all rules (WebACL + Rule=ALL; no Region for a
    CLOUDFRONT web ACL), in the web ACL's stack and region."""
    stack = organisation.stacks["prod"]["EdgeGlobal"]
    account = sample_config.accounts["prod"]
    (acl,) = stack.of_type("AWS::WAFv2::WebACL").values()
    alarm = alarms_by_name(stack)["exco-prod-waf-blocked-spike"]
    assert alarm["ComparisonOperator"] == "GreaterThanUpperThreshold"
    assert (alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]) == (2, 3)
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    band = metrics[alarm["ThresholdMetricId"]]["Expression"]
    (metric,) = [m for m in metrics.values() if "MetricStat" in m]
    assert band == f"ANOMALY_DETECTION_BAND({metric['Id']}, 3)"
    stat = metric["MetricStat"]
    assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == (
        "AWS/WAFV2",
        "BlockedRequests",
    )
    assert stat["Stat"] == "Sum" and stat["Period"] == 300
    assert {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]} == {
        "WebACL": props(acl)["Name"],
        "Rule": "ALL",
    }
    assert alarm["AlarmActions"] == [f"arn:aws:sns:us-east-1:{account.id}:exco-prod-alarms"]


def test_argo_cds_notification_queue_and_pipe_are_watched(organisation, sample_config):
    stack = organisation.stacks["shared-services"]["Cluster"]
    account = sample_config.accounts["shared-services"]
    topic = f"arn:aws:sns:{stack.region}:{account.id}:exco-shared-services-alarms"
    alarms = alarms_by_name(stack)
    (queue,) = [
        q
        for q, r in stack.of_type("AWS::SQS::Queue").items()
        if "argocd-notifications" in str(props(r).get("QueueName"))
    ]
    (pipe,) = stack.of_type("AWS::Pipes::Pipe")
    age = alarms["exco-shared-services-queue-Notifications-Queue-age"]
    assert (age["Namespace"], age["MetricName"], age["Statistic"]) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
    )
    assert dimensions(age) == {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}
    assert age["Threshold"] == QUEUE_AGE_SECONDS
    for metric in ("ExecutionFailed", "TargetStageFailed"):
        alarm = alarms[f"exco-shared-services-pipe-Notifications-Pipe-{metric}"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/EventBridge/Pipes", metric)
        assert dimensions(alarm) == {"PipeName": {"Ref": pipe}}
        assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (0, 1)
    for alarm in (age, alarms["exco-shared-services-pipe-Notifications-Pipe-ExecutionFailed"]):
        assert alarm["AlarmActions"] == [topic]


def _alarms(stack: Stack) -> StackAlarms:
    return StackAlarms(
        stack,
        "Alarms",
        topic_arn=TOPIC,
        alarm_prefix="exco-dev",
        thresholds=AlarmThresholds(),
    )


def test_a_dead_letter_queue_alarms_on_any_message():
    stack = new_stack()
    dead = sqs.Queue(stack, "Dead")
    sqs.Queue(stack, "Work", dead_letter_queue=sqs.DeadLetterQueue(queue=dead, max_receive_count=3))
    queues = [c for c in stack.node.find_all() if isinstance(c, sqs.CfnQueue)]
    _alarms(stack).queues(queues)
    found = {
        p["Properties"]["AlarmName"]: p["Properties"]
        for p in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert set(found) == {
        "exco-dev-queue-Dead-age",
        "exco-dev-queue-Work-age",
        "exco-dev-queue-Dead-dead-letters",
    }
    dead_letters = found["exco-dev-queue-Dead-dead-letters"]
    assert dead_letters["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dead_letters["Threshold"] == 0


def test_edge_alarms_outside_us_east_1_are_refused():
    stack = new_stack()  # eu-west-1
    alarms = _alarms(stack)
    with pytest.raises(ValueError, match="us-east-1"):
        alarms.distribution("cdn", "E123")
    acl = wafv2.CfnWebACL(
        Stack(stack.node.root, "Global", env=Environment(account="1", region="us-east-1")),
        "Acl",
        name="acl",
        scope="CLOUDFRONT",
        default_action={"allow": {}},
        visibility_config={
            "cloudWatchMetricsEnabled": True,
            "metricName": "acl",
            "sampledRequestsEnabled": False,
        },
    )
    with pytest.raises(ValueError, match="us-east-1"):
        alarms.web_acl("waf", acl)


# --- the Monitored rule -------------------------------------------------------------------

ACL = ("Acl", {"Type": "AWS::WAFv2::WebACL", "Properties": {"Name": "exco-dev-edge"}})
DISTRIBUTION = ("Cdn", {"Type": "AWS::CloudFront::Distribution", "Properties": {}})


def alarm(value, actions=(TOPIC,)) -> tuple[str, dict]:
    return (
        "A",
        {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmActions": list(actions),
                "Metrics": [
                    {"MetricStat": {"Metric": {"Dimensions": [{"Name": "X", "Value": value}]}}}
                ],
            },
        },
    )


@pytest.mark.parametrize(
    ("value", "actions", "watched"),
    [
        ("exco-dev-edge", [TOPIC], True),
        ("exco-dev-other", [TOPIC], False),
        ("exco-dev-edge", ["arn:aws:sns:us-east-1:4:someone-else"], False),
    ],
)
def test_a_web_acl_is_watched_by_an_alarm_naming_it(value, actions, watched):
    template = {"Resources": dict([ACL, alarm(value, actions)])}
    assert (list(monitored.unmonitored(template)) == []) is watched


def test_an_unwatched_web_acl_queue_or_pipe_is_a_finding():
    resources = [
        ACL,
        ("Q", {"Type": "AWS::SQS::Queue", "Properties": {}}),
        ("P", {"Type": "AWS::Pipes::Pipe", "Properties": {}}),
    ]
    found = [i for i, _ in monitored.unmonitored({"Resources": dict(resources)})]
    assert found == ["Acl", "Q", "P"]
    watching = alarm({"Ref": "P"})
    found = [i for i, _ in monitored.unmonitored({"Resources": dict([*resources, watching])})]
    assert found == ["Acl", "Q"]


EDGE = {
    "Resources": dict([DISTRIBUTION]),
    "Outputs": {"OutId": {"Value": {"Ref": "Cdn"}}, "OutOther": {"Value": "x"}},
}


def remote(stack: str, output: str, actions=(TOPIC,)) -> dict:
    value = {"Fn::GetStackOutput": {"StackName": stack, "OutputName": output, "Region": "r"}}
    return {"Resources": dict([alarm(value, actions)])}


@pytest.mark.parametrize(
    ("alarms", "watched"),
    [
        (remote("dev-Edge", "OutId"), True),
        # another stack's output of that name, another output, or an alarm sending elsewhere
        (remote("staging-Edge", "OutId"), False),
        (remote("dev-Edge", "OutOther"), False),
        (remote("dev-Edge", "OutId", ["arn:aws:sns:us-east-1:4:someone-else"]), False),
        ({"Resources": {}}, False),
    ],
)
def test_a_distribution_is_watched_by_an_alarm_of_its_stage_on_its_output(alarms, watched):
    found = list(
        monitored.unmonitored(
            EDGE, stack_name="dev-Edge", elsewhere=monitored.remote_watched(alarms)
        )
    )
    assert (found == []) is watched
