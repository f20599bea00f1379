"""The network stack: one per account that has a VPC (shared-services and workloads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2

from config.model import Network
from constructs_lib.network.vpc import PlatformNetwork
from facts.kubernetes import DISCOVERY_TAG
from stages.naming import cluster_name
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class NetworkStack(PlatformStack):
    """The account's VPC. Apart from everything else because it outlives most changes."""

    def __init__(
        self, scope: PlatformStage, id_: str, *, network: Network, with_clients: bool = False
    ) -> None:
        """
        :param with_clients: the account has a cluster: make `workload_clients`, the security
            group its nodes carry and its data services and edge admit.
        """
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
        # Karpenter's node class selects subnets by this tag, and its controller may launch
        # only into subnets and groups that carry it (constructs_lib/eks/addon_policies.py).
        discovery = (
            cluster_name(scope.config, scope.node.id)
            if scope.account_config.cluster is not None
            else None
        )
        if discovery is not None:
            for subnet in self.network.vpc.private_subnets:
                Tags.of(subnet).add(
                    DISCOVERY_TAG, discovery, include_resource_types=["AWS::EC2::Subnet"]
                )
        # Owned here, not by the cluster, so the data and edge stacks that admit it need not
        # wait for EKS, and a replaced cluster leaves them untouched.
        self.workload_clients: ec2.SecurityGroup | None = (
            ec2.SecurityGroup(
                self,
                "WorkloadClients",
                vpc=self.network.vpc,
                description="Carried by the cluster nodes and the pods on them: the data "
                "services and the edge load balancer admit it",
                allow_all_outbound=False,
            )
            if with_clients
            else None
        )
        if discovery is not None and self.workload_clients is not None:
            Tags.of(self.workload_clients).add(
                DISCOVERY_TAG, discovery, include_resource_types=["AWS::EC2::SecurityGroup"]
            )
