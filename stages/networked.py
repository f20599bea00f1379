"""What every account with a VPC holds: the network stack and, if configured, the cluster."""

from __future__ import annotations

from constructs import Construct

from config import PlatformConfig
from stages.base import PlatformStage
from stages.cluster_stack import ClusterStack
from stages.network_stack import NetworkStack


class NetworkedStage(PlatformStage):
    """A stage whose account has a `network` (and maybe a `cluster`) in config."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, config=config)
        assert self.account_config.network is not None  # guaranteed by config.rules
        self.network_stack = NetworkStack(self, "Network", network=self.account_config.network)
        self.cluster_stack = (
            ClusterStack(
                self,
                "Cluster",
                cluster=self.account_config.cluster,
                network=self.network_stack.network,
            )
            if self.account_config.cluster is not None
            else None
        )
