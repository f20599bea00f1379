"""One dashboard per account: every alarm of the account, in each region, and the golden
signals of what the account runs; alarm names unique where CloudWatch needs them to be."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from constructs_lib.operations.dashboard import AccountDashboard
from tests.conftest import new_stack
from tests.helpers import props


def body(stack) -> dict:
    """The account's one dashboard body, with the stack's own pseudo parameters resolved."""
    (dashboard,) = stack.of_type("AWS::CloudWatch::Dashboard").values()
    text = "".join(
        part
        if isinstance(part, str)
        else {"AWS::Region": stack.region, "AWS::AccountId": stack.account}.get(
            part.get("Ref"), "aws"
        )
        for part in props(dashboard)["DashboardBody"]["Fn::Join"][1]
    )
    return json.loads(text)


def alarm_names_by_region(organisation, stage: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for stack in organisation.all_stacks():
        if stack.stage != stage:
            continue
        for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
            found.setdefault(stack.region, set()).add(props(alarm)["AlarmName"])
    return found


def test_each_account_has_one_dashboard_and_no_stack_has_its_own(organisation, sample_config):
    dashboards = Counter(
        (stack.stage, stack.id)
        for stack in organisation.all_stacks()
        for _ in stack.of_type("AWS::CloudWatch::Dashboard")
    )
    assert dashboards == Counter({(name, "Operations"): 1 for name in sample_config.accounts})


@pytest.mark.parametrize("stage", ["prod", "sandbox", "security"])
def test_the_dashboard_lists_every_alarm_of_its_account_by_region(organisation, stage):
    widgets = body(organisation.stacks[stage]["Operations"])["widgets"]
    listed: dict[str, set[str]] = {}
    for widget in widgets:
        if widget["type"] == "alarm":
            for arn in widget["properties"]["alarms"]:
                _, _, _, region, _, _, name = arn.split(":", 6)
                listed.setdefault(region, set()).add(name)
    assert listed == alarm_names_by_region(organisation, stage)


def test_alarm_names_are_unique_in_each_account_and_region(organisation):
    """CloudFormation cannot create a second alarm of a name in one account and region."""
    seen = Counter(
        (stack.stage, stack.region, props(alarm)["AlarmName"])
        for stack in organisation.all_stacks()
        for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()
    )
    assert [key for key, count in seen.items() if count > 1] == []


def graphs(stack) -> dict[str, tuple[str, str]]:
    return {
        w["properties"]["title"]: (
            w["properties"]["region"],
            w["properties"]["metrics"][0][0]["expression"],
        )
        for w in body(stack)["widgets"]
        if w["type"] == "metric"
    }


def test_golden_signals_follow_what_the_account_runs(organisation):
    prod = graphs(organisation.stacks["prod"]["Operations"])
    assert prod["Edge (CloudFront, WAF): CloudFront 5xx %"] == (
        "us-east-1",
        "SEARCH('{AWS/CloudFront,DistributionId,Region} MetricName=\"5xxErrorRate\"', "
        "'Average', 300)",
    )
    assert prod["Load balancer: Target response p99 (s)"][1].startswith(
        "SEARCH('{AWS/ApplicationELB,LoadBalancer} MetricName=\"TargetResponseTime\"', 'p99'"
    )
    assert "Kubernetes: Node CPU %" in prod and "OpenSearch: Search latency (ms)" in prod
    assert "{AWS/RDS,DBClusterIdentifier}" in prod["PostgreSQL: PostgreSQL CPU %"][1]
    sandbox = graphs(organisation.stacks["sandbox"]["Operations"])
    # sandbox's PostgreSQL is an RDS instance, and it has no cache or search
    assert "{AWS/RDS,DBInstanceIdentifier}" in sandbox["PostgreSQL: PostgreSQL CPU %"][1]
    assert not any(t.startswith(("Caches", "OpenSearch")) for t in sandbox)
    management = graphs(organisation.stacks["management"]["Operations"])
    assert {t.split(":")[0] for t in management} == {"Lambda functions"}


def test_a_repeated_alarm_name_stops_synthesis():
    stack = new_stack()
    with pytest.raises(ValueError, match="alarm names used twice: eu-west-1: a-x"):
        AccountDashboard(
            stack,
            "Dashboard",
            dashboard_name="d",
            title="t",
            alarms={"eu-west-1": ["a-x", "a-x"]},
            services=["functions"],
            edge_region="us-east-1",
        )
