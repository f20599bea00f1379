"""CI roles: they grant something that exists, under a name IAM accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from config.rules.problem import PartialConfig, Problem

CI_ROLE_NAME_MAX = 64
"""IAM's limit on a role name."""


def ci_roles_have_targets(config: PartialConfig) -> Iterator[Problem]:
    """A CI role pushes only to configured repositories and describes only existing
    clusters; its name (from the repository) fits IAM."""
    if config.ci is None:
        return
    pushable = set(config.registry.repositories) if config.registry else set()
    seen: dict[str, str] = {}
    for index, repo in enumerate(config.ci.repositories):
        path = f"ci.repositories.{index}"
        for name in repo.push:
            if name not in pushable:
                yield Problem(
                    f"{path}.push",
                    f"not in registry.repositories ({', '.join(sorted(pushable)) or 'none'})",
                    name,
                )
        for account in repo.describe_clusters:
            if account not in config.all_account_names:
                yield Problem(f"{path}.describe_clusters", "no such account", account)
            elif account in config.accounts and config.accounts[account].cluster is None:
                yield Problem(f"{path}.describe_clusters", "the account has no cluster", account)
        if not repo.push and not repo.describe_clusters and not repo.decrypt_secrets:
            yield Problem(
                path, "grants nothing: give it push, describe_clusters or decrypt_secrets"
            )
        if config.organization is not None:
            role = ci_role_name(config.organization.prefix, repo.repository)
            if len(role) > CI_ROLE_NAME_MAX:
                yield Problem(
                    f"{path}.repository",
                    f"its role name {role!r} is longer than {CI_ROLE_NAME_MAX} characters",
                )
            if role in seen:
                yield Problem(f"{path}.repository", f"same role name as {seen[role]}", role)
            seen.setdefault(role, path)


def ci_role_name(prefix: str, repository: str) -> str:
    """`<prefix>-ci-<owner>-<name>`, lowercase, other characters as '-'."""
    return f"{prefix}-ci-" + re.sub(r"[^a-z0-9]+", "-", repository.lower()).strip("-")


def existing_providers_name_accounts(config: PartialConfig) -> Iterator[Problem]:
    if config.ci is None:
        return
    for index, name in enumerate(config.ci.existing_oidc_provider_accounts):
        if name not in config.all_account_names:
            yield Problem(
                f"ci.existing_oidc_provider_accounts.{index}",
                "no account of that name in accounts",
                name,
            )
