"""The teams stack: one per workload account where some team runs (`config.teams_in`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import TeamEnvironment, team_bucket_prefix
from constructs_lib.eks.pod_identity import Grant, cluster_pods
from constructs_lib.eks.team_access import (
    TeamAccess,
    TeamBucketAccess,
    bucket_grants,
    cache_grant,
    database_grant,
)
from stages.naming import (
    cluster_name,
    data_bucket_name,
    data_name,
    team_cache_user,
    team_database_user,
    team_role_name,
    team_secrets_path,
    team_secrets_role_name,
    team_service_account,
)
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.stacks.cluster import ClusterStack
    from stages.stacks.data import DataStack
    from stages.workload import WorkloadStage


class TeamsStack(PlatformStack):
    """Per team of the account (construct id `Team-<name>`, so removing a team removes only
    its resources): its pods' role with exactly its data, its secrets role for External
    Secrets, and its owners' namespace-scoped access entries (`TeamAccess`).

    Deploys after the cluster (the roles' trust names it, the access entries and Pod Identity
    associations live in it) and the data stack (the database's resource id; the database
    and cache users the data stack creates)."""

    def __init__(
        self,
        scope: WorkloadStage,
        id_: str,
        *,
        cluster: ClusterStack,
        data: DataStack | None,
    ) -> None:
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} teams: pod "
            "roles, data grants, secrets roles, access entries",
        )
        self.add_stack_dependency(cluster, "its roles and access entries are in the cluster")
        if data is not None:
            self.add_stack_dependency(data, "grants name its database, caches and buckets")
        account_id = config.accounts[name].id
        cluster_arn = self.format_arn(
            service="eks", resource="cluster", resource_name=cluster_name(config, name)
        )
        pods = cluster_pods(self, cluster_name=cluster_name(config, name), cluster_arn=cluster_arn)
        reader = cluster.cluster.pod_roles["external-secrets"].role_arn
        self.teams: dict[str, TeamAccess] = {}
        for team, environment in config.teams_in(name).items():
            self.teams[team] = TeamAccess(
                self,
                f"Team-{team}",
                pods=pods,
                namespaces=list(environment.namespaces),
                service_account=team_service_account(team),
                role_name=team_role_name(config, name, team),
                secrets_role_name=team_secrets_role_name(config, name, team),
                secrets_path=team_secrets_path(config, name, team),
                secrets_reader_arn=reader,
                grants=self._grants(scope, team, environment, data),
                owner_arns=[
                    arn for arn in config.teams[team].owners if arn.split(":")[4] == account_id
                ],
            )

    def _grants(
        self, scope: WorkloadStage, team: str, environment: TeamEnvironment, data: DataStack | None
    ) -> list[Grant]:
        """Exactly the team's data (config.rules: what it names, the account has)."""
        config, name, wanted = scope.config, scope.node.id, environment.data
        grants: list[Grant] = []
        if wanted.postgres:
            assert data is not None and data.postgres is not None
            grants.append(
                database_grant(
                    self, resource_id=data.postgres.resource_id, user=team_database_user(team)
                )
            )
        if wanted.caches:
            grants.append(
                cache_grant(
                    self,
                    replication_groups=[data_name(config, name, c) for c in wanted.caches],
                    user=team_cache_user(team),
                )
            )
        if wanted.buckets:
            assert data is not None
            grants += bucket_grants(
                self,
                [
                    TeamBucketAccess(
                        bucket_arn=f"arn:{self.partition}:s3:::"
                        + data_bucket_name(config, name, b.bucket),
                        prefix=team_bucket_prefix(team, b),
                        read_only=b.read_only,
                        key_arn=(
                            key.key_arn
                            if (key := data.buckets[b.bucket].encryption_key) is not None
                            else None
                        ),
                    )
                    for b in wanted.buckets
                ],
            )
        return grants
