"""Build the whole organisation: one stage per account of the config, and the policy gate."""

from __future__ import annotations

from types import MappingProxyType

from aws_cdk import App

from config import PlatformConfig
from policies.gate import apply_policy_gate
from stages.base import PlatformStage
from stages.management import ManagementStage
from stages.security import SecurityStage
from stages.shared_services import SharedServicesStage
from stages.workload import WorkloadStage

STAGE_FOR_ROLE = MappingProxyType(
    {
        "management": ManagementStage,
        "security": SecurityStage,
        "shared-services": SharedServicesStage,
        "dev": WorkloadStage,
        "staging": WorkloadStage,
        "prod": WorkloadStage,
        "sandbox": WorkloadStage,
    }
)


def build_platform(app: App, config: PlatformConfig) -> dict[str, PlatformStage]:
    """Add every account's stage to `app` (each exactly once) and gate the app on policy.

    Stage ids are the account names of the config, so `cdk deploy 'dev/*'` deploys the dev
    account's stacks.
    """
    stages = {
        name: STAGE_FOR_ROLE[account.role](app, name, config=config)
        for name, account in config.accounts.items()
    }
    for stage in stages.values():
        stage.tag_custom_resource_providers()
    apply_policy_gate(app)
    return stages
