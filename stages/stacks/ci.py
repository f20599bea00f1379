"""Keyless CI roles of one account, from config's `ci` section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecr as ecr

from config.deploy_path import review_role_name, review_role_trusts
from config.model import CiRepository
from config.rules import ci_role_name
from constructs_lib.delivery.github_ci import GitHubActionsRole, ReviewRole, github_provider
from constructs_lib.shared.encryption import platform_key
from stages.naming import cluster_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class CiStack(PlatformStack):
    """The account's GitHub Actions OIDC provider, its read-only review role (pull-request
    diffs of the platform's repository and the pipeline's review steps, where a pipeline is
    configured) and a role per repository that needs the account: in shared-services, push
    to its `push` repositories and decrypt with the CI secrets key
    (`alias/<prefix>/ci-secrets`, made when some repository may); elsewhere, describe the
    account's cluster. Repositories and clusters are named deterministically,
    so the roles need no reference to the stacks that hold them."""

    def __init__(
        self, scope: PlatformStage, id_: str, *, repositories: Sequence[CiRepository]
    ) -> None:
        config, name, account = scope.config, scope.node.id, scope.account_config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {account.role} CI: GitHub Actions roles",
        )
        ci = config.ci
        provider = github_provider(
            self, existing=ci is not None and name in ci.existing_oidc_provider_accounts
        )
        if config.pipeline is not None:
            ReviewRole(
                self,
                "Review",
                provider=provider,
                role_name=review_role_name(config, name),
                repository=config.pipeline.repository,
                pipeline_account=config.account_with_role("shared-services")[1].id,
                pipeline_role_arns=review_role_trusts(config, name),
            )
        pushes = account.role == "shared-services"
        secrets_key = (
            platform_key(
                self,
                "SecretsKey",
                alias=f"{config.organization.prefix}/ci-secrets",
                description="Encrypts CI secrets kept in repositories (e.g. SOPS); CI roles "
                "with decrypt_secrets may decrypt",
                removal_policy=RemovalPolicy.RETAIN,
            )
            if pushes and any(repo.decrypt_secrets for repo in repositories)
            else None
        )
        for repo in repositories:
            GitHubActionsRole(
                self,
                repo.repository.replace("/", "-"),
                provider=provider,
                role_name=ci_role_name(config.organization.prefix, repo.repository),
                repository=repo.repository,
                branches=repo.branches,
                push_repositories=[
                    ecr.Repository.from_repository_name(
                        self, f"{repo.repository}-{image}", config.image_repository(image)
                    )
                    for image in (repo.push if pushes else ())
                ],
                cluster_arns=[
                    self.format_arn(
                        service="eks", resource="cluster", resource_name=cluster_name(config, name)
                    )
                ]
                if name in repo.describe_clusters
                else [],
                secrets_key=secrets_key if pushes and repo.decrypt_secrets else None,
            )
