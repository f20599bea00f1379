"""The container registry in shared-services and the keyless GitHub Actions roles."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam

from constructs_lib.delivery.github_ci import GitHubActionsRole, github_provider
from tests.conftest import new_stack
from tests.helpers import by_sid, props
from tests.test_config import broken, problems_of

WORKLOADS = ("444444444444", "555555555555", "666666666666", "777777777777")


@pytest.fixture(scope="module")
def registry(organisation):
    return organisation.stacks["shared-services"]["Registry"]


def test_repositories_scan_on_push_keep_tags_and_use_a_key(registry, sample_config):
    repositories = {
        props(r)["RepositoryName"]: r for r in registry.of_type("AWS::ECR::Repository").values()
    }
    # the registry's own and the teams' images (tests/test_teams_aws.py)
    assert set(repositories) == {
        f"exco/{name}" for name in sample_config.registry_repository_names()
    }
    assert {"exco/checkout/checkout-api", "exco/reports/reports-worker"} <= set(repositories)
    (key_id,) = registry.of_type("AWS::KMS::Key")
    for repository in repositories.values():
        p = props(repository)
        assert p["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert p["ImageTagMutability"] == "IMMUTABLE"
        assert p["EncryptionConfiguration"]["EncryptionType"] == "KMS"
        assert p["EncryptionConfiguration"]["KmsKey"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert repository["DeletionPolicy"] == "Retain"
        rules = json.loads(p["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert [(r["selection"]["tagStatus"], r["selection"]["countType"]) for r in rules] == [
            ("untagged", "sinceImagePushed"),
            ("any", "imageCountMoreThan"),
        ]


def test_workload_accounts_of_the_organisation_may_pull(registry, sample_config):
    for repository in registry.of_type("AWS::ECR::Repository").values():
        (statement,) = props(repository)["RepositoryPolicyText"]["Statement"]
        assert sorted(statement["Action"]) == [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ]
        principals = json.dumps(statement["Principal"])
        assert all(account in principals for account in WORKLOADS)
        assert "111111111111" not in principals  # management does not run images
        assert statement["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": sample_config.organization.id}
        }
    (key,) = registry.of_type("AWS::KMS::Key").values()
    (pull,) = (s for s in props(key)["KeyPolicy"]["Statement"] if s.get("Sid") == "PullThroughEcr")
    assert pull["Condition"]["StringLike"] == {"kms:ViaService": "ecr.*.amazonaws.com"}


def ci_roles(stack) -> dict[str, dict]:
    """The CI roles of a Ci stack (not its review role: tests/test_pull_request_review.py)."""
    return {
        props(r)["RoleName"]: r
        for r in stack.of_type("AWS::IAM::Role").values()
        if not props(r)["RoleName"].endswith("-review")
    }


def policy_of(stack, role_logical: str) -> dict:
    (policy,) = (
        props(p)
        for p in stack.of_type("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_logical} in props(p)["Roles"]
    )
    return by_sid(policy["PolicyDocument"]["Statement"])


def test_ci_roles_trust_only_their_repository_and_branches(organisation):
    stack = organisation.stacks["shared-services"]["Ci"]
    (provider,) = stack.of_type("AWS::IAM::OIDCProvider").values()
    assert props(provider)["Url"] == "https://token.actions.githubusercontent.com"
    assert props(provider)["ClientIdList"] == ["sts.amazonaws.com"]
    roles = ci_roles(stack)
    assert set(roles) == {
        "exco-ci-example-corp-web",
        "exco-ci-example-corp-api",
        # the teams' repositories (push to their images only: tests/test_teams_aws.py)
        "exco-ci-example-co-checkout",
        "exco-ci-example-co-reports",
    }
    (statement,) = props(roles["exco-ci-example-corp-web"])["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:example-corp/web:ref:refs/heads/main"
            ],
        }
    }
    assert props(roles["exco-ci-example-corp-web"])["MaxSessionDuration"] == 3600


def test_ci_roles_push_only_to_their_repositories(organisation):
    stack = organisation.stacks["shared-services"]["Ci"]
    logical = {props(r)["RoleName"]: k for k, r in stack.of_type("AWS::IAM::Role").items()}
    for role, images, extra in (
        ("exco-ci-example-corp-web", ["web"], set()),
        ("exco-ci-example-corp-api", ["api", "worker"], {"DecryptSecrets"}),
    ):
        sids = policy_of(stack, logical[role])
        assert set(sids) == {"EcrLogin", "EcrPush", *extra}
        pushed = json.dumps(sids["EcrPush"]["Resource"])
        for image in images:
            assert f"repository/exco/{image}" in pushed
        assert pushed.count("repository/") == len(images)
        assert "ecr:PutImage" in sids["EcrPush"]["Action"]


def test_a_workload_account_holds_a_describe_only_role(organisation):
    stack = organisation.stacks["dev"]["Ci"]
    ((logical, role),) = (
        (k, r) for k, r in stack.of_type("AWS::IAM::Role").items() if r in ci_roles(stack).values()
    )
    assert props(role)["RoleName"] == "exco-ci-example-corp-web"
    sids = policy_of(stack, logical)
    assert set(sids) == {"EksDescribe"}
    assert sids["EksDescribe"]["Action"] == "eks:DescribeCluster"
    assert "cluster/exco-dev" in json.dumps(sids["EksDescribe"]["Resource"])
    assert ci_roles(organisation.stacks["staging"]["Ci"]) == {}  # only its review role


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [("ci.repositories.0.push", ["frontend"])],
            "ci.repositories.0.push: not in registry.repositories (api, web, worker) (got "
            "'frontend')",
        ),
        (
            [("ci.repositories.0.describe_clusters", ["qa"])],
            "ci.repositories.0.describe_clusters: no such account (got 'qa')",
        ),
        (
            [("ci.repositories.0.describe_clusters", ["security"])],
            "ci.repositories.0.describe_clusters: the account has no cluster (got 'security')",
        ),
        (
            [("ci.repositories.0.push", []), ("ci.repositories.0.describe_clusters", [])],
            "ci.repositories.0: grants nothing: give it push, describe_clusters or decrypt_secrets",
        ),
    ],
)
def test_bad_ci_config_is_refused_with_its_path(sample_raw, edits, expected):
    assert problems_of(broken(sample_raw, *edits)) == [expected]


def test_a_branch_wildcard_is_refused():
    stack = new_stack()
    with pytest.raises(ValueError, match="wildcards would admit any branch"):
        GitHubActionsRole(
            stack,
            "Role",
            provider=github_provider(stack),
            role_name="x",
            repository="o/r",
            branches=["release/*"],
            cluster_arns=["arn:aws:eks:eu-west-1:123456789012:cluster/x"],
        )
    assert isinstance(github_provider(new_stack()), iam.OidcProviderNative)


def test_only_chosen_roles_may_decrypt_ci_secrets_and_none_may_encrypt(organisation):
    stack = organisation.stacks["shared-services"]["Ci"]
    ((key_id, key),) = stack.of_type("AWS::KMS::Key").items()
    assert props(key)["EnableKeyRotation"] is True
    (alias,) = stack.of_type("AWS::KMS::Alias").values()
    assert props(alias)["AliasName"] == "alias/exco/ci-secrets"
    logical = {props(r)["RoleName"]: k for k, r in stack.of_type("AWS::IAM::Role").items()}
    api = policy_of(stack, logical["exco-ci-example-corp-api"])["DecryptSecrets"]
    assert api["Action"] == "kms:Decrypt"
    assert api["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert "DecryptSecrets" not in policy_of(stack, logical["exco-ci-example-corp-web"])


def test_an_account_that_already_has_the_github_provider_trusts_it_instead():
    """IAM allows one OIDC provider per URL in an account: creating a second fails with
    EntityAlreadyExists, so config names the accounts that have one and their roles trust it."""
    stack = new_stack()
    provider = github_provider(stack, existing=True)
    GitHubActionsRole(
        stack,
        "Role",
        provider=provider,
        role_name="ci",
        repository="example-corp/web",
        branches=["main"],
        cluster_arns=["arn:aws:eks:eu-west-1:123456789012:cluster/exco-dev"],
    )
    template = stack.node.root.synth().get_stack_by_name(stack.stack_name).template
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::OIDCProvider"]
    (role,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["Federated"] == (
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    )


def test_existing_providers_are_named_by_account(sample_raw):
    raw = broken(sample_raw, ("ci.existing_oidc_provider_accounts", ["dev", "qa"]))
    assert problems_of(raw) == [
        "ci.existing_oidc_provider_accounts.1: no account of that name in accounts (got 'qa')"
    ]
