"""The GitOps tree's admission policies (gitops/policies/admission), their CEL evaluated with a
real CEL evaluator (cel-python) against compliant and non-compliant manifests, and the AWS
side of the same rule: the AWS Load Balancer Controller may create internal load balancers
only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml

from tests.helpers import props

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "gitops/policies/admission/internal-load-balancers-only.yaml"


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(POLICY.read_text()) if d]


def admitted(manifest: dict[str, Any]) -> bool:
    """Whether the policy admits `manifest`: every validation whose resource rules match it
    evaluates to true (as the API server would, with `object` and `request`)."""
    policy, binding = documents()
    assert binding["spec"] == {
        "policyName": policy["metadata"]["name"],
        "validationActions": ["Deny"],
    }
    assert binding["metadata"]["annotations"]["platform.example/scope"]
    group = manifest["apiVersion"].rpartition("/")[0]
    plural = {"Service": "services", "Ingress": "ingresses"}.get(
        manifest["kind"], manifest["kind"].lower()
    )
    assert any(
        group in rule["apiGroups"] and plural in rule["resources"]
        for rule in policy["spec"]["matchConstraints"]["resourceRules"]
    ), f"the policy does not match {manifest['kind']}"
    environment = celpy.Environment()
    activation = {
        "object": celpy.json_to_cel(manifest),
        "request": celpy.json_to_cel({"kind": {"kind": manifest["kind"]}, "operation": "CREATE"}),
    }
    results = []
    for validation in policy["spec"]["validations"]:
        program = environment.program(environment.compile(validation["expression"]))
        result = program.evaluate(activation)
        assert isinstance(result, celpy.celtypes.BoolType), (validation["expression"], result)
        results.append(bool(result))
    return all(results)


def service(annotations: dict[str, str] | None, kind: str = "LoadBalancer") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "web"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata,
            "spec": {"type": kind, "ports": [{"port": 443}]}}  # fmt: skip


def ingress(annotations: dict[str, str] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web", "namespace": "web"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata,
            "spec": {"ingressClassName": "alb"}}  # fmt: skip


SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (service({SCHEME: "internal"}), True),
        (service(None, kind="ClusterIP"), True),
        (service({}, kind="NodePort"), True),
        (service({SCHEME: "internet-facing"}), False),
        # EKS's built-in cloud provider makes a LoadBalancer Service internet-facing by default
        (service(None), False),
        (service({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}), False),
        (ingress(None), True),
        (ingress({ALB_SCHEME: "internal"}), True),
        (ingress({ALB_SCHEME: "internet-facing"}), False),
        (
            {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams",
             "metadata": {"name": "public"}, "spec": {"scheme": "internet-facing"}},
            False,
        ),
        (
            {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams",
             "metadata": {"name": "private"}, "spec": {"scheme": "internal"}},
            True,
        ),
    ],
)  # fmt: skip
def test_only_internal_load_balancers_are_admitted(manifest, expected):
    assert admitted(manifest) is expected


def test_every_cluster_gets_the_policies_before_anything_else():
    (app,) = yaml.safe_load_all((ROOT / "gitops/bootstrap/admission-policies.yaml").read_text())
    assert int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < 0
    (generator,) = app["spec"]["generators"]
    assert generator["clusters"]["selector"]["matchExpressions"] == [
        {"key": "environment", "operator": "Exists"}
    ]
    assert app["spec"]["template"]["spec"]["source"]["path"].endswith("/policies/admission")


@pytest.mark.parametrize("account", ["dev", "prod", "shared-services"])
def test_the_load_balancer_controller_may_create_internal_load_balancers_only(
    organisation, account
):
    statements = [
        statement
        for policy in organisation.stacks[account]["Cluster"]
        .of_type("AWS::IAM::ManagedPolicy")
        .values()
        for statement in props(policy)["PolicyDocument"]["Statement"]
        if "elasticloadbalancing:CreateLoadBalancer" in str(statement["Action"])
    ]
    (statement,) = statements
    assert statement["Action"] == "elasticloadbalancing:CreateLoadBalancer"
    assert statement["Condition"]["StringEquals"] == {"elasticloadbalancing:Scheme": "internal"}
    assert statement["Effect"] == "Allow"


@pytest.mark.parametrize("account", ["shared-services", "dev", "staging", "prod", "sandbox"])
def test_public_subnets_hold_nat_gateways_only(organisation, account):
    """Nothing but the NAT gateways (and the subnets' own routing) sits in a public subnet,
    and no stack can place anything there: no output or parameter hands their ids out."""
    stacks = organisation.stacks[account]
    network = stacks["Network"].template
    public = {
        logical_id
        for logical_id, subnet in network["Resources"].items()
        if subnet["Type"] == "AWS::EC2::Subnet"
        and {"Key": "aws-cdk:subnet-type", "Value": "Public"} in props(subnet)["Tags"]
    }
    assert public
    users = {
        resource["Type"]
        for logical_id, resource in network["Resources"].items()
        if logical_id not in public
        and any(f'"Ref": "{subnet}"' in json.dumps(resource) for subnet in public)
    }
    assert users <= {"AWS::EC2::NatGateway", "AWS::EC2::SubnetRouteTableAssociation"}, users
    # nor does a load balancer controller discover them for an internet-facing one
    assert not any(
        tag["Key"] == "kubernetes.io/role/elb"
        for subnet in public
        for tag in props(network["Resources"][subnet])["Tags"]
    )
    exposed = json.dumps(network.get("Outputs", {})) + json.dumps(
        [r for r in network["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"]
    )
    assert not any(f'"Ref": "{subnet}"' in exposed for subnet in public)


# --- the pod policies (tools/admission_policies.py) ----------------------------------------------

POLICIES = ROOT / "gitops/policies/admission"
ECR = "333333333333.dkr.ecr.eu-west-1.amazonaws.com/exco/web:1.4.2"
TEAM_NS = {"metadata": {"name": "checkout", "labels": {"team": "checkout"}}}
PLATFORM_NS = {"metadata": {"name": "cert-manager", "labels": {}}}


def policy_of(name: str) -> dict[str, Any]:
    return next(
        d
        for d in yaml.safe_load_all((POLICIES / f"{name}.yaml").read_text())
        if d["kind"] == "ValidatingAdmissionPolicy"
    )


def evaluate(name: str, manifest: dict[str, Any], namespace: dict[str, Any]) -> bool:
    """Whether policy `name` admits `manifest` in `namespace`: its match conditions, then its
    variables in order, then every validation, with `object`, `request`, `namespaceObject`
    and `variables` bound as the API server binds them."""
    policy = policy_of(name)
    plural = {"CronJob": "cronjobs"}.get(manifest["kind"], manifest["kind"].lower() + "s")
    group = manifest["apiVersion"].rpartition("/")[0]
    assert any(
        group in rule["apiGroups"] and plural in rule["resources"]
        for rule in policy["spec"]["matchConstraints"]["resourceRules"]
    ), f"{name} does not match {manifest['kind']}"
    environment = celpy.Environment()

    def run(expression: str, activation: dict[str, Any]) -> Any:
        return environment.program(environment.compile(expression)).evaluate(activation)

    activation: dict[str, Any] = {
        "object": celpy.json_to_cel(manifest),
        "request": celpy.json_to_cel({"kind": {"kind": manifest["kind"]}, "operation": "CREATE"}),
        "namespaceObject": celpy.json_to_cel(namespace),
    }
    for condition in policy["spec"].get("matchConditions", []):
        if not bool(run(condition["expression"], activation)):
            return True
    variables: dict[str, Any] = {}
    for variable in policy["spec"].get("variables", []):
        activation["variables"] = celpy.celtypes.MapType(variables)
        variables[celpy.celtypes.StringType(variable["name"])] = run(
            variable["expression"], activation
        )
    activation["variables"] = celpy.celtypes.MapType(variables)
    results = []
    for validation in policy["spec"]["validations"]:
        result = run(validation["expression"], activation)
        assert isinstance(result, celpy.celtypes.BoolType), (validation["expression"], result)
        results.append(bool(result))
    return all(results)


def container(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "web",
        "image": ECR,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "128Mi"}},
    }  # fmt: skip
    base.update(changes)
    return base


def pod_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container()]}
    spec.update(changes)
    return spec


def as_kind(
    kind: str, spec: dict[str, Any], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A manifest of `kind` whose pod (template) has `spec` and `labels`."""
    labels = {"team": "checkout", "app": "web"} if labels is None else labels
    template = {"metadata": {"labels": labels}, "spec": spec}
    meta = {"name": "web", "namespace": "checkout"}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {**meta, "labels": labels},
                "spec": spec}  # fmt: skip
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": meta,
                "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}}  # fmt: skip  # noqa: E501
    api = {"Job": "batch/v1", "Rollout": "argoproj.io/v1alpha1"}.get(kind, "apps/v1")
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {"template": template}}


KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Rollout"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "name", ["pod-security", "container-resources", "images-from-the-organisation", "team-labels"]
)
def test_a_compliant_workload_is_admitted_in_every_pod_bearing_kind(name, kind):
    assert evaluate(name, as_kind(kind, pod_spec()), TEAM_NS) is True


HOST = {"type": "Directory", "path": "/var/log"}
DEBUG = {"name": "debug", "image": ECR, "securityContext": {"privileged": True}}


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "CronJob", "Rollout"])
@pytest.mark.parametrize(
    "spec",
    [
        pod_spec(containers=[container(securityContext={"privileged": True,
                                                         "allowPrivilegeEscalation": False})]),
        pod_spec(initContainers=[container(securityContext={"privileged": True,
                                                             "allowPrivilegeEscalation": False})]),
        pod_spec(ephemeralContainers=[DEBUG]),
        pod_spec(hostNetwork=True),
        pod_spec(hostPID=True),
        pod_spec(hostIPC=True),
        pod_spec(volumes=[{"name": "logs", "hostPath": HOST}]),
        pod_spec(containers=[container(securityContext={})]),
        pod_spec(containers=[container(securityContext={"allowPrivilegeEscalation": True})]),
        pod_spec(containers=[container(securityContext={"allowPrivilegeEscalation": False,
                                                         "capabilities": {"add": ["SYS_ADMIN"]}})]),
    ],
    ids=["privileged", "privileged-init", "privileged-ephemeral", "hostNetwork", "hostPID",
         "hostIPC", "hostPath", "escalation-unset", "escalation", "SYS_ADMIN"],
)  # fmt: skip
def test_pod_security_refuses(kind, spec):
    assert evaluate("pod-security", as_kind(kind, spec), TEAM_NS) is False


@pytest.mark.parametrize("kind", ["Pod", "Deployment"])
def test_pod_security_allows_net_bind_service_and_other_volumes(kind):
    spec = pod_spec(
        containers=[container(securityContext={"allowPrivilegeEscalation": False,
                                                "capabilities": {"add": ["NET_BIND_SERVICE"],
                                                                 "drop": ["ALL"]}})],
        volumes=[{"name": "tmp", "emptyDir": {}}],
        hostNetwork=False,
    )  # fmt: skip
    assert evaluate("pod-security", as_kind(kind, spec), TEAM_NS) is True


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "Job"])
@pytest.mark.parametrize(
    "resources",
    [
        {},
        {"requests": {"cpu": "100m", "memory": "128Mi"}},
        {"requests": {"memory": "128Mi"}, "limits": {"memory": "128Mi"}},
        {"requests": {"cpu": "100m"}, "limits": {"memory": "128Mi", "cpu": "1"}},
    ],
    ids=["none", "no-memory-limit", "no-cpu-request", "no-memory-request"],
)
def test_every_container_requests_cpu_and_memory_and_limits_memory(kind, resources):
    for spec in (
        pod_spec(containers=[container(resources=resources)]),
        pod_spec(initContainers=[container(resources=resources)]),
    ):
        assert evaluate("container-resources", as_kind(kind, spec), TEAM_NS) is False


FOREIGN = ["docker.io/library/nginx:1.27", "nginx", "ghcr.io/evil/web:1",
           "444444444444.dkr.ecr.eu-west-1.amazonaws.com/exco/web:1",
           "333333333333.dkr.ecr.eu-west-1.amazonaws.com/other/web:1",
           "333333333333.dkr.ecr.ap-south-1.amazonaws.com/exco/web:1",
           "333333333333.dkr.ecr.eu-west-1.amazonaws.com.evil.io/exco/web:1"]  # fmt: skip


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "CronJob"])
@pytest.mark.parametrize("image", FOREIGN)
def test_images_from_outside_the_organisations_ecr_are_refused(kind, image):
    for spec in (
        pod_spec(containers=[container(image=image)]),
        pod_spec(initContainers=[container(image=image)]),
        pod_spec(ephemeralContainers=[{"name": "debug", "image": image}]),
    ):
        assert evaluate("images-from-the-organisation", as_kind(kind, spec), TEAM_NS) is False
        assert evaluate("images-from-the-organisation", as_kind(kind, spec), PLATFORM_NS) is False


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1", "us-east-1"])
def test_the_organisations_ecr_is_allowed_in_every_allowed_region(region):
    image = f"333333333333.dkr.ecr.{region}.amazonaws.com/exco/api@sha256:{'a' * 64}"
    manifest = as_kind("Deployment", pod_spec(containers=[container(image=image)]))
    assert evaluate("images-from-the-organisation", manifest, TEAM_NS) is True


@pytest.mark.parametrize(
    "image",
    ["quay.io/jetstack/cert-manager-controller:v1.18.2",
     "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/aws-ebs-csi-driver:v1.45.0"],
)  # fmt: skip
def test_upstream_add_on_registries_are_allowed_outside_team_namespaces_only(image):
    manifest = as_kind("Deployment", pod_spec(containers=[container(image=image)]))
    assert evaluate("images-from-the-organisation", manifest, PLATFORM_NS) is True
    assert evaluate("images-from-the-organisation", manifest, TEAM_NS) is False


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "CronJob", "Rollout"])
@pytest.mark.parametrize("labels", [{}, {"app": "web"}, {"team": "reports"}])
def test_team_workloads_carry_their_namespaces_team_label(kind, labels):
    manifest = as_kind(kind, pod_spec(), labels=labels)
    assert evaluate("team-labels", manifest, TEAM_NS) is False
    other = {"metadata": {"name": "reports", "labels": {"team": "reports"}}}
    assert evaluate("team-labels", manifest, other) is (labels == {"team": "reports"})


def test_a_rollout_that_references_a_deployment_is_checked_through_the_deployment():
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "web", "namespace": "checkout"},
               "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": "web"}}}  # fmt: skip
    assert evaluate("team-labels", rollout, TEAM_NS) is True


def bindings() -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for path in sorted(POLICIES.glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d and d["kind"] == "ValidatingAdmissionPolicyBinding"
    }


def selected(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A namespaceSelector's verdict on a namespace's labels (matchLabels, matchExpressions)."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        key, operator, values = e["key"], e["operator"], e.get("values", [])
        ok = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def namespace_labels(name: str, team: str | None = None) -> dict[str, str]:
    # the API server sets kubernetes.io/metadata.name on every namespace
    return {"kubernetes.io/metadata.name": name, **({"team": team} if team else {})}


NAMESPACES = {
    "kube-system": namespace_labels("kube-system"),
    "amazon-cloudwatch": namespace_labels("amazon-cloudwatch"),
    "argocd": namespace_labels("argocd"),
    "cert-manager": namespace_labels("cert-manager"),
    "external-secrets": namespace_labels("external-secrets"),
    "external-dns": namespace_labels("external-dns"),
    "default": namespace_labels("default"),
    "checkout": namespace_labels("checkout", team="checkout"),
    "reports": namespace_labels("reports", team="reports"),
}


def scope(binding: str) -> tuple[list[str], set[str]]:
    b = bindings()[binding]
    selector = b["spec"].get("matchResources", {}).get("namespaceSelector")
    return b["spec"]["validationActions"], {
        n for n, labels in NAMESPACES.items() if selected(selector, labels)
    }


TEAMS = {"checkout", "reports"}
PLATFORM = set(NAMESPACES) - TEAMS


def test_the_bindings_exempt_exactly_the_namespaces_the_docs_name():
    assert set(bindings()) == {
        "internal-load-balancers-only", "pod-security", "container-resources-teams",
        "container-resources-platform", "images-from-the-organisation-teams",
        "images-from-the-organisation-platform", "team-labels",
    }  # fmt: skip
    assert scope("internal-load-balancers-only") == (["Deny"], set(NAMESPACES))
    # the node agents (vpc-cni, kube-proxy, EBS CSI node, pod identity agent, Fluent Bit)
    assert scope("pod-security") == (
        ["Deny"],
        set(NAMESPACES) - {"kube-system", "amazon-cloudwatch"},
    )
    assert scope("container-resources-teams") == (["Deny"], TEAMS)
    assert scope("container-resources-platform") == (["Warn", "Audit"], PLATFORM)
    assert scope("images-from-the-organisation-teams") == (["Deny"], TEAMS)
    assert scope("images-from-the-organisation-platform") == (["Warn", "Audit"], PLATFORM)
    assert scope("team-labels") == (["Deny"], TEAMS)
    for binding in bindings().values():
        assert binding["metadata"]["annotations"]["platform.example/scope"]
        assert (POLICIES / f"{binding['spec']['policyName']}.yaml").exists()


def test_the_generated_policies_are_fresh():
    from config import load_config
    from tools.admission_policies import files

    for name, text in files(load_config(ROOT / "config/platform.yaml")).items():
        assert (POLICIES / name).read_text() == text, f"{name} is stale: make admission-policies"


def test_team_namespaces_carry_the_label_the_policies_select():
    """tools/teams_gitops.py labels team namespaces `team: <team>`, where present."""
    from tools.admission_policies import TEAM_LABEL

    assert TEAM_LABEL == "team"
    for path in (ROOT / "gitops/teams").glob("*/*/*.yaml"):
        for d in yaml.safe_load_all(path.read_text()):
            if d and d["kind"] == "Namespace":
                assert d["metadata"]["labels"][TEAM_LABEL] == path.parts[-3]
