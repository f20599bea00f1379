"""The data stack: one per workload account whose config has `data`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration

from config.model import Data
from constructs_lib.data.backup import DataBackup
from constructs_lib.data.bucket import DataBucket
from constructs_lib.data.cache import PlatformCache
from constructs_lib.data.kafka import PlatformKafka
from constructs_lib.data.postgres import PlatformPostgres
from constructs_lib.data.safety import data_key
from constructs_lib.data.search import PlatformSearch
from constructs_lib.network.vpc import PlatformNetwork
from constructs_lib.shared.access_logs import AccessLogsBucket
from stages.naming import (
    data_bucket_name,
    data_name,
)
from stages.parameters import cluster_security_group, publish
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


ACCESS_LOGS_DAYS = 365


class DataStack(PlatformStack):
    """The account's stateful services, apart from the cluster (which can be rebuilt) and the
    network (which outlives both).

    Every service admits only the cluster security group, read from the SSM parameter the
    cluster stack writes (a parameter, not an export, so the cluster can be replaced without
    touching this stack). Every endpoint is published under `/<prefix>/<account>/data/...`
    for applications and External Secrets to read. Nothing here is deleted with the stack
    unless `data.allow_data_loss` (sandbox only).
    """

    def __init__(
        self, scope: PlatformStage, id_: str, *, data: Data, network: PlatformNetwork
    ) -> None:
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} data: "
            "PostgreSQL, caches, search, Kafka, buckets, backups",
            availability_zones=network.vpc.availability_zones,
        )
        self.config, self.account_name = config, name
        loss = data.allow_data_loss
        vpc, isolated = network.vpc, network.isolated_subnets
        isolated_ids = vpc.select_subnets(subnet_type=isolated.subnet_type).subnet_ids
        clients = cluster_security_group(self, config, name) if data.needs_clients else None
        vault_lock = (
            data.backup.vault_lock
            if data.backup.vault_lock is not None
            else scope.account_config.role == "prod"
        )
        self.backup = DataBackup(
            self,
            "Backup",
            name=data_name(config, name, "data"),
            retention_days=data.backup.retention_days,
            vault_lock=vault_lock,
            allow_data_loss=loss,
        )
        self.postgres: PlatformPostgres | None = None
        self.search: PlatformSearch | None = None
        self.kafka: PlatformKafka | None = None
        if data.postgres is not None:
            assert clients is not None
            self.postgres = PlatformPostgres(
                self,
                "Postgres",
                identifier=data_name(config, name, "postgres"),
                vpc=vpc,
                subnets=isolated,
                clients=clients,
                allow_data_loss=loss,
                # The engine and the keys its model has (each engine has only its own, e.g.
                # min_capacity for Serverless v2): the construct's props of the same names.
                **data.postgres.model_dump(),
            )
            self.backup.protect(self.postgres.resource)
            self._publish("postgres/endpoint", self.postgres.endpoint)
            self._publish("postgres/master-secret-arn", self.postgres.secret_arn)
        self.caches: dict[str, PlatformCache] = {}
        for cache_name, cache in data.caches.items():
            assert clients is not None
            self.caches[cache_name] = built = PlatformCache(
                self,
                f"Cache-{cache_name}",
                name=data_name(config, name, cache_name),
                engine=cache.engine,
                version=cache.version,
                node_type=cache.node_type,
                replicas=cache.replicas,
                snapshot_retention_days=cache.snapshot_retention_days,
                vpc=vpc,
                subnet_ids=isolated_ids,
                clients=clients,
                allow_data_loss=loss,
            )
            self._publish(f"caches/{cache_name}/endpoint", built.endpoint)
            self._publish(f"caches/{cache_name}/user", built.user_id)
        if data.search is not None:
            search = data.search
            assert clients is not None
            self.search = PlatformSearch(
                self,
                "Search",
                name=data_name(config, name, "search"),
                version=search.version,
                vpc=vpc,
                subnets=isolated,
                availability_zone_count=len(vpc.availability_zones),
                clients=clients,
                data_node_type=search.data_node_type,
                data_nodes=search.data_nodes,
                volume_gib=search.volume_gib,
                dedicated_masters=search.dedicated_masters,
                master_node_type=search.master_node_type,
                log_retention=RETENTION_DAYS[search.log_retention_days],
                allow_data_loss=loss,
            )
            self._publish("search/endpoint", self.search.endpoint)
            self._publish("search/admin-role-arn", self.search.admin_role.role_arn)
        if data.kafka is not None:
            kafka = data.kafka
            assert clients is not None
            self.kafka = PlatformKafka(
                self,
                "Kafka",
                name=data_name(config, name, "kafka"),
                version=kafka.version,
                broker_type=kafka.broker_type,
                brokers_per_az=kafka.brokers_per_az,
                volume_gib=kafka.volume_gib,
                vpc=vpc,
                subnet_ids=isolated_ids,
                clients=clients,
                log_retention=RETENTION_DAYS[kafka.log_retention_days],
                allow_data_loss=loss,
            )
            self._publish("kafka/cluster-arn", self.kafka.resource.ref)
        self.buckets: dict[str, DataBucket] = {}
        if data.buckets:
            access_logs = AccessLogsBucket(
                self,
                "AccessLogs",
                bucket_name=data_bucket_name(config, name, "data-access-logs"),
                expire_after=Duration.days(ACCESS_LOGS_DAYS),
            )
            key = (
                data_key(
                    self,
                    "BucketsKey",
                    description="Encrypts the data stack's buckets",
                    allow_data_loss=loss,
                )
                if any(b.encryption == "kms" for b in data.buckets.values())
                else None
            )
            for bucket_name, bucket in data.buckets.items():
                self.buckets[bucket_name] = built = DataBucket(
                    self,
                    f"Bucket-{bucket_name}",
                    bucket_name=data_bucket_name(config, name, bucket_name),
                    access_logs=access_logs,
                    encryption=bucket.encryption,
                    key=key,
                    noncurrent_version_days=bucket.noncurrent_version_days,
                    expire_after_days=bucket.expire_after_days,
                    allow_data_loss=loss,
                )
                self.backup.protect(built)

    def _publish(self, path: str, value: str) -> None:
        publish(self, self.config, self.account_name, f"data/{path}", value)
