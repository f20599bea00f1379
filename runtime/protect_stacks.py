"""Turn on termination protection for the stacks the pipeline has just deployed.

CDK Pipelines deploys through CloudFormation change sets and does not apply a stack's
`termination_protection` (aws-cdk#17871), so a CodeBuild step in the shared-services account
runs this after each stage of a wave:

    python -m runtime.protect_stacks --role-arn <deploy role> --region <r> --stack <name> ...

It assumes the target account's CDK deploy role (whose bootstrap policy allows
`cloudformation:UpdateTerminationProtection`) and enables protection on each named stack,
failing (exit 1) if any stack is missing. Idempotent; only boto3 is needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from runtime.sessions import assumed_session

SESSION_NAME = "pipeline-termination-protection"


def protect(cloudformation, stack_names: Sequence[str]) -> list[str]:
    """Enable termination protection on each stack; the problems, if any."""
    problems = []
    for name in stack_names:
        try:
            cloudformation.update_termination_protection(
                EnableTerminationProtection=True, StackName=name
            )
        except cloudformation.exceptions.ClientError as error:
            problems.append(f"{name}: {error.response['Error'].get('Message', error)}")
        else:
            print(f"termination protection on: {name}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--role-arn", required=True, help="the target account's deploy role")
    parser.add_argument("--region", required=True)
    parser.add_argument("--stack", action="append", required=True, dest="stacks")
    args = parser.parse_args(argv)
    session = assumed_session(args.role_arn, args.region, SESSION_NAME)
    problems = protect(session.client("cloudformation"), args.stacks)
    for problem in problems:
        print(f"NOT PROTECTED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
