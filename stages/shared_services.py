"""The shared-services (platform tooling) account."""

from __future__ import annotations

from constructs import Construct

from config import PlatformConfig
from constructs_lib.registry import ContainerRegistry
from stages.base import PlatformStack
from stages.networked import NetworkedStage


class SharedServicesStage(NetworkedStage):
    """The platform's own VPC, the GitOps hub cluster and the container registry; the
    pipeline is a stack of its own in this account."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, config=config)
        registry = config.registry
        self.registry_stack: PlatformStack | None = None
        if registry is not None:
            self.registry_stack = PlatformStack(
                self,
                "Registry",
                description=f"{config.organization.name} container registry (ECR)",
            )
            ContainerRegistry(
                self.registry_stack,
                "Registry",
                repository_names=[config.image_repository(r) for r in registry.repositories],
                pull_accounts=[
                    a.id for a in config.accounts.values() if a.is_workload and a.cluster
                ],
                organization_id=config.organization.id,
                keep_images=registry.keep_images,
                untagged_days=registry.untagged_days,
            )
