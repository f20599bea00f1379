"""Load `platform.yaml` into a validated `PlatformConfig`, or fail with every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from config.model import (
    Account,
    Ci,
    Dns,
    GitOps,
    Organization,
    Pipeline,
    PlatformConfig,
    Registry,
)
from config.rules import PartialConfig, Problem, check, warnings

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """The configuration cannot be used. `str()` is the whole message for the user."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = [f"{source}: {count} in the platform configuration:"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def load_config(path: str | Path, *, today: date | None = None) -> PlatformConfig:
    """Read, parse and validate the file at `path`; support windows are judged on `today`
    (default: the current date)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [Problem("(file)", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [Problem("(file)", f"cannot be read: {exc}")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}" if where else "(file)"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [Problem(at, f"invalid YAML: {reason}")]) from None
    return parse_config(raw, source=source, today=today)


def parse_config(
    raw: Any, *, source: str = "<config>", today: date | None = None
) -> PlatformConfig:
    """Validate already-parsed YAML. Raises `ConfigError` listing every problem."""
    if not isinstance(raw, Mapping):
        shown = type(raw).__name__ if raw is not None else "an empty document"
        raise ConfigError(source, [Problem("(file)", f"expected a mapping, found {shown}")])
    problems: list[Problem] = []
    try:
        config = PlatformConfig.model_validate(raw)
    except ValidationError as exc:
        problems += [_problem_from_pydantic(error) for error in exc.errors()]
        config = None
    problems += check(_partial(config, raw, today or date.today()))
    if problems:
        raise ConfigError(source, problems)
    assert config is not None
    return config


def config_warnings(config: PlatformConfig, *, today: date | None = None) -> list[Problem]:
    """What is valid but worth a look (e.g. a Kubernetes version in extended support)."""
    return warnings(_partial(config, {}, today or date.today()))


def _partial(config: PlatformConfig | None, raw: Mapping[str, Any], today: date) -> PartialConfig:
    """The part of the file that cross-field rules can reason about."""
    raw_accounts = raw.get("accounts")
    names = tuple(str(n) for n in raw_accounts) if isinstance(raw_accounts, Mapping) else ()
    if config is not None:
        return PartialConfig(
            organization=config.organization,
            accounts=config.accounts,
            all_account_names=names or tuple(config.accounts),
            pipeline=config.pipeline,
            gitops=config.gitops,
            registry=config.registry,
            ci=config.ci,
            dns=config.dns,
            today=today,
        )
    accounts = {}
    if isinstance(raw_accounts, Mapping):
        for name, value in raw_accounts.items():
            # An unknown key is already reported; don't let it hide this account's other rules.
            known = (
                {k: v for k, v in value.items() if k in Account.model_fields}
                if isinstance(value, Mapping)
                else value
            )
            account = _valid_or_none(Account, known)
            if account is not None:
                accounts[str(name)] = account
    return PartialConfig(
        organization=_valid_or_none(Organization, raw.get("organization")),
        accounts=accounts,
        all_account_names=names,
        pipeline=_valid_or_none(Pipeline, raw.get("pipeline")),
        gitops=_valid_or_none(GitOps, raw.get("gitops")),
        registry=_valid_or_none(Registry, raw.get("registry")),
        ci=_valid_or_none(Ci, raw.get("ci")),
        dns=_valid_or_none(Dns, raw.get("dns")),
        today=today,
    )


def _valid_or_none(model: type[M], value: Any) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling against the README's reference)",
    "missing": "required key is missing",
}


def _problem_from_pydantic(error: Mapping[str, Any]) -> Problem:
    path = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return Problem(path, _MESSAGES[kind])
    message = _MESSAGES.get(kind) or error["msg"].removeprefix("Value error, ")
    if kind in ("string_pattern_mismatch", "string_type"):
        general = (
            ".".join(["accounts", "*", *map(str, error["loc"][2:])])
            if path.startswith("accounts.")
            else path
        )
        message = _PATTERN_HINTS.get(general, _PATTERN_HINTS.get(path.rsplit(".", 1)[-1], message))
    return Problem(path, message, error.get("input"))


# Plain-language versions of the regexes in config.model, keyed by path (`accounts.*.` for any
# account) or by field name.
_PATTERN_HINTS = {
    "accounts.*.id": "must be exactly 12 digits (quote it in YAML so leading zeros survive)",
    "organization.id": "must be the organisation id: o- and 10-32 lowercase letters or digits",
    "organization.root_id": "must be the root id: r- and 4-32 lowercase letters or digits",
    "region": "not a region name like eu-west-1",
    "home_region": "not a region name like eu-west-1",
    "prefix": "must be 2-12 lowercase letters or digits, starting with a letter",
}
