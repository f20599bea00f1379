"""The organisation's container registry, in shared-services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import Registry
from constructs_lib.delivery.registry import ContainerRegistry
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class RegistryStack(PlatformStack):
    """ECR repositories that every workload account with a cluster may pull from."""

    def __init__(self, scope: PlatformStage, id_: str, *, registry: Registry) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} container registry (ECR)",
        )
        ContainerRegistry(
            self,
            "Registry",
            repository_names=[config.image_repository(r) for r in registry.repositories],
            pull_accounts=[a.id for a in config.accounts.values() if a.is_workload and a.cluster],
            organization_id=config.organization.id,
            keep_images=registry.keep_images,
            untagged_days=registry.untagged_days,
        )
