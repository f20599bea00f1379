"""The deploy rehearsal: would the first rollout of this cloud assembly succeed, in order?

    python -m tools.rehearsal [--assembly cdk.out] [--config config/platform.yaml]

It places every stack where the rollout deploys it (`plan`), reads what each stack needs and
what each provides (`needs`), and fails, naming the stack, the need and the missing producer,
whenever a need is met neither by a stack deployed strictly earlier nor by a declared
prerequisite (`facts.aws_behaviour.PREREQUISITES`, checked by `make preflight`). It also
fails where a stack declares a resource AWS has already created on its own
(`facts.aws_behaviour.IMPLICIT_RESOURCES`), and where a custom resource can run before the
policy its function needs. `make test` runs it over the sample organisation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from facts.aws_behaviour import IMPLICIT_RESOURCES, ORGANIZATION_SETTINGS
from tools.rehearsal.needs import (
    BOOTSTRAP_ROLE,
    Key,
    Need,
    custom_resource_policies,
    depends_on,
    needs,
    offers,
    public_zones,
)
from tools.rehearsal.plan import BY_HAND, ByHand, DeploymentPlan, plan_rollout, read_assembly

__all__ = ["Problem", "rehearse", "rehearse_plan"]


@dataclass(frozen=True)
class Problem:
    stack: str
    need: str
    producer: str
    what: str = ""
    """The need alone (`describe(key)`), or the resource that collides, for tools and tests."""

    def __str__(self) -> str:
        return f"{self.stack}: {self.need}: {self.producer}"


def describe(key: Key) -> str:
    kind, *rest = key
    if kind in ORGANIZATION_SETTINGS:
        return f"{ORGANIZATION_SETTINGS[kind][0]} [{' '.join(rest)}]".replace(" []", "")
    return f"{kind} {'/'.join(rest)}"


def rehearse_plan(plan: DeploymentPlan) -> list[Problem]:
    """Every unmet need and every collision with what AWS creates on its own."""
    provided: dict[Key, list[str]] = {}
    for stack in plan.stacks.values():
        for key in offers(stack):
            provided.setdefault(key, []).append(stack.path)
    problems: list[Problem] = []
    zones = public_zones(iter(plan.stacks.values()))
    for stack in plan.ordered():
        for need in needs(stack, zones):
            problem = unmet(plan, stack.path, need, provided)
            if problem is not None:
                problems.append(problem)
        problems.extend(implicit_collisions(plan, stack.path, provided))
        problems.extend(custom_resources_before_policies(stack.path, stack.template))
    return problems


def unmet(
    plan: DeploymentPlan, path: str, need: Need, provided: Mapping[Key, Sequence[str]]
) -> Problem | None:
    stack = plan.stacks[path]
    key = need.key
    if key[0] == "prerequisite":
        return None
    if key[0] == "role" and BOOTSTRAP_ROLE.match(key[2]):
        return None  # the CDK bootstrap's roles: a prerequisite
    producers = [plan.stacks[p] for p in provided.get(key, ()) if p != path]
    where = f"{describe(key)} ({need.resource or 'stack'}: {need.why})"
    if key[0] == "principal":
        role_key = ("role", *key[1:])
        producers = [plan.stacks[p] for p in provided.get(role_key, ()) if p != path]
        if not producers:
            return None  # a person's role from config: a prerequisite `make preflight` checks
    if any(p.before(stack) for p in producers):
        return None
    if not producers and path in provided.get(key, ()):
        if key[0] != "service-linked-role" or waits_for_role(stack.template, need, key[2]):
            return None  # made in the same stack, and CloudFormation orders them
        return Problem(
            path,
            where,
            "made in the same stack, but nothing makes CloudFormation create it first: add a "
            "dependency",
            describe(key),
        )
    if producers:
        later = ", ".join(f"{p.path} ({p.phase_name})" for p in producers)
        return Problem(
            path, where, f"produced only by {later}, which does not deploy earlier", describe(key)
        )
    return Problem(path, where, "nothing produces it and no prerequisite covers it", describe(key))


def waits_for_role(template: dict, need: Need, service: str) -> bool:
    """Whether the resource of `need` depends on the stack's service-linked role of
    `service` (no reference ties them: only DependsOn orders them)."""
    resources = template.get("Resources", {})
    return any(
        resources[parent]["Type"] == "AWS::IAM::ServiceLinkedRole"
        and resources[parent].get("Properties", {}).get("AWSServiceName") == service
        for parent in depends_on(template).get(need.resource, set())
    )


def implicit_collisions(
    plan: DeploymentPlan, path: str, provided: Mapping[Key, Sequence[str]]
) -> list[Problem]:
    stack = plan.stacks[path]
    found = []
    for behaviour in IMPLICIT_RESOURCES:
        if behaviour.where != "administrator":
            continue
        designated = provided.get(("delegated-admin", behaviour.service, stack.account_id), ())
        if not designated:
            continue
        for logical_id, resource in stack.resources.items():
            if resource["Type"] == behaviour.resource_type:
                found.append(
                    Problem(
                        path,
                        f"{logical_id} ({behaviour.resource_type})",
                        what=logical_id,
                        producer=f"designating this account the {behaviour.service} administrator "
                        f"({', '.join(designated)}) "
                        + ("creates one" if behaviour.certain else "may create one")
                        + f", so creating it fails with 'already exists' ({behaviour.doc})",
                    )
                )
    return found


def custom_resources_before_policies(path: str, template: dict) -> list[Problem]:
    after = depends_on(template)
    return [
        Problem(
            path,
            f"{resource} (custom resource)",
            f"can run before {policy}, the policy its function needs: add a dependency",
        )
        for resource, policies in custom_resource_policies(template).items()
        for policy in sorted(policies - after.get(resource, set()))
    ]


def rehearse(
    outdir: Path, roles: Mapping[str, str], by_hand: Sequence[ByHand] = BY_HAND
) -> list[Problem]:
    return rehearse_plan(plan_rollout(read_assembly(outdir), roles=roles, by_hand=by_hand))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--config", type=Path, default=Path("config/platform.yaml"))
    parser.add_argument("--quiet", action="store_true", help="print problems only")
    args = parser.parse_args(argv)
    from config import load_config

    config = load_config(args.config)
    plan = plan_rollout(
        read_assembly(args.assembly),
        roles={name: account.role for name, account in config.accounts.items()},
    )
    for index, phase in enumerate(plan.phases if not args.quiet else ()):
        stacks = [s.path for s in plan.ordered() if s.phase == index]
        print(f"{index + 1}. {phase}: {', '.join(stacks)}")
    problems = rehearse_plan(plan)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(
        f"Deploy rehearsal: {len(problems)} problem(s)"
        if problems
        else f"Deploy rehearsal: the first rollout's order holds ({len(plan.ordered())} steps)."
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
