"""CodePipeline's hard per-stage quota, checked at synth time with the stack limits' margin.

CDK Pipelines turns a wave into one CodePipeline stage holding two actions (prepare, deploy)
per stack of each of its accounts, plus approvals and checks. CodePipeline refuses a stage of
more than 50 actions, and says so only when the pipeline stack is deployed. A stage past
`THRESHOLD` of that fails the policy gate instead, naming the stage, so the wave is split
during review (a workload account with an edge brings about 14 actions).
"""

from __future__ import annotations

from policies.platform.rule import Resource, Rule, RuleContext
from policies.platform.stack_limits import THRESHOLD

ACTIONS_PER_STAGE = 50
"""CodePipeline's maximum number of actions in one stage (a fixed quota)."""


def _check(resource_type: str, resource: Resource, context: RuleContext) -> str | None:
    if resource_type != "AWS::CodePipeline::Pipeline":
        return None
    crowded = [
        f"stage {stage.get('Name')}: {len(actions)} actions, "
        f"{len(actions) / ACTIONS_PER_STAGE:.0%} of CodePipeline's {ACTIONS_PER_STAGE}"
        for stage in resource.get("Properties", {}).get("Stages", [])
        if len(actions := stage.get("Actions", [])) > ACTIONS_PER_STAGE * THRESHOLD
    ]
    return "; ".join(crowded) + "; split the wave" if crowded else None


RULE = Rule(
    "PipelineLimits",
    f"No pipeline stage passes {THRESHOLD:.0%} of CodePipeline's {ACTIONS_PER_STAGE} actions "
    "per stage.",
    _check,
)
