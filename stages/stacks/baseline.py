"""The baseline every account has in every allowed region: AWS Config recording to the
organisation's Config bucket, and the account's alarm topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.operations.notification import NotificationTopic
from constructs_lib.organization.audit import ConfigRecorder
from stages.naming import alarm_channels, alarm_topic_name, config_bucket_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


def baseline_stack_id(stage: PlatformStage, region: str) -> str:
    """`Baseline` in the account's own region, `Baseline-<region>` in the others."""
    return "Baseline" if region == stage.account_config.region else f"Baseline-{region}"


class BaselineStack(PlatformStack):
    """In one region: AWS Config's recorder and delivery channel into the organisation's Config
    bucket beside the log archive (in the security account's home region: Config delivers
    across regions and accounts), and the alarm topic every alarm of the account's stacks in
    that region publishes to, with the e-mail addresses of its channels subscribed (chat
    channels subscribe from the `Operations` stack, one configuration for every region).

    Global resource types (IAM) are recorded in the account's own region only, as AWS
    recommends to avoid recording them once per region
    (https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html). The
    security account's home-region recorder is in its Audit stack (`record=False` here).
    """

    def __init__(self, scope: PlatformStage, region: str, *, record: bool = True) -> None:
        config, name = scope.config, scope.node.id
        home = region == scope.account_config.region
        super().__init__(
            scope,
            baseline_stack_id(scope, region),
            description=f"{config.organization.name} {scope.account_config.role} account "
            f"baseline in {region}: "
            + ("AWS Config recording to the organisation's Config bucket, " if record else "")
            + "the alarm topic",
            region=region,
        )
        if record:
            ConfigRecorder(
                self,
                "Config",
                name_prefix=config.organization.prefix,
                bucket_name=config_bucket_name(config),
                global_resource_types=home,
            )
        self.alarm_topic = NotificationTopic(
            self,
            "Alarms",
            topic_name=alarm_topic_name(config, name),
            display_name=f"{config.organization.name} {name} alarms",
            emails=[e for c in alarm_channels(config, name).values() for e in c.emails],
        )
