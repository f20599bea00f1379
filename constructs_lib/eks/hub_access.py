"""What the GitOps hub's Argo CD may do on a spoke cluster: Kubernetes RBAC, as plain data.

The spoke's access entry for the hub's role carries no EKS access policy, only the Kubernetes
group `HUB_GROUP`; CDK applies `cluster_role()` and its binding on the spoke
(`constructs_lib.eks.gitops.SpokeRegistration`). Why RBAC and not an access policy:
AmazonEKSClusterAdminPolicy is `*` on `*` (impersonation, escalate and bind included);
AmazonEKSAdminPolicy and AmazonEKSEditPolicy are namespace-level and cannot install the CRDs,
ClusterRoles and webhooks of the add-ons Argo CD owns
(https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html; AWS's
least-privilege setup for Argo CD is a custom group with read-all plus chosen writes:
https://docs.aws.amazon.com/eks/latest/userguide/argocd-register-clusters.html).

Kubernetes lets a subject create a Role or ClusterRole only with permissions it holds itself,
and bind only roles whose permissions it holds, unless it has `escalate` / `bind`
(https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping).
The hub has neither, so it must hold every permission the add-ons' own RBAC grants
(`ADDON_RUNTIME_RULES`, from the pinned charts' RBAC templates). A chart bump that adds a
permission fails its sync with "attempting to grant RBAC permissions not currently held"
until the rule is added here. Plain data: no aws_cdk import.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

HUB_GROUP = "platform:argocd-hub"
"""The Kubernetes group the hub's access entry puts its sessions in (`system:`, `eks:`,
`aws:`, `amazon:` and `iam:` are reserved)."""

CLUSTER_ROLE = "platform:argocd-hub"
"""The ClusterRole (and ClusterRoleBinding) CDK applies on each spoke for `HUB_GROUP`."""

WRITE = ("create", "update", "patch", "delete")

READ_RULES: tuple[dict[str, Any], ...] = (
    # Argo CD watches every kind it may manage to diff and assess health (AWS's documented
    # minimum for Argo CD); this includes Secrets.
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
)

DEPLOY_RULES: tuple[dict[str, Any], ...] = (
    # The kinds gitops/ and the add-on charts ship, in any namespace.
    {
        "apiGroups": [""],
        "resources": [
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "persistentvolumeclaims",
            "resourcequotas",
            "secrets",
            "serviceaccounts",
            "services",
        ],
        "verbs": list(WRITE),
    },
    {
        "apiGroups": ["apps"],
        "resources": ["daemonsets", "deployments", "statefulsets"],
        "verbs": list(WRITE),
    },
    {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": list(WRITE)},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": list(WRITE)},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": list(WRITE)},
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingressclasses", "ingresses", "networkpolicies"],
        "verbs": list(WRITE),
    },
    {"apiGroups": ["scheduling.k8s.io"], "resources": ["priorityclasses"], "verbs": list(WRITE)},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": list(WRITE)},
    {
        # Roles and bindings: never beyond this ClusterRole (no escalate, no bind).
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterrolebindings", "clusterroles", "rolebindings", "roles"],
        "verbs": list(WRITE),
    },
    {
        "apiGroups": ["apiextensions.k8s.io"],
        "resources": ["customresourcedefinitions"],
        "verbs": list(WRITE),
    },
    {
        "apiGroups": ["admissionregistration.k8s.io"],
        "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
        "verbs": list(WRITE),
    },
    {"apiGroups": ["apiregistration.k8s.io"], "resources": ["apiservices"], "verbs": list(WRITE)},
    {
        # The add-ons' own API groups (their custom resources, status and finalizers), and
        # the groups their controllers manage objects in (Gateway API for cert-manager and
        # ExternalDNS; OpenShift routes, which cert-manager's RBAC names even where the group
        # is not served).
        "apiGroups": [
            "acme.cert-manager.io",
            "autoscaling.x-k8s.io",
            "cert-manager.io",
            "elbv2.k8s.aws",
            "external-secrets.io",
            "externaldns.k8s.io",
            "gateway.networking.k8s.io",
            "generators.external-secrets.io",
            "karpenter.k8s.aws",
            "karpenter.sh",
            "route.openshift.io",
            "vpcresources.k8s.aws",
        ],
        "resources": ["*"],
        # The add-ons' aggregated edit roles use deletecollection on their own kinds;
        # cert-manager approves requests for its signers (`cert-manager.io/signers`).
        "verbs": [*WRITE, "deletecollection", "approve"],
    },
)

ADDON_RUNTIME_RULES: tuple[dict[str, Any], ...] = (
    # What the add-ons' controllers do at run time beyond the kinds above, which their
    # ClusterRoles grant and the hub must therefore hold to create them (karpenter: nodes and
    # evictions; the load balancer controller: pod and service status; External Secrets and
    # cert-manager: service-account tokens; cert-manager: leases, CSRs and access reviews).
    {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": list(WRITE)},
    {
        "apiGroups": [""],
        "resources": ["pods/binding", "pods/eviction", "serviceaccounts/token"],
        "verbs": ["create"],
    },
    {
        # The load balancer controller's two rules name every group with every resource
        # (Kubernetes checks each group/resource/verb of a role the hub creates), so this
        # rule is their product too.
        "apiGroups": ["", "elbv2.k8s.aws", "extensions", "networking.k8s.io"],
        "resources": [
            "ingresses",
            "ingresses/finalizers",
            "ingresses/status",
            "pods/status",
            "services",
            "services/status",
            "targetgroupbindings/status",
        ],
        "verbs": ["update", "patch"],
    },
    {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["update"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": list(WRITE)},
    {
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["subjectaccessreviews"],
        "verbs": ["create"],
    },
    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
    {
        "apiGroups": ["certificates.k8s.io"],
        "resources": ["certificatesigningrequests", "certificatesigningrequests/status"],
        "verbs": ["update", "patch"],
    },
    {
        "apiGroups": ["certificates.k8s.io"],
        "resources": ["signers"],
        "resourceNames": ["clusterissuers.cert-manager.io/*", "issuers.cert-manager.io/*"],
        "verbs": ["sign"],
    },
)

NEVER_VERBS = frozenset({"escalate", "bind", "impersonate"})
"""Verbs the hub holds on nothing: with any of them it could grant itself cluster-admin."""

NEVER_RESOURCES = frozenset(
    {
        "pods/exec",
        "pods/attach",
        "pods/portforward",
        "pods/proxy",
        "services/proxy",
        "nodes/proxy",
        "certificatesigningrequests/approval",
    }
)
"""Subresources the hub may not create or change: no shell in a pod, no tunnel to a node or
service, no approving a client certificate for the API server."""


def rules() -> list[dict[str, Any]]:
    """Every rule of the hub's ClusterRole on a spoke."""
    return [dict(rule) for rule in (*READ_RULES, *DEPLOY_RULES, *ADDON_RUNTIME_RULES)]


def manifests(group: str = HUB_GROUP) -> Sequence[dict[str, Any]]:
    """The ClusterRole and the ClusterRoleBinding that gives it to `group`."""
    labels = MappingProxyType({"app.kubernetes.io/managed-by": "aws-cdk"})
    return (
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": CLUSTER_ROLE, "labels": dict(labels)},
            "rules": rules(),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": CLUSTER_ROLE, "labels": dict(labels)},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": CLUSTER_ROLE,
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
        },
    )
