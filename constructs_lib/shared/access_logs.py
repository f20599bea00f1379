"""AccessLogsBucket: the end of an S3 server-access-logging chain."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from policies.acknowledgements import acknowledge_all, controls


def expiry_rule(after: Duration, *, noncurrent_after: Duration | None = None) -> s3.LifecycleRule:
    """Delete objects after `after` (noncurrent versions after `noncurrent_after`, default
    the same) and abandoned multipart uploads after a week."""
    return s3.LifecycleRule(
        id="expire",
        expiration=after,
        noncurrent_version_expiration=noncurrent_after or after,
        abort_incomplete_multipart_upload_after=Duration.days(7),
    )


class AccessLogsBucket(s3.Bucket):
    """A bucket that receives S3 server access logs: SSE-S3 (the only encryption log delivery
    supports), versioned, TLS only, public access blocked, objects expiring after
    `expire_after`, retained when removed from the stack.

    cdk-nag treats a log destination as compliant with its logging rules; the two findings it
    keeps (no KMS, no replication) are inherent and acknowledged here, on this bucket only.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        expire_after: Duration,
        bucket_name: str | None = None,
    ) -> None:
        """
        :param expire_after: how long access logs are kept.
        :param bucket_name: a deterministic name; default a generated one.
        """
        super().__init__(
            scope,
            id_,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[expiry_rule(expire_after)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        sse_s3_only = (
            "S3 server access logging delivers only to buckets encrypted with SSE-S3 "
            "(AES-256); SSE-KMS here would make log delivery fail silently."
        )
        acknowledge_all(
            self,
            {
                **controls(
                    "S3BucketReplicationEnabled",
                    "Server access logs are operational diagnostics, not audit records; they "
                    "are versioned and retained, and a cross-region copy would not add evidence.",
                ),
                **controls("S3DefaultEncryptionKMS", sse_s3_only),
                "Platform::CustomerManagedKeys": sse_s3_only,
            },
        )
