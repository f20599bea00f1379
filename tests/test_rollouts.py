"""Canary releases with Argo Rollouts: the add-on on every workload cluster, its controller's
role reads only its cluster's Prometheus workspace, the platform's ClusterAnalysisTemplates of
the sample's canary service validate against Argo Rollouts' CRD (with the warm-up, limits and
PromQL over the canary's pods), and the reference Rollout uses them."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from config import load_config
from constructs_lib.eks import gitops_bridge
from stages.naming import cluster_name
from tests import iam_check
from tests.conftest import ROOT, SAMPLE_CONFIG
from tests.test_cluster import policy_of
from tools import teams_gitops

SCHEMAS = ROOT / "tests" / "schemas" / "crds"
FIXTURE = ROOT / "tests" / "fixtures" / "rollout-checkout-api.yaml"
WORKLOADS = ("dev", "staging", "prod", "sandbox")


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def schema_errors(manifest: dict[str, Any], schema_file: str) -> list[str]:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


# --- the add-on ----------------------------------------------------------------------------------


def test_the_add_on_is_pinned_in_the_platform_project_on_clusters_with_its_role():
    (appset,) = [
        d
        for d in documents(ROOT / "gitops/bootstrap/addons.yaml")
        if d["metadata"]["name"] == "addon-argo-rollouts"
    ]
    spec = appset["spec"]
    assert spec["generators"] == [
        {"clusters": {"selector": {"matchLabels": {"enable_argo_rollouts": "true"}}}}
    ]
    source = spec["template"]["spec"]["source"]
    assert source["repoURL"] == "https://argoproj.github.io/argo-helm"
    assert source["chart"] == "argo-rollouts"
    assert re.fullmatch(r"\d+\.\d+\.\d+", source["targetRevision"])
    assert spec["template"]["spec"]["project"] == "platform"
    assert spec["template"]["spec"]["destination"]["namespace"] == "argo-rollouts"
    assert source["helm"]["valuesObject"]["serviceAccount"]["name"] == "argo-rollouts"
    assert source["helm"]["valuesObject"]["dashboard"]["enabled"] is False


@pytest.mark.parametrize("stage", WORKLOADS)
def test_every_workload_cluster_is_labelled_for_the_add_on(organisation, stage):
    template = organisation.stacks_named("Cluster")[stage].template
    text = json.dumps(template)
    # The bridge metadata (the Argo CD cluster Secret or the spoke's registration) carries
    # the label and the role's ARN.
    assert "enable_argo_rollouts" in text and "argo_rollouts_role_arn" in text


@pytest.mark.parametrize("stage", WORKLOADS)
def test_the_controller_may_query_only_its_clusters_workspace(organisation, stage):
    stack = organisation.stacks_named("Cluster")[stage]
    statements = policy_of(stack, "argo-rollouts")
    (workspace,) = stack.of_type("AWS::APS::Workspace")
    world = iam_check.World(account=stack.account, region=stack.region)
    resolved = iam_check.resolve(statements, world)
    own = f"<unresolved {workspace}.Arn>"
    other = world.arn("aps", "workspace/ws-00000000-0000-0000-0000-000000000000")
    for action in ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels"):
        assert iam_check.decide(resolved, action, own, {})
        assert not iam_check.decide(resolved, action, other, {})
    for action in ("aps:RemoteWrite", "aps:DeleteWorkspace", "aps:CreateRuleGroupsNamespace"):
        assert not iam_check.decide(resolved, action, own, {})


def test_the_hub_without_a_workspace_has_no_rollouts_role(organisation):
    stack = organisation.stacks_named("Cluster")["shared-services"]
    accounts = {
        a["Properties"]["ServiceAccount"]
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
    }
    assert "argo-rollouts" not in accounts


# --- the platform's analysis -------------------------------------------------------------------


def rendered_templates(values: dict[str, Any], address: str, region: str) -> list[dict]:
    """What gitops/charts/canary-analysis makes of a cluster's values (its template sets the
    provider's address and SigV4 region on every metric; helm is not run here)."""
    chart = ROOT / "gitops/charts/canary-analysis/templates/cluster-analysis-templates.yaml"
    text = chart.read_text()
    assert 'set .provider.prometheus "address" $address' in text
    assert '(dict "sigv4" (dict "region" $region))' in text
    out = []
    for template in values["templates"]:
        rendered = copy.deepcopy(template)
        for metric in rendered["spec"]["metrics"]:
            metric["provider"]["prometheus"]["address"] = address
            metric["provider"]["prometheus"]["authentication"] = {"sigv4": {"region": region}}
        out.append(rendered)
    return out


def committed_values(cluster: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / teams_gitops.CANARY / f"{cluster}.yaml").read_text())


SAMPLE_CANARY_CLUSTERS = ("dev", "staging", "prod")
ADDRESS = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123/"


@pytest.mark.parametrize("environment", SAMPLE_CANARY_CLUSTERS)
def test_the_sample_canary_service_gets_the_platforms_analysis(environment):
    config = load_config(SAMPLE_CONFIG)
    (template,) = rendered_templates(
        committed_values(cluster_name(config, environment)), ADDRESS, "eu-west-1"
    )
    assert schema_errors(template, "argoproj.io_clusteranalysistemplate_v1alpha1.json") == []
    assert template["kind"] == "ClusterAnalysisTemplate"  # cluster-scoped: no team project
    assert template["metadata"]["name"] == "checkout-checkout-api"
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {"success-rate", "latency-p99"}
    for metric in metrics.values():
        assert metric["initialDelay"] == teams_gitops.CANARY_WARMUP  # the warm-up
        assert metric["failureLimit"] == teams_gitops.CANARY_FAILURE_LIMIT
        assert metric["interval"] == teams_gitops.CANARY_INTERVAL
        prometheus = metric["provider"]["prometheus"]
        assert prometheus["authentication"] == {"sigv4": {"region": "eu-west-1"}}
        assert prometheus["address"] == ADDRESS
    assert metrics["success-rate"]["successCondition"].endswith("result[0] >= 0.99")
    assert metrics["latency-p99"]["successCondition"].endswith("result[0] <= 0.5")


def test_only_clusters_with_a_canary_service_get_templates():
    config = load_config(SAMPLE_CONFIG)
    committed = {p.stem for p in (ROOT / teams_gitops.CANARY).glob("*.yaml")}
    assert committed == {cluster_name(config, e) for e in SAMPLE_CANARY_CLUSTERS}
    off = config.model_copy(deep=True)
    for team in off.teams.values():
        for service in team.services.values():
            object.__setattr__(service, "canary", False)
    assert teams_gitops.canary_values(off) == {}


def test_the_schema_refuses_a_broken_template():
    config = load_config(SAMPLE_CONFIG)
    (template,) = rendered_templates(
        committed_values(cluster_name(config, "dev")), ADDRESS, "eu-west-1"
    )
    template["spec"]["metrics"][0]["provider"]["prometheus"]["authentication"] = {
        "sigv4": {"regoin": "eu-west-1"}
    }
    assert schema_errors(template, "argoproj.io_clusteranalysistemplate_v1alpha1.json") != []


def promql_shape(query: str) -> None:
    """No PromQL parser is in the lock: check brackets balance and every selector is a
    well-formed label matcher list over the canary's pods of one namespace."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in re.sub(r'"[^"]*"', '""', query):
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            assert stack and stack.pop() == pairs[char], query
    assert not stack, query
    selectors = re.findall(r"\{([^{}]*(?:\{\{[^}]*\}\}[^{}]*)*)\}\[", query)
    assert selectors, query
    matcher = re.compile(r'^[a-z_]+(=|!=|=~|!~)"[^"]*"$')
    for selector in selectors:
        parts = re.findall(r'[a-z_]+(?:=~|!~|!=|=)"[^"]*"', selector)
        assert ",".join(parts) == selector, selector
        assert all(matcher.match(p) for p in parts)
        assert 'namespace="checkout"' in parts and 'service="checkout-api"' in parts
        assert 'pod=~"checkout-api-{{args.canary-hash}}-.*"' in parts


def test_the_queries_are_well_formed_and_read_the_canarys_pods_only():
    queries = teams_gitops.canary_queries("checkout", "checkout-api")
    for query in queries.values():
        promql_shape(query)
    assert 'code!~"5.."' in queries["success-rate"]
    assert queries["latency-p99"].startswith("histogram_quantile(0.99, sum by (le) (rate(")
    with pytest.raises(AssertionError):
        promql_shape(queries["success-rate"].rstrip(")"))


# --- the reference Rollout ---------------------------------------------------------------------


def test_the_reference_rollout_validates_and_uses_the_platforms_analysis():
    (rollout,) = documents(FIXTURE)
    assert schema_errors(rollout, "argoproj.io_rollout_v1alpha1.json") == []
    config = load_config(SAMPLE_CONFIG)
    (template,) = committed_values(cluster_name(config, "dev"))["templates"]
    canary = rollout["spec"]["strategy"]["canary"]
    assert canary["analysis"]["templates"] == [
        {"templateName": template["metadata"]["name"], "clusterScope": True}
    ]
    # the one argument the template declares, from the canary's pod-template hash
    assert [a["name"] for a in template["spec"]["args"]] == [
        a["name"] for a in canary["analysis"]["args"]
    ]
    assert canary["analysis"]["args"][0]["valueFrom"] == {"podTemplateHashValue": "Latest"}
    weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
    assert weights == [10, 25, 50]
    assert all(
        "pause" in canary["steps"][i + 1] for i, s in enumerate(canary["steps"]) if "setWeight" in s
    )
    assert rollout["metadata"]["name"] == "checkout-api"  # pods checkout-api-<hash>-*
    annotations = rollout["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"


def test_the_rollout_schema_refuses_a_broken_step():
    (rollout,) = documents(FIXTURE)
    rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setWeigth": 10}
    assert schema_errors(rollout, "argoproj.io_rollout_v1alpha1.json") != []


def test_every_add_on_label_reaches_the_spokes_cluster_secrets():
    """In hub-and-spoke the hub's cluster generator sees a spoke through the Secret the
    registrations chart writes: a label it does not copy leaves the add-on off the spoke."""
    template = ROOT / "gitops/charts/cluster-registrations/templates/registrations.yaml"
    text = template.read_text()
    for addon in gitops_bridge.ADDON_ROLE_ANNOTATIONS:
        label = gitops_bridge.enable_label(addon)
        assert f"{label}: {{{{`'{{{{ .label_{label} | default \"false\" }}}}'`}}}}" in text, label


def test_the_collector_may_scrape_the_metrics_port_only():
    """The analyses read what the managed collector scraped: team namespaces admit the VPC
    (the collector's interfaces are in its private subnets) on the metrics port alone."""
    from tests.test_teams_gitops import allowed

    config = load_config(SAMPLE_CONFIG)
    (rollout,) = documents(FIXTURE)
    annotations = rollout["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(teams_gitops.METRICS_PORT)
    collector = {"ip": "10.16.20.5"}  # dev's VPC
    for team, namespace in (("checkout", "checkout"), ("reports", "reports")):
        policies = teams_gitops.network_policies(config, team, "dev", namespace)
        assert allowed(policies, "Ingress", collector, teams_gitops.METRICS_PORT)
        assert not allowed(policies, "Ingress", collector, teams_gitops.METRICS_PORT + 1)
        assert not allowed(policies, "Ingress", {"ip": "52.95.1.1"}, teams_gitops.METRICS_PORT)
