"""The compliance report: exact counts from a small known app, and the real app's verdict."""

from __future__ import annotations

import csv
import re

import pytest
from aws_cdk import aws_s3 as s3

from policies.acknowledgements import acknowledge
from tests.conftest import new_stack
from tools.compliance_report import (
    ORGANISATION,
    cfn_lint,
    main,
    nag_rules,
    read_assembly,
    write_reports,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """One stack, two default buckets: every S10 finding of one is acknowledged."""
    outdir = tmp_path_factory.mktemp("small")
    stack = new_stack(with_policy_gate=True, outdir=outdir)
    s3.Bucket(stack, "Open")
    known = s3.Bucket(stack, "Known")
    acknowledge(
        known,
        "AwsSolutions::AwsSolutions-S10",
        "Test double: the report must list this with its reason and place.",
    )
    with pytest.raises(RuntimeError):
        stack.node.root.synth()
    return read_assembly(outdir)


def count(assembly, **where) -> int:
    return sum(1 for f in assembly.findings if all(getattr(f, k) == v for k, v in where.items()))


def test_small_app_counts(small):
    assert count(small, rule="AwsSolutions-S10", status="open") == 1
    assert count(small, rule="AwsSolutions-S10", status="acknowledged") == 1
    assert count(small, rule="AwsSolutions-S1", status="open") == 2
    assert count(small, rule="NIST.800.53.R5-S3BucketSSLRequestsOnly", status="open") == 2
    assert count(small, pack="Platform", rule="CustomerManagedKeys", status="open") == 2
    (acknowledged,) = [
        f for f in small.findings if f.status == "acknowledged" and f.pack == "AwsSolutions"
    ]
    # A stack outside any stage is reported under its account id.
    assert (acknowledged.account, acknowledged.acknowledged_at, acknowledged.construct) == (
        "123456789012",
        "Test/Known",
        "Test/Known/Resource",
    )
    assert acknowledged.reason.startswith("Test double")


def test_small_app_report_in_three_formats(small, tmp_path):
    lint = cfn_lint(small)
    assert [(r.template, r.errors) for r in lint] == [("Test.template.json", ())]
    written = write_reports(small, lint, tmp_path)
    assert {p.name for p in written} == {
        f"{scope}.{ext}"
        for scope in (ORGANISATION, "123456789012")
        for ext in ("md", "html", "csv")
    }
    markdown = (tmp_path / "organisation.md").read_text()
    assert "| AwsSolutions | AwsSolutions-S10 | 1 | 1 |" in markdown
    assert f"| AwsSolutions | {len(nag_rules()['AwsSolutions'])} |" in markdown
    page = (tmp_path / "organisation.html").read_text()
    assert "<table>" in page and "Test/Known" in page
    assert not re.search(r"(src|href)=\"?https?:", page), "the HTML must work offline"
    rows = list(csv.DictReader((tmp_path / "organisation.csv").open()))
    assert len(rows) == len(small.findings)
    assert {"account", "pack", "rule", "status", "construct", "reason"} <= set(rows[0])


def test_summary_counts_match_the_findings(small, tmp_path):
    write_reports(small, [], tmp_path)
    open_count = count(small, status="open")
    assert (
        f"| organisation | {open_count} | 1 | FAIL: synthesis is blocked |"
        in (tmp_path / "organisation.md").read_text()
    )


def test_the_real_app_has_nothing_open(organisation, tmp_path):
    assert main(["--assembly", str(organisation.outdir), "--out", str(tmp_path), "--no-lint"]) == 0
    assembly = read_assembly(organisation.outdir)
    assert count(assembly, status="open") == 0
    assert {f.account for f in assembly.findings} <= set(organisation.stacks)
    for account in organisation.stacks:
        assert "PASS: nothing open" in (tmp_path / f"{account}.md").read_text()
    assert {f.pack for f in assembly.findings} >= {
        "AwsSolutions",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
        "Platform",
    }


def test_report_needs_an_assembly(tmp_path, capsys):
    assert main(["--assembly", str(tmp_path)]) == 2
    assert "run `make synth` first" in capsys.readouterr().err


def test_the_kubernetes_section_lists_every_policy_on_every_gitops_cluster(
    organisation, sample_config, tmp_path
):
    """Every cluster the GitOps bootstrap reaches (hub, spokes, standalone sandbox) with every
    admission policy binding, what the policy enforces and where, read from the policy files."""
    import yaml

    from tools.compliance_report import ADMISSION, admission_rows

    rows = admission_rows(sample_config)
    assert {(r.account, r.cluster_role) for r in rows} == {
        ("shared-services", "hub"), ("dev", "spoke"), ("staging", "spoke"), ("prod", "spoke"),
        ("sandbox", "standalone"),
    }  # fmt: skip
    policies = {
        d["metadata"]["name"]: d
        for path in ADMISSION.glob("*.yaml")
        for d in yaml.safe_load_all(path.read_text())
        if d and d["kind"] == "ValidatingAdmissionPolicy"
    }
    assert {r.policy for r in rows if r.account == "dev"} == set(policies) >= {
        "internal-load-balancers-only", "pod-security", "container-resources",
        "images-from-the-organisation", "team-labels",
    }  # fmt: skip
    for row in rows:
        assert (
            row.enforces
            == policies[row.policy]["metadata"]["annotations"]["platform.example/enforces"]
        )
    assert main(["--assembly", str(organisation.outdir), "--out", str(tmp_path), "--no-lint"]) == 0
    report = (tmp_path / f"{ORGANISATION}.md").read_text()
    section = report.split("## Kubernetes", 1)[1]
    assert "| sandbox | standalone | pod-security |" in section
    assert "333333333333.dkr.ecr.eu-west-1.amazonaws.com/exco/" in section
    assert "## Kubernetes" in (tmp_path / "dev.html").read_text().replace("<h2>", "## ")
    assert "| prod |" not in (tmp_path / "dev.md").read_text().split("## Kubernetes", 1)[1]
    assert "## Kubernetes" not in (tmp_path / "management.md").read_text()


def test_the_teams_section_lists_each_team_with_its_grants(organisation, sample_config, tmp_path):
    """Per team and account: quotas, the pod role and the actions its synthesized policies
    grant, its owners' namespaced access entries (from the Teams templates), its Argo CD
    project's sources and destinations, findings on Teams/Team-<team>; per-account reports
    only that account's teams; an account without teams has no section."""
    from tools.compliance_report import team_rows

    rows = {
        (r.team, r.account): r for r in team_rows(sample_config, read_assembly(organisation.outdir))
    }
    assert set(rows) == {
        (team, account) for team, t in sample_config.teams.items() for account in t.environments
    } == {("checkout", "dev"), ("checkout", "staging"), ("checkout", "prod"),
          ("reports", "dev"), ("reports", "staging")}  # fmt: skip
    checkout = rows[("checkout", "prod")]
    assert checkout.pod_role == "exco-prod-team-checkout"
    assert checkout.namespaces == "checkout: 16 vCPU, 32 GiB, 120 pods"
    assert "caches sessions, rate-limits as user team-checkout" in checkout.reaches
    assert "ConnectAsTeamDatabaseUser: rds-db:connect" in checkout.reaches  # from the template
    assert "elasticache:Connect" in checkout.reaches and "s3:PutObject" in checkout.reaches
    assert checkout.owners == (
        "arn:aws:iam::666666666666:role/CheckoutOnCall: AmazonEKSEditPolicy (namespace checkout)"
    )
    assert checkout.argocd == (
        "project checkout: sources https://github.com/example-co/checkout.git; "
        "destinations exco-prod/checkout"
    )
    assert "none open" in checkout.nag and "AwsSolutions-IAM5" in checkout.nag
    reports = rows[("reports", "dev")]
    assert "s3 uploads/reports/ (read-only)" in reports.reaches
    assert "s3:GetObject" in reports.reaches and "s3:PutObject" not in reports.reaches
    assert "rds-db:connect" not in reports.reaches and "elasticache" not in reports.reaches
    assert reports.owners.startswith("arn:aws:iam::444444444444:role/ReportsDeveloper:")
    assert main(["--assembly", str(organisation.outdir), "--out", str(tmp_path), "--no-lint"]) == 0
    section = (tmp_path / "prod.md").read_text().split("## Teams", 1)[1]
    assert "| checkout | prod |" in section and "| reports |" not in section
    assert "| reports | staging |" in (tmp_path / "organisation.md").read_text()
    assert "<h2>Teams</h2>" in (tmp_path / "dev.html").read_text()
    for account in ("management", "shared-services", "sandbox"):
        assert "## Teams" not in (tmp_path / f"{account}.md").read_text()
