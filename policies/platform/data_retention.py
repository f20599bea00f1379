"""Stateful resources survive stack deletion and replacement outside sandbox."""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext, is_aurora_instance

STATEFUL_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::DynamoDB::Table",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::OpenSearchService::Domain",
        "AWS::MSK::Cluster",
        "AWS::EFS::FileSystem",
        "AWS::Kinesis::Stream",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
        "AWS::Backup::BackupVault",
    }
)
"""Types whose deletion loses data (a KMS key: everything encrypted with it)."""

KEEPS_DATA = {"Retain", "RetainExceptOnCreate", "Snapshot"}


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type not in STATEFUL_TYPES or context.data_may_be_destroyed:
        return None
    if is_aurora_instance(resource_type, resource):
        return None  # its storage is the cluster's, checked there
    deletion = resource.get("DeletionPolicy", "Delete")
    replace = resource.get("UpdateReplacePolicy", "Delete")
    if deletion in KEEPS_DATA and replace in KEEPS_DATA:
        return None
    return f"DeletionPolicy {deletion} / UpdateReplacePolicy {replace} would lose its data"


RULE = Rule(
    "DataRetention",
    "Outside sandbox, stateful resources are retained (or snapshotted) on deletion and "
    "replacement.",
    _check,
)
