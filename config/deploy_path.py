"""Who may deploy into which account: the principals of the deploy path, by exact ARN.

Plain functions of the config, shared by the pipeline (which names its roles so), the CI
stacks (whose review roles trust the pipeline's review role) and `make bootstrap` (whose
bootstrap roles trust exactly these principals, `aws:PrincipalArn`, instead of an account
root). docs/security.md has the threat model.
"""

from __future__ import annotations

from typing import Literal

from config.model import PlatformConfig
from facts.cdk import BOOTSTRAP_ROLE_NAME

BootstrapRole = Literal["deploy", "file-publishing", "image-publishing", "lookup"]
BOOTSTRAP_ROLES: tuple[BootstrapRole, ...] = (
    "deploy",
    "file-publishing",
    "image-publishing",
    "lookup",
)
"""The bootstrap roles another principal assumes (CloudFormation assumes cfn-exec itself)."""

PIPELINE = "pipeline"
"""CodePipeline's service role: it assumes each target account's deploy role for the
CloudFormation actions."""
FILE_ASSETS = "pipeline-file-assets"
"""The asset-publishing projects' role: it assumes each account's file-publishing role."""
IMAGE_ASSETS = "pipeline-image-assets"
SELF_MUTATION = "pipeline-self-mutation"
"""Self-mutation: `cdk deploy` of the pipeline stack in shared-services."""
REVIEW_ROLE = "review"
"""The read-only role in every account (pull-request diffs, the pipeline's review step)."""
UNPROTECTED_ROLES = frozenset({"dev", "sandbox"})
"""Account roles whose stacks may be deleted without first lifting termination protection
(elsewhere the pipeline's protection step turns it on, through the account's deploy role)."""
GUARDED_ROLES = frozenset({"security", "shared-services"})
"""Account roles whose waves stop for approval when IAM permissions broaden: the log archive
and the security services, and the pipeline's own account."""


def _name(config: PlatformConfig, account_name: str, purpose: str) -> str:
    return f"{config.organization.prefix}-{account_name}-{purpose}"


def pipeline_role_name(config: PlatformConfig, purpose: str) -> str:
    """The name of one of the pipeline's roles (in shared-services): `purpose` is one of the
    constants above, or `protect_purpose(account)`."""
    shared = config.account_with_role("shared-services")[0]
    return _name(config, shared, purpose)


def pipeline_role_arn(config: PlatformConfig, purpose: str) -> str:
    _, shared = config.account_with_role("shared-services")
    return f"arn:aws:iam::{shared.id}:role/{pipeline_role_name(config, purpose)}"


def protect_purpose(account_name: str) -> str:
    """The termination-protection step of an account: assumes that account's deploy role."""
    return f"pipeline-protect-{account_name}"


def review_purpose(wave_name: str) -> str:
    """The review step before a wave's approval: assumes its accounts' read-only review
    roles."""
    return f"pipeline-review-{wave_name}"


def review_role_trusts(config: PlatformConfig, account_name: str) -> list[str]:
    """The pipeline roles the account's review role trusts: the review steps of the
    waves that deploy it and stop for approval (always, or when IAM broadens)."""
    if config.pipeline is None:
        return []
    return [
        pipeline_role_arn(config, review_purpose(wave.name))
        for wave in config.pipeline.waves
        if account_name in wave.accounts and (wave.approval or guarded(config, wave.accounts))
    ]


def review_role_name(config: PlatformConfig, account_name: str) -> str:
    return _name(config, account_name, REVIEW_ROLE)


def review_role_arn(config: PlatformConfig, account_name: str) -> str:
    account = config.accounts[account_name]
    return f"arn:aws:iam::{account.id}:role/{review_role_name(config, account_name)}"


def bootstrap_path_arn(config: PlatformConfig, account_name: str) -> str:
    """The role a platform administrator bootstraps (and, outside the pipeline, deploys)
    a member account through."""
    return f"arn:aws:iam::{config.accounts[account_name].id}:role/{BOOTSTRAP_ROLE_NAME}"


def guarded(config: PlatformConfig, wave_accounts: tuple[str, ...]) -> bool:
    """Whether a wave deploys an account whose IAM broadening needs a person's approval."""
    return any(config.accounts[name].role in GUARDED_ROLES for name in wave_accounts)


def trusted_principals(
    config: PlatformConfig, account_name: str, role: BootstrapRole
) -> list[str] | None:
    """The principals (ARNs) that may assume bootstrap role `role` of `account_name`, or None
    where the bootstrap keeps CDK's default trust of the account itself: the management
    account (its administrators are the organisation's; no SCP applies there) and accounts
    no pipeline deploys (sandbox, or every account without a pipeline), where people deploy
    with their own roles."""
    account = config.accounts[account_name]
    if account.role == "management" or config.pipeline is None:
        return None
    pipelined = config.pipelined_accounts()
    home = account.role == "shared-services"
    if account_name not in pipelined and not home:
        return None
    purposes: list[str] = []
    if account_name in pipelined:
        purposes += {
            "deploy": [PIPELINE]
            + ([] if account.role in UNPROTECTED_ROLES else [protect_purpose(account_name)]),
            "file-publishing": [FILE_ASSETS],
            "image-publishing": [IMAGE_ASSETS],
            "lookup": [],
        }[role]
    if home:
        purposes.append(SELF_MUTATION)
    return [
        bootstrap_path_arn(config, account_name),
        *(pipeline_role_arn(config, purpose) for purpose in purposes),
    ]
