"""The baseline every account but security has: AWS Config recording to the organisation's
Config bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.organization.audit import ConfigRecorder
from stages.naming import config_bucket_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class BaselineStack(PlatformStack):
    """AWS Config's recorder and delivery channel into the organisation's Config bucket, beside
    the log archive (the security account's own recorder is in its Audit stack)."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} account "
            "baseline: AWS Config recording to the organisation's Config bucket",
        )
        ConfigRecorder(
            self,
            "Config",
            name_prefix=config.organization.prefix,
            bucket_name=config_bucket_name(config),
        )
