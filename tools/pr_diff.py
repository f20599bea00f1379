"""What a pull request would change, account by account: `cdk diff` through read-only roles.

    python -m tools.pr_diff --assembly cdk.out --out diff.md

Run by `.github/workflows/pull-request.yml` after `make synth`. For every account of the config
it exchanges the workflow's GitHub OIDC token for the account's review role (which may read
CloudFormation stacks and templates, nothing else; it trusts only pull-request workflows of the
pipeline's repository), runs the pinned CDK CLI's `cdk diff --method template` over the
account's stacks, then `--security-only --fail-on broadening`, and writes one Markdown comment:
a table (changes, IAM broadening) and each account's diff folded below it. An account whose
review role does not exist yet (its stacks were never deployed) is said so, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import boto3

from config import ConfigError, PlatformConfig, load_config
from config.deploy_path import review_role_arn

CDK = ("npx", "--no-install", "cdk")
AUDIENCE = "sts.amazonaws.com"
COMMENT_MAX = 60_000
"""GitHub refuses comments over 65,536 characters; diffs beyond this are cut."""

Runner = Callable[[list[str], dict[str, str]], tuple[int, str]]


@dataclass(frozen=True)
class AccountDiff:
    account: str
    changes: bool
    broadens: bool
    text: str
    problem: str | None = None


def github_token() -> str:
    """The workflow's OIDC token for STS (needs `permissions: id-token: write`)."""
    url = os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"] + f"&audience={AUDIENCE}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"bearer {os.environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["value"]


def assume(role_arn: str, token: str) -> dict[str, str]:
    """Credentials of `role_arn` for the CDK CLI's environment."""
    credentials = boto3.client("sts", region_name="us-east-1").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="pull-request-diff", WebIdentityToken=token
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def run_cdk(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    return result.returncode, result.stdout + result.stderr


def targets(config: PlatformConfig, name: str) -> list[str]:
    """The stacks of account `name`: its stage, and in shared-services the pipeline's."""
    patterns = [f"{name}/*"]
    if config.pipeline is not None and config.accounts[name].role == "shared-services":
        patterns += ["Pipeline", "Pipeline-*"]
    return patterns


def diff_account(
    config: PlatformConfig,
    name: str,
    assembly: str,
    token: str,
    *,
    assume_role: Callable[[str, str], dict[str, str]],
    run: Runner,
) -> AccountDiff:
    role = review_role_arn(config, name)
    try:
        env = {**assume_role(role, token), "AWS_REGION": config.accounts[name].region}
    except Exception as error:
        return AccountDiff(
            name,
            False,
            False,
            "",
            f"cannot assume {role} ({error}); its Ci stack may not be deployed yet",
        )
    base = [*CDK, "diff", "--app", assembly, "--method", "template"]
    status, text = run([*base, *targets(config, name)], env)
    if status != 0:
        return AccountDiff(name, False, False, text, f"cdk diff exited {status}")
    broadening, _ = run(
        [*base, "--security-only", "--fail-on", "broadening", *targets(config, name)], env
    )
    return AccountDiff(
        name,
        changes=any(marker in text for marker in ("[+]", "[-]", "[~]")),
        broadens=broadening != 0,
        text=text,
    )


def markdown(diffs: Sequence[AccountDiff]) -> str:
    lines = [
        "## What this pull request changes, per account",
        "",
        "`cdk diff` of the synthesized organisation against what is deployed, read through each "
        "account's read-only review role.",
        "",
        "| account | changes | IAM or security groups broaden |",
        "|---|---|---|",
    ]
    for diff in diffs:
        if diff.problem:
            lines.append(f"| {diff.account} | not checked: {diff.problem} | |")
        else:
            lines.append(
                f"| {diff.account} | {'yes' if diff.changes else 'none'} | "
                f"{'**yes**' if diff.broadens else 'no'} |"
            )
    budget = COMMENT_MAX - sum(len(line) + 1 for line in lines)
    for diff in diffs:
        if not diff.text:
            continue
        body = diff.text if len(diff.text) <= budget else diff.text[: max(budget, 0)] + "\n[cut]"
        budget -= len(body)
        lines += [
            "",
            f"<details><summary>{diff.account}</summary>",
            "",
            "```",
            body,
            "```",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def main(
    argv: Sequence[str] | None = None,
    *,
    token_source: Callable[[], str] = github_token,
    assume_role: Callable[[str, str], dict[str, str]] = assume,
    run: Runner = run_cdk,
) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--config", default="config/platform.yaml")
    parser.add_argument("--assembly", default="cdk.out")
    parser.add_argument("--out", type=Path, required=True, help="the Markdown comment")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if config.pipeline is None:
        print("no pipeline configured: there are no review roles to diff through")
        return 0
    token = token_source()
    diffs = [
        diff_account(config, name, args.assembly, token, assume_role=assume_role, run=run)
        for name in config.accounts
    ]
    args.out.write_text(markdown(diffs), encoding="utf-8")
    for diff in diffs:
        print(
            f"{diff.account}: {diff.problem or ('changes' if diff.changes else 'no changes')}"
            f"{' (broadens access)' if diff.broadens else ''}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
