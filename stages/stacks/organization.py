"""The organisation's structure and guardrails, in the management account."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, get_args

from config import PlatformConfig
from config.model import Role
from constructs_lib.organization import guardrails
from constructs_lib.organization.structure import (
    ROOT,
    OrganizationGuardrails,
    ServiceControlPolicy,
)
from stages.naming import (
    SECURITY_SETUP,
    config_bucket_name,
    function_arn,
    log_archive_bucket_name,
    role_arn,
)
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

PIPELINE_STACKS = "Pipeline*"
"""The pipeline's stacks in shared-services (`pipelines.promotion.PIPELINE_STACK_ID` and its
per-region support stacks), deployed by its execution role."""


def platform_deploy_path(config: PlatformConfig) -> guardrails.DeployPath:
    """The deploy path's exact ARNs in every member account and the regions it is
    bootstrapped in, and the names of the stacks it deploys (`<account name>-<stack>`)."""
    members = [n for n, a in config.accounts.items() if a.role != "management"]
    return guardrails.deploy_path(
        [config.accounts[n].id for n in members],
        config.organization.allowed_regions,  # every account's `deployment_regions`
        [*(f"{n}-*" for n in members), PIPELINE_STACKS],
    )


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
        security_name, security = config.account_with_role("security")
        path = platform_deploy_path(config)
        setup_role = role_arn(config, security_name, SECURITY_SETUP)
        security_deployers = list(path.execution_in(security.id))
        self.guardrails = OrganizationGuardrails(
            self,
            "Guardrails",
            organization_id=org.id,
            root_id=org.root_id,
            units=units,
            policies=[
                ServiceControlPolicy(
                    f"{org.prefix}-baseline",
                    "No leaving the organisation, no disabling or blinding security services, "
                    "no root user, no access keys, no sharing outside the organisation, no "
                    "internet-facing load balancers",
                    guardrails.baseline(
                        path, setup_role=setup_role, security_deployers=security_deployers
                    ),
                    (ROOT,),
                ),
                ServiceControlPolicy(
                    f"{org.prefix}-deploy-path",
                    "The CDK bootstrap, the bootstrap role and the platform's stacks are "
                    "changed through the deploy path only",
                    guardrails.protect_deploy_path(path),
                    (ROOT,),
                ),
                ServiceControlPolicy(
                    f"{org.prefix}-regions",
                    f"Only {', '.join(org.allowed_regions)} (global services excepted)",
                    guardrails.deny_regions_outside(org.allowed_regions),
                    (ROOT,),
                ),
                ServiceControlPolicy(
                    f"{org.prefix}-log-archive",
                    "The log archive, its keys and the security setup cannot be deleted or "
                    "reconfigured by hand",
                    guardrails.protect_log_archive(
                        log_archive_bucket_name(config),
                        config_bucket_name=config_bucket_name(config),
                        account_id=security.id,
                        deployers=security_deployers,
                        setup_role=setup_role,
                        setup_function=function_arn(config, security_name, SECURITY_SETUP),
                    ),
                    (UNIT_FOR_ROLE["security"],),
                ),
            ],
            tag_policy=guardrails.tag_policy(config.tags, get_args(Role)),
            service_access=SECURITY_SERVICES,
            delegated_administrators={service: security.id for service in SECURITY_SERVICES},
            admin_regions=org.allowed_regions,
            # Every data account but sandbox copies its recovery points into the security
            # account's vault (stages/stacks/data.py, stages/security.py).
            cross_account_backup=any(
                account.role != "sandbox" and account.data is not None
                for account in config.accounts.values()
            ),
        )
