"""DataBucket: an application's S3 bucket in the data stack."""

from __future__ import annotations

from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.data.safety import removal_policy
from policies.acknowledgements import acknowledge_all, controls


class DataBucket(s3.Bucket):
    """Versioned, TLS 1.2+ only, public access blocked, owner-enforced, server access logs to
    `access_logs`; noncurrent versions expire after `noncurrent_version_days` and abandoned
    multipart uploads after a week. Encrypted with `key` (a CMK) or, if `encryption` is "s3",
    S3-managed keys. Retained when the stack deletes or replaces it, unless
    `allow_data_loss`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        access_logs: s3.IBucket,
        encryption: Literal["kms", "s3"] = "kms",
        key: kms.IKey | None = None,
        noncurrent_version_days: int = 90,
        expire_after_days: int | None = None,
        allow_data_loss: bool = False,
        replication_reason: str = (
            "Versioning keeps every overwritten or deleted object and AWS Backup keeps daily "
            "recovery points in a vault; cross-region replication is a disaster-recovery "
            "choice the platform leaves to the application."
        ),
        sse_s3_reason: str = (
            "SSE-S3 chosen for this bucket in config (data.buckets.*.encryption); the "
            "platform defaults to a customer-managed key."
        ),
    ) -> None:
        """
        :param key: required with encryption "kms".
        :param expire_after_days: delete current objects after this; default never.
        :param allow_data_loss: sandbox's opt-in: deleted with the stack (once empty).
        :param replication_reason: why no cross-region replication is safe for this bucket
            (acknowledged on it); default: versioning and AWS Backup.
        :param sse_s3_reason: with encryption "s3", why that is safe (acknowledged on it);
            default: chosen in config.
        """
        if encryption == "kms" and key is None:
            raise ValueError(f"{bucket_name}: encryption 'kms' needs a key")
        super().__init__(
            scope,
            id_,
            bucket_name=bucket_name,
            encryption=(
                s3.BucketEncryption.KMS if encryption == "kms" else s3.BucketEncryption.S3_MANAGED
            ),
            encryption_key=key if encryption == "kms" else None,
            bucket_key_enabled=encryption == "kms",
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{bucket_name}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tidy",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                    expiration=Duration.days(expire_after_days) if expire_after_days else None,
                )
            ],
            removal_policy=removal_policy(allow_data_loss=allow_data_loss),
        )
        findings = controls("S3BucketReplicationEnabled", replication_reason)
        if encryption == "s3":
            findings |= controls("S3DefaultEncryptionKMS", sse_s3_reason)
            findings["Platform::CustomerManagedKeys"] = sse_s3_reason
        acknowledge_all(self, findings)
