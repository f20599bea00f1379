"""Rules that compare fields or accounts with each other.

Each rule is a function from the (possibly partial) configuration to the problems it finds.
They run even when some accounts failed field validation, over the accounts that passed, so
one run of the loader reports every problem in the file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from itertools import combinations
from typing import Any

from config.eks_calendar import EKS_CALENDAR, accepted_versions
from config.model import (
    EDGE_ORIGIN_ALB,
    NETWORKED_ROLES,
    PROMOTION_RANK,
    REQUIRED_WORKLOAD_ROLES,
    SINGLETON_ROLES,
    WORKLOAD_ROLES,
    Account,
    Ci,
    Dns,
    Edge,
    GitOps,
    Organization,
    Pipeline,
    Postgres,
    Registry,
)
from facts.aws import (
    CACHE_NAME_MAX,
    EDGE_REGION,
    S3_BUCKET_NAME_MAX,
    SEARCH_NAME_MAX,
    TARGET_GROUP_NAME_MAX,
)

_NO_VALUE: Any = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where, what, and the value found there."""

    path: str
    message: str
    value: Any = _NO_VALUE

    def __str__(self) -> str:
        shown = "" if self.value is _NO_VALUE else f" (got {self.value!r})"
        return f"{self.path}: {self.message}{shown}"


@dataclass(frozen=True)
class PartialConfig:
    """What survived field validation: the organisation if valid, and the valid accounts."""

    organization: Organization | None
    accounts: Mapping[str, Account]
    all_account_names: tuple[str, ...]
    """Every account name in the file, valid or not (so role counts don't over-report)."""
    pipeline: Pipeline | None = None
    gitops: GitOps | None = None
    registry: Registry | None = None
    ci: Ci | None = None
    dns: Dns | None = None
    today: date = field(default_factory=date.today)
    """The date support windows are judged on (the EKS version guard)."""


Rule = Callable[[PartialConfig], Iterator[Problem]]


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
        elif not holders and _all_accounts_valid(config):
            yield Problem("accounts", f"no account has role {role!r}; exactly one is required")


def workload_environments_present(config: PartialConfig) -> Iterator[Problem]:
    if not _all_accounts_valid(config):
        return  # a missing role may just be an account that failed validation
    present = {account.role for account in config.accounts.values()}
    for role in REQUIRED_WORKLOAD_ROLES:
        if role not in present:
            yield Problem(
                "accounts",
                f"no account has role {role!r}; dev, staging and prod each need at least one",
            )


def network_where_needed(config: PartialConfig) -> Iterator[Problem]:
    for name, account in config.accounts.items():
        if account.role in NETWORKED_ROLES and account.network is None:
            yield Problem(f"accounts.{name}.network", f"required for a {account.role} account")
        elif account.role not in NETWORKED_ROLES and account.network is not None:
            yield Problem(
                f"accounts.{name}.network",
                f"not allowed for a {account.role} account (it has no VPC)",
            )


def log_archive_only_in_security(config: PartialConfig) -> Iterator[Problem]:
    for name, account in config.accounts.items():
        if account.log_archive is not None and account.role != "security":
            yield Problem(
                f"accounts.{name}.log_archive",
                f"only the security account holds the log archive, not a {account.role} account",
            )
        if account.audit is not None and account.role != "security":
            yield Problem(
                f"accounts.{name}.audit",
                f"only the security account runs the audit services, not a {account.role} account",
            )
        archive = account.log_archive
        if archive is None:
            continue
        if archive.expire_after_days < archive.object_lock_days:
            yield Problem(
                f"accounts.{name}.log_archive.expire_after_days",
                f"must be at least object_lock_days ({archive.object_lock_days})",
                archive.expire_after_days,
            )
        if archive.glacier_after_days >= archive.expire_after_days:
            yield Problem(
                f"accounts.{name}.log_archive.glacier_after_days",
                f"must be less than expire_after_days ({archive.expire_after_days})",
                archive.glacier_after_days,
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


def availability_zones_in_region(config: PartialConfig) -> Iterator[Problem]:
    for name, account in config.accounts.items():
        if account.network is None:
            continue
        for index, zone in enumerate(account.network.availability_zones):
            if zone[:-1] != account.region:
                yield Problem(
                    f"accounts.{name}.network.availability_zones.{index}",
                    f"not an availability zone of the account's region {account.region}",
                    zone,
                )


def cidrs_disjoint(config: PartialConfig) -> Iterator[Problem]:
    """VPCs will share a Transit Gateway, so no two may overlap."""
    networks = [
        (name, ipaddress.IPv4Network(account.network.cidr))
        for name, account in config.accounts.items()
        if account.network is not None
    ]
    for (first, first_net), (second, second_net) in combinations(networks, 2):
        if first_net.overlaps(second_net):
            yield Problem(
                f"accounts.{second}.network.cidr",
                f"overlaps accounts.{first}.network.cidr ({first_net})",
                str(second_net),
            )


def pipeline_promotes_in_order(config: PartialConfig) -> Iterator[Problem]:
    """Every account but sandbox in exactly one wave; waves in promotion order, one step
    each; prod behind an approval; staging and prod behind the health gate."""
    pipeline = config.pipeline
    if pipeline is None:
        return
    promoted_by: dict[str, str] = {}
    highest_so_far: tuple[int, str] | None = None  # (rank, role) of the earlier waves
    for index, wave in enumerate(pipeline.waves):
        path = f"pipeline.waves.{index}"
        roles: dict[str, str] = {}
        for position, name in enumerate(wave.accounts):
            where = f"{path}.accounts.{position}"
            account = config.accounts.get(name)
            if account is None:
                if name not in config.all_account_names:
                    yield Problem(where, "no account of that name in accounts", name)
            elif name in promoted_by:
                yield Problem(where, f"already deployed by {promoted_by[name]}", name)
            elif account.role == "sandbox":
                yield Problem(where, "sandbox is deployed by hand, never by the pipeline", name)
            else:
                promoted_by[name] = path
                roles[name] = account.role
        ranks = {PROMOTION_RANK[role] for role in roles.values()}
        if len(ranks) > 1:
            yield Problem(
                f"{path}.accounts",
                "mixes promotion steps (" + ", ".join(sorted(set(roles.values()))) + "); give "
                "each its own wave so one is proven before the next deploys",
                list(wave.accounts),
            )
        if ranks and highest_so_far and min(ranks) < highest_so_far[0]:
            role = min(roles.values(), key=PROMOTION_RANK.__getitem__)
            yield Problem(
                f"{path}.accounts",
                f"deploys {role} after an earlier wave deployed {highest_so_far[1]}; changes "
                "travel management, then security and shared-services, dev, staging, prod",
                list(wave.accounts),
            )
        for role in roles.values():
            if highest_so_far is None or PROMOTION_RANK[role] > highest_so_far[0]:
                highest_so_far = (PROMOTION_RANK[role], role)
        if "prod" in roles.values() and not wave.approval:
            yield Problem(f"{path}.approval", "a wave deploying prod must require approval", False)
        if {"staging", "prod"} & set(roles.values()) and not wave.health_check:
            yield Problem(
                f"{path}.health_check",
                "a wave deploying staging or prod must run the health gate",
                False,
            )
    for name, account in config.accounts.items():
        if account.role != "sandbox" and name not in promoted_by:
            yield Problem(
                "pipeline.waves",
                f"accounts.{name} is in no wave; the pipeline deploys every account but sandbox",
            )


def cluster_where_there_is_a_vpc(config: PartialConfig) -> Iterator[Problem]:
    for name, account in config.accounts.items():
        if account.cluster is not None and account.role not in NETWORKED_ROLES:
            yield Problem(
                f"accounts.{name}.cluster",
                f"not allowed for a {account.role} account (it has no VPC)",
            )


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def kubernetes_version_supported(config: PartialConfig) -> Iterator[Problem]:
    accepted = ", ".join(accepted_versions(config.today))
    for name, account in config.accounts.items():
        if account.cluster is None:
            continue
        version = account.cluster.kubernetes_version
        path = f"accounts.{name}.cluster.kubernetes_version"
        release = EKS_CALENDAR.get(version)
        if release is None:
            yield Problem(path, f"not a version Amazon EKS offers; use one of {accepted}", version)
        elif release.status(config.today) == "ended":
            assert release.extended_support_ends is not None
            yield Problem(
                path,
                f"Amazon EKS ended support for {version} on "
                f"{_day(release.extended_support_ends)} and no longer creates it; use one of "
                f"{accepted}",
                version,
            )
        elif version not in accepted:
            yield Problem(
                path,
                f"no kubectl layer is packaged for {version}; use one of {accepted}",
                version,
            )


_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")


def node_group_consistent(config: PartialConfig) -> Iterator[Problem]:
    for name, account in config.accounts.items():
        if account.cluster is None:
            continue
        nodes = account.cluster.system_nodes
        path = f"accounts.{name}.cluster.system_nodes"
        if nodes.min_size > nodes.max_size:
            yield Problem(
                f"{path}.min_size", f"larger than max_size ({nodes.max_size})", nodes.min_size
            )
        desired = nodes.desired_size
        if desired is not None and not nodes.min_size <= desired <= nodes.max_size:
            yield Problem(
                f"{path}.desired_size",
                f"must be between min_size ({nodes.min_size}) and max_size ({nodes.max_size})",
                desired,
            )
        arm = "ARM_64" in nodes.ami_type
        for index, instance_type in enumerate(nodes.instance_types):
            if bool(_GRAVITON.match(instance_type)) != arm:
                kind = "an ARM (Graviton)" if arm else "an x86"
                yield Problem(
                    f"{path}.instance_types.{index}",
                    f"does not run {kind} AMI ({nodes.ami_type})",
                    instance_type,
                )


def gitops_has_clusters(config: PartialConfig) -> Iterator[Problem]:
    gitops = config.gitops
    if gitops is None or not _all_accounts_valid(config):
        return
    hubs = [n for n, a in config.accounts.items() if a.role == "shared-services" and a.cluster]
    if gitops.mode == "hub-and-spoke" and not hubs:
        yield Problem(
            "gitops.mode",
            "hub-and-spoke needs a cluster in the shared-services account (the hub)",
            gitops.mode,
        )
    if not any(a.cluster for a in config.accounts.values()):
        yield Problem("gitops", "no account has a cluster for Argo CD to run on")


CACHE_VERSIONS = {"valkey": ("7.2", "8.0", "8.1"), "redis": ("7.0", "7.1")}
"""Engine versions ElastiCache offers with TLS, RBAC and Multi-AZ."""


def data_where_it_belongs(config: PartialConfig) -> Iterator[Problem]:
    """Data lives in workload accounts, next to a cluster whose pods use it; only sandbox may
    lose it, and only when asked to."""
    for name, account in config.accounts.items():
        data = account.data
        if data is None:
            continue
        path = f"accounts.{name}.data"
        if account.role not in WORKLOAD_ROLES:
            yield Problem(path, f"not allowed for a {account.role} account (workloads only)")
            continue
        if data.needs_clients and account.cluster is None:
            yield Problem(
                path,
                "databases, caches, search and Kafka admit only the account's cluster; "
                "configure accounts.{name}.cluster too".replace("{name}", name),
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
    """Prod survives the loss of an AZ; sizes and versions are ones AWS accepts."""
    for name, account in config.accounts.items():
        data = account.data
        if data is None or account.role not in WORKLOAD_ROLES:
            continue
        path, prod = f"accounts.{name}.data", account.role == "prod"
        yield from _postgres_problems(data.postgres, f"{path}.postgres", prod)
        for cache_name, cache in data.caches.items():
            where = f"{path}.caches.{cache_name}"
            if cache.version not in CACHE_VERSIONS[cache.engine]:
                yield Problem(
                    f"{where}.version",
                    f"{cache.engine} versions offered: {', '.join(CACHE_VERSIONS[cache.engine])}",
                    cache.version,
                )
            if prod and cache.replicas < 1:
                yield Problem(
                    f"{where}.replicas",
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


def _postgres_problems(postgres: Postgres | None, path: str, prod: bool) -> Iterator[Problem]:
    if postgres is None:
        return
    aurora = postgres.engine.startswith("aurora")
    if postgres.engine == "aurora-serverless-v2" and postgres.min_capacity > postgres.max_capacity:
        yield Problem(
            f"{path}.min_capacity",
            f"larger than max_capacity ({postgres.max_capacity})",
            postgres.min_capacity,
        )
    if aurora and postgres.multi_az:
        yield Problem(
            f"{path}.multi_az",
            "RDS only; Aurora stays available through `readers` in other AZs",
            True,
        )
    if not aurora and postgres.readers:
        yield Problem(
            f"{path}.readers",
            "Aurora only; RDS PostgreSQL stays available through `multi_az`",
            postgres.readers,
        )
    if prod and aurora and postgres.readers < 1:
        yield Problem(
            f"{path}.readers",
            "prod needs at least one reader in another AZ to fail over to",
            postgres.readers,
        )
    if prod and not aurora and not postgres.multi_az:
        yield Problem(f"{path}.multi_az", "prod needs a Multi-AZ standby", False)


def edge_where_it_belongs(config: PartialConfig) -> Iterator[Problem]:
    """The edge fronts a workload cluster under the account's own domain; its behaviours
    name origins that exist, and its error pages load without the load balancer."""
    for name, account in config.accounts.items():
        path = f"accounts.{name}.edge"
        if account.edge is not None and account.role not in WORKLOAD_ROLES:
            yield Problem(path, f"not allowed for a {account.role} account (workloads only)")
            continue
        if account.edge is not None and account.domain is None:
            yield Problem(path, f"needs accounts.{name}.domain: the zone the CDN serves")
            continue
        edge = account.edge_settings
        if edge is None:
            continue
        if account.cluster is None:
            yield Problem(
                f"accounts.{name}.domain",
                "a workload domain gets an edge whose load balancer sends to the cluster's "
                f"pods; configure accounts.{name}.cluster too",
            )
        org = config.organization
        if org is not None and EDGE_REGION not in org.allowed_regions:
            yield Problem(
                "organization.allowed_regions",
                f"must include {EDGE_REGION}: accounts.{name} has an edge, whose certificate "
                "and WAF live there",
                list(org.allowed_regions),
            )
        yield from _edge_origins(edge, path)
        yield from _edge_names(config, name, account, path)


def _edge_origins(edge: Edge, path: str) -> Iterator[Problem]:
    origins = {EDGE_ORIGIN_ALB, *edge.buckets}
    if EDGE_ORIGIN_ALB in edge.buckets:
        yield Problem(f"{path}.buckets", f"{EDGE_ORIGIN_ALB!r} names the load balancer")
    behaviours = [(f"{path}.behaviors.{i}", b) for i, b in enumerate(edge.behaviors)]
    seen: dict[str, str] = {}
    for where, behaviour in [*behaviours, (f"{path}.default", edge.default)]:
        if behaviour.origin not in origins:
            yield Problem(
                f"{where}.origin",
                f"not an origin: use {EDGE_ORIGIN_ALB!r} or one of buckets "
                f"({', '.join(edge.buckets) or 'none'})",
                behaviour.origin,
            )
        elif behaviour.origin != EDGE_ORIGIN_ALB and behaviour.forward == "all":
            yield Problem(
                f"{where}.forward",
                "a bucket origin cannot take the viewer's headers: S3 rejects a forwarded "
                "Host header; use none",
                "all",
            )
        if where.endswith(".default"):
            continue
        if behaviour.path in seen:
            yield Problem(
                f"{where}.path", f"already the path of {seen[behaviour.path]}", behaviour.path
            )
        seen.setdefault(behaviour.path, where)
    for index, page in enumerate(edge.error_pages):
        served_by = next(
            (b for b in edge.behaviors if fnmatchcase(page.page, b.path)), edge.default
        )
        if served_by.origin == EDGE_ORIGIN_ALB or served_by.origin not in origins:
            yield Problem(
                f"{path}.error_pages.{index}.page",
                "must match a bucket behaviour: an error page served by the load balancer "
                "fails with it",
                page.page,
            )
    statuses = [page.status for page in edge.error_pages]
    for index, status in enumerate(statuses):
        if status in statuses[:index]:
            yield Problem(f"{path}.error_pages.{index}.status", "mapped twice", status)


def _edge_names(config: PartialConfig, name: str, account: Account, path: str) -> Iterator[Problem]:
    """Hostnames the certificate covers; AWS names that fit their services' limits."""
    domain, edge = account.domain, account.edge_settings
    assert domain is not None and edge is not None
    for index, hostname in enumerate(edge.hostnames):
        if hostname != domain and hostname.partition(".")[2] != domain:
            yield Problem(
                f"{path}.hostnames.{index}",
                f"must be {domain} or one label below it (the certificate covers {domain} "
                f"and *.{domain})",
                hostname,
            )
    if config.organization is None:
        return
    stem = f"{config.organization.prefix}-{name}"
    if len(f"{stem}-edge") > TARGET_GROUP_NAME_MAX:
        yield Problem(
            f"accounts.{name}",
            f"the edge target group's name {stem + '-edge'!r} is longer than "
            f"{TARGET_GROUP_NAME_MAX} characters; shorten the account name or "
            "organization.prefix",
        )
    data_buckets = set(account.data.buckets) if account.data else set()
    for bucket in edge.buckets:
        full_name = f"{stem}-edge-{bucket}-{account.id}-{account.region}"
        if len(full_name) > S3_BUCKET_NAME_MAX:
            yield Problem(
                f"{path}.buckets",
                f"its AWS name {full_name!r} is longer than {S3_BUCKET_NAME_MAX} characters",
                bucket,
            )
        if f"edge-{bucket}" in data_buckets:
            yield Problem(
                f"accounts.{name}.data.buckets.edge-{bucket}",
                f"its AWS name is taken by the edge bucket {bucket!r}; rename one of them",
            )


def transit_gateway_reach(config: PartialConfig) -> Iterator[Problem]:
    """Workload VPCs attach to the hub that shared-services holds, and reach only attached
    VPCs."""
    attached = {
        n
        for n, a in config.accounts.items()
        if a.network is not None and a.network.transit_gateway is not None
    }
    hub = [n for n in attached if config.accounts[n].role == "shared-services"]
    for name in sorted(attached):
        network = config.accounts[name].network
        assert network is not None and network.transit_gateway is not None
        path = f"accounts.{name}.network.transit_gateway"
        if not hub and config.accounts[name].role != "shared-services":
            yield Problem(
                path,
                "the hub is in shared-services: set its network.transit_gateway too",
            )
        elif hub and config.accounts[name].region != config.accounts[hub[0]].region:
            yield Problem(
                path,
                f"the hub is in {config.accounts[hub[0]].region}; a VPC attaches only in the "
                "hub's region",
                config.accounts[name].region,
            )
        for target in network.transit_gateway.reach:
            if target == name:
                yield Problem(f"{path}.reach", "an account reaches its own VPC already", target)
            elif target not in config.all_account_names:
                yield Problem(f"{path}.reach", "no such account", target)
            elif target in config.accounts and target not in attached:
                yield Problem(
                    f"{path}.reach",
                    "that account's VPC is not attached (no network.transit_gateway)",
                    target,
                )


def domains_below_the_parent_zone(config: PartialConfig) -> Iterator[Problem]:
    """Each environment's zone is delegated from the parent, so it must be below it."""
    if config.dns is None:
        return
    parent = config.dns.parent_zone
    for name, account in config.accounts.items():
        if account.domain is None:
            continue
        if not account.domain.endswith(f".{parent}"):
            yield Problem(
                f"accounts.{name}.domain",
                f"must be below dns.parent_zone ({parent}): the parent zone is in "
                "shared-services and delegates one subzone per environment",
                account.domain,
            )
        elif account.role not in WORKLOAD_ROLES:
            yield Problem(f"accounts.{name}.domain", "only workload accounts hold a subzone")


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


RULES: tuple[Rule, ...] = (
    unique_account_ids,
    one_account_per_singleton_role,
    workload_environments_present,
    network_where_needed,
    log_archive_only_in_security,
    regions_allowed,
    availability_zones_in_region,
    cidrs_disjoint,
    pipeline_promotes_in_order,
    cluster_where_there_is_a_vpc,
    kubernetes_version_supported,
    node_group_consistent,
    gitops_has_clusters,
    data_where_it_belongs,
    data_sized_for_environment,
    edge_where_it_belongs,
    ci_roles_have_targets,
    transit_gateway_reach,
    domains_below_the_parent_zone,
)


def warnings(config: PartialConfig) -> list[Problem]:
    """Valid but costly: clusters on a version in extended support."""
    found = []
    for name, account in config.accounts.items():
        if account.cluster is None:
            continue
        version = account.cluster.kubernetes_version
        release = EKS_CALENDAR.get(version)
        if release is not None and release.status(config.today) == "extended":
            assert release.standard_support_ends and release.extended_support_ends
            found.append(
                Problem(
                    f"accounts.{name}.cluster.kubernetes_version",
                    f"{version} left standard support on {_day(release.standard_support_ends)}:"
                    " Amazon EKS charges the extended-support rate per cluster hour until "
                    f"{_day(release.extended_support_ends)}; plan the upgrade",
                    version,
                )
            )
    return found


def check(config: PartialConfig) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(config)]


def _all_accounts_valid(config: PartialConfig) -> bool:
    return len(config.accounts) == len(config.all_account_names)
