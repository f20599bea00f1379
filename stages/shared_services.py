"""The shared-services (platform tooling) account."""

from __future__ import annotations

from stages.naming import NETWORK_HUB_STACK
from stages.networked import NetworkedStage
from stages.stacks.dns import DnsStack
from stages.stacks.network_hub import NetworkHubStack
from stages.stacks.registry import RegistryStack


class SharedServicesStage(NetworkedStage):
    """The platform's own VPC, the GitOps hub cluster, the network hub and the container
    registry; the pipeline is a stack of its own in this account."""

    def build(self) -> None:
        super().build()
        self.registry_stack = (
            RegistryStack(self, "Registry", registry=self.config.registry)
            if self.config.registry_repository_names()
            else None
        )
        self.dns_stack = (
            DnsStack(self, "Dns", dns=self.config.dns) if self.config.dns is not None else None
        )
        network = self.account_config.network
        assert network is not None  # NetworkedStage.build has checked it
        self.network_hub_stack = (
            NetworkHubStack(self, NETWORK_HUB_STACK, network=self.network_stack.network)
            if network.transit_gateway is not None
            else None
        )
