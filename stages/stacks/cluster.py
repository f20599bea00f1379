"""The cluster stack: one per account whose config has a `cluster`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm

from config.eks_calendar import addon_versions, karpenter_ami_alias
from config.model import Cluster, GitOpsRole
from constructs_lib.eks import addon_policies, gitops_bridge
from constructs_lib.eks.cluster import PlatformCluster
from constructs_lib.eks.gitops import ArgoCdBootstrap, SpokeRegistration
from constructs_lib.network.vpc import PlatformNetwork
from constructs_lib.operations.notification import topic_arn
from constructs_lib.operations.prometheus import ClusterPrometheus
from stages import karpenter_pools
from stages.naming import (
    ARGOCD_HUB,
    ARGOCD_REGISTRATIONS,
    ARGOCD_SPOKE,
    CLUSTER_SECURITY_GROUP,
    PROMETHEUS_ENDPOINT,
    alarm_topic_name,
    cluster_name,
    edge_name,
    parameter_name,
    registration_secret_arn,
    registration_secret_name,
    role_arn,
    role_name,
    secrets_prefix,
    shared_services,
    team_role_arn,
)
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


GITOPS_ROOT = "gitops"
"""Base path of the GitOps repository layout (addons_repo_basepath)."""


class ClusterStack(PlatformStack):
    """The account's EKS cluster, apart from the network (which outlives it) and from data."""

    def __init__(
        self,
        scope: PlatformStage,
        id_: str,
        *,
        cluster: Cluster,
        network: PlatformNetwork,
        clients: ec2.ISecurityGroup | None = None,
    ) -> None:
        """
        :param clients: the network stack's workload-clients group, which the nodes carry.
        """
        account = scope.account_config
        self.clients = clients
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
            secrets_role_arns=[
                team_role_arn(scope.config, scope.node.id, team, secrets=True)
                for team in scope.config.teams_in(scope.node.id)
            ],
            endpoint_public_access_cidrs=cluster.endpoint_public_access_cidrs,
            endpoint_private_access_cidrs=hub_cidrs(scope),
            node_security_groups=[clients] if clients is not None else [],
            admin_role_arns=cluster.admin_role_arns,
            viewer_role_arns=cluster.viewer_role_arns,
            node_instance_types=nodes.instance_types,
            node_ami_type=nodes.ami_type,
            node_min_size=nodes.min_size,
            node_max_size=nodes.max_size,
            node_desired_size=nodes.desired_size,
            node_disk_size_gib=nodes.disk_size_gib,
            fargate_namespaces=cluster.fargate_namespaces,
            addon_versions=addon_versions(cluster.kubernetes_version, cluster.addon_versions),
            dns_zone_name=account.domain,
            application_log_retention=RETENTION_DAYS[cluster.log_retention_days],
        )
        self.raw_resource_scopes.extend(self.cluster.raw_resource_scopes)
        self.alarms.cluster("eks", self.cluster.cluster.cluster_name)
        if account.access is not None and clients is not None:
            # The operator access instance carries the workload-clients group; the nodes and
            # pods that also carry it reach the API through the cluster security group already.
            self.cluster.control_plane_security_group.add_ingress_rule(
                clients, ec2.Port.tcp(443), "Kubernetes API from the operator access instance"
            )
        ssm.StringParameter(
            self,
            "SecurityGroupParameter",
            parameter_name=parameter_name(scope.config, scope.node.id, *CLUSTER_SECURITY_GROUP),
            string_value=self.cluster.node_security_group.security_group_id,
            description="The cluster security group (nodes, Fargate pods): the data stack "
            "admits it",
        )
        self.prometheus: ClusterPrometheus | None = None
        if scope.config.prometheus(scope.node.id):
            self._prometheus(scope, cluster, network)
        self.gitops_role = scope.config.gitops_role(scope.node.id)
        if self.gitops_role is not None:
            self._gitops(scope, network, self.gitops_role)

    def _prometheus(self, scope: PlatformStage, cluster: Cluster, network: PlatformNetwork) -> None:
        """The cluster's Prometheus workspace and collector; its endpoint to SSM (and, in
        `bridge_metadata`, to Argo CD) for canary analysis and autoscaling."""
        name = scope.node.id
        self.prometheus = ClusterPrometheus(
            self,
            "Prometheus",
            name=cluster_name(scope.config, name),
            cluster_arn=self.cluster.cluster.cluster_arn,
            cluster_security_group_id=self.cluster.cluster.cluster_security_group_id,
            subnet_ids=[subnet.subnet_id for subnet in network.vpc.private_subnets],
            log_retention=RETENTION_DAYS[cluster.log_retention_days],
            grafana_workspace=cluster.grafana,
        )
        ssm.StringParameter(
            self,
            "PrometheusEndpointParameter",
            parameter_name=parameter_name(scope.config, name, *PROMETHEUS_ENDPOINT),
            string_value=self.prometheus.endpoint,
            description="The cluster's Amazon Managed Service for Prometheus endpoint",
        )
        # Argo Rollouts' controller runs the canary analyses against this workspace only;
        # the role's presence labels the cluster enable_argo_rollouts (bridge_metadata).
        self.cluster.add_addon_role(
            "argo-rollouts", addon_policies.argo_rollouts(self.prometheus.workspace.attr_arn)
        )

    def _gitops(self, scope: PlatformStage, network: PlatformNetwork, role: GitOpsRole) -> None:
        config, name = scope.config, scope.node.id
        gitops = config.gitops
        assert gitops is not None
        labels, annotations = bridge_metadata(
            scope, self.cluster, network, role, self.clients, self.prometheus
        )
        if role == "spoke":
            SpokeRegistration(
                self.cluster,
                "GitOpsRegistration",
                cluster=self.cluster.cluster,
                hub_role_arn=role_arn(config, shared_services(config), ARGOCD_HUB),
                registration_reader_arn=role_arn(
                    config, shared_services(config), ARGOCD_REGISTRATIONS
                ),
                role_name=role_name(config, name, ARGOCD_SPOKE),
                secret_name=registration_secret_name(config, name),
                environment=scope.account_config.role,
                labels=labels,
                annotations=annotations,
            )
            return
        hub = role == "hub"
        spokes = config.gitops_spokes() if hub else []
        ArgoCdBootstrap(
            self.cluster,
            "GitOps",
            cluster=self.cluster.cluster,
            chart_version=gitops.argocd_chart_version,
            repository_url=gitops.repository_url,
            revision=gitops.revision,
            path=gitops.path,
            labels=labels,
            annotations=annotations,
            high_availability=scope.config.argocd_high_availability(scope.node.id),
            values=gitops.argocd_values,
            hub_role_name=role_name(config, name, ARGOCD_HUB) if hub else None,
            spoke_role_arns=[role_arn(config, s, ARGOCD_SPOKE) for s in spokes],
            registration_secret_arns=[registration_secret_arn(config, s) for s in spokes],
            registration_reader_role_name=(
                role_name(config, name, ARGOCD_REGISTRATIONS) if hub else None
            ),
            external_secrets_role=self.cluster.pod_roles["external-secrets"] if hub else None,
            # Until teams exist in config, the account's alarm topic (its chat channel).
            alarm_topic_arn=topic_arn(self, self.region, alarm_topic_name(config, name)),
        )


def hub_cidrs(scope: PlatformStage) -> list[str]:
    """A spoke's private endpoint admits the hub's VPC, whence Argo CD deploys to it over the
    Transit Gateway (config.rules.gitops.spokes_reach_the_hub checks the route exists)."""
    config = scope.config
    if config.gitops_role(scope.node.id) != "spoke":
        return []
    hub = config.accounts[shared_services(config)].network
    return [hub.cidr] if hub is not None else []


def bridge_metadata(
    scope: PlatformStage,
    cluster: PlatformCluster,
    network: PlatformNetwork,
    role: str,
    clients: ec2.ISecurityGroup | None = None,
    prometheus: ClusterPrometheus | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The facts this cluster hands to Argo CD (keys: constructs_lib.eks.gitops_bridge)."""
    config, name, account = scope.config, scope.node.id, scope.account_config
    gitops = config.gitops
    assert gitops is not None
    labels = {"environment": account.role, "cluster_role": role}
    labels |= {
        gitops_bridge.enable_label(addon): "true"
        for addon in gitops_bridge.ADDON_ROLE_ANNOTATIONS
        if addon in cluster.pod_roles
    }
    annotations = {
        "aws_account_id": account.id,
        "aws_region": account.region,
        "environment": account.role,
        "aws_cluster_name": cluster_name(config, name),
        "aws_vpc_id": network.vpc.vpc_id,
        "karpenter_node_role_name": cluster.karpenter_node_role.role_name,
        "karpenter_interruption_queue": cluster.interruption_queue.queue_name,
        "fluent_bit_log_group": cluster.application_log_group.log_group_name,
        "external_secrets_prefix": secrets_prefix(config, name),
        "addons_repo_url": gitops.repository_url,
        "addons_repo_revision": gitops.revision,
        "addons_repo_basepath": GITOPS_ROOT,
    }
    annotations["cluster_security_group_id"] = cluster.cluster.cluster_security_group_id
    annotations["karpenter_node_pools"] = _karpenter_manifests(scope)
    annotations |= {
        key: cluster.pod_roles[addon].role_arn
        for addon, key in gitops_bridge.ADDON_ROLE_ANNOTATIONS.items()
        if addon in cluster.pod_roles
    }
    if clients is not None:
        # What Karpenter's node class and Fargate pods' SecurityGroupPolicy attach, so pods
        # on them reach the data services and the edge like the system nodes' pods
        # (gitops/bootstrap/workload-clients.yaml).
        annotations["workload_clients_security_group_id"] = clients.security_group_id
        fargate = account.cluster.fargate_namespaces if account.cluster else ()
        if fargate:
            labels["has_fargate"] = "true"
            annotations["fargate_namespaces"] = ",".join(fargate)
    if prometheus is not None:
        annotations["amp_workspace_endpoint"] = prometheus.endpoint
        annotations["amp_workspace_id"] = prometheus.workspace.attr_workspace_id
    if account.domain:
        annotations["external_dns_domain"] = account.domain
    if account.edge_settings is not None:
        annotations["edge_target_group_name"] = edge_name(config, name)
    if role == "hub":
        annotations["registration_reader_role_arn"] = role_arn(config, name, ARGOCD_REGISTRATIONS)
        annotations["spoke_registration_secret_arns"] = ",".join(
            registration_secret_arn(config, spoke) for spoke in config.gitops_spokes()
        )
    return labels, annotations


def _karpenter_manifests(scope: PlatformStage) -> str:
    """The cluster's EC2NodeClass and NodePools from config, as JSON; `[]` without pools.
    No CloudFormation token goes in (a token inside JSON inside the registration secret's
    JSON would not be escaped): the chart adds the node role and the security groups from
    their own annotations."""
    account = scope.account_config
    config_cluster = account.cluster
    assert config_cluster is not None
    pools = config_cluster.karpenter_pools(account.role)
    nodes = config_cluster.system_nodes
    alias = karpenter_ami_alias(config_cluster.kubernetes_version, nodes.ami_type)
    if pools and alias is None:
        raise ValueError(  # config.rules.cluster.karpenter_pools_valid reports it first
            f"no Karpenter AMI release for Kubernetes {config_cluster.kubernetes_version}"
        )
    return json.dumps(
        karpenter_pools.manifests(
            cluster_name=cluster_name(scope.config, scope.node.id),
            ami_alias=alias or "",
            disk_size_gib=nodes.disk_size_gib,
            pools=pools,
        ),
        separators=(",", ":"),
    )
