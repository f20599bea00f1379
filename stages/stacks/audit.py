"""The audit services the security account runs for the whole organisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import Audit
from constructs_lib.organization.audit import OrganizationTrail, SecurityServices
from constructs_lib.organization.log_archive import LogArchive
from stages.naming import SECURITY_SETUP, role_name
from stages.platform_stack import PlatformStack
from stages.stacks.log_archive import organization_trail_name

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class AuditStack(PlatformStack):
    """The organisation trail, GuardDuty, Security Hub, Config and Access Analyzer, writing
    to `log_archive` (which must deploy first)."""

    def __init__(self, scope: PlatformStage, id_: str, *, log_archive: LogArchive) -> None:
        config = scope.config
        org = config.organization
        audit = scope.account_config.audit or Audit()
        super().__init__(
            scope,
            id_,
            description=f"{org.name} audit: organisation trail, GuardDuty, Security Hub, "
            "Config, Access Analyzer",
        )
        bucket, key = log_archive.bucket, log_archive.key
        OrganizationTrail(
            self,
            "Trail",
            trail_name=organization_trail_name(org.prefix),
            bucket=bucket,
            key=key,
            data_events=audit.trail_data_events,
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
