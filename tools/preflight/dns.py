"""The public NS records of a domain, for the preflight's DNS delegation check.

The same lookup as the pipeline's DnsDelegation step (`runtime.dns_delegation`, dnspython): a
recursive resolver answers with the name servers the domain is delegated to (the registrar's
or the parent zone's), as long as those servers answer for it; caches may keep an old answer
for up to the record's TTL (often 48 hours at the TLD) after a change.
"""

from __future__ import annotations

from collections.abc import Callable

from runtime.dns_delegation import LookupFailed, lookup_name_servers

Resolver = Callable[[str], list[str]]
"""Domain name -> its public name servers (lowercase, no trailing dot); [] when it has none.
Raises ResolverUnavailable when no lookup is possible."""


class ResolverUnavailable(Exception):
    """The lookup itself failed (no resolver reachable, timeout)."""


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


def system_resolver(
    lookup: Callable[[str], list[str]] = lookup_name_servers,
) -> Resolver:
    """A resolver asking the machine's configured DNS servers."""

    def resolve(name: str) -> list[str]:
        try:
            return sorted({normalise(server) for server in lookup(name)})
        except LookupFailed as error:
            raise ResolverUnavailable(f"the DNS lookup failed: {error}") from None

    return resolve
