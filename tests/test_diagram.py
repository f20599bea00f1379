"""make diagram: every account, its stacks, and the links between accounts, from the assembly."""

from __future__ import annotations

import pytest

from tools import diagram
from tools.assembly import read_stacks


def picture(organisation):
    return diagram.read_picture(read_stacks(organisation.outdir))


def test_every_stage_and_its_stacks_are_drawn(organisation):
    drawn = picture(organisation)
    assert list(drawn.accounts) == [
        "management",
        "security",
        "shared-services",
        "dev",
        "staging",
        "prod",
        "sandbox",
    ]
    for stage, stacks in organisation.stacks.items():
        assert set(stacks) <= set(drawn.accounts[stage].stacks), stage
    assert "Pipeline" in drawn.accounts["shared-services"].stacks
    assert drawn.accounts["prod"].stacks["Data"]["OpenSearch domain"] == 1
    assert drawn.accounts["sandbox"].stacks["Data"]["RDS instance"] == 1


def test_cross_account_links_of_the_sample(organisation, sample_config):
    links = picture(organisation).links
    for account in ("management", "security", "dev", "staging", "prod"):
        assert "deploys (CDK Pipelines)" in links[("shared-services", account)], account
    for spoke in sample_config.gitops_spokes():
        assert "Argo CD deploys" in links[("shared-services", spoke)]
        assert "trusts the Argo CD hub" in links[(spoke, "shared-services")]
    for gated in ("staging", "prod"):
        assert "health gate" in links[("shared-services", gated)]
    # Sandbox is deployed by hand and runs its own Argo CD: its only links are that the
    # registry in shared-services lets it pull images and that it delegates its subzone.
    assert {pair: kinds for pair, kinds in links.items() if "sandbox" in pair} == {
        ("shared-services", "sandbox"): {"trusts the account"},
        ("sandbox", "shared-services"): {"delegates its DNS subzone"},
    }
    for attached in ("dev", "staging", "prod"):
        assert "reads the network hub" in links[(attached, "shared-services")]


def test_outputs_are_written_where_the_readme_says(organisation, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{diagram.START}\nold\n{diagram.END}\noutro\n")
    out = tmp_path / "docs"
    assert (
        diagram.main(
            ["--assembly", str(organisation.outdir), "--out", str(out), "--readme", str(readme)]
        )
        == 0
    )
    svg = (out / "architecture.svg").read_text()
    assert svg.startswith("<svg") and "shared-services" in svg and "Argo CD deploys" in svg
    mermaid = (out / "architecture.mmd").read_text()
    assert mermaid.startswith("flowchart LR")
    assert 'shared_services -- "Argo CD deploys' in mermaid
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "```mermaid\nflowchart LR" in text
    assert f"![The organisation]({(out / 'architecture.svg').as_posix()})" in text


def test_the_committed_diagram_is_current(organisation):
    """docs/ holds what `make diagram` draws from the sample: rerun it after changing stacks."""
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "docs" / "architecture.mmd"
    assert committed.read_text() == diagram.to_mermaid(picture(organisation))


@pytest.mark.parametrize(
    ("label", "n", "counted"),
    [
        ("bucket", 1, "1 bucket"),
        ("bucket", 2, "2 buckets"),
        ("Security Hub", 1, "1 Security Hub"),
        ("Security Hub", 2, "2 Security Hubs"),
        ("endpoint", 5, "5 endpoints"),
        ("policy", 4, "4 policies"),
        ("ECR repository", 3, "3 ECR repositories"),
        ("OpenSearch domain", 2, "2 OpenSearch domains"),
        ("OU", 4, "4 OUs"),
        ("web ACL", 2, "2 web ACLs"),
        ("NAT gateway", 3, "3 NAT gateways"),
        ("CodeBuild project", 11, "11 CodeBuild projects"),
        ("address", 2, "2 addresses"),
        ("key", 2, "2 keys"),
    ],
)
def test_counts_are_pluralised(label, n, counted):
    assert diagram.plural(label, n) == counted


def test_every_main_resource_has_a_right_plural():
    """A new entry in MAIN_RESOURCES (or RDS instance, named apart) needs its plural here."""
    labels = {*diagram.MAIN_RESOURCES.values(), "RDS instance"}
    assert {label: diagram.plural(label, 2)[2:] for label in labels} == {
        "OU": "OUs",
        "policy": "policies",
        "budget": "budgets",
        "trail": "trails",
        "GuardDuty detector": "GuardDuty detectors",
        "Security Hub": "Security Hubs",
        "Config aggregator": "Config aggregators",
        "VPC": "VPCs",
        "NAT gateway": "NAT gateways",
        "endpoint": "endpoints",
        "Transit Gateway": "Transit Gateways",
        "TGW attachment": "TGW attachments",
        "EKS cluster": "EKS clusters",
        "node group": "node groups",
        "Fargate profile": "Fargate profiles",
        "Aurora cluster": "Aurora clusters",
        "RDS instance": "RDS instances",
        "cache": "caches",
        "OpenSearch domain": "OpenSearch domains",
        "MSK cluster": "MSK clusters",
        "bucket": "buckets",
        "backup vault": "backup vaults",
        "distribution": "distributions",
        "web ACL": "web ACLs",
        "load balancer": "load balancers",
        "hosted zone": "hosted zones",
        "ECR repository": "ECR repositories",
        "pipeline": "pipelines",
        "CodeBuild project": "CodeBuild projects",
    }


def test_a_stack_lists_its_resources_counted(organisation):
    accounts = picture(organisation).accounts
    assert diagram._summary(accounts["management"].stacks["Organization"]) == "4 OUs, 4 policies"
    assert diagram._summary(accounts["prod"].stacks["Data"]) == (
        "3 buckets, 2 caches, 1 Aurora cluster, 1 backup vault, 1 OpenSearch domain"
    )
