"""What every rule works with: the problem it reports and the part of the config it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from config.model import (
    Account,
    Ci,
    Dns,
    GitOps,
    Notifications,
    Organization,
    Pipeline,
    Registry,
    Team,
)

_NO_VALUE: Any = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where, what, and the value found there."""

    path: str
    message: str
    value: Any = _NO_VALUE

    def __str__(self) -> str:
        shown = "" if self.value is _NO_VALUE else f" (got {self.value!r})"
        return f"{self.path}: {self.message}{shown}"


@dataclass(frozen=True)
class PartialConfig:
    """What survived field validation: the organisation if valid, and the valid accounts."""

    organization: Organization | None
    accounts: Mapping[str, Account]
    all_account_names: tuple[str, ...]
    """Every account name in the file, valid or not (so role counts don't over-report)."""
    pipeline: Pipeline | None = None
    gitops: GitOps | None = None
    registry: Registry | None = None
    ci: Ci | None = None
    dns: Dns | None = None
    notifications: Notifications | None = None
    notifications_invalid: bool = False
    """`notifications` is in the file but failed field validation (its problems are reported)."""
    teams: Mapping[str, Team] = field(default_factory=dict)
    """The teams that passed field validation."""
    today: date = field(default_factory=date.today)
    """The date support windows are judged on (the EKS version guard)."""

    @property
    def all_accounts_valid(self) -> bool:
        """Whether every account passed field validation (else a missing role may just be an
        account that failed it)."""
        return len(self.accounts) == len(self.all_account_names)


Rule = Callable[[PartialConfig], Iterator[Problem]]
"""A rule: the configuration in, every problem it finds out."""
