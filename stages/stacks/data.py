"""The data stack: one per workload account whose config has `data`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_rds as rds

from config.model import Backup as BackupConfig
from config.model import Cache as CacheConfig
from config.model import Data
from config.model import DataBucket as BucketConfig
from config.model import Kafka as KafkaConfig
from config.model import Postgres as PostgresConfig
from config.model import Search as SearchConfig
from constructs_lib.data.backup import DataBackup
from constructs_lib.data.bucket import DataBucket
from constructs_lib.data.cache import PlatformCache
from constructs_lib.data.kafka import PlatformKafka
from constructs_lib.data.postgres import PlatformPostgres
from constructs_lib.data.safety import data_key
from constructs_lib.data.search import PlatformSearch
from constructs_lib.data.team_database import TeamDatabaseUsers
from constructs_lib.network.vpc import PlatformNetwork
from constructs_lib.shared.access_logs import AccessLogsBucket
from stages.naming import (
    backup_copy_vault_account,
    backup_copy_vault_arn,
    data_bucket_name,
    data_name,
    team_cache_user,
    team_database_user,
)
from stages.parameters import publish
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


ACCESS_LOGS_DAYS = 365


class DataStack(PlatformStack):
    """The account's stateful services, apart from the cluster (which can be rebuilt) and the
    network (which outlives both).

    Every service admits only the account's workload-clients security group, which the
    network stack owns and the cluster's nodes carry: this stack does not wait for the
    cluster, and a replaced cluster leaves it untouched. Every endpoint is published under
    `/<prefix>/<account>/data/...` for applications and External Secrets to read. Nothing
    here is deleted with the stack unless `data.allow_data_loss` (sandbox only).
    """

    def __init__(
        self,
        scope: PlatformStage,
        id_: str,
        *,
        data: Data,
        network: PlatformNetwork,
        clients: ec2.ISecurityGroup | None,
    ) -> None:
        """
        :param clients: the network stack's workload-clients group (the account's cluster
            nodes carry it); required when `data` has a network service.
        """
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} data: "
            "PostgreSQL, caches, search, Kafka, buckets, backups",
            availability_zones=network.vpc.availability_zones,
        )
        self.config, self.account_name = config, name
        self.allow_data_loss = data.allow_data_loss
        self._network = network
        self._isolated_ids = network.vpc.select_subnets(
            subnet_type=network.isolated_subnets.subnet_type
        ).subnet_ids
        if data.needs_clients and clients is None:
            raise ValueError("clients: a data service needs the workload-clients group")
        self._clients = clients if data.needs_clients else None
        self.backup = self._backup(data.backup, sandbox=scope.account_config.role == "sandbox")
        teams = config.teams_in(name)
        self.postgres = self._postgres(data.postgres) if data.postgres is not None else None
        self.team_database_users = self._team_database_users(
            sorted(team for team, env in teams.items() if env.data.postgres)
        )
        self.team_cache_users = self._team_cache_users(
            data, {team: env.data.caches for team, env in teams.items() if env.data.caches}
        )
        self.caches = {
            cache_name: self._cache(
                cache_name,
                cache,
                [
                    user
                    for team, user in self.team_cache_users.items()
                    if cache_name in teams[team].data.caches
                ],
            )
            for cache_name, cache in data.caches.items()
        }
        self.search = self._search(data.search) if data.search is not None else None
        self.kafka = self._kafka(data.kafka) if data.kafka is not None else None
        self.buckets = self._buckets(data.buckets) if data.buckets else {}
        self._monitor(data)

    def _monitor(self, data: Data) -> None:
        """Every database, cache, search domain and Kafka cluster alarms on the account's
        topic, and so does every failed backup or copy job."""
        self.alarms.backup_failures(self.backup.vault)
        if self.postgres is not None and data.postgres is not None:
            pg = data.postgres
            self.alarms.postgres(
                "postgres",
                self.postgres.resource,  # type: ignore[arg-type]
                max_connections=getattr(pg, "max_connections", None),
                max_capacity_acu=getattr(pg, "max_capacity", None),
                allocated_storage_gib=getattr(pg, "allocated_storage_gib", None),
            )
        for cache_name, built in self.caches.items():
            self.alarms.cache(
                cache_name, built.resource, nodes=1 + data.caches[cache_name].replicas
            )
        if self.search is not None:
            self.alarms.search("search", self.search.domain)
        if self.kafka is not None:
            self.alarms.kafka("kafka", self.kafka.resource)

    def _backup(self, backup: BackupConfig, *, sandbox: bool) -> DataBackup:
        """The vault and daily plan; outside sandbox the vault is locked (unless config says
        otherwise) and every recovery point is copied to the security account's vault."""
        security = backup_copy_vault_account(self.config)
        return DataBackup(
            self,
            "Backup",
            name=data_name(self.config, self.account_name, "data"),
            retention_days=backup.retention_days,
            vault_lock=backup.vault_lock if backup.vault_lock is not None else not sandbox,
            copy_to_vault_arn=None if sandbox else backup_copy_vault_arn(self.config),
            copy_to_account=None if sandbox else self.config.accounts[security].id,
            allow_data_loss=self.allow_data_loss,
        )

    def _postgres(self, pg: PostgresConfig) -> PlatformPostgres:
        """The database, in the backup plan, its endpoint and master secret published."""
        assert self._clients is not None
        postgres = PlatformPostgres(
            self,
            "Postgres",
            identifier=data_name(self.config, self.account_name, "postgres"),
            vpc=self._network.vpc,
            subnets=self._network.isolated_subnets,
            clients=self._clients,
            allow_data_loss=self.allow_data_loss,
            data_api=pg.engine != "rds"
            and any(env.data.postgres for env in self.config.teams_in(self.account_name).values()),
            # The engine and the keys its model has (each engine has only its own, e.g.
            # min_capacity for Serverless v2): the construct's props of the same names.
            **pg.model_dump(),
        )
        self.backup.protect(postgres.resource)
        self.backup.share_key(postgres.key)
        self._publish("postgres/endpoint", postgres.endpoint)
        self._publish("postgres/master-secret-arn", postgres.secret_arn)
        return postgres

    def _team_database_users(self, users_of: list[str]) -> TeamDatabaseUsers | None:
        """Each team's PostgreSQL user and schema (the teams with `data.postgres`), made
        through the RDS Data API on Aurora; the team's Pod Identity role signs in as it with
        an IAM token."""
        if not users_of:
            return None
        if self.postgres is None or not isinstance(self.postgres.resource, rds.DatabaseCluster):
            raise ValueError(
                f"teams {', '.join(users_of)}: data.postgres needs the account's Aurora "
                "PostgreSQL (the team users are made through the RDS Data API)"
            )
        return TeamDatabaseUsers(
            self,
            "TeamDatabaseUsers",
            cluster=self.postgres.resource,
            secret_arn=self.postgres.secret_arn,
            key=self.postgres.key,
            database=self.postgres.database_name,
            users=[team_database_user(team) for team in users_of],
        )

    def _team_cache_users(
        self, data: Data, caches_of: Mapping[str, tuple[str, ...]]
    ) -> dict[str, elasticache.CfnUser]:
        """Team -> its one cache user in this account (`team-<team>`, IAM authentication, keys
        `<team>:*` only), a member of the user group of each cache it is granted.

        `+@all -@dangerous` lets a team use every data type and scripting on its own keys
        while the `@dangerous` category (KEYS, FLUSHALL/FLUSHDB, CONFIG, DEBUG, MONITOR,
        CLIENT, ACL, ...) stays out: those reach other teams' keys or the whole cache.
        https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
        """
        users: dict[str, elasticache.CfnUser] = {}
        for team, caches in sorted(caches_of.items()):
            unknown = [c for c in caches if c not in data.caches]
            if unknown:
                raise ValueError(f"team {team}: no cache {', '.join(unknown)} in this account")
            engines = {data.caches[c].engine for c in caches}
            if len(engines) > 1:
                raise ValueError(f"team {team}: its caches mix engines ({', '.join(engines)})")
            user_id = team_cache_user(team)
            users[team] = elasticache.CfnUser(
                self,
                f"TeamCacheUser-{team}",
                engine=engines.pop(),
                user_id=user_id,
                user_name=user_id,  # IAM authentication requires user name == user id
                access_string=f"on ~{team}:* +@all -@dangerous",
                authentication_mode={"Type": "iam"},
            )
        return users

    def _cache(
        self, cache_name: str, cache: CacheConfig, team_users: list[elasticache.CfnUser]
    ) -> PlatformCache:
        """One application's cache, its endpoint and user published; `team_users` admitted."""
        assert self._clients is not None
        built = PlatformCache(
            self,
            f"Cache-{cache_name}",
            name=data_name(self.config, self.account_name, cache_name),
            engine=cache.engine,
            version=cache.version,
            node_type=cache.node_type,
            replicas=cache.replicas,
            snapshot_retention_days=cache.snapshot_retention_days,
            vpc=self._network.vpc,
            subnet_ids=self._isolated_ids,
            clients=self._clients,
            allow_data_loss=self.allow_data_loss,
            team_users=team_users,
        )
        self._publish(f"caches/{cache_name}/endpoint", built.endpoint)
        self._publish(f"caches/{cache_name}/user", built.user_id)
        return built

    def _search(self, search: SearchConfig) -> PlatformSearch:
        """The OpenSearch domain, its endpoint and admin role published."""
        assert self._clients is not None
        built = PlatformSearch(
            self,
            "Search",
            name=data_name(self.config, self.account_name, "search"),
            version=search.version,
            vpc=self._network.vpc,
            subnets=self._network.isolated_subnets,
            availability_zone_count=len(self._network.vpc.availability_zones),
            clients=self._clients,
            data_node_type=search.data_node_type,
            data_nodes=search.data_nodes,
            volume_gib=search.volume_gib,
            dedicated_masters=search.dedicated_masters,
            master_node_type=search.master_node_type,
            log_retention=RETENTION_DAYS[search.log_retention_days],
            allow_data_loss=self.allow_data_loss,
            create_service_linked_role=search.create_service_linked_role,
        )
        self._publish("search/endpoint", built.endpoint)
        self._publish("search/admin-role-arn", built.admin_role.role_arn)
        return built

    def _kafka(self, kafka: KafkaConfig) -> PlatformKafka:
        """The MSK cluster, its ARN published."""
        assert self._clients is not None
        built = PlatformKafka(
            self,
            "Kafka",
            name=data_name(self.config, self.account_name, "kafka"),
            version=kafka.version,
            broker_type=kafka.broker_type,
            brokers_per_az=kafka.brokers_per_az,
            volume_gib=kafka.volume_gib,
            vpc=self._network.vpc,
            subnet_ids=self._isolated_ids,
            clients=self._clients,
            log_retention=RETENTION_DAYS[kafka.log_retention_days],
            allow_data_loss=self.allow_data_loss,
        )
        self._publish("kafka/cluster-arn", built.resource.ref)
        return built

    def _buckets(self, buckets: Mapping[str, BucketConfig]) -> dict[str, DataBucket]:
        """The application buckets, with one access-log bucket and (if any bucket uses KMS)
        one key for all of them, each in the backup plan."""
        access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=data_bucket_name(self.config, self.account_name, "data-access-logs"),
            expire_after=Duration.days(ACCESS_LOGS_DAYS),
        )
        key = (
            data_key(
                self,
                "BucketsKey",
                description="Encrypts the data stack's buckets",
                allow_data_loss=self.allow_data_loss,
            )
            if any(b.encryption == "kms" for b in buckets.values())
            else None
        )
        built: dict[str, DataBucket] = {}
        for bucket_name, bucket in buckets.items():
            built[bucket_name] = DataBucket(
                self,
                f"Bucket-{bucket_name}",
                bucket_name=data_bucket_name(self.config, self.account_name, bucket_name),
                access_logs=access_logs,
                encryption=bucket.encryption,
                key=key,
                noncurrent_version_days=bucket.noncurrent_version_days,
                expire_after_days=bucket.expire_after_days,
                allow_data_loss=self.allow_data_loss,
            )
            self.backup.protect(built[bucket_name])
        return built

    def _publish(self, path: str, value: str) -> None:
        publish(self, self.config, self.account_name, f"data/{path}", value)
