"""An encrypted SNS topic that CloudWatch alarms and EventBridge rules of this account publish
to, and the chat channels (AWS Chatbot) and e-mail addresses it delivers to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.shared.encryption import platform_key

PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")
"""The services that publish to a notification topic: CloudWatch alarms and EventBridge rules.
Both need the topic's key (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)."""

CHAT_GUARDRAIL = "ReadOnlyAccess"
"""The AWS managed policy bounding what anyone may do from a chat channel; AWS Chatbot applies
AdministratorAccess when none is given
(https://docs.aws.amazon.com/chatbot/latest/APIReference/API_CreateSlackChannelConfiguration.html).
The channel role itself has no permissions: the channels only post."""


@dataclass(frozen=True)
class ChatChannel:
    """A chat channel AWS Chatbot posts to: Slack (workspace and channel ids) and/or
    Microsoft Teams (tenant, team and channel ids)."""

    slack_workspace_id: str | None = None
    slack_channel_id: str | None = None
    teams_tenant_id: str | None = None
    teams_team_id: str | None = None
    teams_channel_id: str | None = None


def topic_arn(stack: Stack, region: str, name: str) -> str:
    """The ARN of notification topic `name` of `stack`'s account in `region` (topics have
    deterministic names, so other stacks name them without a reference)."""
    return f"arn:{stack.partition}:sns:{region}:{stack.account}:{name}"


class NotificationTopic(Construct):
    """An SNS topic named `topic_name`, encrypted with a rotating key of its own that only
    SNS, CloudWatch alarms and EventBridge rules of this account may use; TLS only; CloudWatch
    alarms and EventBridge rules of this account may publish. `emails` are subscribed.

    Exposes `topic` and `key`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        topic_name: str,
        display_name: str,
        emails: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.key = platform_key(self, "Key", description=f"Encrypts the {display_name} topic")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowPublishersOfThisAccount",
                principals=[iam.ServicePrincipal(p) for p in PUBLISHERS],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=topic_name,
            display_name=display_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowPublishersOfThisAccount",
                principals=[iam.ServicePrincipal(p) for p in PUBLISHERS],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        for email in sorted(set(emails)):
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


class ChatChannels(Construct):
    """AWS Chatbot channel configurations posting what `topic_arns` receive to each of
    `channels` that has a chat channel (Slack, Microsoft Teams), read-only: the channels' role
    has no permissions and the guardrail is `CHAT_GUARDRAIL`. AWS Chatbot is global: one
    configuration takes the topics of every region.

    `name_prefix` starts each configuration's name (unique in the account).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        channels: Mapping[str, ChatChannel],
        topic_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        if not channels:
            return
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description="AWS Chatbot's channels: post notifications, nothing else",
        )
        guardrail = iam.ManagedPolicy.from_aws_managed_policy_name(CHAT_GUARDRAIL)
        topics = [
            sns.Topic.from_topic_arn(self, f"Topic{i}", arn) for i, arn in enumerate(topic_arns)
        ]
        for name, channel in sorted(channels.items()):
            configuration = f"{name_prefix}-{name}"
            if channel.slack_workspace_id and channel.slack_channel_id:
                chatbot.SlackChannelConfiguration(
                    self,
                    f"Slack-{name}",
                    slack_channel_configuration_name=configuration,
                    slack_workspace_id=channel.slack_workspace_id,
                    slack_channel_id=channel.slack_channel_id,
                    notification_topics=topics,
                    role=role,
                    guardrail_policies=[guardrail],
                    logging_level=chatbot.LoggingLevel.ERROR,
                )
            if channel.teams_tenant_id and channel.teams_team_id and channel.teams_channel_id:
                chatbot.CfnMicrosoftTeamsChannelConfiguration(
                    self,
                    f"Teams-{name}",
                    configuration_name=f"{configuration}-teams",
                    iam_role_arn=role.role_arn,
                    team_id=channel.teams_team_id,
                    teams_tenant_id=channel.teams_tenant_id,
                    teams_channel_id=channel.teams_channel_id,
                    sns_topic_arns=list(topic_arns),
                    guardrail_policies=[guardrail.managed_policy_arn],
                    logging_level="ERROR",
                )
