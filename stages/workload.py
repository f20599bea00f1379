"""One class for every workload account: dev, staging, prod and sandbox differ only by config."""

from __future__ import annotations

from constructs import Construct

from config import PlatformConfig
from stages.data_stack import DataStack
from stages.networked import NetworkedStage


class WorkloadStage(NetworkedStage):
    """A workload account's stacks, split by lifecycle: network, cluster, data."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, config=config)
        data = self.account_config.data
        self.data_stack = (
            DataStack(self, "Data", data=data, network=self.network_stack.network)
            if data is not None
            else None
        )
        if self.data_stack is not None and self.cluster_stack is not None:
            # The cluster stack writes the security-group parameter the data stack reads.
            self.data_stack.add_stack_dependency(self.cluster_stack)

    @property
    def allows_data_loss(self) -> bool:
        """Sandbox's double opt-in: the role is sandbox and config asks for it."""
        data = self.account_config.data
        return self.account_config.role == "sandbox" and data is not None and data.allow_data_loss
