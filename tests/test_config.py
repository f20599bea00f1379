"""The config model and its rules: every rule has a passing and a failing case, and every
failing case checks that the message names the path and the offending value."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import app_command
from config import ConfigError, load_config, parse_config
from config.model import CLOUDWATCH_RETENTION_DAYS
from tests.conftest import ROOT


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="test.yaml")
    return [str(problem) for problem in caught.value.problems]


def broken(raw: dict[str, Any], *edits: tuple[str, Any]) -> dict[str, Any]:
    """A deep copy of `raw` with each dotted path set to a value (`...` deletes the key)."""
    result = copy.deepcopy(raw)
    for path, value in edits:
        *parents, last = path.split(".")
        node = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key = int(last) if isinstance(node, list) else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return result


def test_sample_config_is_valid(sample_config):
    assert sample_config.organization.prefix == "exco"
    assert {a.role for a in sample_config.accounts.values()} == {
        "management",
        "security",
        "shared-services",
        "dev",
        "staging",
        "prod",
        "sandbox",
    }


def test_models_are_frozen(sample_config):
    with pytest.raises(Exception, match="frozen"):
        sample_config.accounts["dev"].id = "999999999999"


# --- field rules ------------------------------------------------------------------------------


_FIELD_CASES = [
    # (key to set, bad value, path reported, words in the message, value reported)
    ("accounts.dev.id", "12345", "accounts.dev.id", "must be exactly 12 digits", "'12345'"),
    ("accounts.dev.id", 444444444444, "accounts.dev.id", "quote it in YAML", "444444444444"),
    ("accounts.dev.region", "europe", "accounts.dev.region", "not a region name", "'europe'"),
    ("accounts.dev.role", "qa", "accounts.dev.role", "'management', 'security'", "'qa'"),
    (
        "accounts.dev.network.cidr",
        "10.16.0.0/33",
        "accounts.dev.network.cidr",
        "not a valid IPv4 network",
        "'10.16.0.0/33'",
    ),
    (
        "accounts.dev.network.cidr",
        "10.16.0.1/16",
        "accounts.dev.network.cidr",
        "has host bits set",
        "'10.16.0.1/16'",
    ),
    (
        "accounts.dev.network.cidr",
        "10.0.0.0/8",
        "accounts.dev.network.cidr",
        "prefix must be between /16 and /20",
        "'10.0.0.0/8'",
    ),
    (
        "accounts.dev.network.cidr",
        "10.16.0.0/24",
        "accounts.dev.network.cidr",
        "prefix must be between /16 and /20",
        "'10.16.0.0/24'",
    ),
    (
        "accounts.dev.network.cidr",
        "52.16.0.0/16",
        "accounts.dev.network.cidr",
        "must be a private (RFC 1918) range",
        "'52.16.0.0/16'",
    ),
    (
        "accounts.dev.network.availability_zones",
        ["eu-west-1a"],
        "accounts.dev.network.availability_zones",
        "at least 2 items",
        "['eu-west-1a']",
    ),
    (
        "accounts.dev.network.availability_zones",
        ["eu-west-1a", "eu-west-1a"],
        "accounts.dev.network.availability_zones",
        "listed more than once: eu-west-1a",
        "['eu-west-1a', 'eu-west-1a']",
    ),
    (
        "accounts.dev.network.nat_gateways",
        "none",
        "accounts.dev.network.nat_gateways",
        "'per-az' or 'single'",
        "'none'",
    ),
    (
        "accounts.dev.network.interface_endpoints",
        ["ecr-api"],
        "accounts.dev.network.interface_endpoints",
        "unknown interface endpoint(s) ecr-api; supported: autoscaling,",
        "['ecr-api']",
    ),
    (
        "accounts.dev.network.flow_logs_retention_days",
        45,
        "accounts.dev.network.flow_logs_retention_days",
        "not a CloudWatch Logs retention",
        "45",
    ),
    (
        "accounts.dev.monthly_budget_usd",
        0,
        "accounts.dev.monthly_budget_usd",
        "greater than 0",
        "0",
    ),
    (
        "organization.prefix",
        "Exco",
        "organization.prefix",
        "must be 2-12 lowercase letters or digits",
        "'Exco'",
    ),
    ("tags.Environment", "prod", "tags", "'Environment': set per account from its role", None),
    ("tags.aws:createdBy", "me", "tags", "'aws:createdBy': the aws: prefix is reserved", None),
    (
        "budgets.alert_emails",
        ["not-an-address"],
        "budgets.alert_emails.0",
        "should match",
        "'not-an-address'",
    ),
    (
        "accounts.security.log_archive.object_lock_mode",
        "FOREVER",
        "accounts.security.log_archive.object_lock_mode",
        "'COMPLIANCE' or 'GOVERNANCE'",
        "'FOREVER'",
    ),
]


@pytest.mark.parametrize(("key", "value", "path", "words", "shown"), _FIELD_CASES)
def test_field_rule_rejects_bad_value(sample_raw, key, value, path, words, shown):
    (problem,) = problems_of(broken(sample_raw, (key, value)))
    assert problem.startswith(f"{path}: ")
    assert words in problem
    if shown is not None:
        assert problem.endswith(f"(got {shown})")


def test_unknown_key_is_named(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("accounts.dev.network.nat_gateway", "single")))
    assert problem.startswith("accounts.dev.network.nat_gateway: unknown key")


def test_missing_key_is_named(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("accounts.prod.region", ...)))
    assert problem == "accounts.prod.region: required key is missing"


def test_defaults_apply_when_optional_keys_are_omitted(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.dev.network.nat_gateways", ...),
        ("accounts.dev.network.flow_logs_retention_days", ...),
        ("accounts.security.log_archive", ...),
        ("budgets", ...),
    )
    config = parse_config(raw)
    network = config.accounts["dev"].network
    assert (network.nat_gateways, network.flow_logs_retention_days) == ("per-az", 365)
    assert network.interface_endpoints == ("ecr.api", "ecr.dkr", "sts", "logs")
    assert config.budgets.thresholds_percent == (80, 100)


def test_every_cloudwatch_retention_is_accepted(sample_raw):
    for days in sorted(CLOUDWATCH_RETENTION_DAYS):
        parse_config(broken(sample_raw, ("accounts.dev.network.flow_logs_retention_days", days)))


# --- cross-field rules ------------------------------------------------------------------------


def test_duplicate_account_id(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("accounts.staging.id", "444444444444")))
    assert problem == (
        "accounts.staging.id: account id already used by accounts.dev.id (got '444444444444')"
    )


def test_overlapping_cidrs(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("accounts.prod.network.cidr", "10.32.128.0/17")))
    assert problem == (
        "accounts.prod.network.cidr: overlaps accounts.staging.network.cidr (10.32.0.0/16) "
        "(got '10.32.128.0/17')"
    )


def test_adjacent_cidrs_do_not_overlap(sample_raw):
    parse_config(broken(sample_raw, ("accounts.sandbox.network.cidr", "10.64.16.0/20")))


def test_second_singleton_role(sample_raw):
    (problem,) = problems_of(
        broken(
            sample_raw,
            ("accounts.sandbox.role", "security"),
            ("accounts.sandbox.network", ...),
            ("accounts.sandbox.cluster", ...),
            ("accounts.sandbox.data", ...),
            ("accounts.sandbox.domain", ...),
            ("pipeline", ...),
        )
    )
    assert problem == (
        "accounts.sandbox.role: only one security account is allowed; accounts.security has "
        "this role (got 'security')"
    )


def test_missing_singleton_and_workload_roles(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.management", ...),
        ("accounts.staging", ...),
        ("pipeline", ...),
        ("teams", ...),  # they run in staging (tests/test_teams_config.py)
    )
    assert problems_of(raw) == [
        "accounts: no account has role 'management'; exactly one is required",
        "accounts: no account has role 'staging'; dev, staging and prod each need at least one",
    ]


def test_sandbox_is_optional_and_environments_may_repeat(sample_raw):
    raw = broken(
        sample_raw, ("accounts.sandbox", ...), ("pipeline.waves.2.accounts", ["dev", "dev-data"])
    )
    raw["accounts"]["dev-data"] = {
        **copy.deepcopy(raw["accounts"]["dev"]),
        "id": "888888888888",
        "network": {**raw["accounts"]["dev"]["network"], "cidr": "10.80.0.0/16"},
        "domain": "dev-data.example.com",
    }
    raw["accounts"]["dev-data"]["cluster"]["admin_role_arns"] = [
        "arn:aws:iam::888888888888:role/PlatformAdmin"
    ]
    raw["accounts"]["dev-data"]["cluster"]["viewer_role_arns"] = []
    raw["accounts"]["dev-data"]["access"] = {
        "roles": ["arn:aws:iam::888888888888:role/PlatformAdmin"]
    }
    config = parse_config(raw)
    assert list(config.accounts_with_role("dev")) == ["dev", "dev-data"]


def test_network_required_for_workloads_and_refused_elsewhere(sample_raw):
    elsewhere = {**sample_raw["accounts"]["sandbox"]["network"], "cidr": "10.99.0.0/20"}
    raw = broken(
        sample_raw, ("accounts.dev.network", ...), ("accounts.management.network", elsewhere)
    )
    assert set(problems_of(raw)) == {
        "accounts.dev.network: required for a dev account",
        "accounts.management.network: not allowed for a management account (it has no VPC)",
    }


def test_log_archive_only_in_security_and_consistent(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.dev.log_archive", {}),
        ("accounts.security.log_archive.expire_after_days", 60),
    )
    assert set(problems_of(raw)) == {
        "accounts.dev.log_archive: only the security account holds the log archive, not a dev "
        "account",
        "accounts.security.log_archive.expire_after_days: must be at least object_lock_days "
        "(365) (got 60)",
        "accounts.security.log_archive.glacier_after_days: must be less than expire_after_days "
        "(60) (got 90)",
    }


def test_regions_outside_allowed_list(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.prod.region", "ap-south-1"),
        ("accounts.prod.network.availability_zones", ["ap-south-1a", "ap-south-1b", "ap-south-1c"]),
        ("organization.home_region", "us-west-2"),
    )
    allowed = "eu-west-1, eu-central-1, us-east-1"
    assert problems_of(raw) == [
        f"organization.home_region: not in allowed_regions ({allowed}) (got 'us-west-2')",
        f"accounts.prod.region: not in organization.allowed_regions ({allowed}) (got 'ap-south-1')",
        "accounts.prod.network.transit_gateway: the hub is in eu-west-1; a VPC attaches only "
        "in the hub's region (got 'ap-south-1')",
    ]


def test_availability_zone_outside_region(sample_raw):
    raw = broken(
        sample_raw, ("accounts.dev.network.availability_zones", ["eu-west-1a", "eu-central-1b"])
    )
    assert problems_of(raw) == [
        "accounts.dev.network.availability_zones.1: not an availability zone of the account's "
        "region eu-west-1 (got 'eu-central-1b')"
    ]


def test_every_problem_is_reported_at_once(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.staging.id", "444444444444"),  # duplicate id
        ("accounts.prod.network.cidr", "10.16.0.0/17"),  # overlaps dev
        ("accounts.dev.netwrk", {}),  # typo, in an account also checked
        ("accounts.sandbox.network.flow_logs_retention_days", 10),
        ("organization.prefix", "X"),
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="bad.yaml")
    message = str(caught.value)
    assert message.startswith("bad.yaml: 5 problems in the platform configuration:\n")
    for path in (
        "organization.prefix",
        "accounts.dev.netwrk",
        "accounts.sandbox.network.flow_logs_retention_days",
        "accounts.staging.id",
        "accounts.prod.network.cidr",
    ):
        assert f"\n  - {path}: " in message


def test_config_without_pipeline_is_valid(sample_raw):
    assert parse_config(broken(sample_raw, ("pipeline", ...))).pipeline is None


def test_pipeline_waves_must_cover_every_account_but_sandbox(sample_raw):
    raw = broken(
        sample_raw,
        ("pipeline.waves.1", ...),  # shared-services dropped
        ("pipeline.waves.1.accounts", ["dev", "sandbox", "qa"]),
    )
    assert set(problems_of(raw)) == {
        "pipeline.waves.1.accounts.1: sandbox is deployed by hand, never by the pipeline "
        "(got 'sandbox')",
        "pipeline.waves.1.accounts.2: no account of that name in accounts (got 'qa')",
        "pipeline.waves: accounts.shared-services is in no wave; the pipeline deploys every "
        "account but management and sandbox",
    }


def test_pipeline_waves_follow_promotion_order(sample_raw):
    raw = broken(
        sample_raw,
        ("pipeline.waves.2.accounts", ["staging"]),
        ("pipeline.waves.2.health_check", True),
        ("pipeline.waves.3.accounts", ["dev"]),
    )
    assert problems_of(raw) == [
        "pipeline.waves.3.accounts: deploys dev after an earlier wave deployed staging; changes "
        "travel security, then shared-services, dev, staging, prod "
        "(got ['dev'])",
    ]


def test_pipeline_wave_lists_an_account_once(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("pipeline.waves.3.accounts", ["staging"] * 2)))
    assert problem == (
        "pipeline.waves.3.accounts: listed more than once: staging (got ['staging', 'staging'])"
    )


def test_pipeline_wave_may_not_mix_promotion_steps(sample_raw):
    raw = broken(
        sample_raw,
        ("pipeline.waves.3.accounts", ["staging", "prod"]),
        ("pipeline.waves.4", ...),
    )
    raw["pipeline"]["waves"][3]["approval"] = True
    assert problems_of(raw) == [
        "pipeline.waves.3.accounts: mixes promotion steps (prod, staging); give each its own "
        "wave so one is proven before the next deploys (got ['staging', 'prod'])",
    ]


def test_prod_needs_approval_and_staging_needs_the_health_gate(sample_raw):
    raw = broken(
        sample_raw,
        ("pipeline.waves.3.health_check", False),
        ("pipeline.waves.4.approval", False),
    )
    assert problems_of(raw) == [
        "pipeline.waves.3.health_check: a wave deploying staging or prod must run the health "
        "gate (got False)",
        "pipeline.waves.4.approval: a wave deploying prod must require approval (got False)",
    ]


def test_pipeline_connection_must_be_a_connection_arn(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("pipeline.connection_arn", "github-token")))
    assert problem.startswith("pipeline.connection_arn: ")
    assert problem.endswith("(got 'github-token')")


def test_the_config_package_imports_no_cdk():
    """config is plain Python: the reference generator and the tools load it without jsii."""
    code = (
        "import sys, config, config.rules, tools.config_docs; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'aws_cdk', 'constructs', 'cdk_nag', 'jsii', 'stages', 'constructs_lib', 'pipelines'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- roles and engines: each has only its own keys ---------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "accounts.management.domain",
            "mgmt.example.com",
            "accounts.management.domain: not allowed for a management account (only workload "
            "accounts hold a subzone) (got 'mgmt.example.com')",
        ),
        (
            "accounts.management.edge",
            {"price_class": "all"},
            "accounts.management.edge: not allowed for a management account (workloads only)",
        ),
        (
            "accounts.shared-services.data",
            {"buckets": {"reports": {}}},
            "accounts.shared-services.data: not allowed for a shared-services account "
            "(workloads only)",
        ),
        (
            "accounts.security.cluster",
            {"kubernetes_version": "1.35"},
            "accounts.security.cluster: not allowed for a security account (it has no VPC)",
        ),
        (
            "accounts.prod.audit",
            {},
            "accounts.prod.audit: only the security account runs the audit services, not a "
            "prod account",
        ),
    ],
)
def test_a_key_the_role_does_not_have_is_refused_at_its_path(sample_raw, key, value, expected):
    assert problems_of(broken(sample_raw, (key, value))) == [expected]


def test_a_refused_key_does_not_hide_the_accounts_other_problems(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.management.data", {}),
        ("accounts.management.id", "444444444444"),  # dev's
    )
    assert problems_of(raw) == [
        "accounts.management.data: not allowed for a management account (workloads only)",
        "accounts.dev.id: account id already used by accounts.management.id (got '444444444444')",
    ]


def test_the_role_picks_what_is_required(sample_raw):
    (problem, *transit) = problems_of(broken(sample_raw, ("accounts.shared-services.network", ...)))
    assert problem == "accounts.shared-services.network: required for a shared-services account"
    assert all("set its network.transit_gateway too" in p for p in transit)
    assert problems_of(broken(sample_raw, ("accounts.dev.role", ...))) == [
        "accounts.dev.role: required key is missing"
    ]


def test_an_account_must_be_a_mapping(sample_raw):
    assert problems_of(broken(sample_raw, ("accounts.dev", "dev"))) == [
        "accounts.dev: should be a mapping of keys to values (got 'dev')"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "accounts.sandbox.data.postgres.readers",
            1,
            "accounts.sandbox.data.postgres.readers: Aurora only; RDS PostgreSQL stays "
            "available through `multi_az` (got 1)",
        ),
        (
            "accounts.dev.data.postgres.multi_az",
            True,
            "accounts.dev.data.postgres.multi_az: RDS only; Aurora stays available through "
            "`readers` in other AZs (got True)",
        ),
        (
            "accounts.staging.data.postgres.min_capacity",
            2,
            "accounts.staging.data.postgres.min_capacity: not allowed for engine "
            "aurora-provisioned (aurora-serverless-v2 only) (got 2)",
        ),
        (
            "accounts.dev.data.postgres.instance_class",
            "r7g.large",
            "accounts.dev.data.postgres.instance_class: not allowed for engine "
            "aurora-serverless-v2 (aurora-provisioned and rds only) (got 'r7g.large')",
        ),
        (
            "accounts.prod.data.postgres.engine",
            "mysql",
            "accounts.prod.data.postgres.engine: Input should be 'aurora-serverless-v2', "
            "'aurora-provisioned' or 'rds' (got 'mysql')",
        ),
    ],
)
def test_a_key_the_engine_does_not_have_is_refused_at_its_path(sample_raw, key, value, expected):
    assert problems_of(broken(sample_raw, (key, value))) == [expected]


def test_postgres_without_an_engine_is_serverless(sample_raw):
    raw = broken(sample_raw, ("accounts.dev.data.postgres", {"min_capacity": 0, "max_capacity": 2}))
    postgres = parse_config(raw).accounts["dev"].data.postgres
    assert (postgres.engine, postgres.min_capacity, postgres.readers) == (
        "aurora-serverless-v2",
        0,
        0,
    )


# --- comparisons inside one section ------------------------------------------------------------


def test_a_node_group_whose_minimum_exceeds_its_maximum_is_refused(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.dev.cluster.system_nodes.min_size", 5),
        ("accounts.dev.cluster.system_nodes.max_size", 3),
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, source="platform.yaml")
    assert str(caught.value) == (
        "platform.yaml: 1 problem in the platform configuration:\n"
        "  - accounts.dev.cluster.system_nodes.min_size: larger than max_size (3) (got 5)"
    )


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [("accounts.dev.cluster.system_nodes.desired_size", 1)],
            "accounts.dev.cluster.system_nodes.desired_size: must be between min_size (2) and "
            "max_size (3) (got 1)",
        ),
        (
            [("accounts.dev.data.postgres.min_capacity", 16)],
            "accounts.dev.data.postgres.min_capacity: larger than max_capacity (4.0) (got 16.0)",
        ),
        (
            [("accounts.security.log_archive.glacier_after_days", 3000)],
            "accounts.security.log_archive.glacier_after_days: must be less than "
            "expire_after_days (2557) (got 3000)",
        ),
        (
            [("accounts.prod.data.caches.sessions.engine", "redis")],
            "accounts.prod.data.caches.sessions.version: redis versions offered: 7.0, 7.1 "
            "(got '8.0')",
        ),
        (
            [("accounts.prod.edge.buckets", ["alb", "static", "media"])],
            "accounts.prod.edge.buckets: names the load balancer, not a bucket (got 'alb')",
        ),
    ],
)
def test_fields_of_one_section_that_disagree_are_refused(sample_raw, edits, expected):
    assert problems_of(broken(sample_raw, *edits)) == [expected]


# --- the file ---------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml: 1 problem .*\n  - \(file\): no such file"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("organization:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"  - line 3, column 1: invalid YAML"):
        load_config(path)


@pytest.mark.parametrize(("text", "shown"), [("", "an empty document"), ("- a\n", "list")])
def test_document_must_be_a_mapping(tmp_path, text, shown):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"expected a mapping, found {shown}"):
        load_config(path)


def test_app_stops_on_bad_config_before_writing_templates(sample_raw, tmp_path):
    """`cdk synth` runs cdk.json's app command: a bad config exits 2 with the message, no
    traceback, no template."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            sort_keys=False,
            data=broken(
                sample_raw,
                ("accounts.staging.id", "444444444444"),
                ("accounts.prod.network.cidr", "10.32.0.0/17"),
            ),
        )
    )
    outdir = tmp_path / "cdk.out"
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"platform:config": str(bad)}),
        "CDK_OUTDIR": str(outdir),
    }
    result = subprocess.run(
        app_command(),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "accounts.staging.id: account id already used by accounts.dev.id" in result.stderr
    assert "accounts.prod.network.cidr: overlaps accounts.staging.network.cidr" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(Path(outdir).glob("**/*.template.json"))


def test_swapped_account_ids_are_caught_by_what_they_name(sample_raw):
    """Each id is unique and well-formed after a swap; the cluster's roles and the pipeline's
    connection still name the old accounts, and that is what gives the swap away."""
    raw = broken(
        sample_raw,
        ("accounts.dev.id", sample_raw["accounts"]["staging"]["id"]),
        ("accounts.staging.id", sample_raw["accounts"]["dev"]["id"]),
    )
    problems = problems_of(raw)
    assert (
        "accounts.dev.cluster.admin_role_arns.0: a role of accounts.staging (444444444444), "
        "another environment, but this cluster is in accounts.dev (555555555555); are two "
        "account ids swapped? (got 'arn:aws:iam::444444444444:role/PlatformAdmin')"
    ) in problems
    assert {p.split(":")[0] for p in problems} == {
        "accounts.dev.access.roles.0",
        "accounts.dev.cluster.admin_role_arns.0",
        "accounts.dev.cluster.viewer_role_arns.0",
        "accounts.staging.cluster.admin_role_arns.0",
        "accounts.staging.cluster.viewer_role_arns.0",
    }


def test_a_shared_services_id_swap_is_caught_by_the_pipeline_connection(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.shared-services.id", sample_raw["accounts"]["security"]["id"]),
        ("accounts.security.id", sample_raw["accounts"]["shared-services"]["id"]),
    )
    assert (
        "pipeline.connection_arn: must be a connection of the shared-services account "
        "(222222222222) in eu-west-1, where the pipeline runs; are account ids swapped? (got "
        f"'{sample_raw['pipeline']['connection_arn']}')"
    ) in problems_of(raw)


def test_a_role_outside_the_environments_may_administer_a_cluster(sample_raw):
    """Shared-services or an identity account outside the config is a legitimate admin."""
    raw = broken(
        sample_raw,
        (
            "accounts.prod.cluster.admin_role_arns",
            [
                "arn:aws:iam::333333333333:role/PlatformAdmin",
                "arn:aws:iam::999999999999:role/BreakGlass",
            ],
        ),
    )
    assert parse_config(raw).accounts["prod"].cluster is not None


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("dev.example.com", "already the domain of accounts.dev"),
        ("eu.dev.example.com", "nests with accounts.dev.domain (dev.example.com)"),
        ("example.com", "is the parent zone itself; give the account a subdomain"),
    ],
)
def test_each_domain_belongs_to_one_account(sample_raw, domain, message):
    raw = broken(
        sample_raw,
        ("accounts.staging.domain", domain),
    )
    problems = [p for p in problems_of(raw) if p.startswith("accounts.staging.domain")]
    assert any(message in p and p.endswith(f"(got {domain!r})") for p in problems), problems


def test_the_management_account_is_never_a_pipeline_target(sample_raw):
    raw = broken(sample_raw, ("pipeline.waves.0.accounts", ["security", "management"]))
    assert (
        "pipeline.waves.0.accounts.1: the management account is deployed by hand (`make "
        "deploy-management`, break-glass), never by the pipeline; remove it from the waves "
        "(got 'management')"
    ) in problems_of(raw)


def test_the_security_account_deploys_first_and_alone(sample_raw):
    together = broken(sample_raw, ("pipeline.waves.1", ...))
    together["pipeline"]["waves"][0]["accounts"] = ["security", "shared-services"]
    assert (
        "pipeline.waves.0.accounts: the security account deploys in a wave of its own, before "
        "every other: its log archive must exist before any account's Config delivers to it "
        "(got ['security', 'shared-services'])"
    ) in problems_of(together)
    later = copy.deepcopy(sample_raw)
    waves = later["pipeline"]["waves"]
    waves[0], waves[1] = waves[1], waves[0]
    assert (
        "pipeline.waves.0.accounts: the first wave must deploy the security account: its log "
        "archive receives every other account's Config recordings (got ['shared-services'])"
    ) in problems_of(later)


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("accounts:\n  dev:\n    id: '1'\n  dev:\n    id: '2'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).endswith(
        "1 problem in the platform configuration:\n"
        "  - line 4, column 3: invalid YAML: key 'dev' appears twice in one mapping"
    )


def test_argo_cd_in_high_availability_needs_three_nodes(sample_raw):
    """redis-ha puts each of its three replicas on a node of its own: on two nodes the Helm
    install times out and the hub's cluster stack fails."""
    raw = broken(sample_raw, ("accounts.shared-services.cluster.system_nodes.min_size", 2))
    assert problems_of(raw) == [
        "accounts.shared-services.cluster.system_nodes.min_size: Argo CD runs in high "
        "availability on this cluster, whose redis-ha needs 3 nodes (one per replica); raise "
        "min_size to 3 or set gitops.high_availability: false (got 2)"
    ]
    assert parse_config(broken(raw, ("gitops.high_availability", False))) is not None
    no_redis_ha = broken(raw, ("gitops.argocd_values", {"redis-ha": {"enabled": False}}))
    config = parse_config(no_redis_ha)
    assert not config.argocd_high_availability("shared-services")


def test_argo_cd_runs_in_high_availability_on_the_hub_only_by_default(sample_config):
    assert {
        name for name in sample_config.accounts if sample_config.argocd_high_availability(name)
    } == {"shared-services"}


def test_a_postgres_minor_no_longer_offered_is_refused(sample_raw):
    """RDS and Aurora retire minor versions about a year after release; creating a retired one
    fails at deploy ("Cannot find version")."""
    raw = broken(sample_raw, ("accounts.dev.data.postgres.version", "16.6"))
    (problem,) = problems_of(raw)
    assert problem.startswith(
        "accounts.dev.data.postgres.version: 16.6 is no longer offered for new databases; "
        "use 16.8 or newer (default 16.11)"
    )
