"""EKS clusters: a Kubernetes version Amazon EKS creates and a kubectl layer exists for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from config.eks_calendar import (
    ADDON_VERSION_COMMAND,
    EKS_CALENDAR,
    accepted_versions,
    addon_versions,
    karpenter_ami_alias,
)
from config.model import ADDONS
from config.rules.problem import PartialConfig, Problem


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


def addon_versions_pinned(config: PartialConfig) -> Iterator[Problem]:
    """Every managed add-on has a pinned version: the calendar's table for the cluster's
    Kubernetes version, or the cluster's own `addon_versions`."""
    for name, account in config.accounts.items():
        cluster = account.cluster
        if cluster is None or cluster.kubernetes_version not in accepted_versions(config.today):
            continue  # kubernetes_version_supported names the version
        version = cluster.kubernetes_version
        pinned = addon_versions(version, {str(k): v for k, v in cluster.addon_versions.items()})
        for addon in ADDONS:
            if addon not in pinned:
                command = ADDON_VERSION_COMMAND.format(version=version, addon=addon)
                yield Problem(
                    f"accounts.{name}.cluster.addon_versions.{addon}",
                    f"the platform has no verified {addon} version for Kubernetes {version} "
                    f"yet: pin the one EKS offers (`{command}`)",
                )


def kubernetes_version_warnings(config: PartialConfig) -> Iterator[Problem]:
    """Valid but costly: clusters on a version in extended support."""
    for name, account in config.accounts.items():
        if account.cluster is None:
            continue
        version = account.cluster.kubernetes_version
        release = EKS_CALENDAR.get(version)
        if release is not None and release.status(config.today) == "extended":
            assert release.standard_support_ends and release.extended_support_ends
            yield Problem(
                f"accounts.{name}.cluster.kubernetes_version",
                f"{version} left standard support on {_day(release.standard_support_ends)}:"
                " Amazon EKS charges the extended-support rate per cluster hour until "
                f"{_day(release.extended_support_ends)}; plan the upgrade",
                version,
            )


_CRON_FIELD = re.compile(
    r"^(\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(/[0-9]+)?(,(\*|[0-9a-zA-Z]+(-[0-9a-zA-Z]+)?)(/[0-9]+)?)*$"
)
_CRON_MACROS = ("@annually", "@yearly", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = {
    3: ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    4: ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
}


def _cron_problem(schedule: str) -> str | None:
    """Why `schedule` is not a five-field cron (or macro) Karpenter accepts, or None."""
    if schedule in _CRON_MACROS:
        return None
    fields = schedule.split()
    if len(fields) != 5:
        return "a cron of five fields (minute hour day-of-month month day-of-week) or @daily"
    for index, (field, (low, high)) in enumerate(zip(fields, _CRON_RANGES, strict=True)):
        if not _CRON_FIELD.match(field):
            return f"field {index + 1} ({field!r}) is not cron"
        for token in re.split(r"[,/-]", field):
            if token == "*" or token.lower() in _CRON_NAMES.get(index, ()):
                continue
            if not token.isdigit() or not low <= int(token) <= high:
                return f"field {index + 1} ({field!r}): {token} is outside {low}-{high}"
    return None


def karpenter_pools_valid(config: PartialConfig) -> Iterator[Problem]:
    """Each cluster's Karpenter pools: schedules are cron, a pinned AMI exists for the
    Kubernetes version, and some pool without a taint can launch on-demand capacity (system
    and untolerating work must not depend on Spot alone)."""
    for name, account in config.accounts.items():
        cluster = account.cluster
        if cluster is None or cluster.kubernetes_version not in accepted_versions(config.today):
            continue  # kubernetes_version_supported names the version
        path = f"accounts.{name}.cluster.node_pools"
        pools = cluster.karpenter_pools(account.role)
        for pool_name, pool in pools.items():
            for index, budget in enumerate(pool.budgets):
                if budget.schedule is not None:
                    why = _cron_problem(budget.schedule)
                    if why is not None:
                        yield Problem(
                            f"{path}.{pool_name}.budgets.{index}.schedule", why, budget.schedule
                        )
        if not pools:
            continue
        if karpenter_ami_alias(cluster.kubernetes_version, cluster.system_nodes.ami_type) is None:
            yield Problem(
                path,
                f"no Karpenter AMI release is pinned for Kubernetes {cluster.kubernetes_version}"
                " yet: add one to config/eks_calendar.py KARPENTER_AMI_VERSIONS",
            )
        if not any(
            "on-demand" in pool.capacity_types
            and not any(t.effect != "PreferNoSchedule" for t in pool.taints)
            for pool in pools.values()
        ):
            yield Problem(
                path,
                "no pool without taints launches on-demand capacity: add one (on-demand in "
                "capacity_types), so work that does not tolerate Spot has somewhere to run",
            )
