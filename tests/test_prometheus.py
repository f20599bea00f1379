"""Prometheus metrics of the clusters: an AMP workspace and managed collector per workload
cluster, the endpoint handed to Argo CD and SSM, Grafana behind its switch, and their cost."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from config.model import Cluster
from constructs_lib.operations.prometheus import GRAFANA_QUERY_ACTIONS, ClusterPrometheus
from tests.conftest import new_stack
from tests.helpers import one
from tools import cost
from tools.assembly import read_stacks

WORKLOADS = ("dev", "staging", "prod", "sandbox")


@pytest.fixture(scope="module")
def clusters(organisation):
    return organisation.stacks_named("Cluster")


def _getatt(value) -> str:
    return value["Fn::GetAtt"][0]


@pytest.mark.parametrize("stage", WORKLOADS)
def test_each_workload_cluster_has_an_encrypted_logged_workspace(clusters, sample_config, stage):
    stack = clusters[stage]
    workspace = one(stack, "AWS::APS::Workspace")
    assert workspace["Alias"] == f"exco-{stage}"
    key = stack.resources[_getatt(workspace["KmsKeyArn"])]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    group = stack.resources[_getatt(workspace["LoggingConfiguration"]["LogGroupArn"])]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["KmsKeyId"]
    retention = sample_config.accounts[stage].cluster.log_retention_days
    assert group["Properties"]["RetentionInDays"] == retention


def test_the_hub_has_no_workspace_by_default(clusters, sample_config):
    assert sample_config.accounts["shared-services"].cluster.prometheus is None
    assert not clusters["shared-services"].of_type("AWS::APS::Workspace")
    assert not clusters["shared-services"].of_type("AWS::APS::Scraper")


def test_the_scraper_reads_the_cluster_from_its_private_subnets(clusters):
    stack = clusters["dev"]
    scraper = one(stack, "AWS::APS::Scraper")
    eks = scraper["Source"]["EksConfiguration"]
    cluster_id = next(iter(stack.of_type("AWS::EKS::Cluster")))
    assert eks["ClusterArn"] == {"Fn::GetAtt": [cluster_id, "Arn"]}
    # The cluster security group (EKS's own), which admits itself: nodes, pods, endpoint.
    assert eks["SecurityGroupIds"] == [{"Fn::GetAtt": [cluster_id, "ClusterSecurityGroupId"]}]
    nodes = one(stack, "AWS::EKS::Nodegroup")
    assert eks["SubnetIds"] == nodes["Subnets"]
    assert len(eks["SubnetIds"]) >= 2
    workspace_id = next(iter(stack.of_type("AWS::APS::Workspace")))
    assert scraper["Destination"]["AmpConfiguration"]["WorkspaceArn"] == {
        "Fn::GetAtt": [workspace_id, "Arn"]
    }


def test_the_scrape_configuration_covers_api_server_nodes_and_annotated_pods(clusters):
    blob = one(clusters["dev"], "AWS::APS::Scraper")["ScrapeConfiguration"]["ConfigurationBlob"]
    config = yaml.safe_load(base64.b64decode(blob))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"kubernetes-apiservers", "kubelet", "cadvisor", "kubernetes-pods"}
    assert jobs["kubernetes-apiservers"]["relabel_configs"][0]["regex"] == (
        "default;kubernetes;https"
    )
    assert jobs["cadvisor"]["relabel_configs"][-1]["replacement"].endswith("/metrics/cadvisor")
    keep = jobs["kubernetes-pods"]["relabel_configs"][0]
    assert keep == {
        "action": "keep",
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "regex": "true",
    }


def test_the_scraper_gets_its_kubernetes_access_from_amp_not_the_template(clusters):
    """AMP creates the scraper role's access entry on an API-mode cluster; EKS refuses one
    for a service-linked role from the template, so none names it."""
    stack = clusters["dev"]
    assert one(stack, "AWS::EKS::Cluster")["AccessConfig"]["AuthenticationMode"] == "API"
    for entry in stack.of_type("AWS::EKS::AccessEntry").values():
        assert "AmazonPrometheusScraper" not in json.dumps(entry["Properties"]["PrincipalArn"])


def test_the_endpoint_goes_to_ssm_and_to_argo_cd(clusters):
    stack = clusters["dev"]
    workspace_id = next(iter(stack.of_type("AWS::APS::Workspace")))
    endpoint = {"Fn::GetAtt": [workspace_id, "PrometheusEndpoint"]}
    parameters = [
        r["Properties"]
        for r in stack.of_type("AWS::SSM::Parameter").values()
        if r["Properties"].get("Name") == "/exco/dev/prometheus/endpoint"
    ]
    assert [p["Value"] for p in parameters] == [endpoint]
    assert f"{workspace_id}" in json.dumps(
        [r for r in stack.resources.values() if r["Type"].startswith("Custom::")]
        + list(stack.of_type("AWS::SecretsManager::Secret").values())
    )


def test_grafana_is_off_by_default(clusters):
    for stack in clusters.values():
        assert not stack.of_type("AWS::Grafana::Workspace")


def _prometheus(grafana: bool) -> Template:
    stack = new_stack()
    ClusterPrometheus(
        stack,
        "Prometheus",
        name="exco-dev",
        cluster_arn="arn:aws:eks:eu-west-1:444444444444:cluster/exco-dev",
        cluster_security_group_id="sg-1",
        subnet_ids=["subnet-a", "subnet-b"],
        log_retention=logs.RetentionDays.THREE_MONTHS,
        grafana_workspace=grafana,
    )
    return Template.from_stack(stack)


def test_grafana_on_signs_in_through_identity_center_and_reads_only_its_workspace():
    template = _prometheus(grafana=True)
    template.resource_count_is("AWS::Grafana::Workspace", 1)
    grafana = one(template.to_json(), "AWS::Grafana::Workspace")
    assert grafana["AuthenticationProviders"] == ["AWS_SSO"]
    assert grafana["PermissionType"] == "CUSTOMER_MANAGED"
    assert grafana["DataSources"] == ["PROMETHEUS"]
    role = template.to_json()["Resources"][_getatt(grafana["RoleArn"])]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "grafana.amazonaws.com"
    }
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == sorted(GRAFANA_QUERY_ACTIONS)
    workspace_id = next(iter(template.find_resources("AWS::APS::Workspace")))
    assert statement["Resource"] == {"Fn::GetAtt": [workspace_id, "Arn"]}


def test_grafana_off_makes_no_grafana():
    template = _prometheus(grafana=False)
    template.resource_count_is("AWS::Grafana::Workspace", 0)
    template.resource_count_is("AWS::IAM::Role", 0)


def test_grafana_needs_prometheus():
    with pytest.raises(ValueError, match="grafana reads the Prometheus workspace"):
        Cluster(kubernetes_version="1.35", prometheus=False, grafana=True)


def test_config_switch_turns_prometheus_off_and_on(sample_config):
    dev = sample_config.accounts["dev"]
    off = sample_config.model_copy(
        update={
            "accounts": sample_config.accounts
            | {
                "dev": dev.model_copy(
                    update={"cluster": dev.cluster.model_copy(update={"prometheus": False})}
                )
            }
        }
    )
    assert sample_config.prometheus("dev") is True
    assert off.prometheus("dev") is False
    assert sample_config.prometheus("shared-services") is False


def test_cost_prices_the_collector_its_samples_and_grafana(organisation):
    table = json.loads(cost.PRICES.read_text())
    result = cost.estimate(read_stacks(organisation.outdir), table)
    lines = [line for line in result.lines if line.category == "Prometheus"]
    dev = [line for line in lines if line.account == "dev"]
    items = {line.item: line.monthly_usd for line in dev}
    region = table["regions"][organisation.stacks_named("Cluster")["dev"].region]
    assert items["managed collector"] == round(region["amp_collector_hour"] * 730, 2)
    (samples,) = [usd for item, usd in items.items() if "samples/s" in item]
    assert samples > 0
    assert any(item.endswith("GB stored") for item in items)
    assert not any(line.account == "shared-services" for line in lines)
    grafana = list(cost._grafana(cost.Pricer(table, "eu-west-1", cost.date.today()), {}, {}))
    assert grafana[0][2] == 1 * 9.0 + 5 * 5.0
