"""The least-privilege CloudFormation execution policy of each account and region.

    python -m tools.execution_policy --assembly cdk.out          # rewrite the committed files
    python -m tools.execution_policy --assembly cdk.out --check  # exit 1 if they are stale

CloudFormation deploys the platform's stacks as the CDK bootstrap's execution role. Instead of
AdministratorAccess, that role gets exactly the actions CloudFormation's resource handlers
need for the resource types the account's stacks hold in that region: each type's
`handlers.{create,read,update,delete}.permissions` from the CloudFormation registry schema
(as cfn-lint ships it), plus `EXTRA_ACTIONS` (reviewed, each with its reason). The policies are
committed: `make bootstrap` installs them, a test fails when a stack gains a resource type the
committed policy does not cover, and widening what CloudFormation may do takes a person
re-running the bootstrap (docs/security.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from facts.cdk import CDK_QUALIFIER, execution_policy_name
from tools.assembly import read_stacks

POLICY_DIR = Path("bootstrap/execution-policies")
MANAGED_POLICY_MAX_CHARACTERS = 6144
"""IAM's limit on a managed policy document, whitespace excluded
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
MANAGED_POLICIES_PER_ROLE = 10
"""IAM's default quota of managed policies attached to one role (adjustable up to 20)."""
HANDLERS = ("create", "read", "update", "delete")

CUSTOM_RESOURCE_ACTIONS = ("lambda:InvokeFunction",)
"""A custom resource (`Custom::*`, `AWS::CloudFormation::CustomResource`) is a call of its
provider function, made as the execution role."""
EXTRA_ACTIONS: Mapping[str, str] = {
    "s3:GetObject": "CDK's file assets (Lambda code, templates) are read from the bootstrap's "
    "staging bucket with the deploying role's credentials.",
    "s3:GetBucketLocation": "Reading a file asset from the staging bucket.",
    "ssm:GetParameters": "Stacks check the bootstrap version through the SSM parameter "
    f"/cdk-bootstrap/{CDK_QUALIFIER}/version.",
}
"""Actions no resource handler lists that deploying CDK stacks needs."""
TYPE_EXTRA_ACTIONS: Mapping[str, tuple[str, ...]] = {
    # A distribution names its web ACL (in us-east-1) by ARN; CloudFront checks that the
    # caller may read it (AWS WAF developer guide, "Using AWS WAF with Amazon CloudFront").
    "AWS::CloudFront::Distribution": ("wafv2:GetWebACL",),
}
"""Actions a resource type needs beyond its handlers' lists (handler permission lists are a
lower bound: add what a first deployment's AccessDenied names, with its reason)."""


@cache
def iam_actions() -> frozenset[str]:
    """Every IAM action of the Service Authorization Reference (cfn-lint's copy), lower case."""
    text = (
        resources.files("cfnlint.data.AdditionalSpecs")
        .joinpath("Policies.json")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        f"{prefix}:{name}".lower()
        for prefix, service in json.loads(text).items()
        for name in service.get("Actions", {})
    )


def handler_actions(region: str, resource_type: str) -> set[str]:
    """What CloudFormation needs to create, read, update and delete `resource_type`."""
    if resource_type.startswith("Custom::") or resource_type == (
        "AWS::CloudFormation::CustomResource"
    ):
        return set(CUSTOM_RESOURCE_ACTIONS)
    if resource_type == "AWS::CDK::Metadata":
        return set()
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    handlers = schema.get("handlers", {})
    listed = {
        action
        for handler in HANDLERS
        for action in handlers.get(handler, {}).get("permissions", [])
    }
    # Schemas sometimes list what is no IAM action (e.g. `s3:REST.PUT.OBJECT`): IAM would
    # refuse or ignore it, so only real actions are kept.
    known = iam_actions()
    return {a for a in listed if a.lower() in known} | set(
        TYPE_EXTRA_ACTIONS.get(resource_type, ())
    )


def resource_types(assembly: Path) -> dict[tuple[str, str], set[str]]:
    """(account, region) -> the resource types of that account's stacks there."""
    types: dict[tuple[str, str], set[str]] = defaultdict(set)
    for stack in read_stacks(assembly).values():
        types[(stack.account, stack.region)] |= {r["Type"] for r in stack.resources.values()}
    return dict(types)


def statements(actions: Iterable[str]) -> list[dict[str, Any]]:
    """One statement per service, sorted."""
    by_service: dict[str, list[str]] = defaultdict(list)
    for action in sorted(set(actions), key=str.lower):
        by_service[action.split(":")[0]].append(action)
    return [
        {
            "Sid": "".join(part.capitalize() for part in service.replace("-", " ").split()),
            "Effect": "Allow",
            "Action": service_actions,
            "Resource": "*",
        }
        for service, service_actions in sorted(by_service.items())
    ]


def size(document: Mapping[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def documents(all_statements: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements packed into as few managed-policy documents as fit IAM's size limit."""
    packed: list[dict[str, Any]] = []
    for statement in all_statements:
        for document in packed:
            if size({**document, "Statement": [*document["Statement"], statement]}) <= (
                MANAGED_POLICY_MAX_CHARACTERS
            ):
                document["Statement"].append(statement)
                break
        else:
            document = {"Version": "2012-10-17", "Statement": [statement]}
            if size(document) > MANAGED_POLICY_MAX_CHARACTERS:
                raise ValueError(f"{statement['Sid']}: one service's actions exceed a policy")
            packed.append(document)
    return packed


def execution_policy(account: str, region: str, types: Iterable[str]) -> dict[str, Any]:
    """The committed record of one account and region: what it covers and the documents."""
    covered = sorted(types)
    actions = set(EXTRA_ACTIONS)
    for resource_type in covered:
        actions |= handler_actions(region, resource_type)
    policies = documents(statements(actions))
    return {
        "account": account,
        "region": region,
        "resource_types": covered,
        "policies": [
            {"name": f"{execution_policy_name(region)}-{index}", "document": document}
            for index, document in enumerate(policies, start=1)
        ],
    }


def policy_path(root: Path, account: str, region: str) -> Path:
    return root / f"{account}-{region}.json"


def generate(assembly: Path) -> dict[Path, str]:
    """Relative path -> file text, for every account and region of the assembly."""
    return {
        policy_path(POLICY_DIR, account, region): json.dumps(
            execution_policy(account, region, types), indent=1
        )
        + "\n"
        for (account, region), types in sorted(resource_types(assembly).items())
    }


def load(root: Path, account: str, region: str) -> dict[str, Any] | None:
    """The committed policy record of an account and region, if there is one."""
    path = policy_path(root / POLICY_DIR, account, region)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def uncovered(assembly: Path, root: Path = Path(".")) -> list[str]:
    """Resource types of the assembly's stacks that the committed policy of their account and
    region does not cover, as `account region: type (stack)`."""
    problems = []
    for stack in read_stacks(assembly).values():
        record = load(root, stack.account, stack.region)
        covered = set(record["resource_types"]) if record else set()
        for resource_type in sorted({r["Type"] for r in stack.resources.values()} - covered):
            problems.append(f"{stack.account} {stack.region}: {resource_type} ({stack.path})")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    wanted = generate(args.assembly)
    stale = [
        path
        for path, text in wanted.items()
        if not (args.root / path).exists() or (args.root / path).read_text() != text
    ]
    present = set((args.root / POLICY_DIR).glob("*.json"))
    extra = sorted(present - {args.root / path for path in wanted})
    if args.check:
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        for path in extra:
            print(f"no longer deployed: {path}", file=sys.stderr)
        if stale or extra:
            print(
                "run `make execution-policies`, review, then re-run `make bootstrap` for "
                "those accounts",
                file=sys.stderr,
            )
        return 1 if stale or extra else 0
    (args.root / POLICY_DIR).mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        (args.root / path).write_text(text, encoding="utf-8")
    for path in extra:
        path.unlink()
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
