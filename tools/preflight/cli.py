"""`make preflight`: check a real organisation against what the platform needs before its
first deploy. Read-only; needs credentials (see `main`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from config import Account, ConfigError, PlatformConfig, load_config
from config.deploy_path import BOOTSTRAP_ROLES, trusted_principals
from facts.aws import CHATBOT_API_REGIONS
from tools.preflight import checks
from tools.preflight.access import (
    DEFAULT_ROLE_NAME,
    AccessError,
    Accounts,
    CloudFormationStacks,
    Stacks,
)
from tools.preflight.checks import ORGANISATION
from tools.preflight.dns import Resolver, system_resolver
from tools.preflight.needs import Creator, Needs
from tools.preflight.report import Result, exit_status, failed, passed, render

DEFAULT_CONFIG = "config/platform.yaml"
DEFAULT_ASSEMBLY = "cdk.out"
EXIT_CANNOT_START = 2
"""Bad config, no (or a stale) assembly, or no usable credentials: nothing was checked."""
READ_ACCESS = (
    "Give the credentials and the assumed role read access (AWS's ReadOnlyAccess policy "
    "covers every call) and run again"
)


class _Table:
    """The rows so far. A check that cannot reach its account, or is denied a call, becomes
    one FAIL row instead of stopping the run (`with table.guard(check, where): ...`)."""

    def __init__(self) -> None:
        self.rows: list[Result] = []

    def extend(self, found: Result | list[Result]) -> None:
        self.rows += found if isinstance(found, list) else [found]

    @contextmanager
    def guard(self, check: str, where: str) -> Iterator[None]:
        try:
            yield
        except AccessError as error:
            self.rows.append(failed(check, where, f"not checked: {error}", "See the access row"))
        except (ClientError, BotoCoreError) as error:
            self.rows.append(failed(check, where, f"not checked: {error}", READ_ACCESS))


def run_checks(
    config: PlatformConfig,
    needs: Needs,
    accounts: Accounts,
    *,
    stacks: Stacks,
    resolve: Resolver,
) -> list[Result]:
    """Every check, in the table's order: the organisation, its accounts and access to them,
    trusted access and RAM sharing, the bootstrap of every environment the assembly deploys
    to, the pipeline's connection, the parent zone's delegation, the chat workspaces,
    service-linked roles and the clusters' access-entry principals."""
    names = {account.id: name for name, account in config.accounts.items()}

    def where(account_id: str, region: str | None = None) -> str:
        label = f"{names.get(account_id, account_id)} ({account_id})"
        return f"{label} {region}" if region else label

    _, management = config.account_with_role("management")
    _, shared = config.account_with_role("shared-services")
    home = config.organization.home_region
    table = _Table()

    def organizations() -> Any:
        return accounts.client(management.id, "organizations", home)

    with table.guard("organisation id", ORGANISATION):
        table.extend(checks.check_organization(organizations(), config))
    with table.guard("account", ORGANISATION):
        table.extend(checks.check_accounts(organizations(), config))
    for account in config.accounts.values():
        table.extend(check_access(accounts, account.id, where=where(account.id)))

    enabled: set[str] = set()
    with table.guard("trusted access", ORGANISATION):
        enabled = checks.enabled_services(organizations())
        table.extend(
            checks.check_trusted_access(
                enabled,
                checks.TRUSTED_SERVICES,
                creator_of=needs.trusted_access_creator,
                stacks=stacks,
            )
        )
    with table.guard("RAM sharing", where(management.id)):
        table.extend(
            checks.check_ram_sharing(
                enabled,
                accounts.client(management.id, "iam", home),
                where=where(management.id),
                users=needs.organisation_shares(),
                creator=needs.ram_sharing_creator(),
                stacks=stacks,
            )
        )

    order = {account.id: i for i, account in enumerate(config.accounts.values())}
    environments = sorted(
        needs.environments().items(),
        key=lambda item: (order.get(item[0][0], len(order)), item[0][0], item[0][1] != home),
    )
    for (account_id, region), required in environments:
        here = where(account_id, region)
        with table.guard("CDK bootstrap", here):
            table.extend(
                checks.check_bootstrap(
                    accounts.client(account_id, "ssm", region),
                    stacks.describe(account_id, region, checks.TOOLKIT_STACK),
                    where=here,
                    required=required,
                )
            )
        name = next((n for n, a in config.accounts.items() if a.id == account_id), None)
        expected = (
            {kind: trusted_principals(config, name, kind) or [] for kind in BOOTSTRAP_ROLES}
            if name is not None and trusted_principals(config, name, "deploy") is not None
            else None
        )
        if expected is not None:
            with table.guard("bootstrap trust", here):
                table.extend(
                    checks.check_bootstrap_trust(
                        accounts.client(account_id, "iam", region),
                        where=here,
                        account_id=account_id,
                        region=region,
                        expected=expected,
                    )
                )

    if config.pipeline is not None:
        arn = config.pipeline.connection_arn
        region, owner = arn.split(":")[3:5]
        with table.guard("connection", where(owner, region)):
            table.extend(
                checks.check_connection(
                    accounts.client(owner, checks.connection_service(arn), region),
                    where=where(owner, region),
                    arn=arn,
                )
            )

    if config.dns is not None:
        zone = config.dns.parent_zone
        with table.guard("DNS delegation", where(shared.id)):
            table.extend(
                checks.check_delegation(
                    accounts.client(shared.id, "route53", shared.region),
                    where=where(shared.id),
                    zone_name=zone,
                    creator=needs.hosted_zone_creator(shared.id, zone),
                    stacks=stacks,
                    resolve=resolve,
                )
            )

    for account in config.accounts.values():
        roles = checks.required_service_linked_roles(account)
        if not roles:
            continue
        with table.guard("service-linked role", where(account.id)):
            table.extend(
                checks.check_service_linked_roles(
                    accounts.client(account.id, "iam", account.region),
                    roles,
                    where=where(account.id),
                    creator_of=partial(_role_creator, needs, account.id),
                    stacks=stacks,
                )
            )

    for account_id, workspaces in needs.chat_workspaces().items():
        # an allowed region where Chatbot's API answers (the region SCP denies the others)
        region = next(
            (r for r in config.organization.allowed_regions if r in CHATBOT_API_REGIONS),
            CHATBOT_API_REGIONS[0],
        )
        with table.guard("chat workspace", where(account_id)):
            table.extend(
                checks.check_chat_workspaces(
                    accounts.client(account_id, "chatbot", region),
                    workspaces,
                    where=where(account_id),
                )
            )

    for name, account in config.accounts.items():
        principals = _access_principals(name, account)
        if not principals:
            continue
        with table.guard("EKS access principal", where(account.id)):
            table.extend(
                checks.check_access_principals(
                    partial(accounts.client, service="iam", region=account.region),
                    principals,
                    where=where(account.id),
                )
            )
    return table.rows


def check_access(accounts: Accounts, account_id: str, *, where: str) -> Result:
    """The account can be read: its role can be assumed (or it is the caller's own)."""
    try:
        accounts.reach(account_id)
    except AccessError as error:
        return failed(
            "access",
            where,
            str(error),
            f"Pass --role-name with a role the caller may assume in every account (default "
            f"{DEFAULT_ROLE_NAME}), or run with the management account's credentials",
        )
    return passed("access", where, f"read through {accounts.how(account_id)}")


def _role_creator(needs: Needs, account_id: str, role: checks.ServiceLinkedRole) -> Creator | None:
    return needs.service_linked_role_creator(account_id, role.service)


def _access_principals(name: str, account: Account) -> dict[str, str]:
    """The roles an account's cluster grants access to -> the config path naming each."""
    if account.cluster is None:
        return {}
    path = f"accounts.{name}.cluster"
    return {
        **{arn: f"{path}.admin_role_arns" for arn in account.cluster.admin_role_arns},
        **{arn: f"{path}.viewer_role_arns" for arn in account.cluster.viewer_role_arns},
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preflight",
        description="Check a real AWS organisation against what the platform needs before "
        "its first deploy. Read-only. Exit status: 0 nothing failed (PENDING is fine), 1 a "
        "check failed, 2 nothing could be checked.",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the platform config file")
    parser.add_argument(
        "--assembly",
        default=DEFAULT_ASSEMBLY,
        type=Path,
        help="the synthesized cloud assembly (make synth writes cdk.out)",
    )
    parser.add_argument(
        "--profile",
        help="AWS CLI profile of the management account (default: the ambient credentials)",
    )
    parser.add_argument(
        "--role-name",
        default=DEFAULT_ROLE_NAME,
        help="role assumed in every other account; read access is enough "
        f"(default: {DEFAULT_ROLE_NAME})",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    accounts: Accounts | None = None,
    stacks: Stacks | None = None,
    resolve: Resolver | None = None,
) -> int:
    """Print the table; `accounts`, `stacks` and `resolve` replace the AWS and DNS access
    (tests)."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CANNOT_START
    if not (args.assembly / "manifest.json").is_file():
        print(f"no cloud assembly in {args.assembly}: run `make synth` first", file=sys.stderr)
        return EXIT_CANNOT_START
    needs = Needs.read(args.assembly)
    stale = sorted(
        name for name, account in config.accounts.items() if account.id not in needs.account_ids()
    )
    if stale:
        print(
            f"{args.assembly} was not synthesized from {args.config} (no stacks for "
            f"{', '.join(stale)}): run `make synth` again",
            file=sys.stderr,
        )
        return EXIT_CANNOT_START
    if accounts is None:
        try:
            session = boto3.Session(
                profile_name=args.profile, region_name=config.organization.home_region
            )
            accounts = Accounts(session, role_name=args.role_name)
        except (BotoCoreError, ClientError) as error:
            print(f"no usable AWS credentials: {error}", file=sys.stderr)
            return EXIT_CANNOT_START
    results = run_checks(
        config,
        needs,
        accounts,
        stacks=stacks or CloudFormationStacks(accounts),
        resolve=resolve or system_resolver(),
    )
    print(render(results))
    return exit_status(results)
