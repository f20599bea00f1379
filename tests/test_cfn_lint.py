"""cfn-lint over every synthesized template, for the stack's own region: zero errors.

The linting is the compliance report's (tools/compliance_report.py), so the report and this
test cannot disagree. Warnings are allowed: W3010 (hard-coded AZs) is a deliberate choice
acknowledged in the network construct, W3005 comes from CDK's own custom-resource provider,
and one cfn-lint 1.58 false error (E3703's "prefer Fn::Sub" on CDK Pipelines' role ARNs) is
counted as a warning by the report."""

from __future__ import annotations

from tools.compliance_report import cfn_lint, read_assembly


def test_no_cfn_lint_errors(organisation):
    results = cfn_lint(read_assembly(organisation.outdir))
    assert len(results) == sum(1 for _ in organisation.all_stacks())
    assert [(r.template, r.errors) for r in results if r.errors] == []
