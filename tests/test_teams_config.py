"""The teams' cross-field rules (`config/rules/teams.py`): each broken copy of the sample is
reported with its exact path and message, and one file with several problems reports them all."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from config import ConfigError, config_warnings, parse_config
from config.model import AccountName, TeamName
from config.rules.teams import patterns_overlap
from constructs_lib.eks.cluster import POD_IDENTITIES
from facts.kubernetes import ARGOCD_NAMESPACE, PLATFORM_NAMESPACES
from stages.naming import team_role_name, team_secrets_role_name
from tests.conftest import ROOT
from tests.test_config import broken, problems_of

CHECKOUT = "teams.checkout"
REPORTS = "teams.reports"


def team_problems(raw: dict[str, Any]) -> list[str]:
    """The problems under `teams` (a broken account may bring its own too)."""
    return [p for p in problems_of(raw) if p.startswith("teams.")]


def test_sample_teams_are_valid(sample_config):
    assert set(sample_config.teams) == {"checkout", "reports"}
    assert config_warnings(sample_config) == []


def test_environment_is_a_workload_account_with_a_cluster(sample_raw):
    env = sample_raw["teams"]["reports"]["environments"]["dev"]
    raw = broken(
        sample_raw,
        ("teams.reports.environments.qa", env),
        ("teams.reports.environments.security", env),
        ("accounts.sandbox.cluster", ...),
        ("teams.reports.environments.sandbox", env),
    )
    assert team_problems(raw) == [
        f"{REPORTS}.environments.qa: no such account (workload accounts: dev, staging, prod, "
        "sandbox)",
        f"{REPORTS}.environments.security: security is the security account: teams run in "
        "workload accounts (dev, staging, prod, sandbox)",
        f"{REPORTS}.environments.sandbox: accounts.sandbox has no cluster for the team's pods; "
        "configure accounts.sandbox.cluster",
    ]


def test_data_the_account_has(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.environments.dev.data", {"postgres": True, "caches": ["sessions", "jobs"]}),
        ("accounts.staging.data.postgres", ...),
        ("teams.reports.environments.staging.data.postgres", True),
        ("teams.reports.environments.staging.data.buckets.0.bucket", "exports"),
    )
    assert team_problems(raw) == [
        f"{CHECKOUT}.environments.staging.data.postgres: accounts.staging has no PostgreSQL "
        "database (data.postgres) (got True)",
        f"{REPORTS}.environments.dev.data.caches.1: no such cache in "
        "accounts.dev.data.caches (it has sessions) (got 'jobs')",
        f"{REPORTS}.environments.staging.data.postgres: accounts.staging has no PostgreSQL "
        "database (data.postgres) (got True)",
        f"{REPORTS}.environments.staging.data.buckets.0.bucket: no such bucket in "
        "accounts.staging.data.buckets (it has uploads) (got 'exports')",
    ]


def test_team_postgres_needs_aurora(sample_raw):
    env = {"namespaces": {"reports": {}}, "data": {"postgres": True}}
    raw = broken(sample_raw, ("teams.reports.environments.sandbox", env))
    assert team_problems(raw) == [
        f"{REPORTS}.environments.sandbox.data.postgres: accounts.sandbox.data.postgres is RDS "
        "(engine: rds), and a team's IAM database user is created through the RDS Data API, "
        "which only Aurora has: use engine aurora-serverless-v2 or aurora-provisioned there, "
        "or drop postgres for the team (got True)",
    ]


def test_two_teams_never_share_a_bucket_prefix(sample_raw):
    raw = broken(
        sample_raw,
        # checkout's default prefix checkout/ contains reports' checkout/reports/
        ("teams.reports.environments.dev.data.buckets.0.prefix", "checkout/reports/"),
        # one team's own grants may nest
        (
            "teams.checkout.environments.staging.data.buckets",
            [{"bucket": "uploads"}, {"bucket": "uploads", "prefix": "checkout/in/"}],
        ),
    )
    assert team_problems(raw) == [
        f"{REPORTS}.environments.dev.data.buckets.0: prefix 'checkout/reports/' of bucket "
        "uploads overlaps team checkout's 'checkout/': each team's keys are its own, give it "
        "a prefix of its own",
    ]


def test_quotas_fit_the_node_pools(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.environments.dev.namespaces.reports.cpu", 29),
        ("teams.reports.environments.dev.namespaces.reports.memory_gib", 121),
    )
    # dev's default pool: 32 vCPU, 128 GiB
    assert problems_of(raw) == [
        "accounts.dev.cluster.node_pools: the teams' namespace quotas ask for 33 cores of CPU "
        "(checkout 4, reports 29), more than the cluster holds (32, node_pools: default): "
        "raise the pools' cpu_limit and memory_limit_gib or lower the quotas",
        "accounts.dev.cluster.node_pools: the teams' namespace quotas ask for 129 GiB of "
        "memory (checkout 8, reports 121), more than the cluster holds (128, node_pools: "
        "default): raise the pools' cpu_limit and memory_limit_gib or lower the quotas",
    ]


def test_quotas_fit_the_system_nodes_of_a_cluster_without_pools(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.dev.cluster.node_pools", {}),
        ("teams.reports.environments.dev.namespaces.reports.cpu", 3),
        ("teams.reports.environments.dev.namespaces.reports.memory_gib", 17),
    )
    # dev's system nodes: m7g.large and m6g.large (2 vCPU, 8 GiB), at most 3
    assert problems_of(raw) == [
        "accounts.dev.cluster.system_nodes: the teams' namespace quotas ask for 7 cores of "
        "CPU (checkout 4, reports 3), more than the cluster holds (6, system_nodes: 3 x "
        "m7g.large): raise max_size, use larger instance types or lower the quotas",
        "accounts.dev.cluster.system_nodes: the teams' namespace quotas ask for 25 GiB of "
        "memory (checkout 8, reports 17), more than the cluster holds (24, system_nodes: 3 x "
        "m7g.large): raise max_size, use larger instance types or lower the quotas",
    ]


def test_unknown_instance_type_is_a_warning_not_a_crash(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.dev.cluster.node_pools", {}),  # the system nodes are then the capacity
        ("accounts.dev.cluster.system_nodes.instance_types", ["m7g.large", "x2gd.large"]),
    )
    config = parse_config(raw, source="test.yaml")
    assert [str(w) for w in config_warnings(config)] == [
        "accounts.dev.cluster.system_nodes.instance_types.1: the teams' quotas are not checked "
        "against this cluster: the instance type is not in facts/ec2.py INSTANCE_SIZES (add "
        "it) (got 'x2gd.large')",
    ]


def test_public_paths_one_team_on_an_edge(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.environments.dev.public_paths", ["/api/*", "/static/reports/*"]),
        ("accounts.sandbox.domain", ...),
        (
            "teams.reports.environments.sandbox",
            {"namespaces": {"reports": {}}, "public_paths": ["/reports/*"]},
        ),
    )
    assert team_problems(raw) == [
        f"{REPORTS}.environments.dev.public_paths.0: overlaps team checkout's public path "
        "'/api/checkout/*': a path belongs to one team (got '/api/*')",
        f"{REPORTS}.environments.dev.public_paths.1: overlaps the edge's behaviour "
        "'/static/*' (accounts.dev.edge.behaviors.1, origin static): choose a path the edge "
        "does not route (got '/static/reports/*')",
        f"{REPORTS}.environments.sandbox.public_paths.0: accounts.sandbox has no edge (a "
        "workload account gets one with a domain): set accounts.sandbox.domain "
        "(got '/reports/*')",
    ]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("/api/*", "/api/checkout/*", True),
        ("/api/checkout/*", "/api/*", True),
        ("/api/checkout/*", "/api/reports/*", False),
        ("/a?c", "/abc", True),
        ("/a?c", "/abd", False),
        ("/*.js", "/static/*", True),
        ("/x/*", "/x", False),
        ("/x*", "/x", True),
        ("/.well-known/jwks.json", "/api/*", False),
    ],
)
def test_patterns_overlap(a, b, overlap):
    assert patterns_overlap(a, b) is overlap


def test_namespaces_one_team_not_the_platform(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.environments.dev.namespaces", {"checkout": {}, "argocd": {}, "batch": {}}),
        ("teams.reports.services", {}),
    )
    assert team_problems(raw) == [
        f"{REPORTS}.environments.dev.namespaces.checkout: team checkout has it in dev too",
        f"{REPORTS}.environments.dev.namespaces.argocd: reserved for Kubernetes or the "
        "platform's add-ons; choose another name",
        f"{REPORTS}.environments.dev.namespaces.batch: one of "
        "accounts.dev.cluster.fargate_namespaces: its pods run on Fargate, outside the team's "
        "scope",
    ]


def test_platform_namespaces_cover_the_add_ons():
    """The reserved list is the namespaces CDK binds add-on roles in and those the GitOps
    bootstrap installs into."""
    bootstrap = {
        match
        for path in (ROOT / "gitops" / "bootstrap").glob("*.yaml")
        for match in re.findall(r"^\s*namespace: ([a-z][a-z0-9-]*)\s*$", path.read_text(), re.M)
    }
    used = {sa.namespace for sa in POD_IDENTITIES.values()} | {ARGOCD_NAMESPACE} | bootstrap
    assert used <= set(PLATFORM_NAMESPACES)


def test_services_from_the_team_repositories_and_namespaces(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.services.reports-worker.repository", "example-co/checkout"),
        ("teams.checkout.services.checkout-api.namespace", "payments"),
        ("teams.checkout.environments.prod.namespaces.payments", {}),
    )
    assert team_problems(raw) == [
        f"{CHECKOUT}.services.checkout-api.namespace: the team has no such namespace in dev, "
        "staging (Argo CD deploys the service to every environment of the team) "
        "(got 'payments')",
        f"{REPORTS}.services.reports-worker.repository: not one of teams.reports.repositories "
        "(example-co/reports) (got 'example-co/checkout')",
    ]


def test_images_need_a_registry(sample_raw):
    raw = broken(sample_raw, ("registry", ...), ("ci", ...))
    assert team_problems(raw) == [
        f"{CHECKOUT}.images: needs a registry section: a team's images are ECR repositories "
        "of the registry in shared-services",
        f"{REPORTS}.images: needs a registry section: a team's images are ECR repositories "
        "of the registry in shared-services",
    ]


def test_owners_of_the_team_accounts_not_cluster_principals(sample_raw):
    raw = broken(
        sample_raw,
        (
            "teams.reports.owners",
            [
                "arn:aws:iam::444444444444:role/ReportsDeveloper",
                "arn:aws:iam::666666666666:role/ReportsDeveloper",
                "arn:aws:iam::555555555555:role/Developer",
            ],
        ),
    )
    assert team_problems(raw) == [
        f"{REPORTS}.owners.1: not a role of one of the team's environment accounts (dev "
        "444444444444, staging 555555555555); an owner reaches the cluster of its own account "
        "only (got 'arn:aws:iam::666666666666:role/ReportsDeveloper')",
        f"{REPORTS}.owners.2: also in accounts.staging.cluster.viewer_role_arns: EKS allows "
        "one access entry per IAM principal, so it cannot get the team's namespaced access as "
        "well; use another role for the team (got 'arn:aws:iam::555555555555:role/Developer')",
    ]


def test_a_team_needs_owners_and_warns_of_an_environment_without_one(sample_raw):
    raw = broken(sample_raw, ("teams.reports.owners", []))
    assert team_problems(raw) == [
        f"{REPORTS}.owners: a team needs at least one owner (an IAM role in one of its "
        "environments' accounts) to reach its namespaces",
    ]
    raw = broken(sample_raw, ("teams.reports.owners", ["arn:aws:iam::444444444444:role/R"]))
    config = parse_config(raw, source="test.yaml")
    assert [str(w) for w in config_warnings(config)] == [
        f"{REPORTS}.environments.staging: no owner of the team is a role of staging "
        "(555555555555): nobody of the team can reach its namespaces there",
    ]


def test_every_team_problem_in_one_message(sample_raw):
    raw = broken(
        sample_raw,
        ("teams.reports.environments.dev.namespaces", {"reports": {}, "kube-system": {}}),
        ("teams.reports.environments.dev.public_paths", ["/api/checkout/*"]),
        ("teams.reports.environments.staging.data.caches", ["nope"]),
        ("teams.checkout.environments.prod.data.postgres", True),
        ("teams.checkout.services.checkout-api.repository", "example-co/other"),
        ("teams.checkout.environments.mgmt", {"namespaces": {"checkout": {}}}),
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="test.yaml")
    message = str(caught.value)
    assert message.splitlines()[0] == "test.yaml: 5 problems in the platform configuration:"
    for path in (
        "teams.checkout.environments.mgmt:",
        "teams.reports.environments.staging.data.caches.0:",
        "teams.reports.environments.dev.public_paths.0:",
        "teams.reports.environments.dev.namespaces.kube-system:",
        "teams.checkout.services.checkout-api.repository:",
    ):
        assert f"  - {path}" in message


def test_role_names_fit_iam_whatever_the_names(sample_raw):
    """The longest prefix (12), account (24) and team (16) names the model admits still give
    role names within IAM's 64 characters, so no rule is needed (longer names would need one)."""
    TypeAdapter(TeamName).validate_python("t" * 16)
    TypeAdapter(AccountName).validate_python("a" * 24)
    for adapter, name in ((TypeAdapter(TeamName), "t" * 17), (TypeAdapter(AccountName), "a" * 25)):
        with pytest.raises(ValidationError):
            adapter.validate_python(name)
    assert problems_of(broken(sample_raw, ("organization.prefix", "p" * 13)))
    config: Any = SimpleNamespace(organization=SimpleNamespace(prefix="p" * 12))
    for role_name in (team_role_name, team_secrets_role_name):
        assert len(role_name(config, "a" * 24, "t" * 16)) <= 64
