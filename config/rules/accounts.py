"""The organisation's accounts: distinct ids, the roles it needs, the regions it allows."""

from __future__ import annotations

from collections.abc import Iterator

from config.model import REQUIRED_WORKLOAD_ROLES, SINGLETON_ROLES
from config.rules.problem import PartialConfig, Problem


def unique_account_ids(config: PartialConfig) -> Iterator[Problem]:
    first_seen: dict[str, str] = {}
    for name, account in config.accounts.items():
        if account.id in first_seen:
            yield Problem(
                f"accounts.{name}.id",
                f"account id already used by accounts.{first_seen[account.id]}.id",
                account.id,
            )
        else:
            first_seen[account.id] = name


def one_account_per_singleton_role(config: PartialConfig) -> Iterator[Problem]:
    for role in SINGLETON_ROLES:
        holders = [name for name, acc in config.accounts.items() if acc.role == role]
        if len(holders) > 1:
            for name in holders[1:]:
                yield Problem(
                    f"accounts.{name}.role",
                    f"only one {role} account is allowed; accounts.{holders[0]} has this role",
                    role,
                )
        elif not holders and config.all_accounts_valid:
            yield Problem("accounts", f"no account has role {role!r}; exactly one is required")


def workload_environments_present(config: PartialConfig) -> Iterator[Problem]:
    if not config.all_accounts_valid:
        return  # a missing role may just be an account that failed validation
    present = {account.role for account in config.accounts.values()}
    for role in REQUIRED_WORKLOAD_ROLES:
        if role not in present:
            yield Problem(
                "accounts",
                f"no account has role {role!r}; dev, staging and prod each need at least one",
            )


def regions_allowed(config: PartialConfig) -> Iterator[Problem]:
    org = config.organization
    if org is None:
        return
    allowed = ", ".join(org.allowed_regions)
    if org.home_region not in org.allowed_regions:
        yield Problem(
            "organization.home_region", f"not in allowed_regions ({allowed})", org.home_region
        )
    for name, account in config.accounts.items():
        if account.region not in org.allowed_regions:
            yield Problem(
                f"accounts.{name}.region",
                f"not in organization.allowed_regions ({allowed})",
                account.region,
            )
