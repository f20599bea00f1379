"""The GitOps bridge: which infrastructure facts cross from CDK to Argo CD, under which names.

CDK writes them as labels and annotations of each cluster's Argo CD cluster Secret (the
format ApplicationSet cluster generators read: `{{.metadata.annotations.aws_vpc_id}}`), and
into each spoke's registration secret. The manifests under gitops/ may use only these keys;
tests/test_gitops.py fails if the two drift apart. Plain data: no aws_cdk import.
"""

from __future__ import annotations

from collections.abc import Mapping

LABELS = (
    "environment",
    "cluster_role",
    "enable_argo_rollouts",
    "enable_aws_load_balancer_controller",
    "enable_cert_manager",
    "enable_external_dns",
    "enable_external_secrets",
    "enable_fluent_bit",
    "enable_karpenter",
    "has_fargate",
)
"""Labels: what ApplicationSet selectors match on (`enable_<add-on>: "true"`, hub/spoke)."""

ANNOTATIONS = (
    "aws_account_id",
    "aws_region",
    "environment",
    "aws_cluster_name",
    "aws_vpc_id",
    "workload_clients_security_group_id",
    "cluster_security_group_id",
    "fargate_namespaces",
    "argo_rollouts_role_arn",
    "aws_load_balancer_controller_role_arn",
    "cert_manager_role_arn",
    "external_dns_role_arn",
    "external_secrets_role_arn",
    "fluent_bit_role_arn",
    "karpenter_role_arn",
    "karpenter_node_role_name",
    "karpenter_interruption_queue",
    "karpenter_node_pools",
    "fluent_bit_log_group",
    "amp_workspace_endpoint",
    "amp_workspace_id",
    "external_dns_domain",
    "edge_target_group_name",
    "external_secrets_prefix",
    "addons_repo_url",
    "addons_repo_revision",
    "addons_repo_basepath",
    "registration_reader_role_arn",
    "spoke_registration_secret_arns",
)
"""Annotations: the facts add-on values read. Keys a cluster does not have are omitted
(e.g. external_dns_domain and edge_target_group_name without a domain; the last two on the
hub only). karpenter_node_pools is a JSON list of the cluster's EC2NodeClass and NodePools
(stages/karpenter_pools.py), written out by gitops/charts/karpenter-pools.
edge_target_group_name is what a TargetGroupBinding's `targetGroupName` names: the
edge stack deploys after the cluster, so its ARN cannot be handed over here."""

ADDON_ROLE_ANNOTATIONS = {
    "argo-rollouts": "argo_rollouts_role_arn",
    "aws-load-balancer-controller": "aws_load_balancer_controller_role_arn",
    "cert-manager": "cert_manager_role_arn",
    "external-dns": "external_dns_role_arn",
    "external-secrets": "external_secrets_role_arn",
    "fluent-bit": "fluent_bit_role_arn",
    "karpenter": "karpenter_role_arn",
}
"""Platform add-on -> the annotation carrying its Pod Identity role ARN."""


def enable_label(addon: str) -> str:
    return "enable_" + addon.replace("-", "_")


def registration_fields(labels: Mapping[str, str], annotations: Mapping[str, str]) -> dict:
    """Flatten labels and annotations into registration-secret fields (`label_x`,
    `annotation_y`), which External Secrets templates can address one by one."""
    return {
        **{f"label_{key}": value for key, value in labels.items()},
        **{f"annotation_{key}": value for key, value in annotations.items()},
    }
