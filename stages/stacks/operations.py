"""The operations stack of an account the pipeline's health gate reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.delivery.health_check_role import HealthCheckRole
from stages.naming import HEALTH_CHECK, PIPELINE_HEALTH_CHECK, role_arn, role_name, shared_services
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class OperationsStack(PlatformStack):
    """The read-only role the pipeline's health gate assumes after deploying this account."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} operations: "
            "the pipeline health gate's read-only access",
        )
        HealthCheckRole(
            self,
            "HealthCheckRole",
            role_name=role_name(config, name, HEALTH_CHECK),
            trusted_role_arn=role_arn(config, shared_services(config), PIPELINE_HEALTH_CHECK),
        )
