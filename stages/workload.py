"""One class for every workload account: dev, staging, prod and sandbox differ only by config."""

from __future__ import annotations

from stages.networked import NetworkedStage


class WorkloadStage(NetworkedStage):
    """A workload account's stacks, split by lifecycle: network, cluster (data and edge come
    next)."""
