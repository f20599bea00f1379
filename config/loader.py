"""Load `platform.yaml` into a validated `PlatformConfig`, or fail with every problem at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from config.model import (
    ACCOUNT_MODELS,
    Account,
    Ci,
    Dns,
    GitOps,
    Notifications,
    Organization,
    Pipeline,
    PlatformConfig,
    Registry,
    Team,
)
from config.rules import PartialConfig, Problem, check, warnings
from config.unions import discriminator, member_for, tags, union_members, unwrap

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


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key that appears twice in one mapping: plain YAML keeps
    the last one silently, so a second `dev:` under `accounts` would replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
        raw = yaml.load(text, Loader=UniqueKeyLoader)
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
            notifications=config.notifications,
            teams=config.teams,
            today=today,
        )
    accounts = {}
    if isinstance(raw_accounts, Mapping):
        for name, value in raw_accounts.items():
            account = _valid_account(value)
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
        notifications=(notifications := _valid_or_none(Notifications, raw.get("notifications"))),
        notifications_invalid=notifications is None and raw.get("notifications") is not None,
        teams=_valid_teams(raw.get("teams")),
        today=today,
    )


def _valid_teams(value: Any) -> dict[str, Team]:
    """The teams that pass field validation on their own (one bad team hides no other's
    cross-field problems)."""
    if not isinstance(value, Mapping):
        return {}
    teams = {str(name): _valid_or_none(Team, team) for name, team in value.items()}
    return {name: team for name, team in teams.items() if team is not None}


def _valid_account(value: Any) -> Account | None:
    """The account as the model of its role sees it, or None. Keys its role does not have
    are dropped first: they are already reported, and must not hide the account's other
    rules."""
    if not isinstance(value, Mapping) or not isinstance(value.get("role"), str):
        return None
    model = ACCOUNT_MODELS.get(value["role"])
    if model is None:
        return None
    return _valid_or_none(model, {k: v for k, v in value.items() if k in model.model_fields})


def _valid_or_none(model: type[M], value: Any) -> M | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


# --- pydantic's errors, in the file's terms ---------------------------------------------------

_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling against docs/configuration.md)",
    "missing": "required key is missing",
    "model_type": "should be a mapping of keys to values",
    "model_attributes_type": "should be a mapping of keys to values",
}

# Why a key that some roles (or engines) have is refused on the others, by the union's
# discriminator and the key; `{chosen}` is "a dev account", "engine rds", ...
_NOT_FOR_THIS = {
    ("role", "network"): "not allowed for {chosen} (it has no VPC)",
    ("role", "cluster"): "not allowed for {chosen} (it has no VPC)",
    ("role", "domain"): "not allowed for {chosen} (only workload accounts hold a subzone)",
    ("role", "edge"): "not allowed for {chosen} (workloads only)",
    ("role", "data"): "not allowed for {chosen} (workloads only)",
    ("role", "log_archive"): "only the security account holds the log archive, not {chosen}",
    ("role", "audit"): "only the security account runs the audit services, not {chosen}",
    ("engine", "readers"): "Aurora only; RDS PostgreSQL stays available through `multi_az`",
    ("engine", "multi_az"): "RDS only; Aurora stays available through `readers` in other AZs",
}


def _problem_from_pydantic(error: Mapping[str, Any]) -> Problem:
    where = _locate(error["loc"])
    path = ".".join(str(part) for part in where.path) or "(top level)"
    kind, value = error["type"], error.get("input")
    if kind in ("union_tag_invalid", "union_tag_not_found") and where.union:
        # The loc ends at the union; the problem is its discriminator (`role`, `engine`).
        field = discriminator(where.union)
        if kind == "union_tag_not_found":
            return Problem(f"{path}.{field}", _MESSAGES["missing"])
        found = value.get(field) if isinstance(value, Mapping) else error["ctx"]["tag"]
        return Problem(f"{path}.{field}", f"Input should be {_either(where.union)}", found)
    key = where.path[-1] if where.path else None
    if where.tag is not None and isinstance(key, str):
        # A key of a model its role or engine chose: say which roles or engines have it.
        holders = tuple(m for m in where.union if key in m.model_fields)
        if kind == "extra_forbidden" and holders:
            return _not_for_this(where, key, holders, path, value)
        if kind == "missing" and len(holders) < len(where.union):
            return Problem(path, f"required for {_chosen(where)}")
    if kind == "missing":
        return Problem(path, _MESSAGES[kind])
    message = _MESSAGES.get(kind) or error["msg"].removeprefix("Value error, ")
    if kind in ("string_pattern_mismatch", "string_type"):
        general = (
            ".".join(["accounts", "*", *map(str, where.path[2:])])
            if path.startswith("accounts.")
            else path
        )
        message = _PATTERN_HINTS.get(general, _PATTERN_HINTS.get(path.rsplit(".", 1)[-1], message))
    return Problem(path, message, value)


def _not_for_this(
    where: _Location, key: str, holders: tuple[type[BaseModel], ...], path: str, value: Any
) -> Problem:
    field = discriminator(where.union)
    holding = _join([str(tag) for m in holders for tag in tags(m, field)], "and")
    template = _NOT_FOR_THIS.get((field, key), "not allowed for {chosen} ({holding} only)")
    message = template.format(chosen=_chosen(where), holding=holding)
    if isinstance(value, Mapping | list):
        return Problem(path, message)  # a whole section: its contents are beside the point
    return Problem(path, message, value)


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


# --- where an error is, in the file ------------------------------------------------------------


@dataclass(frozen=True)
class _Location:
    """An error's location as the file spells it, and the union that decided its model."""

    path: tuple[str | int, ...]
    """The keys, without the tags pydantic adds for a discriminated union: pydantic says
    `accounts.dev.dev.network.cidr` (the second `dev` is the role), the file
    `accounts.dev.network.cidr`."""
    union: tuple[type[BaseModel], ...] = ()
    """The members of the union that chose the model the last key belongs to, or of the
    union the location ends at."""
    tag: str | None = None
    """The tag (the role, the engine) that chose the model; None when the location ends at
    the union itself."""


def _locate(loc: tuple[str | int, ...]) -> _Location:
    """Follow an error's `loc` through the model's types, dropping union tags."""
    node: Any = PlatformConfig
    path: list[str | int] = []
    union: tuple[type[BaseModel], ...] = ()
    tag: str | None = None
    context: tuple[tuple[type[BaseModel], ...], str | None] = ((), None)
    for part in loc:
        node = unwrap(node)
        members = union_members(node)
        if members:
            union, tag = members, str(part)
            node = member_for(members, part)
            continue
        path.append(part)
        if isinstance(node, type) and issubclass(node, BaseModel):
            context = (union, tag) if node in union else ((), None)
            field = node.model_fields.get(str(part))
            node = field.annotation if field is not None else None
        else:
            context = ((), None)
            args = get_args(node)
            node = args[-1] if get_origin(node) is dict else args[0] if args else None
    ending = union_members(unwrap(node))
    if ending:
        context = (ending, None)
    return _Location(tuple(path), *context)


def _either(members: tuple[type[BaseModel], ...]) -> str:
    """Every tag of a union as pydantic words a Literal's values: 'a', 'b' or 'c'."""
    field = discriminator(members)
    return _join([repr(tag) for m in members for tag in tags(m, field)], "or")


def _join(values: list[str], word: str) -> str:
    """The values in words: a, b and c (or a, b or c)."""
    return ", ".join(values[:-1]) + f" {word} {values[-1]}" if len(values) > 1 else values[0]


def _chosen(where: _Location) -> str:
    """What chose the model: "a dev account", "engine rds"."""
    field = discriminator(where.union)
    return f"a {where.tag} account" if field == "role" else f"{field} {where.tag}"
