"""GitOps bootstrap: Argo CD and the root Application where they belong, the bridge facts,
hub-and-spoke wiring, and the drift test between gitops/ and the bridge keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from config import ConfigError, parse_config
from constructs_lib.eks import gitops_bridge
from constructs_lib.eks.cluster import POD_IDENTITIES
from tests.conftest import ROOT
from tests.test_config import broken, problems_of

GITOPS = ROOT / "gitops"
HUB_ROLE = "arn:aws:iam::333333333333:role/exco-shared-services-argocd-hub"


def rendered(value) -> str:
    """A template value with CloudFormation tokens replaced by <token> (for JSON bodies)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(
            part if isinstance(part, str) else "<token>" for part in value["Fn::Join"][1]
        )
    return "<token>"


def manifests(stack) -> list[dict]:
    found = []
    for resource in stack.of_type("Custom::AWSCDK-EKS-KubernetesResource").values():
        text = rendered(resource["Properties"]["Manifest"])
        found += json.loads(text.replace('"<token>"', '"TOKEN"').replace("<token>", "TOKEN"))
    return found


def charts(stack) -> list[dict]:
    return [r["Properties"] for r in stack.of_type("Custom::AWSCDK-EKS-HelmChart").values()]


@pytest.fixture(scope="module")
def cluster_stacks(organisation):
    return organisation.stacks_named("Cluster")


def test_argo_cd_runs_on_the_hub_and_on_sandbox_only(cluster_stacks, sample_config):
    with_argo = {stage for stage, stack in cluster_stacks.items() if charts(stack)}
    assert with_argo == {"shared-services", "sandbox"}  # sandbox is not registered: standalone
    for stage in with_argo:
        (chart,) = charts(cluster_stacks[stage])
        assert (chart["Chart"], chart["Repository"], chart["Version"], chart["Namespace"]) == (
            "argo-cd",
            "https://argoproj.github.io/argo-helm",
            sample_config.gitops.argocd_chart_version,
            "argocd",
        )


def test_the_hub_runs_argo_cd_highly_available(cluster_stacks):
    (hub,) = charts(cluster_stacks["shared-services"])
    values = json.loads(rendered(hub["Values"]))
    assert values["redis-ha"] == {"enabled": True}
    assert values["controller"]["replicas"] == 2
    (sandbox,) = charts(cluster_stacks["sandbox"])
    assert "redis-ha" not in rendered(sandbox.get("Values", "{}"))


def test_root_application_points_at_the_configured_repository(cluster_stacks, sample_config):
    (root,) = [
        m for m in manifests(cluster_stacks["shared-services"]) if m["kind"] == "Application"
    ]
    assert root["metadata"]["name"] == "root"
    assert root["spec"]["source"] == {
        "repoURL": sample_config.gitops.repository_url,
        "targetRevision": "main",
        "path": "gitops/bootstrap",
    }
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_cdk_installs_exactly_argo_cd_the_root_app_and_the_bridge(cluster_stacks):
    for stage, stack in cluster_stacks.items():
        kinds = sorted(m["kind"] for m in manifests(stack))
        assert kinds == (
            [] if stage in ("dev", "staging", "prod") else ["Application", "Secret"]
        ), stage
        assert len(charts(stack)) == (0 if stage in ("dev", "staging", "prod") else 1)


def test_hub_bridge_secret_carries_the_facts(cluster_stacks):
    (secret,) = [m for m in manifests(cluster_stacks["shared-services"]) if m["kind"] == "Secret"]
    labels, annotations = secret["metadata"]["labels"], secret["metadata"]["annotations"]
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert labels["cluster_role"] == "hub"
    ours = {k for k in labels if not k.startswith("aws.cdk.eks/")}  # CDK's prune bookkeeping
    assert ours - {"argocd.argoproj.io/secret-type"} <= set(gitops_bridge.LABELS)
    assert set(annotations) <= set(gitops_bridge.ANNOTATIONS)
    assert annotations["aws_cluster_name"] == "exco-shared-services"
    assert annotations["argocd_hub_role_arn"] == HUB_ROLE
    assert annotations["spoke_registration_secret_arns"].split(",") == [
        f"arn:aws:secretsmanager:eu-west-1:{account}:secret:exco/{name}/argocd-registration"
        for name, account in (
            ("dev", "444444444444"),
            ("staging", "555555555555"),
            ("prod", "666666666666"),
        )
    ]
    assert "external_dns_domain" not in annotations  # the hub account has no domain
    assert secret["stringData"]["server"] == "https://kubernetes.default.svc"


def registration(stack) -> tuple[dict, dict]:
    (secret,) = stack.of_type("AWS::SecretsManager::Secret").values()
    (policy,) = stack.of_type("AWS::SecretsManager::ResourcePolicy").values()
    return secret["Properties"], policy["Properties"]


@pytest.mark.parametrize(("stage", "account"), [("dev", "444444444444"), ("prod", "666666666666")])
def test_spoke_registration_secret_readable_only_by_the_hub_role(cluster_stacks, stage, account):
    secret, policy = registration(cluster_stacks[stage])
    assert secret["Name"] == f"exco/{stage}/argocd-registration"
    assert "KmsKeyId" in secret
    fields = json.loads(rendered(secret["SecretString"]).replace("<token>", "TOKEN"))
    assert {"name", "server", "caData", "region", "environment", "roleArn"} <= set(fields)
    assert fields["label_cluster_role"] == "spoke"
    assert fields["annotation_external_dns_domain"].endswith("example.com")
    assert {k.removeprefix("annotation_") for k in fields if k.startswith("annotation_")} <= (
        set(gitops_bridge.ANNOTATIONS)
    )
    (statement,) = policy["ResourcePolicy"]["Statement"]
    assert statement["Principal"]["AWS"] == "arn:aws:iam::333333333333:root"
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": HUB_ROLE}}


def test_spoke_role_trusts_the_hub_and_holds_an_access_entry(cluster_stacks):
    stack = cluster_stacks["staging"]
    ((role_id, role),) = [
        (k, v)
        for k, v in stack.of_type("AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == "exco-staging-argocd-spoke"
    ]
    for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": HUB_ROLE}}
    (entry,) = [
        e["Properties"]
        for e in stack.of_type("AWS::EKS::AccessEntry").values()
        if e["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]
    assert "AmazonEKSClusterAdminPolicy" in json.dumps(entry["AccessPolicies"])


def test_hub_role_may_assume_exactly_the_spoke_roles(cluster_stacks):
    stack = cluster_stacks["shared-services"]
    (role_id,) = [
        k
        for k, v in stack.of_type("AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == "exco-shared-services-argocd-hub"
    ]
    bound = {
        a["Properties"]["ServiceAccount"]
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    }
    assert bound == {
        "argocd-application-controller",
        "argocd-applicationset-controller",
        "argocd-server",
    }
    (policy,) = [
        p
        for p in stack.of_type("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["AssumeSpokeRoles"]["Resource"] == [
        f"arn:aws:iam::{a}:role/exco-{n}-argocd-spoke"
        for n, a in (("dev", "444444444444"), ("staging", "555555555555"), ("prod", "666666666666"))
    ]


# --- the drift test: gitops/ against the bridge -------------------------------------------


def gitops_documents() -> list[tuple[Path, dict]]:
    documents = []
    for path in sorted(GITOPS.glob("bootstrap/*.yaml")):
        documents += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_gitops_manifests_parse_and_are_argo_cd_objects():
    documents = gitops_documents()
    assert {doc["kind"] for _, doc in documents} == {"ApplicationSet", "Secret"}
    for _, doc in documents:
        assert doc["metadata"]["namespace"] == "argocd"
        assert "argocd.argoproj.io/sync-wave" in doc["metadata"]["annotations"]


def test_gitops_uses_only_keys_the_bridge_writes():
    text = "\n".join(p.read_text() for p in GITOPS.rglob("*.yaml"))
    annotations = set(re.findall(r"\.metadata\.annotations\.(\w+)", text))
    annotations |= set(re.findall(r"\.annotation_(\w+)", text))
    labels = set(re.findall(r"\.label_(\w+)", text))
    for _, doc in gitops_documents():
        for generator in doc.get("spec", {}).get("generators", []):
            labels |= set(generator["clusters"]["selector"]["matchLabels"])
    assert annotations and labels
    assert annotations - set(gitops_bridge.ANNOTATIONS) == set()
    assert labels - set(gitops_bridge.LABELS) == set()


def test_every_add_on_role_has_an_application_set_with_the_contracted_service_account():
    addons = {
        doc["metadata"]["name"].removeprefix("addon-"): doc
        for _, doc in gitops_documents()
        if doc["metadata"]["name"].startswith("addon-")
    }
    assert set(addons) == set(gitops_bridge.ADDON_ROLE_ANNOTATIONS)
    for addon, doc in addons.items():
        (generator,) = doc["spec"]["generators"]
        assert generator["clusters"]["selector"]["matchLabels"] == {
            gitops_bridge.enable_label(addon): "true"
        }
        spec = doc["spec"]["template"]["spec"]
        values = spec["source"]["helm"]["valuesObject"]
        assert (spec["destination"]["namespace"], values["serviceAccount"]["name"]) == tuple(
            POD_IDENTITIES[addon]
        ), addon


def test_crd_operators_sync_before_their_users():
    waves = {
        doc["metadata"]["name"]: int(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for _, doc in gitops_documents()
    }
    assert waves["addon-cert-manager"] < waves["addon-aws-load-balancer-controller"]
    assert waves["addon-external-secrets"] < waves["cluster-registrations"]
    assert waves["repo-karpenter"] < waves["addon-karpenter"]


# --- config -----------------------------------------------------------------------------------


def test_modes_decide_where_argo_cd_runs(sample_raw):
    hub = parse_config(sample_raw)
    assert {n: hub.gitops_role(n) for n in hub.accounts if hub.gitops_role(n)} == {
        "shared-services": "hub",
        "dev": "spoke",
        "staging": "spoke",
        "prod": "spoke",
        "sandbox": "standalone",
    }
    spoke_only = parse_config(broken(sample_raw, ("gitops.mode", "spoke-only")))
    assert {spoke_only.gitops_role(n) for n in spoke_only.accounts} - {None} == {"standalone"}
    with_sandbox = parse_config(
        broken(
            sample_raw,
            ("gitops.register_sandbox", True),
            ("accounts.sandbox.network.transit_gateway", {"reach": ["shared-services"]}),
        )
    )
    assert with_sandbox.gitops_spokes() == ["dev", "staging", "prod", "sandbox"]


def test_hub_and_spoke_needs_a_hub_cluster(sample_raw):
    with pytest.raises(ConfigError) as caught:
        parse_config(broken(sample_raw, ("accounts.shared-services.cluster", ...)))
    assert [str(p) for p in caught.value.problems] == [
        "gitops.mode: hub-and-spoke needs a cluster in the shared-services account (the hub) "
        "(got 'hub-and-spoke')"
    ]


@pytest.mark.parametrize("spoke", ["dev", "staging", "prod"])
def test_the_hub_reaches_each_spokes_private_endpoint(organisation, sample_config, spoke):
    """Argo CD on the hub calls the spoke's Kubernetes API: the spoke's control-plane security
    group admits the hub's VPC on 443, the spoke routes the hub's CIDR to the Transit Gateway,
    and the hub routes the spoke's CIDR back."""
    hub_cidr = sample_config.accounts["shared-services"].network.cidr
    spoke_cidr = sample_config.accounts[spoke].network.cidr
    cluster = organisation.stacks[spoke]["Cluster"]
    cluster_sgs = {
        sg["Fn::GetAtt"][0]
        for c in cluster.of_type("AWS::EKS::Cluster").values()
        for sg in c["Properties"]["ResourcesVpcConfig"]["SecurityGroupIds"]
    }
    admitted = [
        rule
        for logical_id, group in cluster.of_type("AWS::EC2::SecurityGroup").items()
        if logical_id in cluster_sgs
        for rule in group["Properties"].get("SecurityGroupIngress", [])
    ]
    assert {"CidrIp": hub_cidr, "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp"} in [
        {k: r[k] for k in ("CidrIp", "FromPort", "ToPort", "IpProtocol") if k in r}
        for r in admitted
    ]
    spoke_routes = {
        r["Properties"]["DestinationCidrBlock"]
        for r in organisation.stacks[spoke]["Network"].of_type("AWS::EC2::Route").values()
        if "TransitGatewayId" in r["Properties"]
    }
    hub_routes = {
        r["Properties"]["DestinationCidrBlock"]
        for r in organisation.stacks["shared-services"]["NetworkHub"]
        .of_type("AWS::EC2::Route")
        .values()
        if "TransitGatewayId" in r["Properties"]
    }
    assert hub_cidr in spoke_routes
    assert spoke_cidr in hub_routes


def test_the_hub_admits_nothing_new_on_clusters_it_does_not_deploy(organisation):
    """Sandbox runs its own Argo CD: its endpoint admits no other VPC."""
    group_rules = json.dumps(organisation.stacks["sandbox"]["Cluster"].template)
    assert "Kubernetes API from" not in group_rules


def test_a_spoke_the_hub_cannot_route_to_is_refused(sample_raw):
    raw = broken(sample_raw, ("accounts.staging.network.transit_gateway", ...))
    assert problems_of(raw) == [
        "accounts.staging.network.transit_gateway: the hub's Argo CD deploys to this cluster "
        "through its private endpoint: attach the VPC with reach [shared-services] (got None)"
    ]


def test_fargate_pods_get_the_workload_clients_group_through_gitops(organisation):
    """Fargate pods carry only the cluster group unless a SecurityGroupPolicy lists others: the
    bridge tells the workload-clients ApplicationSet which namespaces and which groups."""
    spec = yaml.safe_load((ROOT / "gitops/bootstrap/workload-clients.yaml").read_text())
    assert spec["spec"]["generators"][0]["clusters"]["selector"]["matchLabels"] == {
        "has_fargate": "true"
    }
    values = spec["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"]
    defaults = yaml.safe_load((ROOT / "gitops/charts/workload-clients/values.yaml").read_text())
    assert set(values) == set(defaults)
    template = (
        ROOT / "gitops/charts/workload-clients/templates/security-group-policies.yaml"
    ).read_text()
    for key in defaults:
        assert f".Values.{key}" in template, key
    assert "kind: SecurityGroupPolicy" in template
    registration = json.dumps(organisation.stacks["dev"]["Cluster"].template)
    for fact in ("label_has_fargate", "annotation_fargate_namespaces", "batch"):
        assert fact in registration, fact
