"""Bootstrap every account of the config for CDK, trusting the pipeline's account.

    python -m tools.bootstrap                 # dry run: print the commands
    python -m tools.bootstrap --execute       # run them, stopping at the first failure

Each account is bootstrapped in its region (and in us-east-1 where the edge or the pipeline's
artifacts need it) with the configured CloudFormation execution policies; every account the
pipeline deploys trusts the shared-services account (where the pipeline runs) for
deployments and lookups. Sandbox and shared-services itself trust no one.
Account ids come from the config, so nobody copies them by hand. Credentials: one AWS CLI
profile per account, named by `--profile-format` (default: the account name).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence

from config import ConfigError, PlatformConfig, load_config

DEFAULT_CONFIG = "config/platform.yaml"
EXIT_BAD_CONFIG = 2


def bootstrap_commands(
    config: PlatformConfig, *, profile_format: str = "{name}"
) -> list[list[str]]:
    """One `cdk bootstrap` command per account, shared-services (the pipeline's home) first."""
    shared_name, shared = config.account_with_role("shared-services")
    pipelined = config.pipelined_accounts()
    policies = (
        config.pipeline.cloudformation_execution_policies
        if config.pipeline
        else ("arn:aws:iam::aws:policy/AdministratorAccess",)
    )
    order = [shared_name, *(n for n in config.accounts if n != shared_name)]
    commands = []
    for name in order:
        account = config.accounts[name]
        command = [
            "npx",
            "cdk",
            "bootstrap",
            *(f"aws://{account.id}/{region}" for region in config.deployment_regions(name)),
        ]
        if profile_format:
            command += ["--profile", profile_format.format(name=name, id=account.id)]
        command += ["--cloudformation-execution-policies", ",".join(policies)]
        if name in pipelined and name != shared_name:
            command += ["--trust", shared.id, "--trust-for-lookup", shared.id]
        command += ["--termination-protection"]
        commands.append(command)
    return commands


def main(
    argv: Sequence[str] | None = None,
    *,
    run: Callable[[list[str]], int] = lambda command: subprocess.call(command),
) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the platform config file")
    parser.add_argument("--execute", action="store_true", help="run the commands (default: print)")
    parser.add_argument(
        "--profile-format",
        default="{name}",
        help="AWS CLI profile per account, from {name} and {id}; '' uses ambient credentials",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_CONFIG
    commands = bootstrap_commands(config, profile_format=args.profile_format)
    for command in commands:
        print(("+ " if args.execute else "") + shlex.join(command), flush=True)
        if args.execute and (status := run(command)) != 0:
            print(f"stopped: the command above exited {status}", file=sys.stderr)
            return status
    if config.pipeline and not args.execute:
        shared_name, _ = config.account_with_role("shared-services")
        profile = args.profile_format.format(name=shared_name, id="") if args.profile_format else ""
        deploy = ["npx", "cdk", "deploy", "Pipeline", *(["--profile", profile] if profile else [])]
        print(f"# dry run. Then, once, deploy the pipeline by hand: {shlex.join(deploy)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
