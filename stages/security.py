"""The security (audit and log archive) account."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from config import PlatformConfig
from config.model import LogArchive as LogArchiveConfig
from constructs_lib.log_archive import LogArchive
from stages.base import PlatformStack, PlatformStage
from stages.naming import bucket_name


def log_archive_bucket_name(config: PlatformConfig) -> str:
    """The archive's name, which every account's trail and Config delivery will write to."""
    name, account = config.account_with_role("security")
    return bucket_name(config.organization.prefix, name, "log-archive", account.id, account.region)


class SecurityStage(PlatformStage):
    """The organisation's log archive (trail, GuardDuty and friends come next)."""

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
