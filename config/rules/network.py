"""VPCs and DNS across accounts: zones in the right region, disjoint ranges, the Transit
Gateway's reach, subzones below the parent zone."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from itertools import combinations

from config.rules.problem import PartialConfig, Problem


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
        if account.domain is not None and not account.domain.endswith(f".{parent}"):
            yield Problem(
                f"accounts.{name}.domain",
                f"must be below dns.parent_zone ({parent}): the parent zone is in "
                "shared-services and delegates one subzone per environment",
                account.domain,
            )
