"""The shared-services (platform tooling) account."""

from __future__ import annotations

from stages.networked import NetworkedStage


class SharedServicesStage(NetworkedStage):
    """The platform's own VPC and the GitOps hub cluster (the network hub, registry and
    keyless CI roles come next); the pipeline is a stack of its own in this account."""
