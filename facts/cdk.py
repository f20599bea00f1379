"""Facts of the CDK bootstrap and the deploy path that the guardrails, the stages and the
bootstrap tool share."""

from __future__ import annotations

CDK_QUALIFIER = "hnb659fds"
"""The CDK bootstrap qualifier (the default), which names the bootstrap roles."""

CDK_NAME_PREFIX = f"cdk-{CDK_QUALIFIER}-"
"""Every role and managed policy the CDK bootstrap creates starts with this."""

BOOTSTRAP_ROLE_NAME = "OrganizationAccountAccessRole"
"""The bootstrap path: the role AWS Organizations creates in every member account (trusting
the management account), through which a platform administrator runs `make bootstrap`. Only
it may create or change what starts with `CDK_NAME_PREFIX` (service control policy)."""

PERMISSIONS_BOUNDARY_NAME = f"{CDK_NAME_PREFIX}permissions-boundary"
"""The managed policy (one per account, created by the bootstrap in the account's own region)
that every role the platform's stacks create carries as its permissions boundary."""


def cdk_role_name(kind: str, account: str, region: str) -> str:
    """A CDK bootstrap role: `kind` is deploy, cfn-exec, file-publishing, image-publishing or
    lookup."""
    return f"{CDK_NAME_PREFIX}{kind}-role-{account}-{region}"


def cdk_role_arn(kind: str, account: str, region: str) -> str:
    return f"arn:aws:iam::{account}:role/{cdk_role_name(kind, account, region)}"


def execution_policy_name(region: str) -> str:
    """The generated CloudFormation execution policy of an account in `region` (least
    privilege for the resource types its stacks hold there)."""
    return f"{CDK_NAME_PREFIX}cfn-exec-policy-{region}"
