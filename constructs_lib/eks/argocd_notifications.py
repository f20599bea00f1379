"""Argo CD notifications to the account's alarm topic: failed syncs and degraded apps reach the
chat channel (AWS Chatbot) and e-mails the topic delivers to.

Argo CD's notifications engine has no SNS service (argoproj/notifications-engine
pkg/services: awssqs, webhook, slack, ... ), and its webhook service cannot sign an SNS
Publish (SigV4). So the controller sends through its `awssqs` service, which uses the AWS
SDK's default credentials (EKS Pod Identity), to a queue of this cluster; an EventBridge pipe
forwards each message body to the alarm topic. Only the pipe's role may publish to the topic;
the controller's role may only send to that queue.

The message is an AWS Chatbot custom notification (JSON with `version`, `source: custom`,
`content`): https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
EventBridge Pipes parses a JSON SQS body, so `<$.body>` forwards the object itself:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-input-transformation.html
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_iam as iam
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.eks.pod_identity import pods_of
from constructs_lib.shared.encryption import platform_key
from policies.acknowledgements import acknowledge
from policies.wildcards import acknowledge_wildcards

NAMESPACE = "argocd"
SERVICE_ACCOUNT = "argocd-notifications-controller"
"""The argo-cd chart's notifications controller service account (`notifications.serviceAccount`)."""

TRIGGERS = ("on-sync-failed", "on-health-degraded")
"""What notifies: the conditions of Argo CD's default trigger catalog of the same names."""

TEMPLATE = "app-alert"


def notification_values(queue_name: str, region: str, account: str) -> dict[str, Any]:
    """The argo-cd chart's `notifications` values: the `awssqs` service to `queue_name`,
    `TRIGGERS` with a chat-readable template, and one subscription without a selector, so
    every Application notifies."""
    trigger_conditions = {
        "on-sync-failed": ("sync failed", "app.status.operationState.phase in ['Error', 'Failed']"),
        "on-health-degraded": ("is degraded", "app.status.health.status == 'Degraded'"),
    }
    templates = {}
    triggers = {}
    for trigger, (title, when) in trigger_conditions.items():
        template = f"{TEMPLATE}-{trigger}"
        templates[f"template.{template}"] = _template(title)
        triggers[f"trigger.{trigger}"] = (
            f"- description: Application {title}\n  send:\n  - {template}\n  when: {when}\n"
        )
    return {
        "notifiers": {
            "service.awssqs": f'region: {region}\naccount: "{account}"\nqueue: {queue_name}\n'
        },
        "templates": templates,
        "triggers": triggers,
        "subscriptions": [{"recipients": [f"awssqs:{queue_name}"], "triggers": list(TRIGGERS)}],
    }


def _template(title: str) -> str:
    """A notification template (YAML) whose message is the Chatbot JSON for `title`; free
    text goes through `toJson` (sprig) so quotes and newlines cannot break the JSON."""
    heading = f'{{{{ printf "Argo CD: %s {title}" .app.metadata.name | toJson }}}}'
    # `dig` (sprig) reads fields an Application may not have yet without a nil error.
    description = (
        '{{ printf "*%s* (project %s) to %s at revision %s: %s" .app.metadata.name '
        ".app.spec.project "
        '(dig "spec" "destination" "name" (dig "spec" "destination" "server" "" .app) .app) '
        '(dig "status" "sync" "revision" "unknown" .app) '
        '(dig "status" "operationState" "message" (dig "status" "health" "message" "" .app) .app)'
        " | toJson }}"
    )
    message = (
        '{"version":"1.0","source":"custom","content":{"textType":"client-markdown",'
        f'"title":{heading},"description":{description}}},'
        '"metadata":{"threadId":{{ .app.metadata.name | toJson }},'
        f'"summary":{heading}}}}}'
    )
    return f"message: |\n  {message}\n"


class ArgoCdNotifications(Construct):
    """The queue Argo CD's notifications controller sends to (`queue`), the controller's Pod
    Identity role (`controller_role`: send to that queue only), and the pipe forwarding each
    message to `topic_arn` (`pipe_role`: read that queue, publish to that topic only).

    `values` are the argo-cd chart's `notifications` values to merge.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_name: str,
        cluster_arn: str,
        topic_arn: str,
        queue_name: str,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        region, account, partition = stack.region, stack.account, stack.partition
        key = platform_key(self, "QueueKey", description="Encrypts Argo CD's notifications queue")
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            retention_period=Duration.days(1),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
        )
        acknowledge(
            self.queue,
            "AwsSolutions::AwsSolutions-SQS3",
            "Notifications of a failed sync or degraded app are only useful while fresh; the "
            "pipe retries each until it expires (one day), and Argo CD notifies again on the "
            "next failure: a dead-letter queue would keep stale alerts nobody reads.",
        )

        self.controller_role = iam.Role(
            self,
            "ControllerRole",
            description="Argo CD notifications controller: send to its notifications queue",
            assumed_by=pods_of(self, cluster_arn),
        )
        eks_l1.CfnPodIdentityAssociation(
            self,
            "ControllerPodIdentity",
            cluster_name=cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=self.controller_role.role_arn,
        )
        iam.ManagedPolicy(
            self,
            "ControllerPolicy",
            roles=[self.controller_role],
            description="Send Argo CD notifications to their queue",
            statements=[
                iam.PolicyStatement(
                    sid="SendNotifications",
                    actions=["sqs:GetQueueUrl", "sqs:SendMessage"],
                    resources=[self.queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="EncryptNotifications",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[key.key_arn],
                ),
            ],
        )

        pipe_name = queue_name
        pipe_arn = f"arn:{partition}:pipes:{region}:{account}:pipe/{pipe_name}"
        self.pipe_role = iam.Role(
            self,
            "PipeRole",
            description="Forward Argo CD notifications to the account's alarm topic",
            assumed_by=iam.ServicePrincipal("pipes.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnEquals": {"aws:SourceArn": pipe_arn},
                }
            ),
        )
        pipe_policy = iam.ManagedPolicy(
            self,
            "PipePolicy",
            roles=[self.pipe_role],
            description="Read Argo CD's notifications queue; publish to the alarm topic",
            statements=[
                iam.PolicyStatement(
                    sid="ReadNotifications",
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    resources=[self.queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="DecryptNotifications",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                ),
                iam.PolicyStatement(
                    sid="PublishToAlarmTopic",
                    actions=["sns:Publish"],
                    resources=[topic_arn],
                ),
                # The topic's key lives in the baseline stack under a generated id; its key
                # policy lets IAM policies of the account grant its use (platform_key). Only
                # through SNS in this region.
                iam.PolicyStatement(
                    sid="EncryptThroughSns",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[f"arn:{partition}:kms:{region}:{account}:key/*"],
                    conditions={"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
                ),
            ],
        )
        acknowledge_wildcards(
            pipe_policy,
            {
                "EncryptThroughSns": "The alarm topic's key is created by the baseline stack "
                "with a generated id; its use is allowed only through SNS in this region, "
                "where this role may publish to the alarm topic alone.",
            },
        )
        self.pipe = pipes.CfnPipe(
            self,
            "Pipe",
            name=pipe_name,
            description="Argo CD notifications to the account's alarm topic",
            role_arn=self.pipe_role.role_arn,
            source=self.queue.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(
                    batch_size=1
                )
            ),
            target=topic_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(input_template="<$.body>"),
        )
        self.pipe.node.add_dependency(pipe_policy)
        self.values = notification_values(queue_name, region, account)
