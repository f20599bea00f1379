"""Teams on the AWS side: each team's pod role reaches exactly its data, its secrets role only
its secrets path, its owners only its namespaces; its images and CI push role in the
registry; no team, no Teams stack."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import app as platform_app
from config import parse_config
from stages.naming import (
    data_bucket_name,
    data_name,
    team_role_arn,
    team_secrets_role_name,
)
from stages.workload import WorkloadStage
from tests import iam_check
from tests.helpers import props

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def dev(organisation, sample_config):
    stack = organisation.stacks["dev"]["Teams"]
    world = iam_check.World(account=sample_config.accounts["dev"].id, region=REGION)
    return stack, world


def _role(stack, name: str) -> str:
    return next(
        k for k, r in stack.of_type("AWS::IAM::Role").items() if props(r)["RoleName"] == name
    )


def _statements(dev, team: str, *, secrets: bool = False, config=None) -> list[dict[str, Any]]:
    stack, world = dev
    name = team_role_arn(config, "dev", team, secrets=secrets).rsplit("/", 1)[-1]
    return iam_check.role_statements(stack.template, _role(stack, name), world)


def _db_resource_id(statements) -> str:
    """The database's resource id as the template renders it (a stack-output read)."""
    (arn,) = [s["Resource"] for s in statements if s.get("Sid") == "ConnectAsTeamDatabaseUser"]
    return arn.split(":dbuser:")[1].rsplit("/", 1)[0]


def allowed(statements, action: str, resource: str, **context: str) -> bool:
    return iam_check.decide(statements, action, resource, context)


def test_database_user_only_its_own(dev, sample_config):
    checkout = _statements(dev, "checkout", config=sample_config)
    rid = _db_resource_id(checkout)
    db = f"arn:aws:rds-db:{REGION}:{dev[1].account}:dbuser:{rid}"
    assert "DBClusterResourceId" in rid or "DbClusterResourceId" in rid  # Aurora in dev
    assert allowed(checkout, "rds-db:connect", f"{db}/checkout")
    assert not allowed(checkout, "rds-db:connect", f"{db}/reports")
    assert not allowed(checkout, "rds-db:connect", f"{db}/postgres")  # the master user
    reports = _statements(dev, "reports", config=sample_config)  # no postgres in its data
    assert not allowed(reports, "rds-db:connect", f"{db}/reports")


def test_caches_only_granted_ones(organisation, sample_config):
    stack = organisation.stacks["prod"]["Teams"]
    world = iam_check.World(account=sample_config.accounts["prod"].id, region=REGION)
    checkout = iam_check.role_statements(
        stack.template,
        _role(stack, team_role_arn(sample_config, "prod", "checkout").split("/")[-1]),
        world,
    )
    arn = f"arn:aws:elasticache:{REGION}:{world.account}"
    for cache in ("sessions", "rate-limits"):
        group = f"{arn}:replicationgroup:{data_name(sample_config, 'prod', cache)}"
        assert allowed(checkout, "elasticache:Connect", group)
    assert allowed(checkout, "elasticache:Connect", f"{arn}:user:team-checkout")
    assert not allowed(checkout, "elasticache:Connect", f"{arn}:user:team-reports")
    assert not allowed(
        checkout,
        "elasticache:Connect",
        f"{arn}:user:{data_name(sample_config, 'prod', 'sessions')}-app",
    )
    assert not allowed(
        checkout,
        "elasticache:Connect",
        f"{arn}:replicationgroup:{data_name(sample_config, 'prod', 'other')}",
    )
    dev_checkout = _statements(
        (
            organisation.stacks["dev"]["Teams"],
            iam_check.World(account=sample_config.accounts["dev"].id, region=REGION),
        ),
        "checkout",
        config=sample_config,
    )
    dev_arn = f"arn:aws:elasticache:{REGION}:{sample_config.accounts['dev'].id}"
    assert not allowed(  # rate-limits is granted in prod only
        dev_checkout,
        "elasticache:Connect",
        f"{dev_arn}:replicationgroup:{data_name(sample_config, 'dev', 'rate-limits')}",
    )


def test_bucket_prefix_only(dev, sample_config):
    bucket = f"arn:aws:s3:::{data_bucket_name(sample_config, 'dev', 'uploads')}"
    checkout = _statements(dev, "checkout", config=sample_config)
    reports = _statements(dev, "reports", config=sample_config)
    assert allowed(checkout, "s3:PutObject", f"{bucket}/checkout/a.json")
    assert allowed(checkout, "s3:GetObject", f"{bucket}/checkout/a.json")
    assert allowed(checkout, "s3:ListBucket", bucket, **{"s3:prefix": "checkout/"})
    assert not allowed(checkout, "s3:GetObject", f"{bucket}/reports/a.json")
    assert not allowed(checkout, "s3:ListBucket", bucket, **{"s3:prefix": "reports/"})
    assert not allowed(checkout, "s3:ListBucket", bucket)  # no prefix: the whole bucket
    assert allowed(reports, "s3:GetObject", f"{bucket}/reports/a.json")
    assert not allowed(reports, "s3:PutObject", f"{bucket}/reports/a.json")  # read_only
    assert not allowed(reports, "s3:GetObject", f"{bucket}/checkout/a.json")
    # The bucket key through S3 only; read-only teams decrypt, never generate data keys.
    (key,) = {s["Resource"] for s in checkout if s.get("Sid") == "BucketKeyThroughS3"}
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert allowed(checkout, "kms:GenerateDataKey", key, **via_s3)
    assert not allowed(checkout, "kms:Decrypt", key)
    assert allowed(reports, "kms:Decrypt", key, **via_s3)
    assert not allowed(reports, "kms:GenerateDataKey", key, **via_s3)


@pytest.mark.parametrize("secrets", [False, True])
def test_secrets_path_only(dev, sample_config, secrets):
    account = dev[1].account
    checkout = _statements(dev, "checkout", secrets=secrets, config=sample_config)
    secret = f"arn:aws:secretsmanager:{REGION}:{account}:secret:exco/dev/teams/%s/db-AbCdEf"
    assert allowed(checkout, "secretsmanager:GetSecretValue", secret % "checkout")
    assert not allowed(checkout, "secretsmanager:GetSecretValue", secret % "reports")
    assert not allowed(
        checkout,
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{REGION}:{account}:secret:exco/dev/other-x",
    )
    key = f"arn:aws:kms:{REGION}:{account}:key/1234"
    via = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    assert allowed(
        checkout,
        "kms:Decrypt",
        key,
        **via,
        **{"kms:EncryptionContext:SecretARN": secret % "checkout"},
    )
    assert not allowed(
        checkout,
        "kms:Decrypt",
        key,
        **via,
        **{"kms:EncryptionContext:SecretARN": secret % "reports"},
    )
    assert not allowed(checkout, "kms:Decrypt", key)


def test_secrets_role_trusts_only_external_secrets(dev, organisation, sample_config):
    stack, _ = dev
    role = props(
        stack.template["Resources"][
            _role(stack, team_secrets_role_name(sample_config, "dev", "checkout"))
        ]
    )
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    reader = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::GetStackOutput"]
    assert reader["StackName"] == "dev-Cluster" and "ExternalSecretsRole" in reader["OutputName"]
    assert statement["Action"] == "sts:AssumeRole"
    # and the controller's role may assume the team secrets roles, by exact ARN
    cluster = organisation.stacks["dev"]["Cluster"]
    assumed = [
        s
        for p in cluster.of_type("AWS::IAM::ManagedPolicy").values()
        for s in props(p)["PolicyDocument"]["Statement"]
        if s.get("Sid") == "AssumeTeamSecretsRoles"
    ]
    assert [s["Resource"] for s in assumed] == [
        [team_role_arn(sample_config, "dev", t, secrets=True) for t in ("checkout", "reports")]
    ]


def test_the_controllers_own_credentials_read_no_teams_secrets(organisation):
    """A ClusterSecretStore, or a SecretStore naming no role, reads with the External Secrets
    controller's own role: the environment's secrets, never a team's."""
    cluster = organisation.stacks["dev"]["Cluster"]
    statements = [
        s
        for p in cluster.of_type("AWS::IAM::ManagedPolicy").values()
        for s in props(p)["PolicyDocument"]["Statement"]
        if s.get("Sid") in ("ReadEnvironmentSecrets", "NotTheTeamsSecrets")
    ]
    assert len(statements) == 2
    account = organisation.stacks["dev"]["Cluster"].account
    secret = f"arn:aws:secretsmanager:{REGION}:{account}:secret:exco/dev/%s-AbCdEf"
    assert allowed(statements, "secretsmanager:GetSecretValue", secret % "argocd/registration")
    assert not allowed(statements, "secretsmanager:GetSecretValue", secret % "teams/checkout/db")


def test_pod_roles_trust_this_cluster_and_bind_per_namespace(dev, sample_config):
    stack, _ = dev
    for team in ("checkout", "reports"):
        role = props(
            stack.template["Resources"][
                _role(stack, team_role_arn(sample_config, "dev", team).split("/")[-1])
            ]
        )
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(":cluster/exco-dev")
        assert role["PermissionsBoundary"].endswith(":policy/cdk-hnb659fds-permissions-boundary")
    associations = {
        (props(a)["Namespace"], props(a)["ServiceAccount"])
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
    }
    assert associations == {("checkout", "checkout"), ("reports", "reports")}


def test_access_entries_are_namespace_scoped(organisation, sample_config):
    for account in ("dev", "prod"):
        entries = {
            props(e)["PrincipalArn"]: props(e)
            for e in organisation.stacks[account]["Teams"].of_type("AWS::EKS::AccessEntry").values()
        }
        account_id = sample_config.accounts[account].id
        owners = {
            arn: team
            for team, t in sample_config.teams.items()
            if account in t.environments
            for arn in t.owners
            if arn.split(":")[4] == account_id
        }
        assert set(entries) == set(owners)
        for arn, entry in entries.items():
            assert entry["Type"] == "STANDARD"
            (policy,) = entry["AccessPolicies"]
            assert (
                policy["PolicyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
            )
            namespaces = list(sample_config.teams[owners[arn]].environments[account].namespaces)
            assert policy["AccessScope"] == {"Type": "namespace", "Namespaces": namespaces}


def test_cluster_takes_access_entries(organisation):
    cluster = next(
        iter(organisation.stacks["dev"]["Cluster"].of_type("AWS::EKS::Cluster").values())
    )
    assert props(cluster)["AccessConfig"]["AuthenticationMode"] in ("API", "API_AND_CONFIG_MAP")


def test_team_images_and_ci_push_role(organisation, sample_config):
    registry = organisation.stacks["shared-services"]["Registry"]
    names = {
        props(r)["RepositoryName"]: props(r)
        for r in registry.of_type("AWS::ECR::Repository").values()
    }
    web = names["exco/web"]
    for image in ("exco/checkout/checkout-api", "exco/reports/reports-worker"):
        assert names[image]["ImageScanningConfiguration"] == web["ImageScanningConfiguration"]
        assert names[image]["ImageTagMutability"] == web["ImageTagMutability"]
        assert names[image]["LifecyclePolicy"] == web["LifecyclePolicy"]
        assert json.dumps(names[image]["RepositoryPolicyText"]) == json.dumps(
            web["RepositoryPolicyText"]
        )
    ci = organisation.stacks["shared-services"]["Ci"]
    roles = {props(r)["RoleName"]: (k, props(r)) for k, r in ci.of_type("AWS::IAM::Role").items()}
    logical, role = roles["exco-ci-example-co-checkout"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert json.dumps(trust).count("repo:example-co/checkout:ref:refs/heads/main") == 1
    world = iam_check.World(account=sample_config.accounts["shared-services"].id, region=REGION)
    statements = iam_check.role_statements(ci.template, logical, world)
    ecr = f"arn:aws:ecr:{REGION}:{world.account}:repository"
    assert allowed(statements, "ecr:PutImage", f"{ecr}/exco/checkout/checkout-api")
    assert not allowed(statements, "ecr:PutImage", f"{ecr}/exco/reports/reports-worker")
    assert not allowed(statements, "ecr:PutImage", f"{ecr}/exco/web")


def test_a_repository_of_ci_and_of_a_team_gets_one_role(sample_raw):
    raw = copy.deepcopy(sample_raw)
    raw["teams"]["checkout"]["repositories"] = ["example-corp/web", "example-co/checkout"]
    config = parse_config(raw, source="test.yaml")
    repos = [
        r
        for r in config.ci_repositories_for("shared-services")
        if r.repository == "example-corp/web"
    ]
    assert len(repos) == 1
    assert repos[0].push == ("web", "checkout/checkout-api")
    assert repos[0].describe_clusters == ("dev",)  # the ci entry's other grants stay


def test_no_team_no_teams_stack(sample_raw):
    """Removing every team removes the stack (and the controller's assume grant); one stage
    built, not synthesized."""
    raw = copy.deepcopy(sample_raw)
    del raw["teams"]
    config = parse_config(raw, source="test.yaml")
    stage = WorkloadStage(platform_app.create_app(), "dev", config=config)
    assert stage.teams_stack is None
    assert stage.node.try_find_child("Teams") is None


def test_one_team_per_construct(organisation, sample_config):
    """Each team's resources sit under `Team-<name>` (logical ids `Team<name>...`), so
    removing one team removes exactly those: staging has checkout and reports, prod only
    checkout."""
    for account in ("staging", "prod"):
        ids = organisation.stacks[account]["Teams"].resources
        for team in sample_config.teams:
            present = any(i.startswith(f"Team{team.replace('-', '')}") for i in ids)
            assert present == (team in sample_config.teams_in(account)), (account, team)
        assert all(i.startswith("Team") for i in ids if not i.startswith("CDK"))
