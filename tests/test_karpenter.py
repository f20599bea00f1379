"""Karpenter capacity: discovery tags, the node class and pools from config (against the
Karpenter CRD schemas), defaults per role, config errors, the controller's launch scope and
the interruption queue reaching the controller's settings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from config.eks_calendar import karpenter_ami_alias
from config.model import Cluster, NodePool, default_node_pools
from config.rules.cluster import _cron_problem, karpenter_pools_valid
from config.rules.problem import PartialConfig
from facts.kubernetes import DISCOVERY_TAG
from stages import karpenter_pools
from tests import iam_check
from tests.helpers import by_sid, tag
from tests.test_cluster import policy_of

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tests/schemas/crds"
SCHEMA = {
    "EC2NodeClass": SCHEMAS / "karpenter.k8s.aws_ec2nodeclass_v1.json",
    "NodePool": SCHEMAS / "karpenter.sh_nodepool_v1.json",
}


@pytest.fixture(scope="module")
def clusters(organisation):
    return organisation.stacks_named("Cluster")


@pytest.fixture(scope="module")
def networks(organisation):
    return organisation.stacks_named("Network")


def registration_fields(stack) -> dict[str, object]:
    """A spoke's registration secret: field -> literal string or the token's intrinsic."""
    for secret in stack.of_type("AWS::SecretsManager::Secret").values():
        body = secret["Properties"].get("SecretString")
        if isinstance(body, dict) and "annotation_karpenter_node_pools" in json.dumps(body):
            return _fields_with_tokens(body["Fn::Join"][1])
    raise AssertionError("no registration secret")


def _fields_with_tokens(parts) -> dict[str, object]:
    tokens: dict[str, object] = {}
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            key = f"@@{len(tokens)}@@"
            tokens[key] = part
            text += key
    return {k: tokens.get(v, v) if isinstance(v, str) else v for k, v in json.loads(text).items()}


def chart_output(manifests: list[dict], role: str, cluster_sg: str, clients_sg: str) -> list[dict]:
    """What gitops/charts/karpenter-pools/templates/pools.yaml writes (its `set` calls)."""
    out = []
    for manifest in manifests:
        manifest = json.loads(json.dumps(manifest))
        if manifest["kind"] == "EC2NodeClass":
            manifest["spec"]["role"] = role
            manifest["spec"]["securityGroupSelectorTerms"] = [
                {"id": cluster_sg},
                {"id": clients_sg},
            ]
        out.append(manifest)
    return out


def test_discovery_tag_on_private_subnets_and_the_clients_group_only(networks, sample_config):
    for stage, stack in networks.items():
        has_cluster = sample_config.accounts[stage].cluster is not None
        expected = f"exco-{stage}" if has_cluster else None
        for subnet_id, subnet in stack.of_type("AWS::EC2::Subnet").items():
            want = expected if "Private" in subnet_id else None
            assert tag(subnet, DISCOVERY_TAG) == want, (stage, subnet_id)
        for group_id, group in stack.of_type("AWS::EC2::SecurityGroup").items():
            want = expected if group_id.startswith("WorkloadClients") else None
            assert tag(group, DISCOVERY_TAG) == want, (stage, group_id)
        for kind in ("AWS::EC2::RouteTable", "AWS::EC2::VPC", "AWS::EC2::NatGateway"):
            for resource in stack.of_type(kind).values():
                assert tag(resource, DISCOVERY_TAG) is None


def test_node_class_and_pools_of_every_sample_cluster_match_the_crds(clusters, sample_config):
    schemas = {kind: json.loads(path.read_text()) for kind, path in SCHEMA.items()}
    for stage, stack in clusters.items():
        account = sample_config.accounts[stage]
        assert account.cluster is not None
        if stage not in sample_config.gitops_spokes():
            # the hub and a standalone write the same annotation into their own Argo CD
            # cluster secret; their objects are built by the same function
            manifests = karpenter_pools.manifests(
                cluster_name=f"exco-{stage}",
                ami_alias=karpenter_ami_alias(
                    account.cluster.kubernetes_version, account.cluster.system_nodes.ami_type
                )
                or "",
                disk_size_gib=account.cluster.system_nodes.disk_size_gib,
                pools=account.cluster.karpenter_pools(account.role),
            )
            rendered = chart_output(manifests, "r", "sg-0123456789abcdef0", "sg-0123456789abcdef1")
            for manifest in rendered:
                jsonschema.validate(manifest, schemas[manifest["kind"]])
            continue
        fields = registration_fields(stack)
        manifests = json.loads(fields["annotation_karpenter_node_pools"])
        rendered = chart_output(
            manifests, "node-role", "sg-0123456789abcdef0", "sg-0fedcba987654321"
        )
        kinds = [m["kind"] for m in rendered]
        assert kinds[0] == "EC2NodeClass"
        assert sorted(m["metadata"]["name"] for m in rendered[1:]) == sorted(
            account.cluster.karpenter_pools(account.role)
        )
        for manifest in rendered:
            jsonschema.validate(manifest, schemas[manifest["kind"]])
        spec = rendered[0]["spec"]
        alias = karpenter_ami_alias(
            account.cluster.kubernetes_version, account.cluster.system_nodes.ami_type
        )
        assert spec["amiSelectorTerms"] == [{"alias": alias}]
        assert spec["subnetSelectorTerms"] == [{"tags": {DISCOVERY_TAG: f"exco-{stage}"}}]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        assert all(
            d["ebs"]["encrypted"] and d["ebs"]["volumeType"] == "gp3"
            for d in spec["blockDeviceMappings"]
        )
        # the role and groups the chart adds come from the annotations CDK writes
        assert fields["annotation_karpenter_node_role_name"] == {
            "Ref": next(
                k
                for k in stack.of_type("AWS::IAM::Role")
                if k.startswith("ClusterKarpenterNodeRole")
            )
        }
        assert "annotation_cluster_security_group_id" in fields
        assert "annotation_workload_clients_security_group_id" in fields


def test_prod_pools_keep_disruption_in_the_maintenance_window_and_spot_opt_in(clusters):
    manifests = json.loads(registration_fields(clusters["prod"])["annotation_karpenter_node_pools"])
    pools = {m["metadata"]["name"]: m["spec"] for m in manifests if m["kind"] == "NodePool"}
    assert set(pools) == {"on-demand", "spot"}
    for spec in pools.values():
        assert {"nodes": "0", "schedule": "0 4 * * *", "duration": "22h"} in spec["disruption"][
            "budgets"
        ]
    capacity = {
        name: next(
            r
            for r in spec["template"]["spec"]["requirements"]
            if r["key"] == "karpenter.sh/capacity-type"
        )["values"]
        for name, spec in pools.items()
    }
    assert capacity == {"on-demand": ["on-demand"], "spot": ["spot"]}
    assert pools["spot"]["template"]["spec"]["taints"] == [
        {"key": "spot", "value": "true", "effect": "NoSchedule"}
    ]
    assert "taints" not in pools["on-demand"]["template"]["spec"]


def test_defaults_per_role():
    assert list(default_node_pools("dev")) == ["default"]
    assert default_node_pools("dev")["default"].capacity_types == ("spot", "on-demand")
    assert default_node_pools("sandbox")["default"].capacity_types == ("spot", "on-demand")
    assert default_node_pools("staging")["default"].capacity_types == ("spot", "on-demand")
    prod = default_node_pools("prod")
    assert prod["on-demand"].capacity_types == ("on-demand",) and not prod["on-demand"].taints
    assert prod["spot"].capacity_types == ("spot",) and prod["spot"].taints
    assert default_node_pools("shared-services")["default"].capacity_types == ("on-demand",)
    cluster = Cluster(kubernetes_version="1.35", node_pools={"x": NodePool()})
    assert list(cluster.karpenter_pools("prod")) == ["x"]
    assert Cluster(kubernetes_version="1.35", node_pools={}).karpenter_pools("dev") == {}


def _problems(sample_config, stage: str, **cluster_changes) -> list[str]:
    account = sample_config.accounts[stage]
    assert account.cluster is not None
    cluster = account.cluster.model_copy(update=cluster_changes)
    accounts = {stage: account.model_copy(update={"cluster": cluster})}
    config = PartialConfig(organization=None, accounts=accounts, all_account_names=(stage,))
    return [f"{p.path}: {p.message}" for p in karpenter_pools_valid(config)]


def test_config_errors(sample_config):
    assert _problems(sample_config, "dev") == []
    spot_only = {"s": NodePool(capacity_types=("spot",))}
    assert any("on-demand" in p for p in _problems(sample_config, "dev", node_pools=spot_only))
    tainted = {"o": NodePool(capacity_types=("on-demand",), taints=({"key": "x"},))}
    assert any("on-demand" in p for p in _problems(sample_config, "dev", node_pools=tainted))
    bad_cron = {
        "d": NodePool(budgets=({"nodes": "0", "schedule": "0 25 * * *", "duration": "1h"},))
    }
    (problem,) = _problems(sample_config, "dev", node_pools=bad_cron)
    assert "budgets.0.schedule" in problem and "outside 0-23" in problem
    assert _cron_problem("0 4 * * mon-fri") is None
    assert _cron_problem("@daily") is None
    assert _cron_problem("0 4 * *") is not None
    assert any(
        "KARPENTER_AMI_VERSIONS" in p
        for p in _problems(sample_config, "dev", kubernetes_version="1.36")
    )
    with pytest.raises(ValueError, match="schedule and duration"):
        NodePool(budgets=({"nodes": "0", "schedule": "@daily"},))
    with pytest.raises(ValueError):
        NodePool(cpu_limit=0)


def test_controller_launches_only_into_discovered_subnets_and_groups(clusters):
    statements = policy_of(clusters["dev"], "karpenter")
    sids = by_sid(statements)
    assert "LaunchIntoDiscoveredSubnetsAndGroups" in sids
    here = "arn:aws:ec2:eu-west-1:444444444444"
    for action in ("ec2:RunInstances", "ec2:CreateFleet"):
        for kind in ("subnet", "security-group"):
            arn = f"{here}:{kind}/{kind}-1"
            tagged = {f"aws:ResourceTag/{DISCOVERY_TAG}": "exco-dev"}
            assert iam_check.decide(statements, action, arn, tagged), (action, kind)
            assert not iam_check.decide(statements, action, arn, {}), (action, kind)
            other = {f"aws:ResourceTag/{DISCOVERY_TAG}": "exco-prod"}
            assert not iam_check.decide(statements, action, arn, other), (action, kind)
        owned = {"aws:ResourceTag/kubernetes.io/cluster/exco-dev": "owned"}
        assert iam_check.decide(statements, action, f"{here}:security-group/sg-1", owned)
        assert not iam_check.decide(statements, action, f"{here}:subnet/subnet-1", owned)


def test_interruption_queue_reaches_the_controller_settings(clusters):
    """tests/test_cluster.py shows the queue, its rules and policy; here the queue's name is
    what the Karpenter add-on's settings.interruptionQueue reads (through the bridge)."""
    stack = clusters["dev"]
    (queue_id,) = stack.of_type("AWS::SQS::Queue")
    fields = registration_fields(stack)
    assert fields["annotation_karpenter_interruption_queue"] == {
        "Fn::GetAtt": [queue_id, "QueueName"]
    }
    addons = list(yaml.safe_load_all((ROOT / "gitops/bootstrap/addons.yaml").read_text()))
    (karpenter,) = [a for a in addons if a and a["metadata"]["name"] == "addon-karpenter"]
    settings = karpenter["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]["settings"]
    assert settings["interruptionQueue"] == "{{.metadata.annotations.karpenter_interruption_queue}}"


def test_pools_application_set_follows_the_karpenter_addon():
    (appset,) = yaml.safe_load_all((ROOT / "gitops/bootstrap/karpenter-pools.yaml").read_text())
    assert appset["spec"]["template"]["spec"]["project"] == "platform"
    assert int(appset["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) > 2
    assert appset["spec"]["generators"][0]["clusters"]["selector"]["matchLabels"] == {
        "enable_karpenter": "true"
    }
    template = (ROOT / "gitops/charts/karpenter-pools/templates/pools.yaml").read_text()
    for value in appset["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]:
        assert f".Values.{value}" in template
