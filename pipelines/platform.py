"""Build the whole organisation: one stage per account of the config, and the policy gate."""

from __future__ import annotations

from types import MappingProxyType

from aws_cdk import App, Tags

from config import PlatformConfig
from pipelines.promotion import build_pipeline
from policies.gate import apply_policy_gate
from stages.management import ManagementStage
from stages.platform_stage import PlatformStage
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


def build_platform(
    app: App, config: PlatformConfig, *, cdk_cli_version: str, cdk_assets_version: str | None = None
) -> dict[str, PlatformStage]:
    """Add every account's stage to `app` (each exactly once), the pipeline that promotes
    them when config has one, and the policy gate over all of it.

    Stages stay at the top level either way, so `cdk deploy 'dev/*'` always names the dev
    account's stacks; the pipeline's waves deploy those same stages (sandbox in none).
    `cdk_cli_version` is the CLI the pipeline's self-mutation uses (package.json's pin).
    """
    stages: dict[str, PlatformStage] = {
        name: STAGE_FOR_ROLE[account.role](app, name, config=config)
        for name, account in config.accounts.items()
    }
    if config.pipeline is not None:
        build_pipeline(
            app, config, stages, cli_version=cdk_cli_version, assets_version=cdk_assets_version
        )
        _, shared = config.account_with_role("shared-services")
        # The pipeline's stacks (and its artifact buckets in other regions) are top-level:
        # tags added to the app reach them, and stop at every stage (aspects do not cross a
        # Stage; each stage tags itself for its own account).
        for key, value in {**config.tags, "Environment": shared.role}.items():
            Tags.of(app).add(key, value)
    apply_policy_gate(
        app,
        packs=config.compliance.packs,
        required_tags=(*config.tags, "Environment"),
        destroyable_assemblies=[
            f"assembly-{name}"
            for name, stage in stages.items()
            if isinstance(stage, WorkloadStage) and stage.allows_data_loss
        ],
    )
    return stages
