"""What happens to data when CloudFormation deletes or replaces its resource.

Every data construct asks here instead of choosing a removal policy itself, so the rule is in
one place: data is kept (retained, or snapshotted where the service can) unless the account
opted in to losing it, which config allows for sandbox only.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct


def removal_policy(*, allow_data_loss: bool, snapshot: bool = False) -> RemovalPolicy:
    """DESTROY only with the opt-in; otherwise SNAPSHOT where the service supports it (RDS,
    ElastiCache), else RETAIN."""
    if allow_data_loss:
        return RemovalPolicy.DESTROY
    return RemovalPolicy.SNAPSHOT if snapshot else RemovalPolicy.RETAIN


def data_key(scope: Construct, id_: str, *, description: str, allow_data_loss: bool) -> kms.Key:
    """A rotating CMK for one data service. Deleting the key deletes the data encrypted with
    it, so it follows the same removal rule as the data."""
    return kms.Key(
        scope,
        id_,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy(allow_data_loss=allow_data_loss),
    )
