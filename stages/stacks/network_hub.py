"""The organisation's network hub: the Transit Gateway, in shared-services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.network.transit import Segment, TransitGatewayAttachment, TransitGatewayHub
from constructs_lib.network.vpc import PlatformNetwork
from stages.naming import NETWORK_HUB_READER, cfn_exec_role_arn, resource_name, role_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class NetworkHubStack(PlatformStack):
    """The Transit Gateway shared with the attaching accounts, one route table per attached
    account (its segment), the role through which attaching accounts read its id, and
    shared-services' own attachment."""

    def __init__(self, scope: PlatformStage, id_: str, *, network: PlatformNetwork) -> None:
        config, name = scope.config, scope.node.id
        org = config.organization
        attached = [n for n in config.hub_attachments() if n != name]
        super().__init__(
            scope,
            id_,
            description=f"{org.name} network hub: Transit Gateway shared with the attached "
            "accounts, one route table per account",
        )
        hub = TransitGatewayHub(
            self,
            "Hub",
            name=resource_name(org.prefix, name, "hub"),
            share_account_ids=[config.accounts[n].id for n in attached],
            segments=[
                Segment(
                    name=n,
                    account=config.accounts[n].id,
                    cidr=config.vpc_cidr(n),
                    routes=config.transit_routes(n),
                )
                for n in config.hub_attachments()
            ],
            reader_role_name=role_name(config, name, NETWORK_HUB_READER),
            reader_principal_arns=[cfn_exec_role_arn(config, n) for n in attached],
        )
        self.alarms.transit_gateway("hub", hub.transit_gateway_id)
        own = TransitGatewayAttachment(
            self,
            "Attachment",
            vpc=network.vpc,
            subnets=network.private_subnets,
            transit_gateway_id=hub.transit_gateway_id,
            routes=config.transit_route_cidrs(name),
            name=resource_name(org.prefix, name, "platform"),
        )
        # The function connects this account's attachment on the first deployment too.
        hub.segments_resource.node.add_dependency(own)
