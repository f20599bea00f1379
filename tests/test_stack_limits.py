"""The limit guards: a stack past 80% of a CloudFormation quota fails synthesis, named."""

from __future__ import annotations

import json

import pytest
from aws_cdk import CfnMapping, CfnOutput, CfnParameter, CfnWaitConditionHandle, Validations

from policies.platform import PlatformChecks
from policies.platform.stack_limits import SECTION_QUOTAS, THRESHOLD
from tests.conftest import new_stack


def limit_findings(stack, outdir) -> list[str]:
    Validations.of(stack.node.root).add_plugins(PlatformChecks(required_tags=()))
    try:
        stack.node.root.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    else:
        return []
    report = json.loads((outdir / "validation-report.json").read_text())
    (platform,) = [p for p in report["pluginReports"] if p["pluginName"] == "Platform"]
    return [v["description"] for v in platform["violations"] if v["ruleName"] == "StackLimits"]


def fill(stack, section: str, count: int) -> None:
    """Bring the template's `section` to `count` entries (CDK adds the BootstrapVersion
    parameter itself; a template needs one resource)."""
    if section != "Resources":
        CfnWaitConditionHandle(stack, "OneResource")
    for index in range(count - (section == "Parameters")):
        name = f"Item{index}"
        if section == "Resources":
            CfnWaitConditionHandle(stack, name)
        elif section == "Outputs":
            CfnOutput(stack, name, value="x")
        elif section == "Parameters":
            CfnParameter(stack, name, default="x")
        else:
            CfnMapping(stack, name, mapping={"k": {"v": "x"}})


@pytest.mark.parametrize("section", list(SECTION_QUOTAS))
def test_a_stack_at_the_margin_passes_and_one_more_fails(tmp_path, section):
    margin = int(SECTION_QUOTAS[section] * THRESHOLD)
    at_margin = new_stack(outdir=tmp_path / "at")
    fill(at_margin, section, margin)
    assert limit_findings(at_margin, tmp_path / "at") == []

    over = new_stack(outdir=tmp_path / "over")
    fill(over, section, margin + 1)
    (finding,) = limit_findings(over, tmp_path / "over")
    quota = SECTION_QUOTAS[section]
    assert (
        f"(Test.template.json: {margin + 1} {section.lower()}: "
        f"{(margin + 1) / quota:.0%} of CloudFormation's {quota} per stack; split the stack)"
    ) in finding


def test_a_template_near_the_size_limit_fails(tmp_path):
    stack = new_stack(outdir=tmp_path)
    handle = CfnWaitConditionHandle(stack, "Big")
    handle.add_metadata("padding", "x" * 810_000)
    (finding,) = limit_findings(stack, tmp_path)
    assert "Test.template.json: template is 81" in finding
    assert "of CloudFormation's 1,000,000; split the stack" in finding


def test_the_sample_organisation_is_far_from_every_limit(organisation):
    for stack in organisation.all_stacks():
        assert len(stack.resources) <= 250, (stack.stage, stack.id)  # half the quota
        assert stack.template_file.stat().st_size <= 500_000, (stack.stage, stack.id)
