"""Teams: each runs in workload accounts with a cluster, uses data its account has, fits the
cluster, and owns its namespaces, paths and bucket prefixes alone."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

from config.model import (
    Account,
    Cluster,
    RdsPostgres,
    Team,
    TeamEnvironment,
    WorkloadAccount,
    edge_rule_slot,
    team_bucket_prefix,
)
from config.rules.problem import PartialConfig, Problem
from facts.aws import ALB_PATH_PATTERN_MAX, ALB_RULE_WILDCARDS_MAX
from facts.ec2 import INSTANCE_SIZES
from facts.kubernetes import PLATFORM_NAMESPACES


def _path(team: str, environment: str | None = None) -> str:
    return f"teams.{team}" if environment is None else f"teams.{team}.environments.{environment}"


def _workload(config: PartialConfig, name: str) -> WorkloadAccount | None:
    """The account if a team may run there (a workload account with a cluster), else None."""
    account = config.accounts.get(name)
    if isinstance(account, WorkloadAccount) and account.cluster is not None:
        return account
    return None


def _environments(config: PartialConfig) -> Iterator[tuple[str, Team, str, TeamEnvironment]]:
    """(team, team, account, the team there) for every environment in a valid workload account
    with a cluster: the others are reported once, by `teams_in_workload_accounts`."""
    for name, team in config.teams.items():
        for account_name, environment in team.environments.items():
            if _workload(config, account_name) is not None:
                yield name, team, account_name, environment


def _by_account(config: PartialConfig) -> dict[str, dict[str, TeamEnvironment]]:
    """Account -> team -> the team there (valid workload accounts with a cluster only)."""
    result: dict[str, dict[str, TeamEnvironment]] = {}
    for name, _, account_name, environment in _environments(config):
        result.setdefault(account_name, {})[name] = environment
    return result


def teams_in_workload_accounts(config: PartialConfig) -> Iterator[Problem]:
    """A team's environment is a workload account (dev, staging, prod, sandbox) whose cluster
    runs its pods."""
    for name, team in config.teams.items():
        for account_name in team.environments:
            path = f"{_path(name, account_name)}"
            account = config.accounts.get(account_name)
            if account is None:
                if account_name not in config.all_account_names:
                    known = ", ".join(n for n, a in config.accounts.items() if a.is_workload)
                    yield Problem(path, f"no such account (workload accounts: {known})")
            elif not account.is_workload:
                yield Problem(
                    path,
                    f"{account_name} is the {account.role} account: teams run in workload "
                    "accounts (dev, staging, prod, sandbox)",
                )
            elif account.cluster is None:
                yield Problem(
                    path,
                    f"accounts.{account_name} has no cluster for the team's pods; configure "
                    f"accounts.{account_name}.cluster",
                )


def team_data_exists(config: PartialConfig) -> Iterator[Problem]:
    """A team uses only data its account has; its IAM database user needs Aurora; two teams
    never share a bucket prefix."""
    for name, _, account_name, environment in _environments(config):
        account = _workload(config, account_name)
        assert account is not None
        data, path = environment.data, f"{_path(name, account_name)}.data"
        have = account.data
        if data.postgres and (have is None or have.postgres is None):
            yield Problem(
                f"{path}.postgres",
                f"accounts.{account_name} has no PostgreSQL database (data.postgres)",
                True,
            )
        elif data.postgres and isinstance(have and have.postgres, RdsPostgres):
            # The team's IAM database user is created through the RDS Data API, which only
            # Aurora clusters have (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/Welcome.html).
            yield Problem(
                f"{path}.postgres",
                f"accounts.{account_name}.data.postgres is RDS (engine: rds), and a team's IAM "
                "database user is created through the RDS Data API, which only Aurora has: "
                "use engine aurora-serverless-v2 or aurora-provisioned there, or drop "
                "postgres for the team",
                True,
            )
        caches = set(have.caches) if have else set()
        for index, cache_name in enumerate(data.caches):
            if cache_name not in caches:
                yield Problem(
                    f"{path}.caches.{index}",
                    f"no such cache in accounts.{account_name}.data.caches ({_names(caches)})",
                    cache_name,
                )
        buckets = set(have.buckets) if have else set()
        for index, grant in enumerate(data.buckets):
            if grant.bucket not in buckets:
                yield Problem(
                    f"{path}.buckets.{index}.bucket",
                    f"no such bucket in accounts.{account_name}.data.buckets ({_names(buckets)})",
                    grant.bucket,
                )
    yield from _bucket_prefixes_apart(config)


def _names(names: set[str]) -> str:
    return f"it has {', '.join(sorted(names))}" if names else "it has none"


def _bucket_prefixes_apart(config: PartialConfig) -> Iterator[Problem]:
    """Two teams' prefixes on one bucket never nest (a team's own grants may)."""
    for account_name, teams in _by_account(config).items():
        seen: dict[str, list[tuple[str, str]]] = {}  # bucket -> (team, prefix)
        for name, environment in teams.items():
            for index, grant in enumerate(environment.data.buckets):
                prefix = team_bucket_prefix(name, grant)
                for other, other_prefix in seen.get(grant.bucket, []):
                    if other != name and (
                        prefix.startswith(other_prefix) or other_prefix.startswith(prefix)
                    ):
                        yield Problem(
                            f"{_path(name, account_name)}.data.buckets.{index}",
                            f"prefix {prefix!r} of bucket {grant.bucket} overlaps team "
                            f"{other}'s {other_prefix!r}: each team's keys are its own, give "
                            "it a prefix of its own",
                        )
                seen.setdefault(grant.bucket, []).append((name, prefix))


class Capacity(NamedTuple):
    cpu: float
    memory_gib: float
    how: str
    """How it is computed, for the message."""
    path: str
    """The config key that sets it."""
    fix: str


def team_capacity(cluster: Cluster, role: str) -> Capacity | list[str]:
    """What the teams' namespace quotas of one cluster may add up to: the limits of its
    Karpenter node pools (`Cluster.karpenter_pools`: the workload capacity; the system node
    group holds the add-ons), or, for a cluster configured without pools, the system node
    group at `max_size` of its smallest instance type (raw vCPU and memory, an upper bound:
    the kubelet and the add-ons take their share). The instance types the facts table lacks,
    if any, instead."""
    pools = cluster.karpenter_pools(role)
    if pools:
        return Capacity(
            cpu=sum(pool.cpu_limit for pool in pools.values()),
            memory_gib=sum(pool.memory_limit_gib for pool in pools.values()),
            how="node_pools: " + ", ".join(pools),
            path="node_pools",
            fix="raise the pools' cpu_limit and memory_limit_gib or lower the quotas",
        )
    nodes = cluster.system_nodes
    unknown = [t for t in nodes.instance_types if t not in INSTANCE_SIZES]
    if unknown:
        return unknown
    sizes = [INSTANCE_SIZES[t] for t in nodes.instance_types]
    smallest = min(nodes.instance_types, key=lambda t: INSTANCE_SIZES[t])
    return Capacity(
        cpu=nodes.max_size * min(s.vcpus for s in sizes),
        memory_gib=nodes.max_size * min(s.memory_gib for s in sizes),
        how=f"system_nodes: {nodes.max_size} x {smallest}",
        path="system_nodes",
        fix="raise max_size, use larger instance types or lower the quotas",
    )


def team_quotas_fit(config: PartialConfig) -> Iterator[Problem]:
    """The teams' namespace quotas in an account fit what its cluster can hold."""
    for account_name, teams in _by_account(config).items():
        account = _workload(config, account_name)
        assert account is not None and account.cluster is not None
        capacity = team_capacity(account.cluster, account.role)
        if not isinstance(capacity, Capacity):
            continue
        for what, unit, limit, of in (
            ("CPU", "cores", capacity.cpu, lambda q: q.cpu),
            ("memory", "GiB", capacity.memory_gib, lambda q: q.memory_gib),
        ):
            each = {
                name: sum(of(q) for q in environment.namespaces.values())
                for name, environment in teams.items()
            }
            total = sum(each.values())
            if total > limit:
                shares = ", ".join(f"{n} {_num(v)}" for n, v in each.items())
                yield Problem(
                    f"accounts.{account_name}.cluster.{capacity.path}",
                    f"the teams' namespace quotas ask for {_num(total)} {unit} of {what} "
                    f"({shares}), more than the cluster holds ({_num(limit)}, "
                    f"{capacity.how}): {capacity.fix}",
                )


def _num(value: float) -> str:
    return f"{value:g}"


def team_quota_warnings(config: PartialConfig) -> Iterator[Problem]:
    """A cluster whose capacity the facts table cannot tell: its teams' quotas go unchecked."""
    for account_name in _by_account(config):
        account = _workload(config, account_name)
        assert account is not None and account.cluster is not None
        capacity = team_capacity(account.cluster, account.role)
        if isinstance(capacity, Capacity):
            continue
        types = account.cluster.system_nodes.instance_types
        for instance_type in capacity:
            yield Problem(
                f"accounts.{account_name}.cluster.system_nodes.instance_types."
                f"{types.index(instance_type)}",
                "the teams' quotas are not checked against this cluster: the instance type "
                "is not in facts/ec2.py INSTANCE_SIZES (add it)",
                instance_type,
            )


@cache
def patterns_overlap(a: str, b: str) -> bool:
    """Whether some path matches both CloudFront path patterns (`*`: any characters, `?`:
    exactly one)."""
    if not a or not b:
        rest = a or b
        return all(c == "*" for c in rest)
    if a[0] == "*":
        return patterns_overlap(a[1:], b) or patterns_overlap(a, b[1:])
    if b[0] == "*":
        return patterns_overlap(a, b[1:]) or patterns_overlap(a[1:], b)
    return (a[0] == b[0] or "?" in (a[0], b[0])) and patterns_overlap(a[1:], b[1:])


def team_public_paths(config: PartialConfig) -> Iterator[Problem]:
    """A public path belongs to one team, on an account with an edge, apart from the edge's
    own behaviours."""
    for account_name, teams in _by_account(config).items():
        account = _workload(config, account_name)
        assert account is not None
        edge = account.edge_settings
        claimed: list[tuple[str, str]] = []  # (team, pattern)
        slots: dict[int, str] = {}  # listener-rule slot -> team
        for name, environment in teams.items():
            if environment.public_paths and edge is not None:
                slot = edge_rule_slot(name)
                if slot in slots:
                    yield Problem(
                        f"{_path(name, account_name)}.public_paths",
                        f"team {slots[slot]} has the same edge listener-rule slot ({slot}, from "
                        "the CRC-32 of the name): their rules' priorities would collide; "
                        "rename one of the teams",
                    )
                slots.setdefault(slot, name)
            for index, pattern in enumerate(environment.public_paths):
                path = f"{_path(name, account_name)}.public_paths.{index}"
                if edge is None:
                    yield Problem(
                        path,
                        f"accounts.{account_name} has no edge (a workload account gets one "
                        f"with a domain): set accounts.{account_name}.domain",
                        pattern,
                    )
                    continue
                # ALB path conditions: at most 128 characters and 5 wildcards per rule
                # (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html).
                if len(pattern) > ALB_PATH_PATTERN_MAX:
                    yield Problem(
                        path,
                        f"longer than the {ALB_PATH_PATTERN_MAX} characters of an ALB path "
                        "condition",
                        pattern,
                    )
                if sum(pattern.count(c) for c in "*?") > ALB_RULE_WILDCARDS_MAX:
                    yield Problem(
                        path,
                        f"more than the {ALB_RULE_WILDCARDS_MAX} wildcards (* and ?) an ALB "
                        "listener rule allows",
                        pattern,
                    )
                for other, other_pattern in claimed:
                    if other != name and patterns_overlap(pattern, other_pattern):
                        yield Problem(
                            path,
                            f"overlaps team {other}'s public path {other_pattern!r}: a path "
                            "belongs to one team",
                            pattern,
                        )
                for b, behavior in enumerate(edge.behaviors):
                    if patterns_overlap(pattern, behavior.path):
                        yield Problem(
                            path,
                            f"overlaps the edge's behaviour {behavior.path!r} "
                            f"(accounts.{account_name}.edge.behaviors.{b}, origin "
                            f"{behavior.origin}): choose a path the edge does not route",
                            pattern,
                        )
                claimed.append((name, pattern))


def team_namespaces(config: PartialConfig) -> Iterator[Problem]:
    """A namespace belongs to one team, never the platform's or a Fargate one."""
    for account_name, teams in _by_account(config).items():
        account = _workload(config, account_name)
        assert account is not None and account.cluster is not None
        fargate = account.cluster.fargate_namespaces
        owner: dict[str, str] = {}
        for name, environment in teams.items():
            for namespace in environment.namespaces:
                path = f"{_path(name, account_name)}.namespaces.{namespace}"
                if namespace in PLATFORM_NAMESPACES:
                    yield Problem(
                        path,
                        "reserved for Kubernetes or the platform's add-ons; choose another name",
                    )
                elif namespace in fargate:
                    yield Problem(
                        path,
                        f"one of accounts.{account_name}.cluster.fargate_namespaces: its pods "
                        "run on Fargate, outside the team's scope",
                    )
                elif namespace in owner:
                    yield Problem(path, f"team {owner[namespace]} has it in {account_name} too")
                else:
                    owner[namespace] = name


def team_services(config: PartialConfig) -> Iterator[Problem]:
    """A service comes from one of the team's repositories, into a namespace the team has in
    each of its environments."""
    for name, team in config.teams.items():
        for service_name, service in team.services.items():
            path = f"{_path(name)}.services.{service_name}"
            if service.repository not in team.repositories:
                yield Problem(
                    f"{path}.repository",
                    f"not one of teams.{name}.repositories ({', '.join(team.repositories)})",
                    service.repository,
                )
            missing = [
                e for e, env in team.environments.items() if service.namespace not in env.namespaces
            ]
            if missing:
                yield Problem(
                    f"{path}.namespace",
                    f"the team has no such namespace in {', '.join(missing)} (Argo CD deploys "
                    "the service to every environment of the team)",
                    service.namespace,
                )


def team_images(config: PartialConfig) -> Iterator[Problem]:
    """A team's images live in the registry (`<prefix>/<team>/<name>`, so they never collide
    with `registry.repositories`, `<prefix>/<name>`, nor with another team's)."""
    for name, team in config.teams.items():
        if team.images and config.registry is None:
            yield Problem(
                f"{_path(name)}.images",
                "needs a registry section: a team's images are ECR repositories of the "
                "registry in shared-services",
            )


def _account_id(arn: str) -> str:
    return arn.split(":")[4]


def team_owners(config: PartialConfig) -> Iterator[Problem]:
    """A team has owners, each a role of one of its environments' accounts, and none already
    an admin or viewer of that cluster (EKS has one access entry per principal)."""
    ids = [a.id for a in config.accounts.values()]
    ids_unique = len(ids) == len(set(ids))  # else `unique_account_ids` says so, and ids mislead
    for name, team in config.teams.items():
        if not team.owners:
            yield Problem(
                f"{_path(name)}.owners",
                "a team needs at least one owner (an IAM role in one of its environments' "
                "accounts) to reach its namespaces",
            )
        accounts = {n: config.accounts[n] for n in team.environments if n in config.accounts}
        # (an environment whose account failed validation has no id to compare: say nothing)
        for index, arn in enumerate(team.owners):
            path = f"{_path(name)}.owners.{index}"
            matching = [n for n, a in accounts.items() if a.id == _account_id(arn)]
            checkable = ids_unique and len(accounts) == len(team.environments)
            if accounts and not matching and checkable:
                ids = ", ".join(f"{n} {a.id}" for n, a in accounts.items())
                yield Problem(
                    path,
                    f"not a role of one of the team's environment accounts ({ids}); an owner "
                    "reaches the cluster of its own account only",
                    arn,
                )
            for account_name in matching:
                yield from _not_a_cluster_principal(accounts[account_name], account_name, path, arn)


def _not_a_cluster_principal(account: Account, name: str, path: str, arn: str) -> Iterator[Problem]:
    cluster = account.cluster
    if cluster is None:
        return
    for field in ("admin_role_arns", "viewer_role_arns"):
        if arn in getattr(cluster, field):
            yield Problem(
                path,
                f"also in accounts.{name}.cluster.{field}: EKS allows one access entry per "
                "IAM principal, so it cannot get the team's namespaced access as well; use "
                "another role for the team",
                arn,
            )


def team_owner_warnings(config: PartialConfig) -> Iterator[Problem]:
    """An environment none of the team's owners can reach (the team has owners elsewhere)."""
    for name, team, account_name, _ in _environments(config):
        account = config.accounts[account_name]
        if team.owners and not any(_account_id(a) == account.id for a in team.owners):
            yield Problem(
                _path(name, account_name),
                f"no owner of the team is a role of {account_name} ({account.id}): nobody of "
                "the team can reach its namespaces there",
            )
