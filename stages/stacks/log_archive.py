"""The organisation's log archive, in the security account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration

from config.model import LogArchive as LogArchiveConfig
from constructs_lib.organization.audit import trail_arn
from constructs_lib.organization.log_archive import LogArchive
from stages.naming import (
    bucket_name,
    config_bucket_name,
    log_archive_bucket_name,
    resource_name,
)
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


def organization_trail_name(prefix: str) -> str:
    """The organisation trail's name, which the archive admits and the Audit stack creates."""
    return resource_name(prefix, "organization", "trail")


class LogArchiveStack(PlatformStack):
    """The object-locked, KMS-encrypted archive the organisation trail writes to (under either
    owner), and beside it the bucket every Config recorder of the organisation delivers to."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config, account = scope.config, scope.account_config
        org = config.organization
        archive = account.log_archive or LogArchiveConfig()
        super().__init__(
            scope,
            id_,
            description=f"{org.name} log archive: object-locked, KMS-encrypted",
        )
        self.log_archive = LogArchive(
            self,
            "LogArchive",
            bucket_name=log_archive_bucket_name(config),
            config_bucket_name=config_bucket_name(config),
            access_logs_bucket_name=bucket_name(
                org.prefix, scope.node.id, "log-archive-access", account.id, account.region
            ),
            object_lock_mode=archive.object_lock_mode,
            object_lock_retention=Duration.days(archive.object_lock_days),
            glacier_transition_after=Duration.days(archive.glacier_after_days),
            expire_after=Duration.days(archive.expire_after_days),
        )
        trail_name = organization_trail_name(org.prefix)
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
