"""Argo CD needs clusters to run on: the hub's, in hub-and-spoke mode."""

from __future__ import annotations

from collections.abc import Iterator

from config.model import argocd_high_availability_of, gitops_role_of
from config.rules.problem import PartialConfig, Problem
from facts.kubernetes import REDIS_HA_MIN_NODES


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


def argocd_high_availability_has_nodes(config: PartialConfig) -> Iterator[Problem]:
    """Argo CD's HA install needs a node per redis-ha replica: refuse it on a cluster whose
    node group may shrink below that, instead of a Helm install that times out."""
    for name, account in config.accounts.items():
        if account.cluster is None or not argocd_high_availability_of(config.gitops, account):
            continue
        nodes = account.cluster.system_nodes.min_size
        if nodes < REDIS_HA_MIN_NODES:
            yield Problem(
                f"accounts.{name}.cluster.system_nodes.min_size",
                f"Argo CD runs in high availability on this cluster, whose redis-ha needs "
                f"{REDIS_HA_MIN_NODES} nodes (one per replica); raise min_size to "
                f"{REDIS_HA_MIN_NODES} or set gitops.high_availability: false",
                nodes,
            )


def spokes_reach_the_hub(config: PartialConfig) -> Iterator[Problem]:
    """The hub's Argo CD calls each spoke's private API endpoint over the Transit Gateway:
    a spoke must be attached and routed to shared-services."""
    gitops = config.gitops
    if gitops is None or gitops.mode != "hub-and-spoke":
        return
    hubs = [n for n, a in config.accounts.items() if a.role == "shared-services"]
    if not hubs:
        return
    for name, account in config.accounts.items():
        if gitops_role_of(gitops, account) != "spoke":
            continue
        attachment = account.network.transit_gateway if account.network else None
        attached = {
            n for n, a in config.accounts.items() if a.network and a.network.transit_gateway
        }
        if attachment is not None and not set(attachment.reach) <= attached:
            continue  # config.rules.network.transit_gateway_reach names the bad entry
        if attachment is None or hubs[0] not in attachment.reach:
            yield Problem(
                f"accounts.{name}.network.transit_gateway",
                "the hub's Argo CD deploys to this cluster through its private endpoint: "
                f"attach the VPC with reach [{hubs[0]}]"
                + (" (or set gitops.register_sandbox: false)" if account.role == "sandbox" else ""),
                None if attachment is None else list(attachment.reach),
            )
