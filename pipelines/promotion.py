"""Translate the config's `pipeline` section into a PipelineStack over the built stages."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import App, Environment, Stack, Stage

from config import PlatformConfig
from config.deploy_path import guarded, pipeline_role_name, review_role_arn
from pipelines.pipeline_stack import (
    Deployment,
    PipelineStack,
    PromotionWave,
    ReplicationBucketStack,
)
from stages.naming import (
    HEALTH_CHECK,
    PIPELINE_HEALTH_CHECK,
    bucket_name,
    pipeline_chat_channels,
    role_arn,
    role_name,
    shared_services,
)

PIPELINE_STACK_ID = "Pipeline"


def first_wave_with_subzones(config: PlatformConfig) -> str | None:
    """The first wave deploying an account whose domain the parent zone delegates: its
    certificates validate only once the registrar delegates the parent zone."""
    if config.dns is None or config.pipeline is None:
        return None
    for wave in config.pipeline.waves:
        if any(config.accounts[name].domain is not None for name in wave.accounts):
            return wave.name
    return None


def build_pipeline(
    app: App,
    config: PlatformConfig,
    stages: Mapping[str, Stage],
    *,
    cli_version: str,
    assets_version: str | None = None,
) -> PipelineStack:
    """The pipeline in the shared-services account, deploying `stages` wave by wave."""
    assert config.pipeline is not None
    _, shared = config.account_with_role("shared-services")
    delegated_wave = first_wave_with_subzones(config)
    waves = [
        PromotionWave(
            name=wave.name,
            check_delegation_of=(
                config.dns.parent_zone
                if config.dns is not None and wave.name == delegated_wave
                else None
            ),
            approval=wave.approval,
            confirm_broadening=guarded(config, wave.accounts),
            deployments=[
                Deployment(
                    stage=stages[name],
                    health_check_role_arn=(
                        role_arn(config, name, HEALTH_CHECK) if wave.health_check else None
                    ),
                    soak_minutes=config.accounts[name].monitoring.soak_minutes,
                    alarm_regions=tuple(config.deployment_regions(name)[1:]),
                    review_role_arn=review_role_arn(config, name),
                )
                for name in wave.accounts
            ],
        )
        for wave in config.pipeline.waves
    ]
    shared_name = shared_services(config)
    regions = sorted(
        {
            stack.region
            for wave in config.pipeline.waves
            for name in wave.accounts
            for stack in stages[name].node.children
            if isinstance(stack, Stack) and stack.region != shared.region
        }
    )
    prefix = config.organization.prefix
    replication = [
        ReplicationBucketStack(
            app,
            f"{PIPELINE_STACK_ID}-{region}",
            env=Environment(account=shared.id, region=region),
            description=f"{config.organization.name} platform pipeline: artifacts in {region}",
            bucket_name=bucket_name(prefix, shared_name, "pipeline", shared.id, region),
            key_alias=f"alias/{prefix}-pipeline-artifacts",
        )
        for region in regions
    ]
    pipeline = PipelineStack(
        app,
        PIPELINE_STACK_ID,
        env=Environment(account=shared.id, region=shared.region),
        description=f"{config.organization.name} platform pipeline: commit to production",
        repository=config.pipeline.repository,
        branch=config.pipeline.branch,
        connection_arn=config.pipeline.connection_arn,
        cli_version=cli_version,
        assets_version=assets_version,
        waves=waves,
        health_check_role_name=role_name(config, shared_services(config), PIPELINE_HEALTH_CHECK),
        role_prefix=pipeline_role_name(config, ""),
        notification_emails=config.pipeline.notification_emails,
        chat_channels=pipeline_chat_channels(config),
        replication=replication,
    )
    for support in replication:
        pipeline.add_stack_dependency(support, "the pipeline's artifact bucket in that region")
    return pipeline
