"""The public NS records of a domain, asked of the machine's resolver through `dig`, `host`
or `nslookup` (whichever is installed first), so the preflight needs no DNS library.

A recursive resolver answers with the name servers the domain is delegated to (the
registrar's or the parent zone's), as long as those servers answer for it; caches may keep
an old answer for up to the record's TTL (often 48 hours at the TLD) after a change.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence

Resolver = Callable[[str], list[str]]
"""Domain name -> its public name servers (lowercase, no trailing dot); [] when it has none.
Raises ResolverUnavailable when no lookup is possible."""
Run = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class ResolverUnavailable(Exception):
    """No lookup tool, or the lookup itself failed (no network, timeout)."""


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def normalise(name: str) -> str:
    return name.strip().rstrip(".").lower()


def parse_dig(output: str) -> list[str]:
    """`dig +short NS <name>`: one name server per line (`;;` lines are dig's complaints)."""
    return sorted(
        {
            normalise(line)
            for line in output.splitlines()
            if len(line.split()) == 1 and not line.startswith(";")
        }
    )


def parse_host(output: str) -> list[str]:
    """`host -t NS <name>`: `<name> name server <server>.` lines."""
    return sorted(
        {
            normalise(line.split(" name server ", 1)[1])
            for line in output.splitlines()
            if " name server " in line
        }
    )


def parse_nslookup(output: str) -> list[str]:
    """`nslookup -type=NS <name>`: `<name>\tnameserver = <server>.` lines."""
    return sorted(
        {
            normalise(line.split("nameserver =", 1)[1])
            for line in output.splitlines()
            if "nameserver =" in line
        }
    )


LOOKUPS: tuple[tuple[str, Callable[[str], list[str]], Callable[[str], list[str]]], ...] = (
    ("dig", lambda name: ["dig", "+short", "NS", name], parse_dig),
    ("host", lambda name: ["host", "-t", "NS", name], parse_host),
    ("nslookup", lambda name: ["nslookup", "-type=NS", name], parse_nslookup),
)
"""Tool, its command for a name, and the parser of its output; tried in this order."""
NO_SUCH_DOMAIN = ("NXDOMAIN", "not found", "has no NS record", "No answer")


def system_resolver(
    *, run: Run = _run, which: Callable[[str], str | None] = shutil.which
) -> Resolver:
    """A resolver using the first of dig, host and nslookup on PATH."""

    def resolve(name: str) -> list[str]:
        for tool, command, parse in LOOKUPS:
            if which(tool) is None:
                continue
            try:
                done = run(command(name))
            except (OSError, subprocess.SubprocessError) as error:
                raise ResolverUnavailable(f"{tool} failed: {error}") from None
            servers = parse(done.stdout)
            if servers or done.returncode == 0:
                return servers
            if any(marker in done.stdout + done.stderr for marker in NO_SUCH_DOMAIN):
                return []
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ResolverUnavailable(
                f"{tool} exited {done.returncode}" + (f": {said[-1]}" if said else "")
            )
        raise ResolverUnavailable("none of dig, host or nslookup is installed")

    return resolve
