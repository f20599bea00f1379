"""Least-privilege deploys: CloudFormation's execution policy per account and region covers
exactly the resource types the account's stacks hold, and every role a stack creates carries
the permissions boundary."""

from __future__ import annotations

import json
import shutil

import pytest

from facts.cdk import PERMISSIONS_BOUNDARY_NAME
from tests.conftest import ROOT
from tests.helpers import props
from tools import execution_policy


@pytest.fixture(scope="module")
def generated(organisation):
    return execution_policy.generate(organisation.outdir)


def test_the_committed_policies_are_what_the_stacks_need(generated):
    """Stale when a stack gains (or loses) a resource type: `make execution-policies`, review,
    then re-bootstrap the accounts whose policy changed."""
    committed = {
        path: (ROOT / path).read_text()
        for path in sorted((ROOT / execution_policy.POLICY_DIR).glob("*.json"))
    }
    assert {str(p) for p in generated} == {str(p.relative_to(ROOT)) for p in committed}, (
        "accounts and regions differ: run `make execution-policies`"
    )
    for path, text in generated.items():
        assert (ROOT / path).read_text() == text, f"{path} is stale: run `make execution-policies`"


def test_every_resource_type_of_every_stack_is_covered(organisation):
    assert execution_policy.uncovered(organisation.outdir, ROOT) == []


def test_a_new_resource_type_is_reported(organisation, tmp_path):
    """The check is not vacuous: drop a type from prod's committed record and it is named."""
    shutil.copytree(ROOT / execution_policy.POLICY_DIR, tmp_path / execution_policy.POLICY_DIR)
    path = tmp_path / execution_policy.POLICY_DIR / "prod-eu-west-1.json"
    record = json.loads(path.read_text())
    record["resource_types"].remove("AWS::RDS::DBCluster")
    path.write_text(json.dumps(record))
    assert execution_policy.uncovered(organisation.outdir, tmp_path) == [
        "prod eu-west-1: AWS::RDS::DBCluster (prod/Data)"
    ]


def test_the_policies_fit_iam_and_grant_no_wildcard_action():
    for path in (ROOT / execution_policy.POLICY_DIR).glob("*.json"):
        record = json.loads(path.read_text())
        assert 1 <= len(record["policies"]) <= execution_policy.MANAGED_POLICIES_PER_ROLE
        for policy in record["policies"]:
            assert execution_policy.size(policy["document"]) <= (
                execution_policy.MANAGED_POLICY_MAX_CHARACTERS
            )
            for statement in policy["document"]["Statement"]:
                assert statement["Effect"] == "Allow"
                for action in statement["Action"]:
                    assert "*" not in action, (path.name, action)


def test_the_policy_is_the_union_of_the_types_handlers():
    """A bucket needs s3:CreateBucket; an account without one does not get it."""
    prod = execution_policy.load(ROOT, "prod", "eu-west-1")
    edge = execution_policy.load(ROOT, "prod", "us-east-1")

    def actions(record):
        return {
            action
            for policy in record["policies"]
            for statement in policy["document"]["Statement"]
            for action in statement["Action"]
        }

    assert {"rds:CreateDBCluster", "eks:CreateCluster", "s3:CreateBucket"} <= actions(prod)
    assert "rds:CreateDBCluster" not in actions(edge)
    assert "wafv2:CreateWebACL" in actions(edge)
    assert "lambda:InvokeFunction" in actions(prod)  # custom resources


def roles_without_boundary(stacks):
    return [
        f"{stack.stage}/{stack.id}/{logical_id}"
        for stack in stacks
        for logical_id, role in stack.of_type("AWS::IAM::Role").items()
        if f":policy/{PERMISSIONS_BOUNDARY_NAME}"
        not in json.dumps(props(role).get("PermissionsBoundary"))
    ]


def test_every_role_the_stacks_create_carries_the_boundary(organisation):
    stacks = list(organisation.all_stacks())
    assert sum(len(s.of_type("AWS::IAM::Role")) for s in stacks) > 50
    assert roles_without_boundary(stacks) == []


def test_a_role_without_the_boundary_is_found(organisation):
    """The check is not vacuous: a template whose role lost the boundary is reported."""
    stack = organisation.stacks["prod"]["Data"]
    logical_id = next(iter(stack.of_type("AWS::IAM::Role")))
    stripped = json.loads(json.dumps(stack.template))
    del stripped["Resources"][logical_id]["Properties"]["PermissionsBoundary"]

    class Stripped:
        stage, id, template = stack.stage, stack.id, stripped

        def of_type(self, resource_type):
            return {k: v for k, v in stripped["Resources"].items() if v["Type"] == resource_type}

    assert roles_without_boundary([Stripped()]) == [f"prod/Data/{logical_id}"]


def test_every_action_granted_is_an_iam_action():
    """A registry schema may list what IAM does not know (`s3:REST.PUT.OBJECT`); IAM would
    refuse the policy or ignore the entry."""
    known = execution_policy.iam_actions()
    assert "s3:createbucket" in known and "s3:rest.put.object" not in known
    for path in (ROOT / execution_policy.POLICY_DIR).glob("*.json"):
        for policy in json.loads(path.read_text())["policies"]:
            for statement in policy["document"]["Statement"]:
                unknown = [a for a in statement["Action"] if a.lower() not in known]
                assert unknown == [], (path.name, unknown)
