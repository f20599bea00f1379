"""EKS clusters: a Kubernetes version Amazon EKS creates and a kubectl layer exists for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from config.eks_calendar import (
    ADDON_VERSION_COMMAND,
    EKS_CALENDAR,
    accepted_versions,
    addon_versions,
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
