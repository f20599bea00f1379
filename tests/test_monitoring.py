"""Every resource that can fail has an alarm on its account's alarm topic: the platform rule
that fails synthesis otherwise, the alarms the sample gets, and where they go."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_lambda as lambda_

from policies.platform import monitored
from tests.conftest import new_stack
from tests.helpers import props

TOPIC = "arn:aws:sns:eu-west-1:444444444444:exco-dev-alarms"


def template(*resources: tuple[str, dict]) -> dict:
    return {"Resources": dict(resources)}


def alarm(actions, **metric) -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": actions, **metric}}


NAT = ("Nat", {"Type": "AWS::EC2::NatGateway", "Properties": {}})


def test_a_monitored_resource_without_an_alarm_is_a_finding():
    assert list(monitored.unmonitored(template(NAT))) == [
        ("Nat", "AWS::EC2::NatGateway Nat has no alarm on the account's alarm topic")
    ]


@pytest.mark.parametrize(
    ("actions", "dimensions", "watched"),
    [
        ([TOPIC], [{"Name": "NatGatewayId", "Value": {"Ref": "Nat"}}], True),
        # an alarm that sends nowhere, or elsewhere, does not count
        ([], [{"Name": "NatGatewayId", "Value": {"Ref": "Nat"}}], False),
        (["arn:aws:sns:eu-west-1:444444444444:someone-else"], [{"Value": {"Ref": "Nat"}}], False),
        # nor one about another resource
        ([TOPIC], [{"Name": "NatGatewayId", "Value": {"Ref": "OtherNat"}}], False),
        # an ARN built with Fn::Join counts
        (
            [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:eu-west-1:4:x-alarms"]]}],
            [{"Value": {"Ref": "Nat"}}],
            True,
        ),
    ],
)
def test_only_an_alarm_naming_the_resource_and_sending_to_the_topic_counts(
    actions, dimensions, watched
):
    found = list(monitored.unmonitored(template(NAT, ("A", alarm(actions, Dimensions=dimensions)))))
    assert (found == []) is watched


def test_a_metric_math_alarm_and_an_event_rule_count():
    balancer = ("Alb", {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}})
    math = alarm(
        [TOPIC],
        Metrics=[
            {
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"Value": {"Fn::GetAtt": ["Alb", "LoadBalancerFullName"]}}]
                    }
                }
            }
        ],
    )
    vault = ("Vault", {"Type": "AWS::Backup::BackupVault", "Properties": {}})
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventPattern": {"detail": {"backupVaultName": [{"Ref": "Vault"}]}},
            "Targets": [{"Arn": TOPIC, "Id": "T"}],
        },
    }
    assert list(monitored.unmonitored(template(balancer, vault, ("M", math), ("R", rule)))) == []


def test_an_aurora_instance_is_watched_through_its_cluster():
    instance = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": "c"}}
    assert list(monitored.unmonitored(template(("Writer", instance)))) == []


def test_an_unmonitored_function_fails_synthesis(tmp_path):
    """The rule is part of the policy gate: a stack gaining a function and no alarm does not
    synthesize."""
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    lambda_.CfnFunction(
        stack,
        "Bare",
        code=lambda_.CfnFunction.CodeProperty(zip_file="x"),
        role="arn:aws:iam::1:role/r",
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        stack.node.root.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (platform,) = [p for p in report["pluginReports"] if p["pluginName"] == "Platform"]
    assert "Monitored" in {v["ruleName"] for v in platform["violations"]}


def test_every_monitored_resource_of_the_sample_is_watched(organisation):
    """Nothing in the sample organisation is acknowledged out of the rule: each monitored
    resource has its alarm (or event rule) on the alarm topic of its account and region."""
    count = 0
    elsewhere: dict[str, set[tuple[str, str]]] = {}
    for stack in organisation.all_stacks():
        elsewhere.setdefault(stack.stage, set()).update(monitored.remote_watched(stack.template))
    for stack in organisation.all_stacks():
        found = list(
            monitored.unmonitored(
                stack.template,
                stack_name=f"{stack.stage}-{stack.id}",
                elsewhere=elsewhere[stack.stage],
            )
        )
        assert found == [], (stack.stage, stack.id, found)
        for resource in stack.resources.values():
            count += resource["Type"] in monitored.MONITORED_TYPES
        topics = {
            arn
            for a in stack.of_type("AWS::CloudWatch::Alarm").values()
            for arn in props(a).get("AlarmActions", [])
            if isinstance(arn, str)  # the security findings topic is this stack's (a Ref)
        }
        if stack.stage:
            assert topics <= {
                f"arn:aws:sns:{stack.region}:{stack.account}:exco-{stack.stage}-alarms"
            }
    assert count > 50


def test_prod_is_watched_at_prods_thresholds(organisation):
    data = organisation.stacks["prod"]["Data"]
    by_name = {
        props(a)["AlarmName"]: props(a) for a in data.of_type("AWS::CloudWatch::Alarm").values()
    }
    assert by_name["exco-prod-postgres-CPU-Usage-Critical"]["Threshold"] == 80
    dev = organisation.stacks["dev"]["Data"]
    dev_cpu = next(
        props(a)
        for a in dev.of_type("AWS::CloudWatch::Alarm").values()
        if props(a)["AlarmName"] == "exco-dev-postgres-CPU-Usage-Critical"
    )
    assert dev_cpu["Threshold"] == 90
    edge = organisation.stacks["prod"]["Edge"]
    names = {props(a)["AlarmName"] for a in edge.of_type("AWS::CloudWatch::Alarm").values()}
    assert {
        "exco-prod-alb-elb-5xx-rate",
        "exco-prod-alb-target-5xx-rate",
        "exco-prod-alb-latency-p99",
        "exco-prod-alb-unhealthy-hosts",
    } <= names


def test_alarms_reach_the_channels_of_their_account(organisation):
    """Prod's topic e-mails the paging channel; its chat channel and dev's differ; every chat
    channel is read-only."""
    prod_topic = organisation.stacks["prod"]["Baseline"]
    emails = {props(s)["Endpoint"] for s in prod_topic.of_type("AWS::SNS::Subscription").values()}
    assert emails == {"oncall@example.com"}
    dev_topic = organisation.stacks["dev"]["Baseline"]
    assert dev_topic.of_type("AWS::SNS::Subscription") == {}
    channels = {}
    for stage in ("prod", "dev"):
        (chat,) = (
            organisation.stacks[stage]["Operations"]
            .of_type("AWS::Chatbot::SlackChannelConfiguration")
            .values()
        )
        channels[stage] = props(chat)
        assert props(chat)["GuardrailPolicies"] == [
            {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/ReadOnlyAccess"],
                ]
            }
        ]
        assert len(props(chat)["SnsTopicArns"]) == 3  # every allowed region's topic
    assert channels["prod"]["SlackChannelId"] == "C00000002"
    assert channels["dev"]["SlackChannelId"] == "C00000001"
