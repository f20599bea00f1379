"""The security (audit and log archive) account."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from config import PlatformConfig
from config.model import Audit
from config.model import LogArchive as LogArchiveConfig
from constructs_lib.audit import OrganizationTrail, SecurityServices, trail_arn
from constructs_lib.log_archive import LogArchive
from stages.base import PlatformStack, PlatformStage
from stages.naming import bucket_name, log_archive_bucket_name, resource_name


class SecurityStage(PlatformStage):
    """The organisation's log archive, and the audit services the security account runs for
    the whole organisation as their delegated administrator."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_, config=config)
        archive = self.account_config.log_archive or LogArchiveConfig()
        account = self.account_config
        self.log_archive_stack = PlatformStack(
            self,
            "LogArchive",
            description=f"{config.organization.name} log archive: object-locked, KMS-encrypted",
        )
        self.log_archive = LogArchive(
            self.log_archive_stack,
            "LogArchive",
            bucket_name=log_archive_bucket_name(config),
            access_logs_bucket_name=bucket_name(
                config.organization.prefix, id_, "log-archive-access", account.id, account.region
            ),
            object_lock_mode=archive.object_lock_mode,
            object_lock_retention=Duration.days(archive.object_lock_days),
            glacier_transition_after=Duration.days(archive.glacier_after_days),
            expire_after=Duration.days(archive.expire_after_days),
        )
        audit = account.audit or Audit()
        org = config.organization
        trail_name = resource_name(org.prefix, "organization", "trail")
        _, management = config.account_with_role("management")
        # An organisation trail is owned by the management account even when the delegated
        # administrator creates it; admit the name under both, nothing else.
        self.log_archive.admit_organization_trail(
            trail_arns=[
                trail_arn("aws", account.region, owner, trail_name)
                for owner in (management.id, account.id)
            ]
        )
        self.log_archive.admit_config(organization_id=org.id)
        self.audit_stack = PlatformStack(
            self,
            "Audit",
            description=f"{org.name} audit: organisation trail, GuardDuty, Security Hub, "
            "Config, Access Analyzer",
        )
        self.audit_stack.add_stack_dependency(self.log_archive_stack, "writes to the archive")
        bucket, key = self.log_archive.bucket, self.log_archive.key
        OrganizationTrail(
            self.audit_stack,
            "Trail",
            trail_name=trail_name,
            bucket=bucket,
            key=key,
            data_events=audit.trail_data_events,
        )
        SecurityServices(
            self.audit_stack,
            "Services",
            name_prefix=org.prefix,
            bucket=bucket,
            key=key,
            standards=audit.security_hub_standards,
        )
