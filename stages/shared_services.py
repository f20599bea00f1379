"""The shared-services (platform tooling) account."""

from __future__ import annotations

from constructs import Construct

from config import PlatformConfig
from constructs_lib.dns import Delegation, ParentZone
from constructs_lib.registry import ContainerRegistry
from constructs_lib.transit import TransitGatewayAttachment, TransitGatewayHub
from stages.base import PlatformStack
from stages.naming import (
    NETWORK_HUB_READER,
    NETWORK_HUB_STACK,
    cfn_exec_role_arn,
    dns_delegation_role_name,
    resource_name,
    role_name,
)
from stages.networked import NetworkedStage


class SharedServicesStage(NetworkedStage):
    """The platform's own VPC, the GitOps hub cluster, the network hub and the container
    registry; the pipeline is a stack of its own in this account."""

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
        self.dns_stack: PlatformStack | None = None
        if config.dns is not None:
            self.dns_stack = PlatformStack(
                self,
                "Dns",
                description=f"{config.organization.name} public parent zone "
                f"{config.dns.parent_zone} and its delegations",
            )
            ParentZone(
                self.dns_stack,
                "ParentZone",
                zone_name=config.dns.parent_zone,
                delegations=[
                    Delegation(
                        zone_name=account.domain,
                        account_id=account.id,
                        role_name=dns_delegation_role_name(config, name),
                    )
                    for name, account in config.accounts.items()
                    if account.domain is not None
                ],
            )
        self.network_hub_stack: PlatformStack | None = None
        if self.account_config.network.transit_gateway is not None:
            self._network_hub()

    def _network_hub(self) -> None:
        config, name = self.config, self.node.id
        org = config.organization
        _, management = config.account_with_role("management")
        attached = [n for n in config.hub_attachments() if n != name]
        self.network_hub_stack = PlatformStack(
            self,
            NETWORK_HUB_STACK,
            description=f"{org.name} network hub: Transit Gateway shared with the organisation",
        )
        hub = TransitGatewayHub(
            self.network_hub_stack,
            "Hub",
            name=resource_name(org.prefix, name, "hub"),
            organization_arn=f"arn:aws:organizations::{management.id}:organization/{org.id}",
            reader_role_name=role_name(config, name, NETWORK_HUB_READER),
            reader_principal_arns=[cfn_exec_role_arn(config, n) for n in attached],
        )
        TransitGatewayAttachment(
            self.network_hub_stack,
            "Attachment",
            vpc=self.network_stack.network.vpc,
            subnets=self.network_stack.network.private_subnets,
            transit_gateway_id=hub.transit_gateway_id,
            routes=[config.accounts[n].network.cidr for n in config.transit_routes(name)],
            name=resource_name(org.prefix, name, "platform"),
        )
