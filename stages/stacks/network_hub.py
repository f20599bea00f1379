"""The organisation's network hub: the Transit Gateway, in shared-services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.network.transit import TransitGatewayAttachment, TransitGatewayHub
from constructs_lib.network.vpc import PlatformNetwork
from stages.naming import NETWORK_HUB_READER, cfn_exec_role_arn, resource_name, role_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class NetworkHubStack(PlatformStack):
    """The Transit Gateway shared with the organisation, the role through which attaching
    accounts read its id, and shared-services' own attachment."""

    def __init__(self, scope: PlatformStage, id_: str, *, network: PlatformNetwork) -> None:
        config, name = scope.config, scope.node.id
        org = config.organization
        _, management = config.account_with_role("management")
        attached = [n for n in config.hub_attachments() if n != name]
        super().__init__(
            scope,
            id_,
            description=f"{org.name} network hub: Transit Gateway shared with the organisation",
        )
        hub = TransitGatewayHub(
            self,
            "Hub",
            name=resource_name(org.prefix, name, "hub"),
            organization_arn=f"arn:aws:organizations::{management.id}:organization/{org.id}",
            reader_role_name=role_name(config, name, NETWORK_HUB_READER),
            reader_principal_arns=[cfn_exec_role_arn(config, n) for n in attached],
        )
        TransitGatewayAttachment(
            self,
            "Attachment",
            vpc=network.vpc,
            subnets=network.private_subnets,
            transit_gateway_id=hub.transit_gateway_id,
            routes=config.transit_route_cidrs(name),
            name=resource_name(org.prefix, name, "platform"),
        )
