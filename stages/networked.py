"""What every account with a VPC holds: the network stack and, if configured, the cluster."""

from __future__ import annotations

from constructs_lib.network.transit import TransitGatewayAttachment, hub_output
from stages.naming import NETWORK_HUB_READER, NETWORK_HUB_STACK, role_arn, shared_services
from stages.platform_stage import PlatformStage
from stages.stacks.cluster import ClusterStack
from stages.stacks.network import NetworkStack


class NetworkedStage(PlatformStage):
    """A stage whose account has a `network` (and maybe a `cluster`) in config."""

    def build(self) -> None:
        assert self.account_config.network is not None  # guaranteed by config.rules
        self.network_stack = NetworkStack(
            self,
            "Network",
            network=self.account_config.network,
            # The cluster's nodes carry it; so does the operator access instance.
            with_clients=self.account_config.cluster is not None
            or self.account_config.access is not None,
        )
        self.cluster_stack = (
            ClusterStack(
                self,
                "Cluster",
                cluster=self.account_config.cluster,
                network=self.network_stack.network,
                clients=self.network_stack.workload_clients,
            )
            if self.account_config.cluster is not None
            else None
        )
        network = self.account_config.network
        if network.transit_gateway is not None and self.account_config.role != "shared-services":
            self._attach_to_hub()

    def _attach_to_hub(self) -> None:
        """The workload VPC's attachment, in its network stack; the hub's id comes from the
        hub stack's output, read with the hub's reader role (no export crosses accounts)."""
        config, hub = self.config, shared_services(self.config)
        routes = config.transit_route_cidrs(self.node.id)
        TransitGatewayAttachment(
            self.network_stack,
            "TransitGatewayAttachment",
            vpc=self.network_stack.network.vpc,
            subnets=self.network_stack.network.private_subnets,
            transit_gateway_id=hub_output(
                stack_name=f"{hub}-{NETWORK_HUB_STACK}",
                region=config.accounts[hub].region,
                reader_role_arn=role_arn(config, hub, NETWORK_HUB_READER),
            ),
            routes=routes,
            name=f"{config.organization.prefix}-{self.node.id}",
        )
