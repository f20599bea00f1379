"""Which kubectl Lambda layer serves which Kubernetes version: the one table.

Plain data so the config can check a version has a layer without starting jsii. Each entry
names the PyPI package (pinned in pyproject.toml), its module and its layer class; the module
is imported only when a cluster of that version is built (`constructs_lib.eks.kubectl_layers`).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple


class KubectlLayer(NamedTuple):
    package: str
    module: str
    class_name: str


KUBECTL_LAYERS = MappingProxyType(
    {
        f"1.{minor}": KubectlLayer(
            f"aws-cdk.lambda-layer-kubectl-v{minor}",
            f"aws_cdk.lambda_layer_kubectl_v{minor}",
            f"KubectlV{minor}Layer",
        )
        for minor in (33, 34, 35, 36)
    }
)
"""Kubernetes minor version -> the layer package whose kubectl matches it."""


REDIS_HA_MIN_NODES = 3
"""Argo CD's HA install (the argo-cd chart's `redis-ha`) runs three Redis and three HAProxy
pods with required pod anti-affinity on the node: fewer schedulable nodes leave pods Pending
and the Helm install times out (https://github.com/argoproj/argo-helm/tree/main/charts/argo-cd,
"High Availability": "at least 3 worker nodes")."""


PLATFORM_NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "external-dns",
    "cert-manager",
    "external-secrets",
    "amazon-cloudwatch",
    "argo-rollouts",
)
"""Namespaces Kubernetes or the platform's add-ons use (those of `gitops/bootstrap/*.yaml` and
`constructs_lib.eks` `POD_IDENTITIES`, a test keeps them in step): no team may claim one."""

ARGOCD_NAMESPACE = "argocd"
PLATFORM_PROJECT = "platform"
"""The Argo CD project of the platform's own Applications (add-ons, policies, the teams'
namespaces and projects); the teams' Applications are in projects of their own."""

DISCOVERY_TAG = "karpenter.sh/discovery"
"""The tag (value: the cluster's name) CDK writes on the private subnets Karpenter launches
into; the controller's role may launch only into subnets and groups carrying it (or, for the
EKS-made cluster security group, EKS's own cluster tag)."""
