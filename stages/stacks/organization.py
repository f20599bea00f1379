"""The organisation's structure and guardrails, in the management account."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, get_args

from config.model import Role
from constructs_lib.organization import guardrails
from constructs_lib.organization.structure import OrganizationGuardrails, ServiceControlPolicy
from stages.naming import log_archive_bucket_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage

UNIT_FOR_ROLE = MappingProxyType(
    {
        "security": "Security",
        "shared-services": "Infrastructure",
        "dev": "Workloads",
        "staging": "Workloads",
        "prod": "Workloads",
        "sandbox": "Sandbox",
    }
)
"""The OU each account role belongs in (the management account stays at the root: SCPs do
not apply to it)."""

SECURITY_SERVICES = (
    "cloudtrail.amazonaws.com",
    "guardduty.amazonaws.com",
    "securityhub.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "access-analyzer.amazonaws.com",
)
"""Given trusted access, with the security account as their delegated administrator."""


class OrganizationStack(PlatformStack):
    """OUs, service control policies, the tag policy, trusted access and delegated
    administrators."""

    def __init__(self, scope: PlatformStage, id_: str) -> None:
        config = scope.config
        org = config.organization
        super().__init__(
            scope,
            id_,
            description=f"{org.name} organisation: OUs, service control policies, tag policy, "
            "delegated administrators",
        )
        units: dict[str, list[str]] = {}
        for account in config.accounts.values():
            if account.role in UNIT_FOR_ROLE:
                units.setdefault(UNIT_FOR_ROLE[account.role], []).append(account.id)
        everywhere = tuple(units)
        _, security = config.account_with_role("security")
        self.guardrails = OrganizationGuardrails(
            self,
            "Guardrails",
            organization_id=org.id,
            root_id=org.root_id,
            units=units,
            policies=[
                ServiceControlPolicy(
                    f"{org.prefix}-baseline",
                    "No leaving the organisation, no disabling security services, no root "
                    "user, no access keys",
                    guardrails.baseline(),
                    everywhere,
                ),
                ServiceControlPolicy(
                    f"{org.prefix}-regions",
                    f"Only {', '.join(org.allowed_regions)} (global services excepted)",
                    guardrails.deny_regions_outside(org.allowed_regions),
                    everywhere,
                ),
                ServiceControlPolicy(
                    f"{org.prefix}-log-archive",
                    "The log archive cannot be deleted or reconfigured by hand",
                    guardrails.protect_log_archive(log_archive_bucket_name(config)),
                    (UNIT_FOR_ROLE["security"],),
                ),
            ],
            tag_policy=guardrails.tag_policy(config.tags, get_args(Role)),
            service_access=SECURITY_SERVICES,
            delegated_administrators={service: security.id for service in SECURITY_SERVICES},
        )
