"""Workload data: next to a cluster, named within AWS's limits, sized for its environment."""

from __future__ import annotations

from collections.abc import Iterator

from config.model import Account, Postgres, RdsPostgres
from config.rules.problem import PartialConfig, Problem
from facts.aws import CACHE_NAME_MAX, S3_BUCKET_NAME_MAX, SEARCH_NAME_MAX


def data_where_it_belongs(config: PartialConfig) -> Iterator[Problem]:
    """Data lives next to a cluster whose pods use it; only sandbox may lose it, and only
    when asked to."""
    for name, account in config.accounts.items():
        data = account.data
        if data is None:
            continue
        path = f"accounts.{name}.data"
        if data.needs_clients and account.cluster is None:
            yield Problem(
                path,
                "databases, caches, search and Kafka admit only the account's cluster; "
                f"configure accounts.{name}.cluster too",
            )
        yield from _name_lengths(config, name, account)
        if data.allow_data_loss and account.role != "sandbox":
            yield Problem(
                f"{path}.allow_data_loss",
                f"only a sandbox account may lose data on deletion, not a {account.role} account",
                True,
            )


def _name_lengths(config: PartialConfig, name: str, account: Account) -> Iterator[Problem]:
    """Deterministic names are `<prefix>-<account>-<purpose>` (buckets: `-<id>-<region>` too);
    a long prefix or account name can push them past what the service accepts."""
    if config.organization is None or account.data is None:
        return
    stem = f"{config.organization.prefix}-{name}"
    data, path = account.data, f"accounts.{name}.data"
    names = [(f"{path}.search", f"{stem}-search", SEARCH_NAME_MAX)] if data.search else []
    names += [(f"{path}.caches.{c}", f"{stem}-{c}", CACHE_NAME_MAX) for c in data.caches]
    names += [
        (f"{path}.buckets.{b}", f"{stem}-{b}-{account.id}-{account.region}", S3_BUCKET_NAME_MAX)
        for b in data.buckets
    ]
    for where, full_name, limit in names:
        if len(full_name) > limit:
            yield Problem(
                where,
                f"its AWS name {full_name!r} is longer than {limit} characters; shorten the "
                "name, the account name or organization.prefix",
            )


def data_sized_for_environment(config: PartialConfig) -> Iterator[Problem]:
    """Prod survives the loss of an AZ; search nodes spread evenly over the VPC's AZs."""
    for name, account in config.accounts.items():
        data = account.data
        if data is None:
            continue
        path, prod = f"accounts.{name}.data", account.role == "prod"
        if prod:
            yield from _postgres_in_prod(data.postgres, f"{path}.postgres")
        for cache_name, cache in data.caches.items():
            if prod and cache.replicas < 1:
                yield Problem(
                    f"{path}.caches.{cache_name}.replicas",
                    "prod needs at least one replica (automatic failover, Multi-AZ)",
                    cache.replicas,
                )
        search, zones = (
            data.search,
            len(account.network.availability_zones) if account.network else 2,
        )
        if search is not None:
            spread = min(zones, 3)
            if search.data_nodes > 1 and search.data_nodes % spread:
                yield Problem(
                    f"{path}.search.data_nodes",
                    f"nodes are spread evenly over {spread} availability zones: use a multiple "
                    f"of {spread}",
                    search.data_nodes,
                )
            if prod and search.dedicated_masters == 0:
                yield Problem(
                    f"{path}.search.dedicated_masters",
                    "prod needs 3 or 5 dedicated master nodes",
                    search.dedicated_masters,
                )
            if prod and search.data_nodes < 2:
                yield Problem(
                    f"{path}.search.data_nodes",
                    "prod needs at least 2 data nodes (zone awareness)",
                    search.data_nodes,
                )
        if prod and data.backup.vault_lock is False:
            yield Problem(
                f"{path}.backup.vault_lock",
                "prod's backup vault is always locked",
                False,
            )
        if data.allow_data_loss and data.backup.vault_lock:
            yield Problem(
                f"{path}.backup.vault_lock",
                "a locked vault keeps its recovery points: drop allow_data_loss or the lock",
                True,
            )


def _postgres_in_prod(postgres: Postgres | None, path: str) -> Iterator[Problem]:
    """Prod's database fails over to another AZ: an Aurora reader or an RDS standby."""
    if postgres is None:
        return
    if isinstance(postgres, RdsPostgres):
        if not postgres.multi_az:
            yield Problem(f"{path}.multi_az", "prod needs a Multi-AZ standby", False)
    elif postgres.readers < 1:
        yield Problem(
            f"{path}.readers",
            "prod needs at least one reader in another AZ to fail over to",
            postgres.readers,
        )
