"""LogArchive: the organisation's write-once store for audit logs."""

from __future__ import annotations

from typing import Any, Literal

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.access_logs import AccessLogsBucket, expiry_rule
from constructs_lib.shared.encryption import key_policy
from policies.acknowledgements import acknowledge_control

ObjectLockMode = Literal["COMPLIANCE", "GOVERNANCE"]

DEFAULT_LOCK_RETENTION = Duration.days(365)
DEFAULT_GLACIER_TRANSITION = Duration.days(90)
DEFAULT_EXPIRY = Duration.days(2557)

KEY_ADMINISTRATION = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:UpdateKeyDescription",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
"""What the archive account's IAM principals may be given on the archive's key: managing it
(CloudFormation's execution role needs this), never using it, nor granting its use
(kms:CreateGrant). The destructive ones among them are denied by the log-archive SCP to all
but the execution role."""


CONFIG_DELIVERY_DOC = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "aws-resource-config-deliverychannel.html"
)
"""'AWS Config does not support the delivery channel to an Amazon S3 bucket where object lock
is enabled': Config delivers to `LogArchive.config_bucket`, never to the archive."""


class LogArchive(Construct):
    """An object-locked, KMS-encrypted, versioned S3 bucket with its own access-log bucket,
    and beside it the bucket AWS Config delivers to (Config refuses an object-locked bucket,
    `CONFIG_DELIVERY_DOC`).

    - Archive bucket: SSE-KMS with a customer-managed key (yearly rotation, S3 Bucket Keys to
      keep KMS request costs down), versioning, object lock with a default retention, TLS
      only, every form of public access blocked, bucket-owner-enforced object ownership,
      server access logs to the access-log bucket, lifecycle to Glacier Instant Retrieval and
      expiry, noncurrent versions expired on the same schedule.
    - Access-log bucket (`AccessLogsBucket`): SSE-S3, versioned, TLS only, public access
      blocked, expiring on the archive's schedule.
    - Config bucket (`config_bucket`): the archive's settings without object lock (same
      key, versioning, TLS only, public access blocked, access logs, lifecycle), its bucket
      policy denying s3:DeleteObject and s3:DeleteObjectVersion to everyone, so a recording
      goes only when the lifecycle expires it (lifecycle actions are S3's own, not requests
      a bucket policy evaluates).
    - All buckets and the key are always retained: removing the construct never deletes logs.
    - The key's policy separates administration from use: the account's principals may be
      given `KEY_ADMINISTRATION` and kms:Decrypt through S3 only (reading the archive); the
      writers (the trail, Config) are admitted by `admit_*`, each with only what its
      delivery needs.

    Exposes `bucket`, `config_bucket`, `key` and `access_logs_bucket`. Later constructs (the
    org trail, Config delivery) add their own statements to the bucket and key policies.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        config_bucket_name: str,
        access_logs_bucket_name: str,
        object_lock_mode: ObjectLockMode = "COMPLIANCE",
        object_lock_retention: Duration = DEFAULT_LOCK_RETENTION,
        glacier_transition_after: Duration = DEFAULT_GLACIER_TRANSITION,
        expire_after: Duration = DEFAULT_EXPIRY,
    ) -> None:
        """
        :param bucket_name: the archive's deterministic name, so other accounts can find it.
        :param config_bucket_name: the Config delivery bucket's deterministic name.
        :param access_logs_bucket_name: the access-log bucket's name.
        :param object_lock_mode: COMPLIANCE (default): no one can shorten retention or delete
            a locked version early; GOVERNANCE: principals with
            s3:BypassGovernanceRetention can.
        :param object_lock_retention: default retention of each object version; default 365
            days.
        :param glacier_transition_after: when objects move to Glacier Instant Retrieval;
            default 90 days.
        :param expire_after: when objects and noncurrent versions are deleted; default seven
            years. Must not be shorter than the object-lock retention.
        """
        super().__init__(scope, id_)
        _validate(object_lock_retention, glacier_transition_after, expire_after)
        self.access_logs_bucket = AccessLogsBucket(
            self, "AccessLogsBucket", bucket_name=access_logs_bucket_name, expire_after=expire_after
        )
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the organisation's log archive",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
            policy=key_policy(self, administration=KEY_ADMINISTRATION),
        )
        # Reading the archive (an investigation) decrypts through S3 only: never kms:Decrypt
        # of ciphertext taken elsewhere, never encrypting or re-encrypting.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AccountReadsTheArchiveThroughS3",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}
                },
            )
        )
        self._bucket(
            bucket_name,
            lock=(
                s3.ObjectLockRetention.compliance(object_lock_retention)
                if object_lock_mode == "COMPLIANCE"
                else s3.ObjectLockRetention.governance(object_lock_retention)
            ),
            glacier_transition_after=glacier_transition_after,
            expire_after=expire_after,
        )
        self._config_bucket(
            config_bucket_name,
            glacier_transition_after=glacier_transition_after,
            expire_after=expire_after,
        )

    def _bucket(
        self,
        bucket_name: str,
        *,
        lock: s3.ObjectLockRetention,
        glacier_transition_after: Duration,
        expire_after: Duration,
    ) -> None:
        """The archive bucket (`bucket`): object-locked, encrypted with `key`, moving to
        Glacier Instant Retrieval, then expiring; access-logged; retained."""
        self.bucket = self._retained_bucket(
            "Bucket",
            bucket_name,
            logs_prefix="log-archive/",
            lifecycle=_lifecycle(glacier_transition_after, expire_after),
            object_lock_enabled=True,
            object_lock_default_retention=lock,
        )
        acknowledge_control(
            self.bucket,
            "S3BucketReplicationEnabled",
            "Accepted trade-off: the archive stays in the organisation's home region (data "
            "residency) and is protected by S3's multi-AZ durability, versioning and "
            "COMPLIANCE-mode object lock, so no principal can delete or overwrite a record. "
            "A second-region copy is a business-continuity choice with its own cost.",
        )

    def _retained_bucket(
        self,
        id_: str,
        bucket_name: str,
        *,
        logs_prefix: str,
        lifecycle: list[s3.LifecycleRule],
        **lock: Any,
    ) -> s3.Bucket:
        """A bucket of the archive's kind: KMS with the archive's key, versioned, TLS only,
        private, access-logged under `logs_prefix`, `lifecycle`, retained; `lock` the object
        lock settings where it has them."""
        return s3.Bucket(
            self,
            id_,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=logs_prefix,
            lifecycle_rules=lifecycle,
            removal_policy=RemovalPolicy.RETAIN,
            **lock,
        )

    def _config_bucket(
        self, bucket_name: str, *, glacier_transition_after: Duration, expire_after: Duration
    ) -> None:
        """The bucket Config delivers to (`config_bucket`): the archive's settings but object
        lock, which Config does not support (`CONFIG_DELIVERY_DOC`); no one may delete an
        object or a version of one, only the lifecycle expires them."""
        self.config_bucket = self._retained_bucket(
            "ConfigBucket",
            bucket_name,
            logs_prefix="config-delivery/",
            lifecycle=_lifecycle(glacier_transition_after, expire_after),
        )
        self.config_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="NoOneDeletesRecordings",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[self.config_bucket.arn_for_objects("*")],
            )
        )
        acknowledge_control(
            self.config_bucket,
            "S3BucketReplicationEnabled",
            "Accepted trade-off: Config's recordings stay in the organisation's home region "
            "(data residency), protected by S3's multi-AZ durability, versioning and a bucket "
            "policy that denies every deletion of an object or version; a second-region copy "
            "is a business-continuity choice with its own cost.",
        )

    def admit_organization_trail(self, *, trail_arns: list[str]) -> None:
        """Let CloudTrail write the organisation trail (`trail_arns`: the trail's ARN under
        each account that may own it) to `AWSLogs/` and encrypt it with the key; nothing
        else of CloudTrail's."""
        source = {"StringEquals": {"aws:SourceArn": trail_arns}}
        cloudtrail = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationTrailAclCheck",
                principals=[cloudtrail],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=source,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationTrailWrite",
                principals=[cloudtrail],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("AWSLogs/*")],
                conditions=source,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationTrailEncrypt",
                principals=[cloudtrail],
                actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions=source,
            )
        )

    def admit_config(self, *, organization_id: str) -> None:
        """Let AWS Config of this organisation's accounts deliver to the Config bucket's
        `AWSLogs/<account>/Config/` and encrypt with the key; no other organisation's Config,
        and never to the object-locked archive."""
        config = iam.ServicePrincipal("config.amazonaws.com")
        org = {"StringEquals": {"aws:SourceOrgID": organization_id}}
        self.config_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ConfigBucketCheck",
                principals=[config],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[self.config_bucket.bucket_arn],
                conditions=org,
            )
        )
        self.config_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ConfigWrite",
                principals=[config],
                actions=["s3:PutObject"],
                resources=[self.config_bucket.arn_for_objects("AWSLogs/*/Config/*")],
                conditions=org,
            )
        )
        # Config's documented key policy for delivery: GenerateDataKey and Decrypt
        # (https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ConfigEncrypt",
                principals=[config],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions=org,
            )
        )


def _lifecycle(
    glacier_transition_after: Duration, expire_after: Duration
) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="archive",
            transitions=[
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=glacier_transition_after,
                )
            ],
        ),
        expiry_rule(expire_after),
    ]


def _validate(
    object_lock_retention: Duration, glacier_transition_after: Duration, expire_after: Duration
) -> None:
    lock_days = object_lock_retention.to_days()
    if expire_after.to_days() < lock_days:
        raise ValueError(
            f"expire_after: must be at least object_lock_retention ({lock_days} days); "
            f"got {expire_after.to_days()} days"
        )
    if glacier_transition_after.to_days() >= expire_after.to_days():
        raise ValueError(
            "glacier_transition_after: must be shorter than expire_after; "
            f"got {glacier_transition_after.to_days()} days"
        )
