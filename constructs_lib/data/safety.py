"""What happens to data when CloudFormation deletes or replaces its resource.

Every data construct asks here instead of choosing a removal policy itself, so the rule is in
one place: data is kept (retained, or snapshotted where the service can) unless the account
opted in to losing it, which config allows for sandbox only.

The policy goes to each resource through CDK's own per-resource mechanism (an L2's
`removal_policy` prop, or `apply_removal_policy`), not through `RemovalPolicies.of(scope)`:
that aspect picks resources by type only, and every scope holding data also holds resources
of the same types that are retained even in an opted-in sandbox (each service's log-group
key, the data stack's access-log bucket). Applied to the sandbox's data stack, it would
delete the PostgreSQL logs key the templates retain today. And an L2's prop also sets what
the L2 derives from it (an RDS cluster's instances and subnet group follow the cluster's
policy), which an aspect changing the cluster's policy afterwards would leave behind.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.shared.encryption import platform_key


def removal_policy(*, allow_data_loss: bool, snapshot: bool = False) -> RemovalPolicy:
    """DESTROY only with the opt-in; otherwise SNAPSHOT where the service supports it (RDS,
    ElastiCache), else RETAIN."""
    if allow_data_loss:
        return RemovalPolicy.DESTROY
    return RemovalPolicy.SNAPSHOT if snapshot else RemovalPolicy.RETAIN


def data_key(scope: Construct, id_: str, *, description: str, allow_data_loss: bool) -> kms.Key:
    """A rotating CMK for one data service. Deleting the key deletes the data encrypted with
    it, so it follows the same removal rule as the data."""
    return platform_key(
        scope,
        id_,
        description=description,
        removal_policy=removal_policy(allow_data_loss=allow_data_loss),
    )


def clients_only(
    scope: Construct, *, vpc: ec2.IVpc, clients: ec2.ISecurityGroup, port: int, what: str
) -> ec2.SecurityGroup:
    """The security group of a data service (construct id "SecurityGroup"): `port` from
    `clients` (the cluster's security group) and nothing else, no outbound rules."""
    group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description=f"{what}: {port} from the cluster only",
        allow_all_outbound=False,
    )
    group.add_ingress_rule(clients, ec2.Port.tcp(port), f"{what} from the cluster's nodes and pods")
    return group


def service_log_group(
    scope: Construct,
    id_: str,
    *,
    log_group_name: str,
    key: kms.IKey,
    retention: logs.RetentionDays,
    allow_data_loss: bool,
) -> logs.LogGroup:
    """A data service's log group, encrypted with `key`, kept like the data it describes."""
    return logs.LogGroup(
        scope,
        id_,
        log_group_name=log_group_name,
        encryption_key=key,
        retention=retention,
        removal_policy=removal_policy(allow_data_loss=allow_data_loss),
    )
