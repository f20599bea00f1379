"""Stop the first rollout, with the fix in the message, until the registrar delegates the
parent zone to Route 53.

The workload accounts' certificates validate through DNS records in their subzones, which the
parent zone (shared-services/Dns) delegates; the public can resolve them only once the
domain's registrar points at the parent zone's name servers. Without that, ACM waits (up to 72
hours) and the pipeline seems to hang. A CodeBuild step in the shared-services account runs
this before the first wave that holds a certificate:

    python -m runtime.dns_delegation --zone example.com

It reads the zone's name servers from Route 53 and the ones the public DNS answers for the
zone, and fails (exit 1) naming the name servers to set at the registrar when they differ.
Fix the registrar, then retry the stage. Needs boto3 and dnspython.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence

import boto3

Resolver = Callable[[str], Iterable[str]]


class LookupFailed(Exception):
    """No answer could be had: no resolver reachable, or it timed out."""


def lookup_name_servers(zone: str) -> list[str]:
    """The NS records the public DNS answers for `zone` ([] when it has none or does not
    exist); raises LookupFailed when the DNS could not be asked."""
    import dns.exception
    import dns.resolver

    try:
        return [str(record.target) for record in dns.resolver.resolve(zone, "NS")]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as error:
        raise LookupFailed(str(error)) from None


def public_name_servers(zone: str) -> list[str]:
    """The NS records the public DNS answers for `zone` (none if it cannot be had: the step
    then reports the zone as not delegated, and a retry asks again)."""
    try:
        return lookup_name_servers(zone)
    except LookupFailed:
        return []


def normalise(names: Iterable[str]) -> set[str]:
    return {name.lower().rstrip(".") for name in names}


def zone_name_servers(route53, zone: str) -> list[str] | None:
    """The name servers Route 53 gave the public hosted zone `zone`, if it exists."""
    wanted = zone.rstrip(".") + "."
    listed = route53.list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")["HostedZones"]
    for hosted in listed:
        if hosted["Name"] == wanted and not hosted.get("Config", {}).get("PrivateZone"):
            zone_id = hosted["Id"].split("/")[-1]
            return route53.get_hosted_zone(Id=zone_id)["DelegationSet"]["NameServers"]
    return None


def check(route53, zone: str, resolve: Resolver = public_name_servers) -> list[str]:
    """What is wrong with the delegation of `zone` (nothing when the registrar is right)."""
    assigned = zone_name_servers(route53, zone)
    if assigned is None:
        return [f"{zone}: no public hosted zone in this account; deploy shared-services/Dns first"]
    answered = normalise(resolve(zone))
    if answered == normalise(assigned):
        return []
    return [
        f"{zone}: the registrar does not delegate to Route 53 yet (the public DNS answers "
        f"{', '.join(sorted(answered)) or 'nothing'}). Set the domain's name servers at the "
        f"registrar to: {', '.join(sorted(normalise(assigned)))}; then retry this stage."
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--zone", required=True, help="the parent zone, e.g. example.com")
    args = parser.parse_args(argv)
    problems = check(boto3.client("route53"), args.zone)
    for problem in problems:
        print(f"NOT DELEGATED: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.zone}: the registrar delegates to the Route 53 zone")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
