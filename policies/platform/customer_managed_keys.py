"""Stateful resources are encrypted at rest with a customer-managed KMS key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.platform.rule import Resource, Rule, RuleContext, is_aurora_instance


def _path(properties: dict[str, Any], *keys: str) -> Any:
    node: Any = properties
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _bucket(properties: dict[str, Any]) -> bool:
    rules = _path(properties, "BucketEncryption", "ServerSideEncryptionConfiguration") or []
    return any(
        _path(rule, "ServerSideEncryptionByDefault", "KMSMasterKeyID") is not None for rule in rules
    )


KEY_OF: dict[str, Callable[[dict[str, Any]], bool]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::RDS::DBCluster": lambda p: p.get("KmsKeyId") is not None,
    "AWS::RDS::DBInstance": lambda p: p.get("KmsKeyId") is not None,
    "AWS::DynamoDB::Table": lambda p: _path(p, "SSESpecification", "KMSMasterKeyId") is not None,
    "AWS::ElastiCache::ReplicationGroup": lambda p: p.get("KmsKeyId") is not None,
    "AWS::OpenSearchService::Domain": lambda p: (
        _path(p, "EncryptionAtRestOptions", "KmsKeyId") is not None
    ),
    "AWS::MSK::Cluster": lambda p: (
        _path(p, "EncryptionInfo", "EncryptionAtRest", "DataVolumeKMSKeyId") is not None
    ),
    "AWS::EFS::FileSystem": lambda p: p.get("KmsKeyId") is not None,
    "AWS::Kinesis::Stream": lambda p: _path(p, "StreamEncryption", "KeyId") is not None,
    "AWS::Logs::LogGroup": lambda p: p.get("KmsKeyId") is not None,
    "AWS::SNS::Topic": lambda p: p.get("KmsMasterKeyId") is not None,
    "AWS::SQS::Queue": lambda p: p.get("KmsMasterKeyId") is not None,
    "AWS::SecretsManager::Secret": lambda p: p.get("KmsKeyId") is not None,
}
"""Stateful type -> whether its properties name a KMS key for encryption at rest."""


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    has_key = KEY_OF.get(resource_type)
    if has_key is None or has_key(resource.get("Properties", {})):
        return None
    if is_aurora_instance(resource_type, resource):
        return None  # encrypted with the cluster's key
    return "stores data without a customer-managed KMS key"


RULE = Rule(
    "CustomerManagedKeys",
    "Stateful resources are encrypted at rest with a customer-managed KMS key.",
    _check,
)
