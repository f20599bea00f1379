"""Argo CD notifications: failed syncs and degraded applications of every Application reach
the account's alarm topic (its chat channel), through a queue only the notifications
controller may send to and a pipe only allowed to publish to that topic."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from constructs_lib.eks.argocd_notifications import SERVICE_ACCOUNT, TRIGGERS
from tests.test_gitops import charts, policies_of, rendered

ACCOUNTS = {"shared-services": "333333333333", "sandbox": "777777777777"}


@pytest.fixture(scope="module")
def cluster_stacks(organisation):
    return organisation.stacks_named("Cluster")


def notifications_values(stack) -> dict:
    (chart,) = charts(stack)
    text = rendered(chart["Values"]).replace("<token>", "TOKEN")
    return json.loads(text)["notifications"]


def notifications_queue(stack) -> tuple[str, dict]:
    ((queue_id, queue),) = [
        (k, v)
        for k, v in stack.of_type("AWS::SQS::Queue").items()
        if k.startswith("ClusterGitOpsNotificationsQueue")
    ]
    return queue_id, queue


def role_named(stack, prefix: str) -> tuple[str, dict]:
    ((role_id, role),) = [
        (k, v) for k, v in stack.of_type("AWS::IAM::Role").items() if k.startswith(prefix)
    ]
    return role_id, role


@pytest.mark.parametrize("stage", sorted(ACCOUNTS))
def test_every_application_notifies_on_failed_sync_and_degraded_health(cluster_stacks, stage):
    values = notifications_values(cluster_stacks[stage])
    service = yaml.safe_load(values["notifiers"]["service.awssqs"])
    assert service["account"] == ACCOUNTS[stage]
    assert service["queue"] == "TOKEN-argocd-notifications"
    triggers = {
        k.removeprefix("trigger."): yaml.safe_load(v) for k, v in values["triggers"].items()
    }
    assert set(triggers) == set(TRIGGERS) == {"on-sync-failed", "on-health-degraded"}
    # The conditions of Argo CD's trigger catalog.
    assert triggers["on-sync-failed"][0]["when"] == (
        "app.status.operationState.phase in ['Error', 'Failed']"
    )
    assert triggers["on-health-degraded"][0]["when"] == "app.status.health.status == 'Degraded'"
    for trigger in triggers.values():
        (template,) = trigger[0]["send"]
        assert f"template.{template}" in values["templates"]
    # One subscription without a selector: it applies to every Application.
    (subscription,) = values["subscriptions"]
    assert "selector" not in subscription
    assert subscription["recipients"] == [f"awssqs:{service['queue']}"]
    assert sorted(subscription["triggers"]) == sorted(TRIGGERS)


def test_the_message_is_an_aws_chatbot_custom_notification(cluster_stacks):
    """Each template renders JSON AWS Chatbot reads (version, source custom, content title
    and description): every template action becomes a JSON string, as `toJson` makes it."""
    values = notifications_values(cluster_stacks["shared-services"])
    for template in values["templates"].values():
        message = yaml.safe_load(template)["message"]
        assert re.findall(r"{{.*?}}", message), "the message names the application"
        for action in re.findall(r"{{.*?}}", message):
            assert action.rstrip("} ").endswith("toJson"), action
        notification = json.loads(re.sub(r"{{.*?}}", '"text"', message))
        assert notification["version"] == "1.0"
        assert notification["source"] == "custom"
        assert set(notification["content"]) >= {"title", "description"}


@pytest.mark.parametrize("stage", sorted(ACCOUNTS))
def test_the_controller_may_only_send_to_its_queue(cluster_stacks, stage):
    stack = cluster_stacks[stage]
    role_id, role = role_named(stack, "ClusterGitOpsNotificationsControllerRole")
    (association,) = [
        a["Properties"]
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]
    assert (association["Namespace"], association["ServiceAccount"]) == ("argocd", SERVICE_ACCOUNT)
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert {json.dumps(s["Principal"]) for s in trust} == {'{"Service": "pods.eks.amazonaws.com"}'}
    queue_id, queue = notifications_queue(stack)
    key_id = queue["Properties"]["KmsMasterKeyId"]
    (policy,) = policies_of(stack, role_id)
    assert policy["Statement"] == [
        {
            "Sid": "SendNotifications",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        },
        {
            "Sid": "EncryptNotifications",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_id,
        },
    ]


@pytest.mark.parametrize("stage", sorted(ACCOUNTS))
def test_only_the_pipe_publishes_and_only_to_the_accounts_alarm_topic(cluster_stacks, stage):
    stack = cluster_stacks[stage]
    account = ACCOUNTS[stage]
    topic = f"arn:aws:sns:eu-west-1:{account}:exco-{stage}-alarms"
    role_id, role = role_named(stack, "ClusterGitOpsNotificationsPipeRole")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "pipes.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    (policy,) = policies_of(stack, role_id)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["PublishToAlarmTopic"]["Action"] == "sns:Publish"
    assert statements["PublishToAlarmTopic"]["Resource"] == topic
    assert statements["EncryptThroughSns"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}
    }
    assert statements["EncryptThroughSns"]["Resource"] == f"arn:aws:kms:eu-west-1:{account}:key/*"
    publishers = [
        s
        for p in stack.of_type("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "sns:" in json.dumps(s["Action"])
    ]
    assert publishers == [statements["PublishToAlarmTopic"]]
    (pipe,) = (r["Properties"] for r in stack.of_type("AWS::Pipes::Pipe").values())
    queue_id, _ = notifications_queue(stack)
    assert pipe["Source"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert pipe["Target"] == topic
    assert pipe["TargetParameters"] == {"InputTemplate": "<$.body>"}
    assert pipe["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
