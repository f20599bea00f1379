"""Argo CD needs clusters to run on: the hub's, in hub-and-spoke mode."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.problem import PartialConfig, Problem


def gitops_has_clusters(config: PartialConfig) -> Iterator[Problem]:
    gitops = config.gitops
    if gitops is None or not config.all_accounts_valid:
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
