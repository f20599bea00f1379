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
