"""GitOps bootstrap: Argo CD and the root Application where they belong, the bridge facts,
hub-and-spoke wiring, and the drift test between gitops/ and the bridge keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from config import ConfigError, parse_config
from constructs_lib.eks import gitops_bridge, hub_access
from constructs_lib.eks.cluster import POD_IDENTITIES
from tests.conftest import ROOT
from tests.test_config import broken, problems_of

GITOPS = ROOT / "gitops"
HUB_ROLE = "arn:aws:iam::333333333333:role/exco-shared-services-argocd-hub"
READER = "arn:aws:iam::333333333333:role/exco-shared-services-argocd-registrations"
SPOKES = (("dev", "444444444444"), ("staging", "555555555555"), ("prod", "666666666666"))


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
    assert root["spec"]["project"] == "platform"  # `default` is locked (bootstrap/projects.yaml)
    (project,) = [
        m for m in manifests(cluster_stacks["shared-services"]) if m["kind"] == "AppProject"
    ]
    assert project["metadata"]["name"] == "platform"
    assert project["spec"]["sourceRepos"][0] == sample_config.gitops.repository_url
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
            ["ClusterRole", "ClusterRoleBinding"]  # the hub's RBAC (hub_access)
            if stage in ("dev", "staging", "prod")
            else ["AppProject", "Application", "Secret"]
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
    assert annotations["registration_reader_role_arn"] == READER
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
def test_spoke_registration_secret_readable_only_by_the_hub_reader(cluster_stacks, stage, account):
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
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": READER}}
    stack = cluster_stacks[stage]
    key_id = secret["KmsKeyId"]["Fn::GetAtt"][0]
    key_policy = stack.template["Resources"][key_id]["Properties"]["KeyPolicy"]
    (hub_decrypts,) = [
        s for s in key_policy["Statement"] if s.get("Sid") == "HubDecryptsThroughSecretsManager"
    ]
    assert hub_decrypts["Action"] == "kms:Decrypt"
    assert hub_decrypts["Condition"]["ArnEquals"] == {"aws:PrincipalArn": READER}


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_what_the_hub_may_do_on_a_spoke(cluster_stacks, stage):
    """The hub's role on a spoke: an access entry with no EKS access policy (so not
    AmazonEKSClusterAdminPolicy), in one Kubernetes group bound to one ClusterRole. The
    ClusterRole reads everything, writes the kinds gitops/ and the add-on charts ship, holds
    what the add-ons' own RBAC grants, and has no verb or subresource that would let it grant
    itself more (escalate, bind, impersonate) or open a shell or tunnel."""
    stack = cluster_stacks[stage]
    ((role_id, role),) = [
        (k, v)
        for k, v in stack.of_type("AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == f"exco-{stage}-argocd-spoke"
    ]
    for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": HUB_ROLE}}
    (entry,) = [
        e["Properties"]
        for e in stack.of_type("AWS::EKS::AccessEntry").values()
        if e["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]
    assert entry.get("AccessPolicies", []) == []
    assert entry["KubernetesGroups"] == ["platform:argocd-hub"]
    assert entry.get("Type", "STANDARD") == "STANDARD"
    by_kind = {m["kind"]: m for m in manifests(stack)}
    binding = by_kind["ClusterRoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "platform:argocd-hub",
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "platform:argocd-hub"}
    ]
    rules = by_kind["ClusterRole"]["rules"]
    assert rules == hub_access.rules()
    write = {"create", "update", "patch", "delete", "deletecollection"}
    assert rules[0] == {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}
    for rule in rules:
        assert not hub_access.NEVER_VERBS & set(rule["verbs"]), rule
        assert "nonResourceURLs" not in rule
        assert "*" not in rule["verbs"], rule
        if "deletecollection" in rule["verbs"]:  # only on the add-ons' own API groups
            assert (
                "" not in rule["apiGroups"]
                and "rbac.authorization.k8s.io" not in (rule["apiGroups"])
            ), rule
        if write & set(rule["verbs"]):
            assert "*" not in rule["apiGroups"], rule
            assert not hub_access.NEVER_RESOURCES & set(rule["resources"]), rule
            if "" in rule["apiGroups"] or "rbac.authorization.k8s.io" in rule["apiGroups"]:
                assert "*" not in rule["resources"], rule


def test_the_hub_holds_what_the_add_ons_rbac_grants():
    """Kubernetes refuses a ClusterRole that grants what its creator does not hold: a sample of
    the pinned charts' rules (External Secrets, Karpenter, the load balancer controller,
    cert-manager) must be covered by the hub's rules."""

    def covered(group: str, resource: str, verb: str) -> bool:
        return any(
            (group in r["apiGroups"] or "*" in r["apiGroups"])
            and (resource in r["resources"] or "*" in r["resources"])
            and (verb in r["verbs"] or "*" in r["verbs"])
            and "resourceNames" not in r
            for r in hub_access.rules()
        )

    for group, resource, verb in (
        ("", "secrets", "create"),
        ("", "serviceaccounts/token", "create"),  # External Secrets
        ("external-secrets.io", "externalsecrets/finalizers", "update"),
        ("", "nodes", "delete"),  # Karpenter
        ("", "pods/eviction", "create"),
        ("karpenter.sh", "nodeclaims/status", "patch"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "update"),
        ("", "pods/status", "patch"),  # load balancer controller, whose rules name
        ("extensions", "services", "patch"),  # every group with every resource
        ("", "targetgroupbindings/status", "update"),
        ("networking.k8s.io", "pods/status", "update"),
        ("elbv2.k8s.aws", "targetgroupbindings", "create"),
        ("coordination.k8s.io", "leases", "update"),  # cert-manager
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "patch"),
        ("gateway.networking.k8s.io", "httproutes", "create"),
        ("cert-manager.io", "signers", "approve"),
    ):
        assert covered(group, resource, verb), (group, resource, verb)


def hub_role(stack, name: str) -> tuple[str, dict]:
    ((role_id, role),) = [
        (k, v)
        for k, v in stack.of_type("AWS::IAM::Role").items()
        if v["Properties"].get("RoleName") == name
    ]
    return role_id, role


def policies_of(stack, role_id: str) -> list[dict]:
    return [
        p["Properties"]["PolicyDocument"]
        for p in stack.of_type("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]


def test_hub_role_may_assume_exactly_the_spoke_roles(cluster_stacks):
    """Argo CD's role reaches the spokes and nothing else: no secret, no key, and only Argo
    CD's pods (Pod Identity) may assume it."""
    stack = cluster_stacks["shared-services"]
    role_id, role = hub_role(stack, "exco-shared-services-argocd-hub")
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
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "pods.eks.amazonaws.com"}]
    (policy,) = policies_of(stack, role_id)
    assert policy["Statement"] == [
        {
            "Sid": "AssumeSpokeRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": [f"arn:aws:iam::{a}:role/exco-{n}-argocd-spoke" for n, a in SPOKES],
        }
    ]


def test_external_secrets_on_the_hub_reads_registrations_through_its_own_reader(
    cluster_stacks,
):
    """The registrations are read by a role of their own, which only the hub's External
    Secrets role may assume and which may read the spokes' registration secrets (and decrypt
    them through Secrets Manager) and nothing else."""
    stack = cluster_stacks["shared-services"]
    reader_id, reader = hub_role(stack, "exco-shared-services-argocd-registrations")
    (eso_association,) = [
        a["Properties"]
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == "external-secrets"
    ]
    eso_role_id = eso_association["RoleArn"]["Fn::GetAtt"][0]
    (trust,) = reader["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Fn::GetAtt": [eso_role_id, "Arn"]}}
    (policy,) = policies_of(stack, reader_id)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"ReadSpokeRegistrations", "DecryptSpokeRegistrations"}
    assert sorted(statements["ReadSpokeRegistrations"]["Action"]) == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
    ]
    assert statements["ReadSpokeRegistrations"]["Resource"] == [
        f"arn:aws:secretsmanager:eu-west-1:{a}:secret:exco/{n}/argocd-registration-*"
        for n, a in SPOKES
    ]
    assert statements["DecryptSpokeRegistrations"]["Action"] == "kms:Decrypt"
    assert statements["DecryptSpokeRegistrations"]["Condition"] == {
        "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}
    }
    assume = [
        s
        for document in policies_of(stack, eso_role_id)
        for s in document["Statement"]
        if "sts:AssumeRole" in s["Action"]
    ]
    assert assume == [
        {
            "Sid": "AssumeRegistrationReader",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": {"Fn::GetAtt": [reader_id, "Arn"]},
        }
    ]
    store = (GITOPS / "charts/cluster-registrations/templates/registrations.yaml").read_text()
    assert "role: {{ $.Values.readerRoleArn }}" in store
    registrations = (GITOPS / "bootstrap/cluster-registrations.yaml").read_text()
    assert "readerRoleArn: '{{.metadata.annotations.registration_reader_role_arn}}'" in (
        registrations
    )


# --- the drift test: gitops/ against the bridge -------------------------------------------


def gitops_documents() -> list[tuple[Path, dict]]:
    documents = []
    for path in sorted(GITOPS.glob("bootstrap/*.yaml")):
        documents += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_gitops_manifests_parse_and_are_argo_cd_objects():
    documents = gitops_documents()
    assert {doc["kind"] for _, doc in documents} == {"AppProject", "ApplicationSet", "Secret"}
    for _, doc in documents:
        assert doc["metadata"]["namespace"] == "argocd"
        assert "argocd.argoproj.io/sync-wave" in doc["metadata"]["annotations"]


def _cluster_generators(generators: list[dict]) -> list[dict]:
    """The cluster generators, also those inside a matrix generator."""
    found = []
    for generator in generators:
        if "clusters" in generator:
            found.append(generator)
        found += _cluster_generators(generator.get("matrix", {}).get("generators", []))
    return found


def test_gitops_uses_only_keys_the_bridge_writes():
    text = "\n".join(p.read_text() for p in GITOPS.rglob("*.yaml"))
    annotations = set(re.findall(r"\.metadata\.annotations\.(\w+)", text))
    annotations |= set(re.findall(r"\.annotation_(\w+)", text))
    labels = set(re.findall(r"\.label_(\w+)", text))
    for _, doc in gitops_documents():
        for generator in _cluster_generators(doc.get("spec", {}).get("generators", [])):
            selector = generator["clusters"]["selector"]
            labels |= set(selector["matchLabels"])
            labels |= {e["key"] for e in selector.get("matchExpressions", [])}
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


EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
"""A chart version pinned exactly: no `latest`, no range (`^1.2`, `~1.2`, `1.x`, `>=1`)."""


def _charts(value):
    if isinstance(value, dict):
        if "chart" in value:
            yield value
        for item in value.values():
            yield from _charts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _charts(item)


def test_every_helm_chart_is_pinned_to_an_exact_version(organisation):
    """Argo CD's Applications in gitops/ and the Helm charts CDK installs name one chart
    version each, so a deploy never picks up a chart nobody reviewed."""
    found = {}
    for path in sorted((ROOT / "gitops").rglob("*.yaml")):
        if "templates" in path.parts:
            continue  # Helm templates, not YAML until rendered
        for document in yaml.safe_load_all(path.read_text()):
            for source in _charts(document):
                found[f"{path.relative_to(ROOT)}:{source['chart']}"] = str(
                    source.get("targetRevision")
                )
    for stack in organisation.all_stacks():
        for logical, resource in stack.resources.items():
            chart = resource.get("Properties", {}).get("Chart")
            if isinstance(chart, str):
                found[f"{stack.id}/{logical}:{chart}"] = str(resource["Properties"].get("Version"))
    assert len(found) >= 7
    assert {k: v for k, v in found.items() if not EXACT_VERSION.match(v)} == {}
