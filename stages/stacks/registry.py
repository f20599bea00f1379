"""The organisation's container registry, in shared-services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import Registry
from constructs_lib.delivery.registry import ContainerRegistry
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


_DEFAULTS = Registry.model_construct(repositories=())
"""Registry's default settings, for a registry of the teams' images only."""


class RegistryStack(PlatformStack):
    """ECR repositories that every workload account with a cluster may pull from:
    `registry.repositories` and the teams' images (`<prefix>/<team>/<image>`), all alike."""

    def __init__(self, scope: PlatformStage, id_: str, *, registry: Registry | None) -> None:
        """:param registry: its settings; None (teams' images only): the defaults."""
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} container registry (ECR)",
        )
        settings = registry if registry is not None else _DEFAULTS
        ContainerRegistry(
            self,
            "Registry",
            repository_names=[
                config.image_repository(r) for r in config.registry_repository_names()
            ],
            pull_accounts=[a.id for a in config.accounts.values() if a.is_workload and a.cluster],
            organization_id=config.organization.id,
            keep_images=settings.keep_images,
            untagged_days=settings.untagged_days,
        )
