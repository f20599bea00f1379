"""The operations stack of every account: its chat channels and, where the pipeline gates on
its health, the health gate's read-only role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.delivery.health_check_role import HealthCheckRole
from constructs_lib.operations.notification import ChatChannels, topic_arn
from stages.naming import (
    HEALTH_CHECK,
    PIPELINE_HEALTH_CHECK,
    alarm_topic_name,
    chat_channels,
    role_arn,
    role_name,
    shared_services,
)
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class OperationsStack(PlatformStack):
    """The account's chat channels (AWS Chatbot, global: one configuration per channel takes
    the alarm topics of every region, made by the baselines, which deploy first) and, where
    the pipeline health-checks the account, the read-only role its health gate assumes."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config, name = scope.config, scope.node.id
        health_checked = name in config.health_checked_accounts()
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} operations: "
            "chat channels of its alarms"
            + (", the pipeline health gate's read-only access" if health_checked else ""),
        )
        ChatChannels(
            self,
            "Chat",
            name_prefix=alarm_topic_name(config, name),
            channels=chat_channels(config, name),
            topic_arns=[
                topic_arn(self, region, alarm_topic_name(config, name))
                for region in config.deployment_regions(name)
            ],
        )
        if health_checked:
            HealthCheckRole(
                self,
                "HealthCheckRole",
                role_name=role_name(config, name, HEALTH_CHECK),
                trusted_role_arn=role_arn(config, shared_services(config), PIPELINE_HEALTH_CHECK),
                alarm_regions=config.deployment_regions(name),
            )
