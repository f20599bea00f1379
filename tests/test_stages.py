"""The whole sample organisation, synthesized once: stages, stacks, accounts, tags."""

from __future__ import annotations

import json
from functools import cache

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from tests.helpers import tags_of

REGIONAL = {"Baseline-eu-central-1", "Baseline-us-east-1"}
"""Every account's baseline (AWS Config) in the allowed regions other than its own."""
EXPECTED_STACKS = {
    "management": {"Organization", "Budgets", "Baseline", "Operations", "Ci"} | REGIONAL,
    "security": {"LogArchive", "Audit", "BackupCopies", "Baseline", "Operations", "Ci"} | REGIONAL,
    "shared-services": {
        "Network",
        "NetworkHub",
        "Dns",
        "Cluster",
        "Registry",
        "Ci",
        "Baseline",
        "Operations",
    }
    | REGIONAL,
    "dev": {
        "Network",
        "Cluster",
        "Data",
        "Edge",
        "EdgeGlobal",
        "EdgeAlarms",
        "Teams",  # checkout and reports run in dev
        "Access",  # config asks for the operator access instance
        "Ci",
        "Baseline",
        "Operations",
    }
    | REGIONAL,
    "staging": {
        "Network",
        "Cluster",
        "Data",
        "Edge",
        "EdgeGlobal",
        "EdgeAlarms",
        "Teams",
        "Operations",
        "Baseline",
        "Ci",
    }
    | REGIONAL,
    "prod": {
        "Network",
        "Cluster",
        "Data",
        "Edge",
        "EdgeGlobal",
        "EdgeAlarms",
        "Teams",
        "Access",
        "Operations",
        "Baseline",
        "Ci",
    }
    | REGIONAL,
    "sandbox": {
        "Network",
        "Cluster",
        "Data",
        "Edge",
        "EdgeGlobal",
        "EdgeAlarms",
        "Baseline",
        "Operations",
        "Ci",
    }
    | REGIONAL,
}


def test_one_stage_per_account_with_the_expected_stacks(organisation):
    assert {stage: set(stacks) for stage, stacks in organisation.stacks.items()} == EXPECTED_STACKS


def test_every_stack_is_bound_to_its_account_and_region(organisation, sample_config):
    for stack in organisation.all_stacks():
        if not stack.stage:
            continue  # the pipeline: see test_pipeline
        account = sample_config.accounts[stack.stage]
        # CloudFront takes certificates and web ACLs from us-east-1 only.
        region = (
            "us-east-1"
            if stack.id in ("EdgeGlobal", "EdgeAlarms")
            else stack.id.removeprefix("Baseline-")
            if stack.id.startswith("Baseline-")
            else account.region
        )
        assert (stack.account, stack.region) == (account.id, region), stack.stage


PROTECTED_ACCOUNTS = ("management", "security", "shared-services", "staging", "prod")


def test_termination_protection_everywhere_but_dev_and_sandbox(organisation):
    protected = {
        (s.stage or "(app)", s.id) for s in organisation.all_stacks() if s.termination_protection
    }
    assert protected == {
        ("management", "Organization"),
        ("management", "Budgets"),
        ("management", "Baseline"),
        ("security", "Baseline"),
        *((a, "Operations") for a in ("management", "security", "shared-services")),
        *((a, b) for a in PROTECTED_ACCOUNTS for b in REGIONAL),
        ("management", "Ci"),
        ("security", "Ci"),
        ("staging", "Ci"),
        ("prod", "Ci"),
        ("shared-services", "Baseline"),
        ("staging", "Baseline"),
        ("prod", "Baseline"),
        ("security", "LogArchive"),
        ("security", "Audit"),
        ("security", "BackupCopies"),
        ("shared-services", "Network"),
        ("shared-services", "NetworkHub"),
        ("shared-services", "Dns"),
        ("staging", "Network"),
        ("prod", "Network"),
        ("staging", "Operations"),
        ("prod", "Operations"),
        ("shared-services", "Cluster"),
        ("shared-services", "Registry"),
        ("shared-services", "Ci"),
        ("staging", "Cluster"),
        ("prod", "Cluster"),
        ("staging", "Data"),
        ("prod", "Data"),
        ("staging", "Edge"),
        ("prod", "Edge"),
        ("staging", "EdgeGlobal"),
        ("staging", "Teams"),
        ("prod", "Teams"),
        ("prod", "Access"),
        ("prod", "EdgeGlobal"),
        ("staging", "EdgeAlarms"),
        ("prod", "EdgeAlarms"),
        ("(app)", "Pipeline"),
        ("(app)", "Pipeline-us-east-1"),
        ("(app)", "Pipeline-eu-central-1"),
    }


def test_synthesis_needed_no_lookup(organisation):
    """No construct asked AWS for anything: nothing for cdk.context.json to cache."""
    for stage_dir in organisation.outdir.glob("assembly-*"):
        manifest = json.loads((stage_dir / "manifest.json").read_text())
        assert not manifest.get("missing"), stage_dir.name


def test_workload_vpcs_follow_config(organisation, sample_config):
    for name, account in sample_config.accounts_with_role(
        "shared-services", "dev", "staging", "prod", "sandbox"
    ).items():
        stack = organisation.stacks[name]["Network"]
        (vpc,) = stack.of_type("AWS::EC2::VPC").values()
        assert vpc["Properties"]["CidrBlock"] == account.network.cidr
        zones = {
            s["Properties"]["AvailabilityZone"] for s in stack.of_type("AWS::EC2::Subnet").values()
        }
        assert zones == set(account.network.availability_zones)
        nat_expected = len(zones) if account.network.nat_gateways == "per-az" else 1
        assert len(stack.of_type("AWS::EC2::NatGateway")) == nat_expected
        (log_group,) = stack.of_type("AWS::Logs::LogGroup").values()
        assert log_group["Properties"]["RetentionInDays"] == (
            account.network.flow_logs_retention_days
        )


def test_log_archive_has_the_deterministic_name_and_config_lock(organisation, sample_config):
    stack = organisation.stacks["security"]["LogArchive"]
    names = {b["Properties"]["BucketName"]: b for b in stack.of_type("AWS::S3::Bucket").values()}
    archive = names["exco-security-log-archive-222222222222-eu-west-1"]
    assert archive["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": "COMPLIANCE",
        "Days": 365,
    }
    assert "exco-security-log-archive-access-222222222222-eu-west-1" in names


def test_management_budgets_cover_every_account(organisation, sample_config):
    stack = organisation.stacks["management"]["Budgets"]
    limits = {
        b["Properties"]["Budget"]["CostFilters"]["LinkedAccount"][0]: b["Properties"]["Budget"][
            "BudgetLimit"
        ]["Amount"]
        for b in stack.of_type("AWS::Budgets::Budget").values()
    }
    assert limits == {a.id: a.monthly_budget_usd for a in sample_config.accounts.values()}


@cache
def tags_property(resource_type: str) -> str | None:
    """How CloudFormation spells a type's tags: 'Tags', or None if it can't be tagged."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return "Tags" if "Tags" in schema.get("properties", {}) else None


def test_every_taggable_resource_carries_the_cost_allocation_tags(organisation, sample_config):
    checked = 0
    for stack in organisation.all_stacks():
        account = sample_config.accounts[stack.stage or "shared-services"]  # pipeline: there
        expected = {**sample_config.tags, "Environment": account.role}
        for logical_id, resource in stack.resources.items():
            if resource["Type"].startswith("Custom::") or not tags_property(resource["Type"]):
                continue
            checked += 1
            missing = {k: v for k, v in expected.items() if tags_of(resource).get(k) != v}
            assert not missing, f"{stack.stage}/{stack.id}/{logical_id} lacks {missing}"
    assert checked > 100


@pytest.mark.parametrize("resource_type", ["AWS::EC2::Route", "AWS::S3::BucketPolicy"])
def test_untaggable_types_are_recognised(resource_type):
    assert tags_property(resource_type) is None
