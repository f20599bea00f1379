"""The operations stack of every account: its chat channels, its dashboard and, where the
pipeline gates on its health, the health gate's read-only role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from constructs_lib.delivery.health_check_role import HealthCheckRole
from constructs_lib.operations.dashboard import AccountDashboard
from constructs_lib.operations.notification import ChatChannels, topic_arn
from facts.aws import EDGE_REGION
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

    def dashboard(self, *, alarms: Mapping[str, Sequence[str]], services: Sequence[str]) -> None:
        """The account's dashboard `<prefix>-<account>`: its alarms (region -> names) and the
        golden signals of `services` (made once every other stack of the stage exists)."""
        config, name = self._stage.config, self._stage.node.id
        AccountDashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.organization.prefix}-{name}",
            title=f"{config.organization.name} {name} ({self._stage.account_config.role})",
            alarms=alarms,
            services=services,
            edge_region=EDGE_REGION,
        )
