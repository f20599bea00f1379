"""cfn-lint over every synthesized template, for the stack's own region: zero errors.

Warnings are allowed (W3010, hard-coded AZs, is a deliberate choice acknowledged in the
network construct; W3005 comes from CDK's own custom-resource provider)."""

from __future__ import annotations

from cfnlint.api import lint


def test_no_cfn_lint_errors(organisation):
    errors, linted = [], 0
    for stack in organisation.all_stacks():
        (template_file,) = organisation.outdir.glob(
            f"assembly-{stack.stage}/*{stack.id}*.template.json"
        )
        linted += 1
        errors += [
            f"{stack.stage}/{stack.id}: {m.rule.id} {m.message}"
            for m in lint(template_file.read_text(), regions=[stack.region])
            if m.rule.id.startswith("E")
        ]
    assert linted == sum(len(s) for s in organisation.stacks.values())
    assert errors == []
