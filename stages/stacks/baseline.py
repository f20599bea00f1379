"""The baseline every account has in every allowed region: AWS Config recording to the
organisation's Config bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.organization.audit import ConfigRecorder
from stages.naming import config_bucket_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


def baseline_stack_id(stage: PlatformStage, region: str) -> str:
    """`Baseline` in the account's own region, `Baseline-<region>` in the others."""
    return "Baseline" if region == stage.account_config.region else f"Baseline-{region}"


class BaselineStack(PlatformStack):
    """AWS Config's recorder and delivery channel in one region, into the organisation's Config
    bucket beside the log archive (in the security account's home region: Config delivers
    across regions and accounts).

    Global resource types (IAM) are recorded in the account's own region only, as AWS
    recommends to avoid recording them once per region
    (https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html). The
    security account's home-region recorder is in its Audit stack.
    """

    def __init__(self, scope: PlatformStage, region: str) -> None:
        config = scope.config
        home = region == scope.account_config.region
        super().__init__(
            scope,
            baseline_stack_id(scope, region),
            description=f"{config.organization.name} {scope.account_config.role} account "
            f"baseline in {region}: AWS Config recording to the organisation's Config bucket",
            region=region,
        )
        ConfigRecorder(
            self,
            "Config",
            name_prefix=config.organization.prefix,
            bucket_name=config_bucket_name(config),
            global_resource_types=home,
        )
