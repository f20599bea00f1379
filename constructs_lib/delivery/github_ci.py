"""Keyless CI: GitHub Actions assumes IAM roles through OIDC, so no access key exists."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from policies.wildcards import acknowledge_wildcards

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


def github_provider(
    scope: Construct, id_: str = "GitHubActions", *, existing: bool = False
) -> iam.IOidcProvider:
    """The account's OIDC identity provider for GitHub Actions (one per account): created, or,
    with `existing`, the one the account already has (IAM refuses a second provider for the
    same URL: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html)."""
    if existing:
        arn = Stack.of(scope).format_arn(
            service="iam", region="", resource="oidc-provider", resource_name=GITHUB_ISSUER
        )
        return iam.OidcProviderNative.from_oidc_provider_arn(scope, id_, arn)
    return iam.OidcProviderNative(scope, id_, url=f"https://{GITHUB_ISSUER}", client_ids=[AUDIENCE])


class GitHubActionsRole(Construct):
    """A role that workflows of one GitHub `repository` assume, only from `branches`
    (`sub` = `repo:<owner>/<name>:ref:refs/heads/<branch>`; pull requests, tags, forks and
    other repositories are refused), for at most an hour.

    It may push to `push_repositories`, describe `cluster_arns` and decrypt with
    `secrets_key`; nothing else.
    Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: iam.IOidcProvider,
        role_name: str,
        repository: str,
        branches: Sequence[str],
        push_repositories: Sequence[ecr.IRepository] = (),
        cluster_arns: Sequence[str] = (),
        secrets_key: kms.IKey | None = None,
    ) -> None:
        """
        :param secrets_key: a key the workflows may decrypt with (not encrypt); default none.
        """
        super().__init__(scope, id_)
        if not branches:
            raise ValueError(f"branches: {repository} needs at least one; got none")
        if any("*" in branch for branch in branches):
            raise ValueError(f"branches: wildcards would admit any branch; got {list(branches)}")
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=f"GitHub Actions of {repository} on {', '.join(branches)}",
            max_session_duration=Duration.hours(1),
            assumed_by=_workflows_of(provider, repository, branches),
        )
        statements = _statements(push_repositories, cluster_arns, secrets_key)
        if not statements:
            raise ValueError(f"{repository}: the role would grant nothing")
        policy = iam.ManagedPolicy(
            self,
            "Permissions",
            roles=[self.role],
            statements=statements,
            description=f"What {repository}'s workflows may do",
        )
        if push_repositories:
            acknowledge_wildcards(
                policy,
                {
                    "EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions; "
                    "pushing is limited to the named repositories."
                },
            )


def _workflows_of(
    provider: iam.IOidcProvider, repository: str, branches: Sequence[str]
) -> iam.WebIdentityPrincipal:
    """GitHub's OIDC tokens for this audience, from workflows of `repository` on `branches`."""
    return iam.WebIdentityPrincipal(
        provider.oidc_provider_arn,
        conditions={
            "StringEquals": {
                f"{GITHUB_ISSUER}:aud": AUDIENCE,
                f"{GITHUB_ISSUER}:sub": [
                    f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches
                ],
            }
        },
    )


def _statements(
    push_repositories: Sequence[ecr.IRepository],
    cluster_arns: Sequence[str],
    secrets_key: kms.IKey | None,
) -> list[iam.PolicyStatement]:
    """Push to the repositories (with the login that needs "*"), describe the clusters,
    decrypt with the key: only what was asked for."""
    statements = []
    if push_repositories:
        statements += [
            iam.PolicyStatement(
                sid="EcrLogin",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="EcrPush",
                actions=list(PUSH_ACTIONS),
                resources=[r.repository_arn for r in push_repositories],
            ),
        ]
    if cluster_arns:
        statements.append(
            iam.PolicyStatement(
                sid="EksDescribe", actions=["eks:DescribeCluster"], resources=list(cluster_arns)
            )
        )
    if secrets_key is not None:
        statements.append(
            iam.PolicyStatement(
                sid="DecryptSecrets", actions=["kms:Decrypt"], resources=[secrets_key.key_arn]
            )
        )
    return statements


REVIEW_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary",
    "cloudformation:ListStackResources",
)
"""What `cdk diff --method template` reads: the deployed stacks and their templates."""


class ReviewRole(Construct):
    """The account's read-only role for diffs: pull-request workflows of `repository`
    (`sub` = `repo:<owner>/<name>:pull_request`) and the pipeline roles `pipeline_role_arns`
    (exact ARNs, `aws:PrincipalArn`) may assume it. It may read the account's CloudFormation
    stacks and templates, nothing else: no data, no parameters, no secrets.
    Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: iam.IOidcProvider,
        role_name: str,
        repository: str,
        pipeline_account: str,
        pipeline_role_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        pull_requests = iam.WebIdentityPrincipal(
            provider.oidc_provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_ISSUER}:aud": AUDIENCE,
                    f"{GITHUB_ISSUER}:sub": f"repo:{repository}:pull_request",
                }
            },
        )
        principals = [pull_requests] + (
            [
                iam.AccountPrincipal(pipeline_account).with_conditions(
                    {"ArnEquals": {"aws:PrincipalArn": list(pipeline_role_arns)}}
                )
            ]
            if pipeline_role_arns
            else []
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=f"Read-only diffs: pull requests of {repository} and the pipeline's "
            "review steps",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.CompositePrincipal(*principals),
        )
        policy = iam.ManagedPolicy(
            self,
            "Permissions",
            roles=[self.role],
            description="Read CloudFormation stacks and templates, nothing else",
            statements=[
                iam.PolicyStatement(
                    sid="ReadStacksAndTemplates",
                    actions=list(REVIEW_ACTIONS),
                    resources=[
                        Stack.of(self).format_arn(
                            service="cloudformation",
                            region="*",
                            resource="stack",
                            resource_name="*",
                        )
                    ],
                )
            ],
        )
        acknowledge_wildcards(
            policy,
            {
                "ReadStacksAndTemplates": "A diff reads every stack of the account, in each "
                "region it deploys to, including stacks added by the change under review; the "
                "actions are read-only (describe, get, list) and reach nothing but stacks."
            },
        )
