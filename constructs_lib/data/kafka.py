"""PlatformKafka: an Amazon MSK (provisioned) cluster with IAM authentication."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from constructs import Construct

from constructs_lib.data.safety import clients_only, data_key, removal_policy, service_log_group
from constructs_lib.shared.encryption import log_group_key

IAM_TLS_PORT = 9098
"""The brokers' port for IAM-authenticated TLS clients."""


class PlatformKafka(Construct):
    """An MSK cluster only the cluster's pods reach, authenticated by IAM.

    - `brokers_per_az` brokers in each isolated subnet given; a security group admitting
      9098 (IAM over TLS) from `clients` only; no public access, no unauthenticated clients.
    - TLS between clients and brokers and between brokers; storage encrypted with a rotating
      CMK.
    - Broker logs to an encrypted CloudWatch log group; per-broker enhanced monitoring.
    - Retained when the stack deletes or replaces it, unless `allow_data_loss`.

    Exposes `resource` (its ARN: `resource.ref`) and `security_group`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        version: str,
        broker_type: str,
        brokers_per_az: int,
        volume_gib: int,
        vpc: ec2.IVpc,
        subnet_ids: Sequence[str],
        clients: ec2.ISecurityGroup,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        allow_data_loss: bool = False,
    ) -> None:
        """
        :param name: the cluster name (deterministic).
        :param subnet_ids: one isolated subnet per AZ.
        :param clients: the only security group admitted on 9098 (the cluster's).
        :param allow_data_loss: sandbox's opt-in: deleted with the stack.
        """
        super().__init__(scope, id_)
        if brokers_per_az < 1:
            raise ValueError(f"brokers_per_az: at least 1; got {brokers_per_az}")
        if len(subnet_ids) < 2:
            raise ValueError(f"subnet_ids: MSK needs subnets in 2 or 3 AZs; got {len(subnet_ids)}")
        self.key = data_key(
            self,
            "Key",
            description=f"Encrypts MSK cluster {name}'s storage",
            allow_data_loss=allow_data_loss,
        )
        self.security_group = clients_only(
            self, vpc=vpc, clients=clients, port=IAM_TLS_PORT, what=f"MSK {name} (IAM over TLS)"
        )
        log_group = service_log_group(
            self,
            "Logs",
            log_group_name=f"/aws/msk/{name}",
            key=log_group_key(self, "LogsKey", description=f"Encrypts MSK {name}'s logs"),
            retention=log_retention,
            allow_data_loss=allow_data_loss,
        )
        self.resource = self._cluster(
            name=name,
            version=version,
            broker_type=broker_type,
            brokers=brokers_per_az * len(subnet_ids),
            volume_gib=volume_gib,
            subnet_ids=subnet_ids,
            log_group=log_group,
        )
        self.resource.node.add_dependency(log_group)
        self.resource.apply_removal_policy(removal_policy(allow_data_loss=allow_data_loss))

    def _cluster(
        self,
        *,
        name: str,
        version: str,
        broker_type: str,
        brokers: int,
        volume_gib: int,
        subnet_ids: Sequence[str],
        log_group: logs.ILogGroup,
    ) -> msk.CfnCluster:
        """The brokers: no public access, IAM over TLS only, TLS between brokers, storage
        encrypted with `key`, logs to `log_group`, per-broker monitoring."""
        return msk.CfnCluster(
            self,
            "Cluster",
            cluster_name=name,
            kafka_version=version,
            number_of_broker_nodes=brokers,
            broker_node_group_info=msk.CfnCluster.BrokerNodeGroupInfoProperty(
                instance_type=broker_type,
                client_subnets=list(subnet_ids),
                security_groups=[self.security_group.security_group_id],
                storage_info=msk.CfnCluster.StorageInfoProperty(
                    ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(volume_size=volume_gib)
                ),
                connectivity_info=msk.CfnCluster.ConnectivityInfoProperty(
                    public_access=msk.CfnCluster.PublicAccessProperty(type="DISABLED")
                ),
            ),
            client_authentication=msk.CfnCluster.ClientAuthenticationProperty(
                sasl=msk.CfnCluster.SaslProperty(iam=msk.CfnCluster.IamProperty(enabled=True)),
                unauthenticated=msk.CfnCluster.UnauthenticatedProperty(enabled=False),
            ),
            encryption_info=msk.CfnCluster.EncryptionInfoProperty(
                encryption_at_rest=msk.CfnCluster.EncryptionAtRestProperty(
                    data_volume_kms_key_id=self.key.key_arn
                ),
                encryption_in_transit=msk.CfnCluster.EncryptionInTransitProperty(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            enhanced_monitoring="PER_BROKER",
            logging_info=msk.CfnCluster.LoggingInfoProperty(
                broker_logs=msk.CfnCluster.BrokerLogsProperty(
                    cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                        enabled=True, log_group=log_group.log_group_name
                    )
                )
            ),
        )
