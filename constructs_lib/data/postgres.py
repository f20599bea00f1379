"""PlatformPostgres: Aurora PostgreSQL (Serverless v2 or provisioned) or RDS PostgreSQL."""

from __future__ import annotations

from typing import Any, Literal

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from constructs_lib.data.safety import clients_only, data_key, removal_policy, service_log_group
from constructs_lib.shared.encryption import log_group_key
from policies.acknowledgements import acknowledge, acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies

PORT = 5432
MASTER_USERNAME = "platform_admin"
ENHANCED_MONITORING_SECONDS = 60

Engine = Literal["aurora-serverless-v2", "aurora-provisioned", "rds"]
ENGINES = ("aurora-serverless-v2", "aurora-provisioned", "rds")
MIN_MAJOR_VERSION = 16
MAX_READERS = 15


class PlatformPostgres(Construct):
    """A PostgreSQL database only the cluster's pods can reach, that a deploy cannot lose.

    - Isolated subnets; a security group admitting 5432 from `clients` only.
    - Parameters: `rds.force_ssl`, statements slower than `log_min_duration_ms` and DDL logged
      (with connections), `pg_stat_statements`, optional `max_connections`; logs exported to
      an encrypted CloudWatch log group made here (no log-retention Lambda).
    - The master password generated and rotated by RDS in Secrets Manager (managed master
      user password, encrypted with the database's CMK); IAM database authentication on for
      applications.
    - Storage, Performance Insights and the secret encrypted with one rotating CMK; enhanced
      monitoring every 60 s; automated backups for `backup_retention_days` (the data stack
      adds it to the AWS Backup plan too).
    - Deletion protection and a final snapshot on deletion or replacement, unless
      `allow_data_loss` (sandbox's opt-in).

    Exposes `endpoint` (writer address), `security_group`, `key`, `secret_arn`, `resource_id`
    (what `rds-db:connect` ARNs name) and `resource` (the DBCluster or DBInstance).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        identifier: str,
        engine: Engine,
        version: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
        instance_class: str = "r7g.large",
        min_capacity: float = 0.5,
        max_capacity: float = 8,
        readers: int = 0,
        multi_az: bool = False,
        allocated_storage_gib: int = 100,
        max_connections: int | None = None,
        log_min_duration_ms: int = 1000,
        backup_retention_days: int = 7,
        database_name: str = "app",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        allow_data_loss: bool = False,
        data_api: bool = False,
    ) -> None:
        """
        :param identifier: the DB cluster / instance identifier (deterministic).
        :param engine: aurora-serverless-v2, aurora-provisioned or rds.
        :param version: major.minor, e.g. "16.11".
        :param clients: the only security group admitted on 5432 (the cluster's).
        :param instance_class: without `db.`; provisioned Aurora and RDS.
        :param min_capacity: Serverless v2 minimum ACUs.
        :param max_capacity: Serverless v2 maximum ACUs.
        :param readers: Aurora readers (they scale with the writer on Serverless v2).
        :param multi_az: RDS only: a synchronous standby.
        :param max_connections: default the engine's formula.
        :param allow_data_loss: sandbox's opt-in: no deletion protection, no final snapshot.
        :param data_api: Aurora only: the RDS Data API on (the teams' users are made through
            it); enabling it on an existing cluster modifies it in place.
        """
        super().__init__(scope, id_)
        _validate(engine, version, readers, multi_az, min_capacity, max_capacity)
        if data_api and engine == "rds":
            raise ValueError("data_api: Aurora only (engine is rds)")
        self.database_name = database_name
        aurora = engine != "rds"
        self.key = data_key(
            self,
            "Key",
            description=f"Encrypts PostgreSQL {identifier}: storage, Performance Insights, "
            "master secret",
            allow_data_loss=allow_data_loss,
        )
        self.security_group = clients_only(
            self, vpc=vpc, clients=clients, port=PORT, what=f"PostgreSQL {identifier}"
        )
        engine_ = _engine(aurora, version)
        parameter_group = self._parameter_group(
            engine_, identifier, log_min_duration_ms, max_connections
        )
        log_groups = self._log_groups(identifier, aurora, log_retention, allow_data_loss)
        common = self._common_props(
            identifier,
            vpc=vpc,
            subnets=subnets,
            parameter_group=parameter_group,
            aurora=aurora,
            allow_data_loss=allow_data_loss,
        )
        if aurora:
            self.resource: Construct = self._aurora(
                identifier,
                engine_,
                engine,
                instance_class,
                readers,
                min_capacity,
                max_capacity,
                backup_retention_days,
                database_name,
                common,
                data_api,
            )
        else:
            self.resource = self._instance(
                identifier,
                engine_,
                instance_class,
                multi_az,
                allocated_storage_gib,
                backup_retention_days,
                database_name,
                allow_data_loss,
                common,
            )
        self.resource.node.add_dependency(*log_groups)
        cfn = self.resource.node.default_child
        assert isinstance(cfn, (rds.CfnDBCluster, rds.CfnDBInstance))
        # RDS makes and rotates the master secret; encrypt it with this database's key.
        cfn.add_property_override("MasterUserSecret.KmsKeyId", self.key.key_arn)
        self.secret_arn = cfn.get_att("MasterUserSecret.SecretArn").to_string()
        # What `rds-db:connect` ARNs name: the cluster's or the instance's resource id.
        self.resource_id = (
            cfn.attr_db_cluster_resource_id
            if isinstance(cfn, rds.CfnDBCluster)
            else cfn.attr_dbi_resource_id
        )
        self.endpoint = (
            self.resource.cluster_endpoint.hostname
            if isinstance(self.resource, rds.DatabaseCluster)
            else self.resource.db_instance_endpoint_address
        )
        _acknowledge(cfn, aurora=aurora, multi_az=multi_az, allow_data_loss=allow_data_loss)

    def _parameter_group(
        self,
        engine: rds.IEngine,
        identifier: str,
        log_min_duration_ms: int,
        max_connections: int | None,
    ) -> rds.ParameterGroup:
        """TLS only, slow statements and DDL logged with connections, pg_stat_statements."""
        parameters = {
            "rds.force_ssl": "1",
            "log_min_duration_statement": str(log_min_duration_ms),
            "log_statement": "ddl",
            "log_connections": "1",
            "log_disconnections": "1",
            "shared_preload_libraries": "pg_stat_statements",
        }
        if max_connections is not None:
            parameters["max_connections"] = str(max_connections)
        return rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description=f"PostgreSQL {identifier}: TLS only, query logging",
            parameters=parameters,
        )

    def _log_groups(
        self,
        identifier: str,
        aurora: bool,
        retention: logs.RetentionDays,
        allow_data_loss: bool,
    ) -> list[logs.LogGroup]:
        """The groups RDS exports into, made here so they are encrypted and expire (CDK's own
        `cloudwatch_logs_retention` would add a Lambda to set retention afterwards)."""
        kind = "cluster" if aurora else "instance"
        logs_key = log_group_key(
            self, "LogsKey", description=f"Encrypts PostgreSQL {identifier}'s logs"
        )
        return [
            service_log_group(
                self,
                f"{export.capitalize()}Logs",
                log_group_name=f"/aws/rds/{kind}/{identifier}/{export}",
                key=logs_key,
                retention=retention,
                allow_data_loss=allow_data_loss,
            )
            for export in _exports(aurora)
        ]

    def _common_props(
        self,
        identifier: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        parameter_group: rds.IParameterGroup,
        aurora: bool,
        allow_data_loss: bool,
    ) -> dict[str, Any]:
        """What a cluster and an instance share: the network, storage, Performance Insights
        and the RDS-managed master secret under `key`, IAM database authentication, enhanced
        monitoring with its own role, log exports, deletion protection and the removal
        policy."""
        monitoring_role = iam.Role(
            self,
            "MonitoringRole",
            assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
            description=f"RDS enhanced monitoring of {identifier}",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonRDSEnhancedMonitoringRole"
                )
            ],
        )
        acknowledge_aws_managed_policies(
            monitoring_role.node.default_child,
            "AWS's own policy for the enhanced-monitoring agent: it may only write the "
            "RDSOSMetrics log group, and AWS maintains it as the agent changes.",
        )
        return {
            "vpc": vpc,
            "vpc_subnets": subnets,
            "security_groups": [self.security_group],
            "port": PORT,
            "parameter_group": parameter_group,
            "storage_encrypted": True,
            "storage_encryption_key": self.key,
            "iam_authentication": True,
            "credentials": rds.Credentials.from_username(MASTER_USERNAME),
            "manage_master_user_password": True,
            "enable_performance_insights": True,
            "performance_insight_encryption_key": self.key,
            "monitoring_interval": Duration.seconds(ENHANCED_MONITORING_SECONDS),
            "monitoring_role": monitoring_role,
            "cloudwatch_logs_exports": list(_exports(aurora)),
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "deletion_protection": not allow_data_loss,
            "removal_policy": removal_policy(allow_data_loss=allow_data_loss, snapshot=True),
        }

    def _instance(
        self,
        identifier: str,
        engine: rds.IInstanceEngine,
        instance_class: str,
        multi_az: bool,
        allocated_storage_gib: int,
        backup_retention_days: int,
        database_name: str,
        allow_data_loss: bool,
        common: dict,
    ) -> rds.DatabaseInstance:
        return rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_identifier=identifier,
            instance_type=ec2.InstanceType(instance_class),
            multi_az=multi_az,
            allocated_storage=allocated_storage_gib,
            max_allocated_storage=allocated_storage_gib * 4,
            storage_type=rds.StorageType.GP3,
            publicly_accessible=False,
            backup_retention=Duration.days(backup_retention_days),
            delete_automated_backups=allow_data_loss,
            database_name=database_name,
            **common,
        )

    def _aurora(
        self,
        identifier: str,
        engine: rds.IClusterEngine,
        capacity: Engine,
        instance_class: str,
        readers: int,
        min_capacity: float,
        max_capacity: float,
        backup_retention_days: int,
        database_name: str,
        common: dict,
        data_api: bool,
    ) -> rds.DatabaseCluster:
        serverless = capacity == "aurora-serverless-v2"

        def instance(id_: str, reader: bool) -> rds.IClusterInstance:
            insights = {
                "enable_performance_insights": True,
                "performance_insight_encryption_key": self.key,
                "auto_minor_version_upgrade": True,
            }
            if serverless:
                return rds.ClusterInstance.serverless_v2(id_, scale_with_writer=reader, **insights)
            return rds.ClusterInstance.provisioned(
                id_, instance_type=ec2.InstanceType(instance_class), **insights
            )

        return rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            cluster_identifier=identifier,
            writer=instance("Writer", reader=False),
            readers=[instance(f"Reader{n}", reader=True) for n in range(1, readers + 1)],
            serverless_v2_min_capacity=min_capacity if serverless else None,
            serverless_v2_max_capacity=max_capacity if serverless else None,
            backup=rds.BackupProps(retention=Duration.days(backup_retention_days)),
            default_database_name=database_name,
            enable_data_api=data_api or None,
            **common,
        )


def _engine(aurora: bool, version: str) -> rds.IEngine:
    major = version.split(".")[0]
    if aurora:
        return rds.DatabaseClusterEngine.aurora_postgres(
            version=rds.AuroraPostgresEngineVersion.of(version, major)
        )
    return rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.of(version, major))


def _exports(aurora: bool) -> tuple[str, ...]:
    """The logs RDS exports to CloudWatch."""
    return ("postgresql",) if aurora else ("postgresql", "upgrade")


def _acknowledge(cfn: CfnResource, *, aurora: bool, multi_az: bool, allow_data_loss: bool) -> None:
    """Findings this environment's configured trade-offs explain."""
    if not aurora:  # cdk-nag checks the port of instances, not of Aurora clusters
        acknowledge(
            cfn,
            "AwsSolutions::AwsSolutions-RDS11",
            "Applications and drivers expect PostgreSQL on 5432; the port is reachable "
            "only from the cluster's security group inside isolated subnets, so a "
            "non-standard port would add no protection.",
        )
    if not aurora and not multi_az:
        single_az = (
            "A single-AZ instance is this environment's configured trade-off; config "
            "rejects prod without multi_az."
        )
        acknowledge(cfn, "AwsSolutions::AwsSolutions-RDS3", single_az)
        acknowledge_control(
            cfn, "RDSMultiAZSupport", single_az, packs=("NIST.800.53.R5", "HIPAA.Security")
        )
    if allow_data_loss:
        opted_in = (
            "Sandbox's data-loss opt-in (config: data.allow_data_loss, refused outside "
            "sandbox): the database is meant to go with `cdk destroy`."
        )
        acknowledge(cfn, "AwsSolutions::AwsSolutions-RDS10", opted_in)
        acknowledge_control(
            cfn,
            "RDSInstanceDeletionProtectionEnabled",
            opted_in,
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )


def _validate(
    engine: str,
    version: str,
    readers: int,
    multi_az: bool,
    min_capacity: float,
    max_capacity: float,
) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine: one of {', '.join(ENGINES)}; got {engine!r}")
    major = version.split(".")[0]
    if not major.isdigit() or int(major) < MIN_MAJOR_VERSION:
        raise ValueError(f"version: PostgreSQL {MIN_MAJOR_VERSION} or newer; got {version!r}")
    if not 0 <= readers <= MAX_READERS:
        raise ValueError(f"readers: 0 to {MAX_READERS}; got {readers}")
    if engine == "rds" and readers:
        raise ValueError(f"readers: Aurora only (engine is rds); got {readers}")
    if engine != "rds" and multi_az:
        raise ValueError(f"multi_az: RDS only (engine is {engine}); got True")
    if min_capacity > max_capacity:
        raise ValueError(f"min_capacity: at most max_capacity ({max_capacity}); got {min_capacity}")
