"""PlatformCache: one ElastiCache (Valkey or Redis OSS) replication group per application."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.data.safety import clients_only, data_key, removal_policy, service_log_group
from constructs_lib.shared.encryption import log_group_key
from facts.aws import CACHE_NAME_MAX as MAX_NAME
from policies.acknowledgements import acknowledge_all, controls

PORT = 6379
MAX_REPLICAS, MAX_SNAPSHOT_DAYS = 5, 35
NIST_SNAPSHOT_DAYS = 15
"""NIST 800-53 and HIPAA packs expect automatic snapshots kept at least this long."""


class PlatformCache(Construct):
    """A cache for one application (apps never share one by database index).

    - Cluster mode disabled, `replicas` read replicas; with one or more, automatic failover
      and Multi-AZ.
    - Isolated subnets; a security group admitting 6379 from `clients` only.
    - TLS required in transit; at rest encrypted with a rotating CMK.
    - Role-based access control: the `default` user is switched off, the application user
      `<name>-app` authenticates with IAM (a pod's role with `elasticache:Connect`), so no
      password exists to leak or rotate.
    - Slow log and engine log to an encrypted CloudWatch log group.
    - Daily snapshots kept `snapshot_retention_days`, and a final snapshot when the stack
      deletes or replaces it, unless `allow_data_loss`.

    Exposes `endpoint` (primary address), `user_id`, `security_group` and `resource`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        engine: Literal["valkey", "redis"],
        version: str,
        node_type: str,
        replicas: int,
        snapshot_retention_days: int,
        vpc: ec2.IVpc,
        subnet_ids: Sequence[str],
        clients: ec2.ISecurityGroup,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        allow_data_loss: bool = False,
        team_users: Sequence[elasticache.CfnUser] = (),
    ) -> None:
        """
        :param name: the replication group id, also the users' prefix (deterministic).
        :param team_users: the users (of the data stack, one per team) admitted to this
            cache besides its own: members of its user group.
        :param subnet_ids: the isolated subnets it may use.
        :param clients: the only security group admitted on 6379 (the cluster's).
        :param allow_data_loss: sandbox's opt-in: no final snapshot.
        """
        super().__init__(scope, id_)
        _validate(name, replicas, snapshot_retention_days)
        self.key = data_key(
            self,
            "Key",
            description=f"Encrypts cache {name} and its snapshots",
            allow_data_loss=allow_data_loss,
        )
        self.security_group = clients_only(
            self, vpc=vpc, clients=clients, port=PORT, what=f"Cache {name}"
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            cache_subnet_group_name=name,
            description=f"Cache {name}: isolated subnets",
            subnet_ids=list(subnet_ids),
        )
        user_group = self._users(name, engine, team_users)
        log_group = service_log_group(
            self,
            "Logs",
            log_group_name=f"/aws/elasticache/{name}",
            key=log_group_key(self, "LogsKey", description=f"Encrypts cache {name}'s logs"),
            retention=log_retention,
            allow_data_loss=allow_data_loss,
        )
        self.resource = self._replication_group(
            name=name,
            engine=engine,
            version=version,
            node_type=node_type,
            replicas=replicas,
            snapshot_retention_days=snapshot_retention_days,
            subnet_group=subnet_group,
            user_group=user_group,
            log_group=log_group,
        )
        self.resource.apply_removal_policy(
            removal_policy(allow_data_loss=allow_data_loss, snapshot=True)
        )
        self.endpoint = self.resource.attr_primary_end_point_address
        _acknowledge(self.resource, snapshot_retention_days, highly_available=replicas > 0)

    def _users(
        self, name: str, engine: str, team_users: Sequence[elasticache.CfnUser]
    ) -> elasticache.CfnUserGroup:
        """The user group: `default` switched off, `<name>-app` (`user_id`) authenticating
        with IAM, and `team_users`. A user group must hold a user named `default`; changing
        its members updates it in place."""
        default_user = elasticache.CfnUser(
            self,
            "DefaultUser",
            engine=engine,
            user_id=f"{name}-default",
            user_name="default",
            access_string="off -@all",
            authentication_mode={"Type": "no-password-required"},
        )
        self.user_id = f"{name}-app"
        app_user = elasticache.CfnUser(
            self,
            "AppUser",
            engine=engine,
            user_id=self.user_id,
            user_name=self.user_id,  # IAM authentication requires user name == user id
            access_string="on ~* +@all -@dangerous",
            authentication_mode={"Type": "iam"},
        )
        user_group = elasticache.CfnUserGroup(
            self,
            "Users",
            engine=engine,
            user_group_id=name,
            user_ids=[
                default_user.user_id,
                app_user.user_id,
                *(str(user.user_id) for user in team_users),
            ],
        )
        for user in (default_user, app_user, *team_users):
            user_group.add_resource_dependency(user)
        return user_group

    def _replication_group(
        self,
        *,
        name: str,
        engine: str,
        version: str,
        node_type: str,
        replicas: int,
        snapshot_retention_days: int,
        subnet_group: elasticache.CfnSubnetGroup,
        user_group: elasticache.CfnUserGroup,
        log_group: logs.ILogGroup,
    ) -> elasticache.CfnReplicationGroup:
        """One shard with `replicas` replicas (failover and Multi-AZ with any), TLS required,
        encrypted with `key`, daily snapshots, slow and engine logs to `log_group`."""
        highly_available = replicas > 0
        group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=name,
            replication_group_description=f"Cache {name}",
            engine=engine,
            engine_version=version,
            cache_node_type=node_type,
            num_node_groups=1,
            replicas_per_node_group=replicas,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            port=PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=self.key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.ref],
            snapshot_retention_limit=snapshot_retention_days,
            snapshot_window="02:00-03:00",
            preferred_maintenance_window="sun:04:00-sun:05:00",
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    log_type=log_type,
                    log_format="json",
                    destination_type="cloudwatch-logs",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=log_group.log_group_name
                        )
                    ),
                )
                for log_type in ("slow-log", "engine-log")
            ],
        )
        group.add_resource_dependency(subnet_group)
        group.add_resource_dependency(user_group)
        group.node.add_dependency(log_group)
        return group


def _acknowledge(
    resource: elasticache.CfnReplicationGroup,
    snapshot_retention_days: int,
    *,
    highly_available: bool,
) -> None:
    """Findings the IAM-authenticated users and this environment's trade-offs explain."""
    findings = {
        "AwsSolutions::AwsSolutions-AEC6": (
            "Clients authenticate as RBAC users with IAM (the default user is off); "
            "cdk-nag recognises only the older AUTH token, which ElastiCache does not "
            "allow together with a user group."
        )
    }
    if snapshot_retention_days < NIST_SNAPSHOT_DAYS:
        findings |= controls(
            "ElastiCacheRedisClusterAutomaticBackup",
            f"Snapshots kept {snapshot_retention_days} days, this environment's configured "
            "trade-off: a cache holds data an application can rebuild.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
    if not highly_available:
        findings["AwsSolutions::AwsSolutions-AEC4"] = (
            "No replica is this environment's configured trade-off (dev and sandbox); "
            "config rejects prod without one."
        )
    acknowledge_all(resource, findings)


def _validate(name: str, replicas: int, snapshot_retention_days: int) -> None:
    if not 0 <= replicas <= MAX_REPLICAS:
        raise ValueError(f"replicas: 0 to {MAX_REPLICAS}; got {replicas}")
    if not 1 <= snapshot_retention_days <= MAX_SNAPSHOT_DAYS:
        raise ValueError(
            f"snapshot_retention_days: 1 to {MAX_SNAPSHOT_DAYS}; got {snapshot_retention_days}"
        )
    if len(name) > MAX_NAME:
        raise ValueError(f"name: at most {MAX_NAME} characters; got {name!r}")
