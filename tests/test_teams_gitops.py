"""make teams: the teams' GitOps tree (gitops/teams/) is what the config generates, every
manifest in it validates against the Kubernetes and CRD schemas, the ApplicationSets render to
the expected Applications, the AppProjects keep each team in its scope, the network policies
allow exactly the listed traffic, and promotion moves one environment at a time."""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from config import PlatformConfig, load_config
from constructs_lib.eks.gitops import PLATFORM_CHART_REPOSITORIES, platform_project
from stages.naming import cluster_name, team_role_arn, team_service_account
from tests.conftest import ROOT, SAMPLE_CONFIG
from tools import teams_gitops
from tools.teams_gitops import TEAMS, PromotionError

SCHEMAS = ROOT / "tests" / "schemas"
SHA_A = "a" * 40
SHA_B = "b" * 40


@pytest.fixture(scope="module")
def config() -> PlatformConfig:
    return load_config(SAMPLE_CONFIG)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def manifests_in(root: Path) -> list[dict[str, Any]]:
    """Every Kubernetes object of the teams' tree (the pins and the canary-analysis chart's
    values are not manifests: tests/test_rollouts.py checks what the chart makes of them)."""
    found = []
    for path in sorted((root / TEAMS).rglob("*.yaml")):
        parts = path.relative_to(root / TEAMS).parts
        if "releases" not in parts and parts[0] != "canary":
            found += documents(path)
    return found


@pytest.fixture
def tree(tmp_path, config) -> Path:
    """A copy of the committed teams' tree and CODEOWNERS to change."""
    shutil.copytree(ROOT / TEAMS, tmp_path / TEAMS)
    (tmp_path / ".github").mkdir()
    shutil.copy(ROOT / teams_gitops.CODEOWNERS, tmp_path / teams_gitops.CODEOWNERS)
    return tmp_path


# --- freshness ---------------------------------------------------------------------------------


def test_the_committed_tree_is_what_the_config_generates(config):
    wanted = teams_gitops.generated(config, ROOT)
    committed = teams_gitops.existing_files(ROOT)
    assert committed == set(wanted), "gitops/teams/ is stale: run make teams"
    for relative, content in wanted.items():
        assert (ROOT / relative).read_text(encoding="utf-8") == content, (
            f"{relative} is stale: run make teams"
        )
    codeowners = (ROOT / teams_gitops.CODEOWNERS).read_text(encoding="utf-8")
    assert teams_gitops.codeowners_text(config, codeowners, "example-corp") == codeowners


def test_removing_a_team_or_environment_removes_its_files_and_keeps_other_pins(tree, config):
    staging_pin = tree / teams_gitops.pin_path("checkout", "checkout-api", "staging")
    staging_pin.write_text(
        teams_gitops.pin_text(config, "checkout", "checkout-api", "staging", SHA_A)
    )
    teams = dict(config.teams)
    del teams["reports"]
    checkout = teams["checkout"]
    environments = {k: v for k, v in checkout.environments.items() if k != "prod"}
    teams["checkout"] = checkout.model_copy(update={"environments": environments})
    smaller = config.model_copy(update={"teams": teams})
    changed = teams_gitops.write(smaller, tree)
    assert not (tree / TEAMS / "reports").exists()
    assert not (tree / TEAMS / "checkout" / "prod").exists()
    assert "deleted gitops/teams/reports/releases/reports-worker/dev.yaml" in changed
    assert teams_gitops.read_revision(tree, str(staging_pin.relative_to(tree))) == SHA_A
    assert (
        "/gitops/teams/checkout/releases/*/prod.yaml"
        not in (tree / teams_gitops.CODEOWNERS).read_text()
    )
    # Back to the full config: the files return, the promoted pin is still there.
    teams_gitops.write(config, tree)
    assert teams_gitops.existing_files(tree) == set(teams_gitops.generated(config, ROOT)) | {
        str(staging_pin.relative_to(tree))
    }


def test_reserved_team_names_are_refused(config):
    teams = {"platform": config.teams["checkout"]}
    with pytest.raises(SystemExit, match=r"teams\.platform: the name is reserved"):
        teams_gitops.generated(config.model_copy(update={"teams": teams}), ROOT)


# --- schemas -----------------------------------------------------------------------------------

SCHEMA_FILES = {
    ("v1", "Namespace"): "kubernetes/namespace-v1.json",
    ("v1", "ResourceQuota"): "kubernetes/resourcequota-v1.json",
    ("v1", "LimitRange"): "kubernetes/limitrange-v1.json",
    ("v1", "ServiceAccount"): "kubernetes/serviceaccount-v1.json",
    ("networking.k8s.io/v1", "NetworkPolicy"): "kubernetes/networkpolicy-networking-v1.json",
    ("argoproj.io/v1alpha1", "AppProject"): "crds/argoproj.io_appproject_v1alpha1.json",
    ("argoproj.io/v1alpha1", "Application"): "crds/argoproj.io_application_v1alpha1.json",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "crds/argoproj.io_applicationset_v1alpha1.json",
    ("external-secrets.io/v1", "SecretStore"): "crds/external-secrets.io_secretstore_v1.json",
    ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"): (
        "crds/elbv2.k8s.aws_targetgroupbinding_v1beta1.json"
    ),
}


@cache
def validator(api: str, kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / SCHEMA_FILES[(api, kind)]).read_text())
    # Draft 2020-12 for the Kubernetes files (their $schema), draft 7 for the CRD catalog's.
    # (check_schema on the 2 MB ApplicationSet schema alone takes 5 s: the files are vendored
    # unchanged, see tests/schemas/README.md.)
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    found = validator(manifest["apiVersion"], manifest["kind"]).iter_errors(manifest)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def test_every_generated_manifest_validates_against_its_schema(config):
    manifests = manifests_in(ROOT)
    manifests += [platform_project(config.gitops.repository_url)]
    manifests += documents(ROOT / "gitops/bootstrap/projects.yaml")
    manifests += rendered_applications(ROOT)
    kinds = {(m["apiVersion"], m["kind"]) for m in manifests}
    assert kinds == set(SCHEMA_FILES)  # every schema is used, no kind goes unchecked
    for manifest in manifests:
        assert schema_errors(manifest) == [], (manifest["kind"], manifest["metadata"])


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("ResourceQuota", ("spec", "hardd"), {"pods": "1"}),  # unknown field (strict)
        ("NetworkPolicy", ("spec", "policyTypes"), "Egress"),  # a string, not a list
        ("Namespace", ("metadata", "labels"), ["team"]),
        ("AppProject", ("spec", "destinations"), [{"namespace": 1}]),
        ("ApplicationSet", ("spec", "generators"), "git"),
        ("SecretStore", ("spec", "provider", "aws", "service"), "S3"),  # not an enum value
    ],
)
def test_validation_fails_on_a_broken_manifest(kind, path, value):
    manifest = next(m for m in manifests_in(ROOT) if m["kind"] == kind)
    broken = json.loads(json.dumps(manifest))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(manifest) == []
    assert schema_errors(broken) != []


# --- the ApplicationSets -----------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\{\s*\.([A-Za-z][A-Za-z0-9_]*)\s*\}\}")


def substitute(value: Any, params: dict[str, str]) -> Any:
    """Render the template the way Argo CD's goTemplate does for plain `{{.key}}` (missing key:
    error); any other template construct fails the test."""
    if isinstance(value, dict):
        return {substitute(k, params): substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    if isinstance(value, str):
        out = PLACEHOLDER.sub(lambda m: params[m.group(1)], value)
        assert "{{" not in out and "}}" not in out, f"unsupported template construct: {value}"
        return out
    return value


def render(appset: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """The git-files generator: each file matching a path glob gives its top-level keys."""
    spec = appset["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    assert set(spec) == {"goTemplate", "goTemplateOptions", "generators", "template"}
    applications = []
    for generator in spec["generators"]:
        assert set(generator) == {"git"}
        git = generator["git"]
        assert set(git) == {"repoURL", "revision", "files"}
        for pattern in git["files"]:
            for path in sorted(root.glob(pattern["path"])):
                params = yaml.safe_load(path.read_text())
                assert all(isinstance(v, str) for v in params.values())
                application = {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    **substitute(spec["template"], params),
                }
                application["metadata"]["namespace"] = appset["metadata"]["namespace"]
                applications.append(application)
    return applications


def application_sets(root: Path) -> list[dict[str, Any]]:
    return [m for m in manifests_in(root) if m["kind"] == "ApplicationSet"]


def rendered_applications(root: Path) -> list[dict[str, Any]]:
    return [app for appset in application_sets(root) for app in render(appset, root)]


def summary(app: dict[str, Any]) -> tuple[str, ...]:
    spec = app["spec"]
    return (
        app["metadata"]["name"],
        spec["project"],
        spec["source"]["repoURL"],
        spec["source"]["path"],
        spec["source"]["targetRevision"],
        spec["destination"]["name"],
        spec["destination"]["namespace"],
    )


def test_the_application_sets_render_the_sample_teams_applications():
    """The sample: dev follows main; nothing is promoted to staging or prod yet."""
    assert sorted(summary(a) for a in rendered_applications(ROOT)) == [
        (
            "checkout-checkout-api-dev",
            "checkout",
            "https://github.com/example-co/checkout.git",
            "deploy/chart",
            "main",
            "exco-dev",
            "checkout",
        ),
        (
            "reports-reports-worker-dev",
            "reports",
            "https://github.com/example-co/reports.git",
            "deploy",
            "main",
            "exco-dev",
            "reports",
        ),
    ]


def test_a_promoted_pin_renders_an_application_at_its_commit(tree, config):
    teams_gitops.promote(config, "checkout", "checkout-api", "staging", SHA_A, tree)
    teams_gitops.promote(config, "checkout", "checkout-api", "prod", None, tree)
    apps = {a["metadata"]["name"]: a for a in rendered_applications(tree)}
    for environment in ("staging", "prod"):
        app = apps[f"checkout-checkout-api-{environment}"]
        assert app["spec"]["source"]["targetRevision"] == SHA_A
        assert app["spec"]["destination"]["name"] == f"exco-{environment}"


def test_the_renderer_refuses_other_template_constructs():
    with pytest.raises(AssertionError, match="unsupported template construct"):
        substitute("{{.service | upper}}", {"service": "x"})
    with pytest.raises(KeyError):
        substitute("{{.missing}}", {})


def test_a_pin_cannot_choose_the_project():
    for appset in application_sets(ROOT):
        project = appset["spec"]["template"]["spec"]["project"]
        assert "{{" not in project and project == appset["metadata"]["name"].removeprefix("team-")


# --- the AppProjects, evaluated as Argo CD does ------------------------------------------------

CLUSTER_SCOPED = {
    ("", "Namespace"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("external-secrets.io", "ClusterSecretStore"),
}


def glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def source_permitted(project: dict, repo: str) -> bool:
    return any(glob(p, repo) for p in project["spec"].get("sourceRepos", []))


def destination_permitted(project: dict, destination: dict) -> bool:
    """Argo CD: a destination matches by server or by name (glob), and by namespace (glob)."""
    for allowed in project["spec"].get("destinations", []):
        by_server = "server" in destination and glob(
            allowed.get("server", ""), destination["server"]
        )
        by_name = "name" in destination and glob(allowed.get("name", ""), destination["name"])
        if (by_server or by_name) and glob(allowed["namespace"], destination.get("namespace", "")):
            return True
    return False


def kind_permitted(project: dict, group: str, kind: str) -> bool:
    spec = project["spec"]

    def listed(key: str) -> bool:
        return any(
            glob(e["group"], group) and glob(e["kind"], kind) for e in spec.get(key, []) or []
        )

    if (group, kind) in CLUSTER_SCOPED:
        return listed("clusterResourceWhitelist") and not listed("clusterResourceBlacklist")
    whitelist = spec.get("namespaceResourceWhitelist")
    return (not whitelist or listed("namespaceResourceWhitelist")) and not listed(
        "namespaceResourceBlacklist"
    )


def projects(root: Path) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in manifests_in(root) if m["kind"] == "AppProject"}


def test_every_rendered_application_is_inside_its_project(tree, config):
    teams_gitops.promote(config, "checkout", "checkout-api", "staging", SHA_A, tree)
    found = projects(tree)
    for app in rendered_applications(tree):
        project = found[app["spec"]["project"]]
        assert source_permitted(project, app["spec"]["source"]["repoURL"])
        assert destination_permitted(project, app["spec"]["destination"])


def test_a_team_project_denies_what_is_outside_the_team(config):
    checkout, reports = projects(ROOT)["checkout"], projects(ROOT)["reports"]
    assert destination_permitted(checkout, {"name": "exco-prod", "namespace": "checkout"})
    # Another team's namespace, a platform namespace, a cluster the team does not run in,
    # the hub, a server URL instead of a registered name.
    assert not destination_permitted(checkout, {"name": "exco-dev", "namespace": "reports"})
    assert not destination_permitted(checkout, {"name": "exco-dev", "namespace": "kube-system"})
    assert not destination_permitted(reports, {"name": "exco-prod", "namespace": "reports"})
    assert not destination_permitted(
        checkout, {"name": "exco-shared-services", "namespace": "checkout"}
    )
    assert not destination_permitted(
        checkout, {"server": "https://kubernetes.default.svc", "namespace": "checkout"}
    )
    assert source_permitted(checkout, "https://github.com/example-co/checkout.git")
    assert not source_permitted(checkout, "https://github.com/example-co/reports.git")
    assert not source_permitted(checkout, "https://github.com/example-corp/aws-platform.git")
    for group, kind in teams_gitops.TEAM_KINDS:
        assert kind_permitted(checkout, group, kind)
    for group, kind in [
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("external-secrets.io", "SecretStore"),
        ("", "ServiceAccount"),
        ("", "Secret"),
        ("networking.k8s.io", "Ingress"),
        ("elbv2.k8s.aws", "TargetGroupBinding"),
        ("argoproj.io", "Application"),
        *CLUSTER_SCOPED,
    ]:
        assert not kind_permitted(checkout, group, kind), kind


def test_default_is_locked_and_the_platform_project_reads_only_its_repositories(config):
    (default,) = documents(ROOT / "gitops/bootstrap/projects.yaml")
    assert default["metadata"]["name"] == "default"
    assert not source_permitted(default, config.gitops.repository_url)
    assert not destination_permitted(
        default, {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
    )
    assert not kind_permitted(default, "apps", "Deployment")
    assert not kind_permitted(default, "", "Namespace")
    platform = platform_project(config.gitops.repository_url)
    for path in sorted((ROOT / "gitops/bootstrap").glob("*.yaml")):
        for document in documents(path):
            if document["kind"] != "ApplicationSet":
                continue
            spec = document["spec"]["template"]["spec"]
            assert spec["project"] == "platform", path.name
            repo = spec["source"]["repoURL"]
            if repo == "{{.metadata.annotations.addons_repo_url}}":
                repo = config.gitops.repository_url
            assert source_permitted(platform, repo), (path.name, repo)
    assert not source_permitted(platform, "https://github.com/example-co/checkout.git")
    assert set(PLATFORM_CHART_REPOSITORIES) <= set(platform["spec"]["sourceRepos"])
    # The guardrails of a team are the platform's Applications, never the team's.
    for argocd in (ROOT / TEAMS / "argocd").iterdir():
        for path in argocd.glob("*.yaml"):
            for document in documents(path):
                if document["kind"] == "Application":
                    assert document["spec"]["project"] == "platform"
                    assert source_permitted(platform, document["spec"]["source"]["repoURL"])


def test_the_argo_cd_that_deploys_a_team_is_the_hub_in_hub_and_spoke(config):
    assert {p.name for p in (ROOT / TEAMS / "argocd").iterdir()} == {"exco-shared-services"}
    spoke_only = config.model_copy(
        update={"gitops": config.gitops.model_copy(update={"mode": "spoke-only"})}
    )
    assert teams_gitops.argocd_cluster(spoke_only, "prod") == "exco-prod"


# --- namespaces, quotas, service accounts, secret stores ---------------------------------------


def namespace_objects(team: str, environment: str, namespace: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for document in documents(ROOT / TEAMS / team / environment / f"{namespace}.yaml"):
        found.setdefault(document["kind"], []).append(document)
    return found


def all_namespaces(config):
    return [
        (team, environment, namespace)
        for team, spec in config.teams.items()
        for environment, env in spec.environments.items()
        for namespace in env.namespaces
    ]


def test_quotas_and_defaults_come_from_config(config):
    for team, environment, namespace in all_namespaces(config):
        quota = config.teams[team].environments[environment].namespaces[namespace]
        objects = namespace_objects(team, environment, namespace)
        (resource_quota,) = objects["ResourceQuota"]
        hard = resource_quota["spec"]["hard"]
        assert cores(hard["requests.cpu"]) == quota.cpu
        assert cores(hard["limits.cpu"]) == 2 * quota.cpu
        assert hard["requests.memory"] == hard["limits.memory"] == f"{quota.memory_gib}Gi"
        assert hard["pods"] == str(quota.pods)
        assert hard["requests.storage"] == f"{quota.storage_gib}Gi"
        assert (hard["persistentvolumeclaims"] == "0") == (quota.storage_gib == 0)
        assert hard["services.loadbalancers"] == hard["services.nodeports"] == "0"
        (limit_range,) = objects["LimitRange"]
        (item,) = limit_range["spec"]["limits"]
        # `pods` containers that ask for nothing fit the quota.
        assert cores(item["defaultRequest"]["cpu"]) * quota.pods <= quota.cpu
        assert int(item["defaultRequest"]["memory"].removesuffix("Mi")) * quota.pods <= (
            quota.memory_gib * 1024
        )
        assert cores(item["default"]["cpu"]) * quota.pods <= 2 * quota.cpu
    dev = namespace_objects("reports", "dev", "reports")["ResourceQuota"][0]["spec"]["hard"]
    assert dev["requests.storage"] == "20Gi" and dev["requests.cpu"] == "2"


def cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def test_namespaces_enforce_restricted_pod_security_and_carry_the_team(config):
    for team, environment, namespace in all_namespaces(config):
        (ns,) = namespace_objects(team, environment, namespace)["Namespace"]
        labels = ns["metadata"]["labels"]
        assert labels["team"] == team and labels["environment"] == environment
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.35"


def test_the_service_account_and_secret_store_name_the_teams_roles(config):
    for team, environment, namespace in all_namespaces(config):
        objects = namespace_objects(team, environment, namespace)
        (account,) = objects["ServiceAccount"]
        assert account["metadata"]["name"] == team_service_account(team)
        assert "annotations" not in account["metadata"]  # Pod Identity binds by name
        (store,) = objects["SecretStore"]
        aws = store["spec"]["provider"]["aws"]
        assert aws["role"] == team_role_arn(config, environment, team, secrets=True)
        assert aws["region"] == config.accounts[environment].region
        assert aws["service"] == "SecretsManager"
        assert store["metadata"]["annotations"]["platform.io/secrets-path"] == (
            f"exco/{environment}/teams/{team}/"
        )
    assert cluster_name(config, "dev") == "exco-dev"


# --- network policies: what they allow ---------------------------------------------------------


def _peer_matches(peer: dict, remote: dict, namespace: str) -> bool:
    if "ipBlock" in peer:
        if "ip" not in remote:
            return False
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(remote["ip"])
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if "ip" in remote:
        return False
    remote_ns = remote["namespace"]
    if "namespaceSelector" in peer:
        wanted = peer["namespaceSelector"].get("matchLabels", {})
        if any(remote["namespace_labels"].get(k) != v for k, v in wanted.items()):
            return False
    elif remote_ns != namespace:
        return False
    wanted = peer.get("podSelector", {}).get("matchLabels", {})
    return all(remote.get("labels", {}).get(k) == v for k, v in wanted.items())


def allowed(policies: list[dict], direction: str, remote: dict, port: int, protocol="TCP") -> bool:
    """NetworkPolicy semantics for a pod the policies select (all do: podSelector {}): traffic
    is allowed if some policy of that direction has a rule whose peers and ports match."""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in policies:
        spec = policy["spec"]
        assert spec["podSelector"] == {}
        if direction not in spec["policyTypes"]:
            continue
        for rule in spec.get(key, []):
            peers = rule.get(peers_key)
            ports = rule.get("ports")
            namespace = policy["metadata"]["namespace"]
            if peers is not None and not any(_peer_matches(p, remote, namespace) for p in peers):
                continue
            if ports is not None and not any(
                p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports
            ):
                continue
            return True
    return False


def pod(namespace: str, **labels: str) -> dict:
    return {
        "namespace": namespace,
        "namespace_labels": {"kubernetes.io/metadata.name": namespace},
        "labels": labels,
    }


def test_network_policies_allow_exactly_the_listed_traffic(config):
    checkout = namespace_objects("checkout", "prod", "checkout")["NetworkPolicy"]
    reports = namespace_objects("reports", "dev", "reports")["NetworkPolicy"]
    vpc_host = {"ip": "10.48.20.5"}  # prod VPC (a data subnet, the load balancer)
    dev_host = {"ip": "10.16.20.5"}
    for policies, own, host in ((checkout, "checkout", vpc_host), (reports, "reports", dev_host)):
        assert any(p["metadata"]["name"] == "default-deny" for p in policies)
        # Allowed for every team: its namespace, DNS, the Pod Identity agent, AWS APIs on 443.
        assert allowed(policies, "Egress", pod(own, app="x"), 8080)
        assert allowed(policies, "Ingress", pod(own, app="x"), 8080)
        assert allowed(policies, "Egress", pod("kube-system", **{"k8s-app": "kube-dns"}), 53, "UDP")
        assert allowed(policies, "Egress", pod("kube-system", **{"k8s-app": "kube-dns"}), 53)
        assert allowed(policies, "Egress", {"ip": "169.254.170.23"}, 80)
        assert allowed(policies, "Egress", {"ip": "52.95.1.1"}, 443)
        # Denied: other namespaces both ways, other kube-system pods, instance metadata,
        # plain HTTP out, SSH in the VPC, anything in from outside the VPC.
        assert not allowed(
            policies, "Egress", pod("reports" if own == "checkout" else "checkout"), 8080
        )
        assert not allowed(policies, "Ingress", pod("argocd"), 8080)
        assert not allowed(
            policies, "Egress", pod("kube-system", **{"k8s-app": "other"}), 53, "UDP"
        )
        assert not allowed(policies, "Egress", {"ip": "169.254.169.254"}, 80)
        assert not allowed(policies, "Egress", {"ip": "52.95.1.1"}, 80)
        assert not allowed(policies, "Egress", host, 22)
        assert not allowed(policies, "Ingress", {"ip": "52.95.1.1"}, 8080)
    # checkout: PostgreSQL and the cache in its VPC, the edge's load balancer on the target port.
    assert allowed(checkout, "Egress", vpc_host, 5432)
    assert allowed(checkout, "Egress", vpc_host, 6379)
    assert not allowed(checkout, "Egress", {"ip": "10.32.20.5"}, 5432)  # staging's VPC
    target_port = config.accounts["prod"].edge_settings.target_port
    assert allowed(checkout, "Ingress", vpc_host, target_port)
    assert not allowed(checkout, "Ingress", vpc_host, target_port + 1)
    # reports: no database, no cache, no public path.
    assert not allowed(reports, "Egress", dev_host, 5432)
    assert not allowed(reports, "Egress", dev_host, 6379)
    assert not allowed(reports, "Ingress", dev_host, 8080)


# --- promotion ---------------------------------------------------------------------------------


def test_promotion_copies_the_previous_environments_commit(tree, config):
    dev = teams_gitops.pin_path("checkout", "checkout-api", "dev")
    assert teams_gitops.read_revision(tree, dev) == "main"
    # dev follows a branch: staging needs a commit named.
    with pytest.raises(PromotionError, match="REVISION"):
        teams_gitops.promote(config, "checkout", "checkout-api", "staging", root=tree)
    with pytest.raises(PromotionError, match="40 hex"):
        teams_gitops.promote(config, "checkout", "checkout-api", "staging", "main", tree)
    # A team that pins dev to a commit: staging copies it.
    (tree / dev).write_text(teams_gitops.pin_text(config, "checkout", "checkout-api", "dev", SHA_B))
    teams_gitops.promote(config, "checkout", "checkout-api", "staging", root=tree)
    staging = teams_gitops.pin_path("checkout", "checkout-api", "staging")
    assert teams_gitops.read_revision(tree, staging) == SHA_B
    # prod gets staging's commit and no other.
    with pytest.raises(PromotionError, match="not " + SHA_A):
        teams_gitops.promote(config, "checkout", "checkout-api", "prod", SHA_A, tree)
    teams_gitops.promote(config, "checkout", "checkout-api", "prod", root=tree)
    assert (
        teams_gitops.read_revision(tree, teams_gitops.pin_path("checkout", "checkout-api", "prod"))
        == SHA_B
    )
    # Regenerating keeps the promoted pins.
    teams_gitops.write(config, tree)
    assert teams_gitops.read_revision(tree, staging) == SHA_B


def test_promotion_refuses_to_skip_an_environment(tree, config):
    with pytest.raises(PromotionError, match="promote to staging first"):
        teams_gitops.promote(config, "checkout", "checkout-api", "prod", SHA_A, tree)
    with pytest.raises(PromotionError, match="does not run in 'prod'"):
        teams_gitops.promote(config, "reports", "reports-worker", "prod", SHA_A, tree)
    with pytest.raises(PromotionError, match="first environment"):
        teams_gitops.promote(config, "checkout", "checkout-api", "dev", SHA_A, tree)
    assert teams_gitops.existing_files(tree) == teams_gitops.existing_files(ROOT)


def test_the_promote_command_exits_non_zero_when_refused(tree, capsys):
    code = teams_gitops.main(
        ["--root", str(tree), "promote", "checkout", "checkout-api", "prod", "--revision", SHA_A]
    )
    assert code == 1
    assert "promote to staging first" in capsys.readouterr().err


def test_prod_pins_need_the_platform_teams_review(config):
    codeowners = (ROOT / teams_gitops.CODEOWNERS).read_text()
    assert "/gitops/teams/checkout/releases/*/prod.yaml @example-corp/platform-team" in codeowners
    assert "/gitops/teams/ @example-corp/platform-team" in codeowners
