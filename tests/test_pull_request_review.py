"""Review before merge: the pull-request workflow and the per-account diff it posts."""

from __future__ import annotations

import re

import yaml

from config.deploy_path import review_role_arn
from tests.conftest import ROOT, SAMPLE_CONFIG
from tools import pr_diff

WORKFLOW = ROOT / ".github" / "workflows" / "pull-request.yml"


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def test_every_pull_request_runs_the_tests_and_a_diff_job():
    jobs = workflow()["jobs"]
    assert workflow()[True]["pull_request"]["branches"] == ["main"]  # `on:` reads as True
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    runs = [step.get("run", "") for step in jobs["diff"]["steps"]]
    assert "make synth" in runs
    assert any("tools.pr_diff" in run for run in runs)
    assert any(run.startswith("gh pr comment") for run in runs)


def test_only_the_diff_job_may_ask_for_an_oidc_token_and_forks_get_none():
    flow = workflow()
    assert flow["permissions"] == {"contents": "read"}
    assert "permissions" not in flow["jobs"]["test"]
    assert flow["jobs"]["diff"]["permissions"]["id-token"] == "write"
    assert "head.repo.full_name == github.repository" in flow["jobs"]["diff"]["if"]


def test_third_party_actions_are_pinned_by_commit():
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_review_roles_trust_pull_requests_of_the_repository_and_read_only(organisation):
    for stage in ("management", "security", "prod", "sandbox"):
        ci = organisation.stacks[stage]["Ci"]
        (role,) = [
            r
            for r in ci.of_type("AWS::IAM::Role").values()
            if r["Properties"]["RoleName"] == f"exco-{stage}-review"
        ]
        statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        web = [s for s in statements if s["Action"] == "sts:AssumeRoleWithWebIdentity"]
        assert web[0]["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                "repo:example-corp/aws-platform:pull_request"
            ),
        }
        (policy,) = [
            p
            for p in ci.of_type("AWS::IAM::ManagedPolicy").values()
            if "Read CloudFormation" in p["Properties"]["Description"]
        ]
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert sorted(statement["Action"]) == [
            "cloudformation:DescribeStacks",
            "cloudformation:GetTemplate",
            "cloudformation:GetTemplateSummary",
            "cloudformation:ListStackResources",
        ]


def test_prods_review_role_also_trusts_the_pipelines_review_step_by_exact_arn(organisation):
    ci = organisation.stacks["prod"]["Ci"]
    (role,) = [
        r
        for r in ci.of_type("AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == "exco-prod-review"
    ]
    (pinned,) = [
        s
        for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole"
    ]
    assert pinned["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": [
                "arn:aws:iam::333333333333:role/exco-shared-services-pipeline-review-prod"
            ]
        }
    }
    dev = organisation.stacks["dev"]["Ci"]
    dev_roles = [
        r
        for r in dev.of_type("AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == "exco-dev-review"
    ]
    # dev's wave neither stops for approval nor is guarded: no pipeline step reads through it
    assert [
        s["Action"] for s in dev_roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    ] == ["sts:AssumeRoleWithWebIdentity"]


def fake_run(broadening_in=(), differences_in=()):
    def run(command, env):
        account = command[-1].split("/")[0] if "/" in command[-1] else "shared-services"
        account = next((c.split("/")[0] for c in command if c.endswith("/*")), account)
        if "--security-only" in command:
            return (1 if account in broadening_in else 0), ""
        text = f"Stack {account}-Network\n" + (
            "[~] AWS::IAM::Role\n" if account in differences_in else "There were no differences\n"
        )
        return 0, text

    return run


def test_the_comment_tables_every_account_and_flags_broadening(sample_config, tmp_path):
    assumed = []

    def assume(role, token):
        assumed.append((role, token))
        if "sandbox" in role:
            raise RuntimeError("AccessDenied")
        return {"AWS_ACCESS_KEY_ID": "AKIA"}

    out = tmp_path / "diff.md"
    status = pr_diff.main(
        ["--config", str(SAMPLE_CONFIG), "--out", str(out)],
        token_source=lambda: "oidc-token",
        assume_role=assume,
        run=fake_run(broadening_in={"prod"}, differences_in={"prod", "dev"}),
    )
    assert status == 0
    assert [r for r, _ in assumed] == [
        review_role_arn(sample_config, n) for n in sample_config.accounts
    ]
    assert {t for _, t in assumed} == {"oidc-token"}
    text = out.read_text()
    assert "| prod | yes | **yes** |" in text
    assert "| dev | yes | no |" in text
    assert "| staging | none | no |" in text
    assert "| sandbox | not checked: cannot assume" in text


def test_shared_services_diffs_the_pipeline_too(sample_config):
    assert pr_diff.targets(sample_config, "shared-services") == [
        "shared-services/*",
        "Pipeline",
        "Pipeline-*",
    ]
    assert pr_diff.targets(sample_config, "prod") == ["prod/*"]
