"""Identities that must point at the account they belong to: ids, names, domains, ARNs.

A config whose account ids were swapped passes every per-field check (each id is twelve
digits, each is unique) and would deploy each stage into the other's account. What betrays a
swap is an identity that names one account under another: an EKS admin role of another
environment's account, a pipeline connection outside shared-services, two accounts serving
one domain.
"""

from __future__ import annotations

from collections.abc import Iterator

from config.model import WORKLOAD_ROLES
from config.rules.problem import PartialConfig, Problem


def _account_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def cluster_principals_of_their_environment(config: PartialConfig) -> Iterator[Problem]:
    """A cluster's admins and viewers are roles of its own account or of an account outside
    the workloads (shared-services, management, or one this config does not know): never a
    role of another environment, which is what a swapped id looks like."""
    ids = [account.id for account in config.accounts.values()]
    environment_of_id = {
        account.id: name
        for name, account in config.accounts.items()
        if account.role in WORKLOAD_ROLES and ids.count(account.id) == 1  # else: duplicate id
    }
    for name, account in config.accounts.items():
        cluster = account.cluster
        if cluster is None:
            continue
        for field in ("admin_role_arns", "viewer_role_arns"):
            for index, arn in enumerate(getattr(cluster, field)):
                owner = environment_of_id.get(_account_of_arn(arn))
                if owner is not None and owner != name:
                    yield Problem(
                        f"accounts.{name}.cluster.{field}.{index}",
                        f"a role of accounts.{owner} ({_account_of_arn(arn)}), another "
                        f"environment, but this cluster is in accounts.{name} ({account.id}); "
                        "are two account ids swapped?",
                        arn,
                    )


def access_roles_of_their_account(config: PartialConfig) -> Iterator[Problem]:
    """The roles of an account's operator access are roles of that account: the stack
    attaches the access policy to them, which CloudFormation can do only in its own account
    (and a role of another environment is what a swapped id looks like)."""
    for name, account in config.accounts.items():
        access = account.access
        if access is None:
            continue
        for index, arn in enumerate(access.roles):
            owner = _account_of_arn(arn)
            if owner != account.id:
                yield Problem(
                    f"accounts.{name}.access.roles.{index}",
                    f"a role of account {owner}, but the access instance is in "
                    f"accounts.{name} ({account.id}); name a role of that account",
                    arn,
                )


def pipeline_connection_in_shared_services(config: PartialConfig) -> Iterator[Problem]:
    """CodePipeline uses a connection of its own account and region (shared-services)."""
    if config.pipeline is None:
        return
    shared = [a for a in config.accounts.values() if a.role == "shared-services"]
    if not shared:
        return
    arn = config.pipeline.connection_arn
    parts = arn.split(":")
    region, owner = (parts[3], parts[4]) if len(parts) > 5 else ("", "")
    if owner != shared[0].id or region != shared[0].region:
        yield Problem(
            "pipeline.connection_arn",
            f"must be a connection of the shared-services account ({shared[0].id}) in "
            f"{shared[0].region}, where the pipeline runs; are account ids swapped?",
            arn,
        )


def domains_distinct(config: PartialConfig) -> Iterator[Problem]:
    """One account per domain, no domain inside another account's, none equal to the parent
    zone: each is a hosted zone the parent delegates to exactly one account."""
    seen: dict[str, str] = {}
    parent = config.dns.parent_zone if config.dns is not None else None
    for name, account in config.accounts.items():
        domain = account.domain
        if domain is None:
            continue
        path = f"accounts.{name}.domain"
        if domain == parent:
            yield Problem(path, "is the parent zone itself; give the account a subdomain", domain)
        for other_domain, other in seen.items():
            if domain == other_domain:
                yield Problem(path, f"already the domain of accounts.{other}", domain)
            elif domain.endswith(f".{other_domain}") or other_domain.endswith(f".{domain}"):
                yield Problem(
                    path,
                    f"nests with accounts.{other}.domain ({other_domain}); each account's zone "
                    "is delegated from the parent, so they must be siblings",
                    domain,
                )
        seen.setdefault(domain, name)


def management_deployed_by_hand(config: PartialConfig) -> Iterator[Problem]:
    """The management account is never a pipeline target: a merged commit or a foothold in
    shared-services must not be able to change the organisation (docs/security.md)."""
    if config.pipeline is None:
        return
    for index, wave in enumerate(config.pipeline.waves):
        for position, name in enumerate(wave.accounts):
            account = config.accounts.get(name)
            if account is not None and account.role == "management":
                yield Problem(
                    f"pipeline.waves.{index}.accounts.{position}",
                    "the management account is deployed by hand (`make deploy-management`, "
                    "break-glass), never by the pipeline; remove it from the waves",
                    name,
                )
