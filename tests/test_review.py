"""The review step before a wave (`runtime.review`): what it runs, and when it approves the
wave's approval itself, leaves it to a person, or rejects it."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from runtime import review
from tests.helpers import fake_aws_credentials

ROLE = "arn:aws:iam::222222222222:role/exco-security-review"
TOKEN = "0123abcd-token"


class FakeSession:
    region_name = "eu-west-1"

    def get_credentials(self):
        class Frozen:
            access_key, secret_key, token = "AKIA", "secret", "session"

        class Credentials:
            def get_frozen_credentials(self):
                return Frozen()

        return Credentials()


def cdk(broadening: bool = False, failing: bool = False):
    """A fake CDK CLI: records its commands; exits 1 for the security diff when something
    broadens, 2 for every diff when it fails."""
    ran = []

    def run(command, env):
        ran.append((command, env))
        if failing:
            return 2
        return 1 if broadening and "--security-only" in command else 0

    return ran, run


def pipeline_state():
    return {
        "pipelineName": "exco-pipeline",
        "stageStates": [
            {
                "stageName": "security",
                "actionStates": [
                    {
                        "actionName": "Review-foundation",
                        "latestExecution": {"status": "InProgress"},
                    },
                    {
                        "actionName": "Approve-foundation",
                        "latestExecution": {"status": "InProgress", "token": TOKEN},
                    },
                ],
            }
        ],
    }


@pytest.fixture
def codepipeline(monkeypatch):
    fake_aws_credentials(monkeypatch, "eu-west-1")
    monkeypatch.setenv("CODEBUILD_INITIATOR", "codepipeline/exco-pipeline")
    client = boto3.client("codepipeline", region_name="eu-west-1")
    monkeypatch.setattr(review.boto3, "client", lambda *a, **k: client)
    with Stubber(client) as stubber:
        yield stubber


def run_review(ran_run, *extra):
    _, run = ran_run
    return review.main(
        ["--assembly", "cdk.out", "--target", f"security={ROLE}", *extra],
        run=run,
        session_for=lambda role: FakeSession(),
    )


def test_it_diffs_every_stack_then_only_broadening_with_the_review_roles_credentials():
    ran_run = cdk()
    assert run_review(ran_run) == 0
    (full, full_env), (security, _) = ran_run[0]
    assert full == [
        "npx",
        "--no-install",
        "cdk",
        "diff",
        "--app",
        "cdk.out",
        "--method",
        "template",
        "security/*",
    ]
    assert security[-4:] == ["--security-only", "--fail-on", "broadening", "security/*"]
    assert full_env["AWS_ACCESS_KEY_ID"] == "AKIA" and full_env["AWS_SESSION_TOKEN"] == "session"


def test_nothing_broadens_so_the_review_approves_the_wave(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_state", pipeline_state(), {"name": "exco-pipeline"})
    codepipeline.add_response(
        "put_approval_result",
        {"approvedAt": "2026-11-30T00:00:00Z"},
        {
            "pipelineName": "exco-pipeline",
            "stageName": "security",
            "actionName": "Approve-foundation",
            "result": {
                "summary": "Review: no IAM or security-group change broadens access.",
                "status": "Approved",
            },
            "token": TOKEN,
        },
    )
    assert run_review(cdk(), "--approve-unless-broadening", "Approve-foundation") == 0
    codepipeline.assert_no_pending_responses()
    assert "approved: Review: no IAM" in capsys.readouterr().out


def test_broadening_leaves_the_approval_to_a_person(codepipeline, capsys):
    """No call to CodePipeline at all: the approval waits for someone who read the log."""
    assert (
        run_review(cdk(broadening=True), "--approve-unless-broadening", "Approve-foundation") == 0
    )
    out = capsys.readouterr().out
    assert "security: broadens access" in out
    assert "left to a person: broadening in security" in out


def test_a_review_that_could_not_diff_leaves_the_wave_to_a_person(codepipeline, capsys):
    """No call to CodePipeline: what the review could not show, a person decides."""
    assert run_review(cdk(failing=True), "--approve-unless-broadening", "Approve-foundation") == 0
    out = capsys.readouterr().out
    assert "security: NOT REVIEWED: cdk diff exited 2" in out
    assert "left to a person: not reviewed: security: cdk diff exited 2" in out


def test_a_person_who_decided_first_is_not_overruled(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_state", pipeline_state(), {"name": "exco-pipeline"})
    codepipeline.add_client_error(
        "put_approval_result", service_error_code="ApprovalAlreadyCompletedException"
    )
    assert run_review(cdk(), "--approve-unless-broadening", "Approve-foundation") == 0
    assert "left as decided: ApprovalAlreadyCompletedException" in capsys.readouterr().out


def test_a_review_role_not_deployed_yet_is_said_not_failed(capsys):
    """The first deployment: the Ci stack holding the review role deploys in this wave."""

    def refuse(role):
        raise RuntimeError("AccessDenied")

    ran, run = cdk()
    status = review.main(
        ["--assembly", "cdk.out", "--target", f"prod={ROLE}"], run=run, session_for=refuse
    )
    assert status == 0 and ran == []
    out = capsys.readouterr().out
    assert f"prod: NOT REVIEWED: cannot assume {ROLE} (AccessDenied); on the first" in out
