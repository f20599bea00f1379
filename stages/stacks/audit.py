"""The audit services the security account runs for the whole organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from config.model import Audit
from constructs_lib.operations.security_findings import SecurityFindings
from constructs_lib.organization.audit import OrganizationTrail, SecurityServices
from constructs_lib.organization.log_archive import LogArchive
from constructs_lib.shared.encryption import log_group_key
from stages.naming import (
    SECURITY_SETUP,
    role_name,
    security_channels,
    security_chat_channels,
    security_findings_topic_name,
)
from stages.platform_stack import PlatformStack
from stages.stacks.log_archive import organization_trail_name

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


TRAIL_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
"""The organisation trail's CloudWatch Logs copy feeds the sign-in alarms and quick searches;
the object-locked archive is the record."""


class AuditStack(PlatformStack):
    """The organisation trail, GuardDuty, Security Hub, Config and Access Analyzer, writing
    to `log_archive` (which must deploy first); the trail's CloudWatch Logs copy, and the
    security findings and sign-in alarms of the whole organisation on the security channel's
    topic (`SecurityFindings`)."""

    def __init__(self, scope: PlatformStage, id_: str, *, log_archive: LogArchive) -> None:
        config = scope.config
        org = config.organization
        audit = scope.account_config.audit or Audit()
        super().__init__(
            scope,
            id_,
            description=f"{org.name} audit: organisation trail, GuardDuty, Security Hub, "
            "Config, Access Analyzer, security findings to the security channel",
        )
        bucket, key = log_archive.bucket, log_archive.key
        trail_logs = logs.LogGroup(
            self,
            "TrailLogs",
            encryption_key=log_group_key(
                self, "TrailLogsKey", description="Encrypts the organisation trail's log group"
            ),
            retention=TRAIL_LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        OrganizationTrail(
            self,
            "Trail",
            trail_name=organization_trail_name(org.prefix),
            bucket=bucket,
            key=key,
            data_events=audit.trail_data_events,
            log_group=trail_logs,
        )
        SecurityFindings(
            self,
            "SecurityFindings",
            topic_name=security_findings_topic_name(config),
            display_name=f"{org.name} security findings",
            emails=[e for c in security_channels(config).values() for e in c.emails],
            chat_channels=security_chat_channels(config),
            trail_log_group=trail_logs,
        )
        SecurityServices(
            self,
            "Services",
            name_prefix=org.prefix,
            bucket=log_archive.config_bucket,
            key=key,
            standards=audit.security_hub_standards,
            linked_regions=[r for r in org.allowed_regions if r != scope.account_config.region],
            setup_name=role_name(config, scope.node.id, SECURITY_SETUP),
        )
