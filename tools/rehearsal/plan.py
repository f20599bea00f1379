"""The order in which a first rollout deploys the stacks of a cloud assembly.

The pipeline's own template says the order of what it deploys: one CodePipeline stage per wave,
and inside it each stack's change set is prepared at one run order and executed at a later
one. What the pipeline does not deploy is deployed by hand, at the points `BY_HAND` names (the
same order `docs/first-deployment.md` tells a platform team).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PIPELINE_TEMPLATE = "Pipeline.template.json"


@dataclass(frozen=True)
class ByHand:
    """Stacks a person deploys with `cdk deploy`, outside the pipeline.

    `roles`: the account roles concerned; `stacks`: their stacks by id, or all of them;
    `when`: "before-pipeline", "after-role:<role>" (after the pipeline stage that deploys the
    account of that role) or "after-pipeline".
    """

    roles: tuple[str, ...]
    when: str
    stacks: tuple[str, ...] | None = None


BY_HAND: tuple[ByHand, ...] = (
    # The management account is never a pipeline target (docs/security.md): its organisation
    # and budgets go first, by hand; its Config baseline once the security account's log
    # archive exists.
    ByHand(roles=("management",), when="before-pipeline", stacks=("Organization", "Budgets", "Ci")),
    ByHand(roles=("management",), when="after-role:security", stacks=("Baseline", "Operations")),
    ByHand(roles=("sandbox",), when="after-pipeline"),
)
"""What the first rollout deploys by hand, and when (docs/first-deployment.md)."""


@dataclass
class PlannedStack:
    """One stack and where the rollout deploys it.

    Stack A is deployed strictly before stack B when A's phase comes first, or when both are in
    one phase and A's change set executes before B's is prepared (`end` < `start`).
    """

    path: str
    """`stage/Stack`, or `Stack` at the top level."""
    stack_name: str
    account_id: str
    region: str
    template: dict[str, Any]
    phase: int = -1
    phase_name: str = "not deployed"
    start: int = 0
    end: int = 0
    provides: frozenset[tuple[str, ...]] = frozenset()
    """What a pipeline step (not a stack) establishes, e.g. a checked registrar delegation."""

    @property
    def stage(self) -> str:
        return self.path.split("/")[0] if "/" in self.path else ""

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def before(self, other: PlannedStack) -> bool:
        """Deployed (change set executed) before `other`'s change set is prepared."""
        if self.phase < 0 or other.phase < 0:
            return False
        return self.phase < other.phase or (self.phase == other.phase and self.end < other.start)


@dataclass
class DeploymentPlan:
    stacks: dict[str, PlannedStack] = field(default_factory=dict)
    """By stack path."""
    phases: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    """Stage (account name) -> its role in the config."""

    def by_name(self, stack_name: str, region: str | None = None) -> PlannedStack | None:
        for stack in self.stacks.values():
            if stack.stack_name == stack_name and (region is None or stack.region == region):
                return stack
        return None

    def ordered(self) -> list[PlannedStack]:
        deployed = [s for s in self.stacks.values() if s.phase >= 0]
        return sorted(deployed, key=lambda s: (s.phase, s.start, s.path))


def read_assembly(outdir: Path) -> dict[str, PlannedStack]:
    """Every stack of the assembly (stage assemblies included), not yet placed."""
    stacks: dict[str, PlannedStack] = {}
    directories = [outdir]
    root = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    for artifact in root["artifacts"].values():
        if artifact["type"] == "cdk:cloud-assembly":
            directories.append(outdir / artifact["properties"]["directoryName"])
    for directory in directories:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        for artifact_id, artifact in manifest["artifacts"].items():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            account, region = artifact["environment"].removeprefix("aws://").split("/")
            props = artifact["properties"]
            template = json.loads((directory / props["templateFile"]).read_text(encoding="utf-8"))
            stacks[artifact["displayName"]] = PlannedStack(
                path=artifact["displayName"],
                stack_name=props.get("stackName", artifact_id),
                account_id=account,
                region=region,
                template=template,
            )
    return stacks


def pipeline_stages(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    pipelines = [
        r
        for r in template.get("Resources", {}).values()
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return pipelines[0]["Properties"]["Stages"] if pipelines else []


def plan_rollout(
    stacks: dict[str, PlannedStack],
    *,
    roles: Mapping[str, str],
    by_hand: Sequence[ByHand] = BY_HAND,
) -> DeploymentPlan:
    """Place every stack: by-hand phases before the pipeline, the pipeline itself (its own
    stacks first: a person deploys them once with `cdk deploy`), one phase per wave with
    by-hand phases after the waves they name, and the by-hand phases after the pipeline."""
    plan = DeploymentPlan(stacks=stacks, roles=dict(roles))
    pipeline = stacks.get("Pipeline")

    def by_hand_phase(when: str) -> None:
        chosen = [
            s
            for rule in by_hand
            if rule.when == when
            for s in stacks.values()
            if s.stage
            and roles.get(s.stage) in rule.roles
            # `Baseline` names the account's regional `Baseline-<region>` stacks too
            and (rule.stacks is None or s.path.split("/")[1].split("-")[0] in rule.stacks)
        ]
        if chosen:
            place_in_dependency_order(plan, chosen, f"by hand ({when})")

    by_hand_phase("before-pipeline")
    top_level = [s for s in stacks.values() if not s.stage]
    if top_level:
        place_in_dependency_order(plan, top_level, "by hand (the pipeline)")
    if pipeline is not None:
        for stage in pipeline_stages(pipeline.template):
            deploys = [
                a for a in stage["Actions"] if a["ActionTypeId"]["Provider"] == "CloudFormation"
            ]
            if not deploys:
                continue
            phase = len(plan.phases)
            plan.phases.append(f"wave {stage['Name']}")
            for action in stage["Actions"]:
                for key in step_provides(pipeline.template, action):
                    check = PlannedStack(
                        path=f"Pipeline/{stage['Name']}/{action['Name']}",
                        stack_name="",
                        account_id=pipeline.account_id,
                        region=pipeline.region,
                        template={},
                        phase=phase,
                        phase_name=plan.phases[-1],
                        start=action["RunOrder"],
                        end=action["RunOrder"],
                        provides=frozenset({key}),
                    )
                    plan.stacks[check.path] = check
            for action in deploys:
                config = action["Configuration"]
                stack = plan.by_name(config["StackName"], action.get("Region") or pipeline.region)
                if stack is None:
                    continue
                stack.phase, stack.phase_name = phase, plan.phases[-1]
                if config["ActionMode"] == "CHANGE_SET_REPLACE":
                    stack.start = action["RunOrder"]
                else:
                    stack.end = action["RunOrder"]
            deployed_roles = {
                roles.get(s.stage) for s in stacks.values() if s.phase == phase and s.stage
            }
            for role in sorted(r for r in deployed_roles if r):
                by_hand_phase(f"after-role:{role}")
    by_hand_phase("after-pipeline")
    return plan


DELEGATION_CHECK = re.compile(r"runtime\.dns_delegation --zone ([a-z0-9.-]+)")


def step_provides(template: Mapping[str, Any], action: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """What a pipeline CodeBuild step establishes for the actions after it."""
    project = action.get("Configuration", {}).get("ProjectName")
    if action["ActionTypeId"]["Provider"] != "CodeBuild" or not isinstance(project, dict):
        return []
    spec = template["Resources"].get(project.get("Ref", ""), {}).get("Properties", {})
    buildspec = spec.get("Source", {}).get("BuildSpec", "")
    return [("registrar-delegation", zone) for zone in DELEGATION_CHECK.findall(str(buildspec))]


def place_in_dependency_order(
    plan: DeploymentPlan, chosen: Sequence[PlannedStack], name: str
) -> None:
    """`cdk deploy` of several stacks deploys them one after another, producers first; the
    order among independent stacks is the assembly's, which is stable."""
    phase = len(plan.phases)
    plan.phases.append(name)
    for index, stack in enumerate(chosen):
        stack.phase, stack.phase_name = phase, name
        stack.start, stack.end = 2 * index + 1, 2 * index + 2
