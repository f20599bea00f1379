"""A team's public paths reach its own pods: per path a listener rule on the edge's load
balancer (priority from the team's name alone) to the team's target group, and per
environment a TargetGroupBinding the platform applies."""

from __future__ import annotations

import copy
from fnmatch import fnmatchcase
from typing import Any

from aws_cdk.assertions import Template

import app as platform_app
from config import parse_config
from config.model import edge_rule_priority, edge_rule_slot
from stages.naming import team_target_group_name
from stages.workload import WorkloadStage
from tests.helpers import of_type, props
from tests.test_config import problems_of
from tests.test_teams_gitops import schema_errors
from tools import teams_gitops

RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"


def _rules(template: dict[str, Any]) -> dict[int, tuple[str, list[str]]]:
    """Priority -> (target group logical id, path patterns)."""
    result = {}
    for rule in of_type(template, RULE).values():
        p = props(rule)
        (condition,) = p["Conditions"]
        assert condition["Field"] == "path-pattern"
        (action,) = p["Actions"]
        result[p["Priority"]] = (
            action["TargetGroupArn"]["Ref"],
            condition["PathPatternConfig"]["Values"],
        )
    return result


def _groups(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: props(r) for lid, r in of_type(template, GROUP).items()}


def test_each_public_path_forwards_to_the_teams_group_only(organisation, sample_config):
    for account in ("dev", "staging", "prod"):
        template = organisation.stacks[account]["Edge"].template
        rules, groups = _rules(template), _groups(template)
        env = sample_config.teams["checkout"].environments[account]
        name = team_target_group_name(sample_config, account, "checkout")
        (group_id,) = [lid for lid, g in groups.items() if g.get("Name") == name]
        expected = {
            edge_rule_priority("checkout", i): (group_id, [path])
            for i, path in enumerate(env.public_paths)
        }
        assert rules == expected
        group = groups[group_id]
        edge = sample_config.accounts[account].edge_settings
        assert group["TargetType"] == "ip" and group["Protocol"] == "HTTP"
        assert group["Port"] == edge.target_port
        assert group["HealthCheckPath"] == edge.health_check_path
        # A path the team does not own (the platform's default, another behaviour) never
        # reaches its group: only its own patterns forward there.
        for probe in ("/", "/graphql/x", "/api/other/x", "/API/checkout/x"):
            assert not any(
                fnmatchcase(probe, pattern)
                for target, patterns in rules.values()
                if target == group_id
                for pattern in patterns
            ), probe


def test_team_target_group_names_fit_and_stay_deterministic(sample_config):
    assert team_target_group_name(sample_config, "dev", "checkout") == "exco-dev-team-checkout"
    long = team_target_group_name(sample_config, "staging", "abcdefghijklmnop")
    assert len(long) == 32 and long == team_target_group_name(
        sample_config, "staging", "abcdefghijklmnop"
    )
    assert long != team_target_group_name(sample_config, "staging", "abcdefghijklmnoq")


def _with_team(raw: dict[str, Any], name: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["teams"][name] = {
        "owners": ["arn:aws:iam::444444444444:role/SearchDeveloper"],
        "repositories": ["example-co/search"],
        "environments": {
            "dev": {
                "namespaces": {"search": {"cpu": 1, "memory_gib": 1, "pods": 5}},
                "public_paths": ["/api/search/*", "/api/suggest"],
            }
        },
    }
    return raw


def test_adding_a_team_keeps_the_others_priorities(organisation, sample_raw):
    before = _rules(organisation.stacks["dev"]["Edge"].template)
    config = parse_config(_with_team(sample_raw, "search"), source="test.yaml")
    app = platform_app.create_app()
    stage = WorkloadStage(app, "dev", config=config)
    assert stage.edge_stack is not None
    after = _rules(Template.from_stack(stage.edge_stack).to_json())
    assert {p: v[1] for p, v in before.items()} == {
        p: v[1] for p, v in after.items() if p in before
    }
    added = {p: v[1] for p, v in after.items() if p not in before}
    assert added == {
        edge_rule_priority("search", 0): ["/api/search/*"],
        edge_rule_priority("search", 1): ["/api/suggest"],
    }


def test_two_teams_in_one_slot_are_refused(sample_raw):
    slot = edge_rule_slot("checkout")
    twin = next(f"t{i}" for i in range(100_000) if edge_rule_slot(f"t{i}") == slot)
    problems = problems_of(_with_team(sample_raw, twin))
    assert any("same edge listener-rule slot" in p and twin in p for p in problems), problems


def test_alb_path_limits_are_checked(sample_raw):
    raw = copy.deepcopy(sample_raw)
    raw["teams"]["checkout"]["environments"]["dev"]["public_paths"] = [
        "/a/*/*/*/*/*/*",
        "/" + "a" * 130,
    ]
    problems = problems_of(raw)
    assert any("wildcards" in p for p in problems), problems
    assert any("128 characters" in p for p in problems), problems


def test_the_platform_binds_the_teams_service_to_its_group(sample_config):
    for account in ("dev", "staging", "prod"):
        manifests = teams_gitops.namespace_manifests(sample_config, "checkout", account, "checkout")
        (binding,) = [m for m in manifests if m["kind"] == "TargetGroupBinding"]
        assert binding["spec"] == {
            "targetGroupName": team_target_group_name(sample_config, account, "checkout"),
            "targetType": "ip",
            "serviceRef": {"name": "edge", "port": 8080},
        }
        assert schema_errors(binding) == []
    # A team without public paths gets no binding; teams never may create one themselves.
    reports = teams_gitops.namespace_manifests(sample_config, "reports", "dev", "reports")
    assert not [m for m in reports if m["kind"] == "TargetGroupBinding"]
    assert ("elbv2.k8s.aws", "TargetGroupBinding") not in teams_gitops.TEAM_KINDS
    (guardrails,) = [teams_gitops.guardrails_application(sample_config, "checkout", "dev")]
    assert guardrails["spec"]["project"] == teams_gitops.PLATFORM_PROJECT


def test_team_paths_reach_the_alb_uncached_with_the_whole_request(organisation, sample_config):
    """The sample's default behaviour is the load balancer, uncached, all viewer values: the
    team's paths, apart from every configured behaviour, fall to it."""
    edge = sample_config.accounts["dev"].edge_settings
    assert edge.default.origin == "alb" and edge.default.cache == "disabled"
    template = organisation.stacks["dev"]["Edge"].template
    (dist,) = of_type(template, "AWS::CloudFront::Distribution").values()
    config = props(dist)["DistributionConfig"]
    for path in sample_config.teams["checkout"].environments["dev"].public_paths:
        assert not any(
            fnmatchcase(path.replace("*", "x"), b["PathPattern"])
            for b in config.get("CacheBehaviors", [])
        )
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert default["OriginRequestPolicyId"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"  # AllViewer
