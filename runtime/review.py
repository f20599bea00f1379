"""Show what a wave will change before anything of it deploys, and decide who approves.

A CodeBuild step of the pipeline runs this at the start of a wave that stops for approval:

    python -m runtime.review --assembly cdk.out --target prod=<review role> [--target ...]
        [--approve-unless-broadening Approve-foundation]

For each target stage it assumes the account's read-only review role and prints, with the
CDK CLI that package.json pins, the diff of every stack of the stage against the deployed
template, then only the IAM and security-group changes that broaden access
(`cdk diff --security-only --fail-on broadening`).

With `--approve-unless-broadening ACTION` (a manual approval action running beside this
step), the step approves that action itself only when every stage was diffed and none
broadens access; otherwise (broadening, or no review: a review role that does not exist yet
on the first deployment, a failed diff) it leaves the decision to a person, saying why. A
wave that changes the organisation's security accounts stops exactly when its IAM permissions
broaden or cannot be shown not to. Without it (production), a person always approves, after
reading this log. The step itself never fails the wave: what it could not show, it says.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import boto3

from runtime.sessions import assumed_session

SESSION_NAME = "pipeline-review"
CDK = ("npx", "--no-install", "cdk")
POLL_SECONDS = 5
POLL_ATTEMPTS = 60

Runner = Callable[[list[str], dict[str, str]], int]


@dataclass(frozen=True)
class Finding:
    stage: str
    broadens: bool
    problem: str | None = None
    """Set when the diff could not be made (the review then proves nothing)."""


def credentials_env(session: boto3.Session) -> dict[str, str]:
    """The session's credentials as the environment the CDK CLI reads."""
    frozen = session.get_credentials().get_frozen_credentials()
    env = {
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_REGION": session.region_name or "",
    }
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    return env


def run_cdk(command: list[str], env: dict[str, str]) -> int:
    """Run the pinned CDK CLI, its output going straight to the step's log."""
    return subprocess.call(command, env={**os.environ, **env})


def review_stage(assembly: str, stage: str, env: dict[str, str], run: Runner) -> Finding:
    """Print the stage's diff, then its broadening changes; whether any broaden access."""
    target = f"{stage}/*"
    print(f"\n===== {stage}: every stack against what is deployed =====", flush=True)
    status = run([*CDK, "diff", "--app", assembly, "--method", "template", target], env)
    if status != 0:
        return Finding(stage, broadens=True, problem=f"cdk diff exited {status}")
    print(f"\n===== {stage}: IAM and security-group changes that broaden access =====", flush=True)
    status = run(
        [
            *CDK,
            "diff",
            "--app",
            assembly,
            "--method",
            "template",
            "--security-only",
            "--fail-on",
            "broadening",
            target,
        ],
        env,
    )
    return Finding(stage, broadens=status != 0)


def pending_approval(codepipeline, pipeline: str, action: str) -> tuple[str, str]:
    """The stage and token of `action` once it waits for approval (it starts beside this
    step, so it may not be waiting yet)."""
    for _ in range(POLL_ATTEMPTS):
        for stage in codepipeline.get_pipeline_state(name=pipeline)["stageStates"]:
            for state in stage.get("actionStates", []):
                latest = state.get("latestExecution", {})
                if (
                    state["actionName"] == action
                    and latest.get("status") == "InProgress"
                    and latest.get("token")
                ):
                    return stage["stageName"], latest["token"]
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"approval action {action} of {pipeline} never waited for approval")


def decide(codepipeline, pipeline: str, action: str, findings: Sequence[Finding]) -> str:
    """Approve only when every stage was reviewed and nothing broadens; else leave it to a
    person. Returns what was done."""
    problems = [f"{f.stage}: {f.problem}" for f in findings if f.problem]
    broadening = [f.stage for f in findings if f.broadens and not f.problem]
    if problems:
        return "left to a person: not reviewed: " + "; ".join(problems)
    if broadening:
        return "left to a person: broadening in " + ", ".join(broadening)
    summary = "Review: no IAM or security-group change broadens access."
    stage, token = pending_approval(codepipeline, pipeline, action)
    try:
        codepipeline.put_approval_result(
            pipelineName=pipeline,
            stageName=stage,
            actionName=action,
            result={"summary": summary, "status": "Approved"},
            token=token,
        )
    except codepipeline.exceptions.ClientError as error:
        # A person decided first (ApprovalAlreadyCompleted, InvalidApprovalToken): theirs stands.
        return f"left as decided: {error.response['Error'].get('Code', error)}"
    return f"approved: {summary}"


def pipeline_name() -> str:
    """The pipeline that started this build (`CODEBUILD_INITIATOR` = codepipeline/<name>)."""
    initiator = os.environ.get("CODEBUILD_INITIATOR", "")
    if not initiator.startswith("codepipeline/"):
        raise SystemExit(f"not started by CodePipeline (CODEBUILD_INITIATOR={initiator!r})")
    return initiator.split("/", 1)[1]


def main(
    argv: Sequence[str] | None = None,
    *,
    run: Runner = run_cdk,
    session_for: Callable[[str], boto3.Session] = lambda role: assumed_session(
        role, os.environ.get("AWS_REGION", "us-east-1"), SESSION_NAME
    ),
) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assembly", required=True, help="the synthesized cloud assembly")
    parser.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="STAGE=ROLE_ARN",
        help="a stage and the read-only review role of its account",
    )
    parser.add_argument("--approve-unless-broadening", metavar="ACTION")
    args = parser.parse_args(argv)
    findings = []
    for target in args.target:
        stage, _, role = target.partition("=")
        try:
            env = credentials_env(session_for(role))
        except Exception as error:  # any failure means: not reviewed
            problem = (
                f"cannot assume {role} ({error}); on the first deployment its Ci stack, which "
                "holds it, deploys in this wave: every stack of the stage is new"
            )
            findings.append(Finding(stage, broadens=True, problem=problem))
            continue
        findings.append(review_stage(args.assembly, stage, env, run))
    print("\n===== summary =====")
    for finding in findings:
        verdict = (
            f"NOT REVIEWED: {finding.problem}"
            if finding.problem
            else ("broadens access" if finding.broadens else "no broadening")
        )
        print(f"{finding.stage}: {verdict}")
    if args.approve_unless_broadening:
        region = os.environ.get("AWS_REGION")
        codepipeline = boto3.client("codepipeline", region_name=region)
        print(decide(codepipeline, pipeline_name(), args.approve_unless_broadening, findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
