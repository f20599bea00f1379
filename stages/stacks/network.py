"""The network stack: one per account that has a VPC (shared-services and workloads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import Network
from constructs_lib.network.vpc import PlatformNetwork
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class NetworkStack(PlatformStack):
    """The account's VPC. Apart from everything else because it outlives most changes."""

    def __init__(self, scope: PlatformStage, id_: str, *, network: Network) -> None:
        super().__init__(
            scope,
            id_,
            description=f"{scope.config.organization.name} {scope.account_config.role} network: "
            "three-tier VPC, endpoints, flow logs",
            availability_zones=network.availability_zones,
        )
        self.network = PlatformNetwork(
            self,
            "Network",
            cidr=network.cidr,
            availability_zones=network.availability_zones,
            nat_strategy=network.nat_gateways,
            interface_endpoints=network.interface_endpoints,
            flow_logs_retention=RETENTION_DAYS[network.flow_logs_retention_days],
        )
        self.raw_resource_scopes.extend(self.network.raw_resource_scopes)
