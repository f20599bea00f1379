"""One class for every workload account: dev, staging, prod and sandbox differ only by config."""

from __future__ import annotations

from stages.networked import NetworkedStage
from stages.stacks.access import AccessStack
from stages.stacks.data import DataStack
from stages.stacks.edge import EdgeStack
from stages.stacks.edge_alarms import EdgeAlarmsStack
from stages.stacks.edge_global import EdgeGlobalStack
from stages.stacks.teams import TeamsStack


class WorkloadStage(NetworkedStage):
    """A workload account's stacks, split by lifecycle: network, cluster, data and, with a
    domain, the edge (EdgeGlobal in us-east-1, Edge at home)."""

    def build(self) -> None:
        super().build()
        data = self.account_config.data
        clients = self.network_stack.workload_clients
        # Data and edge admit the network stack's workload-clients group, which the cluster's
        # nodes carry: neither waits for the cluster (network, then cluster ‖ data ‖ edge).
        self.data_stack = (
            DataStack(self, "Data", data=data, network=self.network_stack.network, clients=clients)
            if data is not None
            else None
        )
        access = self.account_config.access
        # After the network only: the instance carries the workload-clients group, which the
        # cluster's API and the data services admit (network, then cluster ‖ data ‖ access).
        self.access_stack = (
            AccessStack(
                self, "Access", access=access, network=self.network_stack.network, clients=clients
            )
            if access is not None and clients is not None
            else None
        )
        self.edge_global_stack: EdgeGlobalStack | None = None
        self.edge_stack: EdgeStack | None = None
        self.edge_alarms_stack: EdgeAlarmsStack | None = None
        edge, domain = self.account_config.edge_settings, self.account_config.domain
        if edge is not None and domain is not None:
            self.edge_global_stack = EdgeGlobalStack(
                self, "EdgeGlobal", domain=domain, edge=edge, allow_data_loss=self.allows_data_loss
            )
            self.edge_stack = EdgeStack(
                self,
                "Edge",
                domain=domain,
                edge=edge,
                network=self.network_stack.network,
                protection=self.edge_global_stack,
                allow_data_loss=self.allows_data_loss,
                targets=clients,  # config.rules: an edge needs the account's cluster
            )
            self.edge_alarms_stack = EdgeAlarmsStack(self, "EdgeAlarms", edge=self.edge_stack)
        # Teams: after cluster and data, only where a team runs (config.rules: a team's
        # environment has a cluster), so removing every team removes the stack.
        self.teams_stack = (
            TeamsStack(self, "Teams", cluster=self.cluster_stack, data=self.data_stack)
            if self.cluster_stack is not None and self.config.teams_in(self.node.id)
            else None
        )

    @property
    def allows_data_loss(self) -> bool:
        """Sandbox's double opt-in: the role is sandbox and config asks for it."""
        data = self.account_config.data
        return self.account_config.role == "sandbox" and data is not None and data.allow_data_loss
