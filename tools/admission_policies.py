"""The platform's Kubernetes admission policies that depend on config or share the pod-bearing
kinds, written as ValidatingAdmissionPolicies (CEL) into gitops/policies/admission/.

    python -m tools.admission_policies [--config config/platform.yaml]   (make admission-policies)

Kubernetes' built-in ValidatingAdmissionPolicy (GA since 1.30) expresses every rule here:
`variables` name the pod spec of each pod-bearing kind, `namespaceObject` gives the namespace's
labels, the allowed registries are literals written from config, so no engine (Kyverno,
Gatekeeper) and no webhook runs in the cluster
(https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/).
internal-load-balancers-only.yaml is hand-written; tests/test_admission_policies.py evaluates
every policy with cel-python and fails when a file here is stale.

Every policy carries `platform.example/enforces` (what it refuses, one line) and every binding
`platform.example/scope` (where and how): the compliance report's Kubernetes section reads them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from config import PlatformConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "gitops/policies/admission"
ENFORCES = "platform.example/enforces"
SCOPE = "platform.example/scope"
TEAM_LABEL = "team"
"""The Namespace label tools/teams_gitops.py writes on every team namespace (its value: the
team); team workloads' pod templates must carry the same label and value."""

POD_SECURITY_EXEMPT = ("kube-system", "amazon-cloudwatch")
"""Namespaces whose node agents need the host: kube-system holds the EKS managed add-ons
(vpc-cni's aws-node and kube-proxy: hostNetwork, privileged; aws-ebs-csi-driver's node
DaemonSet: privileged, hostPath; eks-pod-identity-agent: hostNetwork) and Karpenter and the
AWS Load Balancer Controller (gitops/bootstrap/addons.yaml); amazon-cloudwatch holds Fluent
Bit (a DaemonSet reading the nodes' logs through hostPath)."""

EKS_ADDON_REGISTRY_ACCOUNT = {
    region: "602401143452"
    for region in (
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-southeast-1", "ap-southeast-2", "sa-east-1",
    )
}  # fmt: skip
"""The ECR account EKS serves its managed add-ons' images from, per region
(https://docs.aws.amazon.com/eks/latest/userguide/add-ons-images.html); opt-in regions use
other accounts: add them here when config allows such a region."""

UPSTREAM_REGISTRIES = (
    "quay.io/jetstack/",  # cert-manager
    "oci.external-secrets.io/external-secrets/",  # external-secrets
    "ghcr.io/external-secrets/",  # external-secrets (older charts)
    "public.ecr.aws/karpenter/",  # karpenter
    "public.ecr.aws/eks/aws-load-balancer-controller",  # aws-load-balancer-controller
    "registry.k8s.io/external-dns/",  # external-dns
    "public.ecr.aws/aws-observability/",  # aws-for-fluent-bit
    "quay.io/argoproj/",  # Argo CD (installed by CDK)
    "ghcr.io/dexidp/",  # Argo CD's Dex
    "public.ecr.aws/docker/library/redis",  # Argo CD's Redis
    "ecr-public.aws.com/docker/library/redis",  # Argo CD's Redis (newer charts)
    "public.ecr.aws/docker/library/haproxy",  # Argo CD's redis-ha proxy
    "ecr-public.aws.com/docker/library/haproxy",
)
"""The images the platform's add-ons pull by default (their charts' default image
repositories, pinned with the chart versions in gitops/bootstrap/addons.yaml and
gitops.argocd_chart_version): allowed outside team namespaces only."""

POD_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # kubectl debug adds ephemeral containers through the subresource, not an update of the pod
    ("", "v1", ("pods", "pods/ephemeralcontainers")),
    ("apps", "v1", ("deployments",)),
    ("apps", "v1", ("statefulsets",)),
    ("apps", "v1", ("daemonsets",)),
    ("apps", "v1", ("replicasets",)),
    ("batch", "v1", ("jobs",)),
    ("batch", "v1", ("cronjobs",)),
    ("argoproj.io", "v1alpha1", ("rollouts",)),
)


def _match_constraints() -> dict[str, Any]:
    return {
        "resourceRules": [
            {
                "apiGroups": [group],
                "apiVersions": [version],
                "operations": ["CREATE", "UPDATE"],
                "resources": list(resources),
            }
            for group, version, resources in POD_KINDS
        ]
    }


# A Rollout may reference a Deployment (spec.workloadRef) instead of holding a template: the
# Deployment is then checked itself.
MATCH_CONDITIONS = [
    {
        "name": "has-a-pod-template",
        "expression": "request.kind.kind != 'Rollout' || has(object.spec.template)",
    }
]

POD_VARIABLES = [
    {
        "name": "pod",
        "expression": (
            "request.kind.kind == 'Pod' ? object : "
            "request.kind.kind == 'CronJob' ? object.spec.jobTemplate.spec.template : "
            "object.spec.template"
        ),
    },
    {"name": "spec", "expression": "variables.pod.spec"},
    {
        "name": "containers",
        "expression": (
            "variables.spec.containers"
            " + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])"
            " + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])"
        ),
    },
]


def _policy(name: str, enforces: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "annotations": {ENFORCES: enforces}},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": _match_constraints(),
            "matchConditions": MATCH_CONDITIONS,
            **spec,
        },
    }


def _binding(
    name: str, policy: str, actions: list[str], selector: dict[str, Any], scope: str
) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "annotations": {SCOPE: scope}},
        "spec": {
            "policyName": policy,
            "validationActions": actions,
            "matchResources": {"namespaceSelector": selector},
        },
    }


TEAM_NAMESPACES = {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]}
PLATFORM_NAMESPACES = {"matchExpressions": [{"key": TEAM_LABEL, "operator": "DoesNotExist"}]}


def _violation(expression: str, message: str) -> dict[str, str]:
    return {"expression": expression, "message": message, "reason": "Forbidden"}


def pod_security() -> list[dict[str, Any]]:
    sc = "!has(c.securityContext) || "
    validations = [
        _violation(
            "variables.containers.all(c, " + sc + "!has(c.securityContext.privileged) || "
            "c.securityContext.privileged == false)",
            "No privileged containers (containers, initContainers, ephemeralContainers).",
        ),
        _violation(
            "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork) && "
            "!(has(variables.spec.hostPID) && variables.spec.hostPID) && "
            "!(has(variables.spec.hostIPC) && variables.spec.hostIPC)",
            "No host namespaces (hostNetwork, hostPID, hostIPC).",
        ),
        _violation(
            "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))",
            "No hostPath volumes.",
        ),
        _violation(
            "variables.containers.all(c, has(c.securityContext) && "
            "has(c.securityContext.allowPrivilegeEscalation) && "
            "c.securityContext.allowPrivilegeEscalation == false)",
            "Every container must set securityContext.allowPrivilegeEscalation: false.",
        ),
        _violation(
            "variables.containers.all(c, " + sc + "!has(c.securityContext.capabilities) || "
            "!has(c.securityContext.capabilities.add) || "
            "c.securityContext.capabilities.add.all(cap, cap == 'NET_BIND_SERVICE'))",
            "No added capabilities other than NET_BIND_SERVICE.",
        ),
    ]
    exempt = ", ".join(POD_SECURITY_EXEMPT)
    return [
        _policy(
            "pod-security",
            "no privileged containers, host namespaces (hostNetwork/hostPID/hostIPC) or "
            "hostPath volumes; allowPrivilegeEscalation: false; no added capability but "
            "NET_BIND_SERVICE (every container of Pods and pod templates)",
            {"variables": POD_VARIABLES, "validations": validations},
        ),
        _binding(
            "pod-security",
            "pod-security",
            ["Deny"],
            {
                "matchExpressions": [
                    {
                        "key": "kubernetes.io/metadata.name",
                        "operator": "NotIn",
                        "values": list(POD_SECURITY_EXEMPT),
                    }
                ]
            },
            f"Deny in every namespace but {exempt} (node agents that need the host)",
        ),
    ]


def resources() -> list[dict[str, Any]]:
    validations = [
        _violation(
            "(variables.spec.containers + (has(variables.spec.initContainers) ? "
            "variables.spec.initContainers : [])).all(c, has(c.resources) && "
            "has(c.resources.requests) && 'cpu' in c.resources.requests && "
            "'memory' in c.resources.requests && has(c.resources.limits) && "
            "'memory' in c.resources.limits)",
            "Every container and init container must request cpu and memory and limit memory.",
        )
    ]
    return [
        _policy(
            "container-resources",
            "cpu and memory requests and a memory limit on every container and init container",
            {"variables": POD_VARIABLES, "validations": validations},
        ),
        _binding(
            "container-resources-teams",
            "container-resources",
            ["Deny"],
            TEAM_NAMESPACES,
            f"Deny in team namespaces (label {TEAM_LABEL})",
        ),
        _binding(
            "container-resources-platform",
            "container-resources",
            ["Warn", "Audit"],
            PLATFORM_NAMESPACES,
            "Warn and Audit in the other namespaces (add-on charts' defaults set no "
            "resources; soft start until their values do)",
        ),
    ]


def organisation_registries(config: PlatformConfig) -> list[str]:
    """`<shared-services id>.dkr.ecr.<region>.amazonaws.com/<prefix>/` for every allowed
    region: the organisation's ECR (stages/stacks/registry.py, config.image_repository)."""
    (registry,) = config.accounts_with_role("shared-services").values()
    return [
        f"{registry.id}.dkr.ecr.{region}.amazonaws.com/{config.organization.prefix}/"
        for region in config.organization.allowed_regions
    ]


def platform_registries(config: PlatformConfig) -> list[str]:
    """The add-ons' upstream registries and EKS's managed add-on registries."""
    regions = config.organization.allowed_regions
    unknown = [r for r in regions if r not in EKS_ADDON_REGISTRY_ACCOUNT]
    if unknown:
        raise ValueError(
            f"EKS add-on registry account unknown for {unknown}: add it to "
            "tools/admission_policies.py EKS_ADDON_REGISTRY_ACCOUNT"
        )
    return [
        *UPSTREAM_REGISTRIES,
        *(f"{EKS_ADDON_REGISTRY_ACCOUNT[r]}.dkr.ecr.{r}.amazonaws.com/" for r in regions),
    ]


def _cel_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def images(config: PlatformConfig) -> list[dict[str, Any]]:
    variables = [
        *POD_VARIABLES,
        {"name": "organisation", "expression": _cel_list(organisation_registries(config))},
        {"name": "platform", "expression": _cel_list(platform_registries(config))},
        {
            "name": "allowed",
            "expression": (
                "has(namespaceObject.metadata.labels) && "
                f"'{TEAM_LABEL}' in namespaceObject.metadata.labels ? variables.organisation "
                ": variables.organisation + variables.platform"
            ),
        },
    ]
    validations = [
        _violation(
            "variables.containers.all(c, variables.allowed.exists(p, c.image.startsWith(p)))",
            "Images come from the organisation's ECR only (and, outside team namespaces, the "
            "platform add-ons' pinned upstream registries).",
        )
    ]
    return [
        _policy(
            "images-from-the-organisation",
            "images from the organisation's ECR ("
            + ", ".join(organisation_registries(config))
            + ") only; outside team namespaces also the add-ons' upstream registries and "
            "EKS's add-on registries",
            {"variables": variables, "validations": validations},
        ),
        _binding(
            "images-from-the-organisation-teams",
            "images-from-the-organisation",
            ["Deny"],
            TEAM_NAMESPACES,
            f"Deny in team namespaces (label {TEAM_LABEL}): the organisation's ECR only",
        ),
        _binding(
            "images-from-the-organisation-platform",
            "images-from-the-organisation",
            ["Warn", "Audit"],
            PLATFORM_NAMESPACES,
            "Warn and Audit in the other namespaces (the upstream list is the charts' "
            "defaults: soft start until the audit log shows no miss)",
        ),
    ]


def team_labels() -> list[dict[str, Any]]:
    validations = [
        _violation(
            "has(variables.pod.metadata.labels) && "
            f"'{TEAM_LABEL}' in variables.pod.metadata.labels && "
            f"variables.pod.metadata.labels['{TEAM_LABEL}'] == "
            f"namespaceObject.metadata.labels['{TEAM_LABEL}']",
            f"Pods and pod templates in a team namespace carry the label {TEAM_LABEL}: "
            "<the namespace's team>.",
        )
    ]
    return [
        _policy(
            "team-labels",
            f"the pod (template) label {TEAM_LABEL} equals its namespace's {TEAM_LABEL} label",
            {"variables": POD_VARIABLES[:1], "validations": validations},
        ),
        _binding(
            "team-labels",
            "team-labels",
            ["Deny"],
            TEAM_NAMESPACES,
            f"Deny in team namespaces (label {TEAM_LABEL})",
        ),
    ]


class _Dumper(yaml.SafeDumper):
    """Writes shared values out in full: no YAML anchors in the manifests."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


HEADER = (
    "# Generated by `make admission-policies` (tools/admission_policies.py) from "
    "config/platform.yaml: do not edit.\n"
)


def files(config: PlatformConfig) -> dict[str, str]:
    """File name in gitops/policies/admission -> content."""
    return {
        f"{name}.yaml": HEADER
        + yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=100)
        for name, documents in (
            ("pod-security", pod_security()),
            ("container-resources", resources()),
            ("images-from-the-organisation", images(config)),
            ("team-labels", team_labels()),
        )
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--config", default="config/platform.yaml", type=Path)
    args = parser.parse_args(argv)
    for name, text in files(load_config(args.config)).items():
        (POLICIES / name).write_text(text, encoding="utf-8")
        print(POLICIES / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
