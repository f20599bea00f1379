"""The Amazon EKS Kubernetes version calendar: the one place it is kept.

Dates are when standard and extended support end. Where AWS published only a month, the
first of that month is used, so the platform never claims support that has already ended.
Versions not yet scheduled (`None`) are in standard support. Update this table when AWS
publishes a new version or moves a date; the config guard and the README follow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from facts.kubernetes import KUBECTL_LAYERS


@dataclass(frozen=True)
class EksRelease:
    version: str
    standard_support_ends: date | None
    extended_support_ends: date | None

    def status(self, today: date) -> str:
        """'standard', 'extended' or 'ended' on `today`."""
        if self.extended_support_ends is not None and today >= self.extended_support_ends:
            return "ended"
        if self.standard_support_ends is not None and today >= self.standard_support_ends:
            return "extended"
        return "standard"


EKS_CALENDAR: dict[str, EksRelease] = {
    release.version: release
    for release in (
        EksRelease("1.29", date(2025, 3, 23), date(2026, 3, 23)),
        EksRelease("1.30", date(2025, 7, 23), date(2026, 7, 23)),
        EksRelease("1.31", date(2025, 11, 26), date(2026, 11, 26)),
        EksRelease("1.32", date(2026, 3, 1), date(2027, 3, 1)),
        EksRelease("1.33", date(2026, 7, 1), date(2027, 7, 1)),
        EksRelease("1.34", date(2026, 12, 2), date(2027, 12, 1)),
        EksRelease("1.35", date(2027, 3, 1), date(2028, 3, 1)),
        EksRelease("1.36", None, None),
    )
}


def accepted_versions(today: date) -> list[str]:
    """Versions EKS still creates on `today` that this platform can manage (has a layer)."""
    return [
        version
        for version, release in EKS_CALENDAR.items()
        if release.status(today) != "ended" and version in KUBECTL_LAYERS
    ]


ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.33.10-eksbuild.13",
        "coredns": "v1.12.4-eksbuild.18",
        "aws-ebs-csi-driver": "v1.56.0-eksbuild.1",
        "amazon-cloudwatch-observability": "v4.10.1-eksbuild.1",
    },
    "1.34": {
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.34.6-eksbuild.13",
        "coredns": "v1.13.2-eksbuild.11",
        "aws-ebs-csi-driver": "v1.56.0-eksbuild.1",
        "amazon-cloudwatch-observability": "v4.10.1-eksbuild.1",
    },
    "1.35": {
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "vpc-cni": "v1.21.1-eksbuild.1",
        "kube-proxy": "v1.35.3-eksbuild.13",
        "coredns": "v1.14.3-eksbuild.3",
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        "amazon-cloudwatch-observability": "v5.3.1-eksbuild.1",
    },
    "1.36": {
        "kube-proxy": "v1.36.0-eksbuild.14",
        "coredns": "v1.14.3-eksbuild.3",
    },
}
"""The EKS managed add-on versions a cluster of each Kubernetes version gets unless its config
pins another (`cluster.addon_versions`), kept beside the calendar and changed with it: an
add-on changes only when this table does, never because EKS moved its default.

Sources (read 2026-11-30; no `describe-addon-versions`, which needs AWS):
- coredns and kube-proxy: the EKS User Guide's version tables,
  https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html#coredns-versions and
  https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html#kube-proxy-versions
  (kube-proxy is built per Kubernetes minor: its version starts with the cluster's);
- vpc-cni, aws-ebs-csi-driver, eks-pod-identity-agent and amazon-cloudwatch-observability for
  1.33-1.35: the per-version pins of AWS's own awslabs/cdk-eks-blueprints
  (`lib/addons/*/index.ts`, `lib/addons/cloud-watch-insights/index.ts` for the last, commit
  0b82904e, 2026-04-08), as AWS's docs publish no per-version table for the last three and stop
  at 1.33 for vpc-cni. amazon-cloudwatch-observability 3.1.0 or later takes its role through
  Pod Identity (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-setup-EKS-addon.html).

Not listed, because no AWS source here names them: vpc-cni, aws-ebs-csi-driver,
eks-pod-identity-agent and amazon-cloudwatch-observability for 1.36. A 1.36 cluster must pin
them in config (the config check asks, with the command that lists them).
`docs/architecture.md#eks-versions` says how to refresh this table."""

ADDON_VERSION_COMMAND = (
    "aws eks describe-addon-versions --kubernetes-version {version} --addon-name {addon} "
    "--query 'addons[].addonVersions[?compatibilities[?defaultVersion]].addonVersion'"
)
"""How a platform engineer finds EKS's default build of an add-on for a Kubernetes version."""


def addon_versions(kubernetes_version: str, pinned: Mapping[str, str]) -> dict[str, str]:
    """The add-on versions of a cluster: the table's for its Kubernetes version, overridden by
    what its config pins."""
    return {**ADDON_VERSIONS.get(kubernetes_version, {}), **pinned}


KARPENTER_AMI_VERSIONS: dict[str, dict[str, str]] = {
    version: {"al2023": "v20260903", "bottlerocket": "v1.65.0"}
    for version in ("1.33", "1.34", "1.35")
}
"""The AMI release Karpenter's EC2NodeClass pins (`amiSelectorTerms: [{alias:
<family>@<version>}]`) per Kubernetes version and AMI family, changed with the calendar: a
node's image changes only when this table does (Karpenter then replaces nodes as drifted,
inside the pools' disruption budgets), never because AWS published a new `@latest`
(https://karpenter.sh/docs/tasks/managing-amis/ advises pinning).

Sources (read 2026-11-30): the EKS AL2023 release v20260903 (AMIs `1.35.7-20260903`, with builds
for every supported Kubernetes minor: https://github.com/awslabs/amazon-eks-ami/releases) and
Bottlerocket 1.65.0 (`aws-k8s-1.33` to `aws-k8s-1.35` variants; 1.35 variants since 1.53.0:
https://github.com/bottlerocket-os/bottlerocket/releases), the releases the EKS managed node
groups offered then. 1.36 is not listed: a 1.36 cluster with node pools fails the config check
until a release for it is added here."""


def karpenter_ami_alias(kubernetes_version: str, node_ami_type: str) -> str | None:
    """`<family>@<version>` for the cluster's Kubernetes version, in the family of its system
    nodes' AMI type (AL2023_* or BOTTLEROCKET_*); None when the table has none."""
    family = "bottlerocket" if node_ami_type.startswith("BOTTLEROCKET") else "al2023"
    version = KARPENTER_AMI_VERSIONS.get(kubernetes_version, {}).get(family)
    return f"{family}@{version}" if version else None
