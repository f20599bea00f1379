"""The cluster stack: one per account whose config has a `cluster`."""

from __future__ import annotations

from config.model import Cluster
from constructs_lib.cluster import PlatformCluster
from constructs_lib.network import PlatformNetwork
from stages.base import PlatformStack, PlatformStage
from stages.naming import cluster_name, secrets_prefix
from stages.retention import RETENTION_DAYS


class ClusterStack(PlatformStack):
    """The account's EKS cluster, apart from the network (which outlives it) and from data."""

    def __init__(
        self, scope: PlatformStage, id_: str, *, cluster: Cluster, network: PlatformNetwork
    ) -> None:
        account = scope.account_config
        super().__init__(
            scope,
            id_,
            description=f"{scope.config.organization.name} {account.role} EKS cluster",
            availability_zones=network.vpc.availability_zones,
        )
        nodes = cluster.system_nodes
        self.cluster = PlatformCluster(
            self,
            "Cluster",
            cluster_name=cluster_name(scope.config, scope.node.id),
            kubernetes_version=cluster.kubernetes_version,
            vpc=network.vpc,
            subnets=network.private_subnets,
            secrets_prefix=secrets_prefix(scope.config, scope.node.id),
            endpoint_public_access_cidrs=cluster.endpoint_public_access_cidrs,
            admin_role_arns=cluster.admin_role_arns,
            viewer_role_arns=cluster.viewer_role_arns,
            node_instance_types=nodes.instance_types,
            node_ami_type=nodes.ami_type,
            node_min_size=nodes.min_size,
            node_max_size=nodes.max_size,
            node_desired_size=nodes.desired_size,
            node_disk_size_gib=nodes.disk_size_gib,
            fargate_namespaces=cluster.fargate_namespaces,
            addon_versions=cluster.addon_versions,
            dns_zone_name=account.domain,
            application_log_retention=RETENTION_DAYS[cluster.log_retention_days],
        )
