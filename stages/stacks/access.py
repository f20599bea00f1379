"""The access stack: private operator access (Session Manager port forwarding) where config
asks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2

from config.model import OperatorAccess as AccessConfig
from constructs_lib.network.vpc import PlatformNetwork
from constructs_lib.operations.access import OperatorAccess
from stages.naming import ACCESS_INSTANCE_ID, operator_access_policy_name
from stages.parameters import publish
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class AccessStack(PlatformStack):
    """The account's access instance and its operators' policy; apart from the network (so
    replacing the instance touches nothing else) and from the cluster and data (which admit
    the workload-clients group it carries, owned by the network stack)."""

    def __init__(
        self,
        scope: PlatformStage,
        id_: str,
        *,
        access: AccessConfig,
        network: PlatformNetwork,
        clients: ec2.ISecurityGroup,
    ) -> None:
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} operator "
            "access: Session Manager port forwarding, no SSH",
            availability_zones=network.vpc.availability_zones,
        )
        self.access = OperatorAccess(
            self,
            "OperatorAccess",
            vpc=network.vpc,
            subnets=network.private_subnets,
            clients=clients,
            operator_roles=access.roles,
            policy_name=operator_access_policy_name(config, name),
        )
        publish(
            self,
            config,
            name,
            "/".join(ACCESS_INSTANCE_ID),
            self.access.instance.instance_id,
            description="The operator access instance: `make tunnel` starts its sessions here",
        )
