"""What a preflight check found, and the one table they are printed as."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"
    """The prerequisite is in place."""
    PENDING = "PENDING"
    """Not in place yet, but a stack of the platform creates it and that stack has not been
    deployed yet: nothing to do before the first pipeline run."""
    FAIL = "FAIL"
    """Not in place, and nothing the pipeline deploys will put it there (or the stack that
    should have, already ran): a person must act before deploying. Also: could not be checked."""


@dataclass(frozen=True)
class Result:
    check: str
    where: str
    """The account (name and id) and region, or `organisation`."""
    status: Status
    found: str
    """What the check saw; for FAIL, what is wrong."""
    fix: str = ""
    """What to do about it (FAIL), or what will happen (PENDING)."""

    @property
    def details(self) -> str:
        return f"{self.found}. {self.fix}" if self.fix else self.found


def passed(check: str, where: str, found: str) -> Result:
    return Result(check, where, Status.PASS, found)


def failed(check: str, where: str, found: str, fix: str) -> Result:
    return Result(check, where, Status.FAIL, found, fix)


def pending(check: str, where: str, found: str, fix: str) -> Result:
    return Result(check, where, Status.PENDING, found, fix)


HEADINGS = ("CHECK", "WHERE", "RESULT", "DETAILS AND HOW TO FIX")
DETAILS_WIDTH = 80
"""The last column wraps at this width (a URL is never split), continuation lines indented
under it."""


def render(results: Sequence[Result]) -> str:
    """One table, in the order the checks ran, and a count of each result."""
    rows = [(r.check, r.where, str(r.status), r.details) for r in results]
    widths = [max(len(row[i]) for row in [HEADINGS, *rows]) for i in range(3)]
    indent = sum(widths) + 2 * len(widths)
    lines = []
    for row in [HEADINGS, *rows]:
        lead = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        wrapped = textwrap.wrap(
            row[3], DETAILS_WIDTH, break_long_words=False, break_on_hyphens=False
        ) or [""]
        lines.append(f"{lead}  {wrapped[0]}".rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    counts = {status: sum(r.status is status for r in results) for status in Status}
    lines.append(
        f"{counts[Status.PASS]} passed, {counts[Status.PENDING]} pending, "
        f"{counts[Status.FAIL]} failed"
    )
    return "\n".join(lines)


def exit_status(results: Sequence[Result]) -> int:
    """1 if any check failed, else 0 (PENDING is not a failure)."""
    return int(any(r.status is Status.FAIL for r in results))
