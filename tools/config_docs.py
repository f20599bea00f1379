"""Write the configuration reference and the JSON Schema from the config model.

The docstrings in config/model.py are the documentation: each model's says what the section
is, each field's what the key means. This turns them into docs/configuration.md (one section
per mapping of the file: key, type, default, description; for the account roles and the
PostgreSQL engines, which of them has which key) and config/platform.schema.json (for
editors: completion, hover text and errors as you type). `make config-docs` runs it;
tests/test_config_docs.py fails when either file differs from what it writes.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, StringConstraints, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo

from config.docstrings import attribute_docstrings
from config.model import PlatformConfig
from config.unions import discriminator, tags, union_members, unwrap

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path("docs/configuration.md")
SCHEMA = Path("config/platform.schema.json")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DASH = "\N{EN DASH}"
LONG_DEFAULT = 48
"""Defaults longer than this (in YAML) are shown under the table rather than in it."""

Node = type[BaseModel] | tuple[type[BaseModel], ...]
"""What a section documents: one model, or the members of a discriminated union."""


# --- the JSON Schema --------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The schema of platform.yaml; property descriptions are the fields' docstrings."""
    schema = PlatformConfig.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **_choose_by_tag(schema, schema["$defs"])}


def _choose_by_tag(node: Any, defs: dict[str, Any]) -> Any:
    """Each discriminated union (pydantic writes `oneOf` the members) as one `if`/`then` per
    tag, so that a validator or an editor checks an account against its role's schema and
    names the wrong key, instead of "not valid under any of the given schemas"."""
    if isinstance(node, list):
        return [_choose_by_tag(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _choose_by_tag(v, defs) for k, v in node.items()}
    options = node.get("anyOf", [])
    if len(options) == 2 and {"type": "null"} in options:
        # An optional union (`postgres: ... | None`): one schema that also admits null, so
        # that errors inside it are reported there, not as "not valid under any of".
        (chosen,) = [o for o in options if o != {"type": "null"}]
        if "allOf" in chosen and all("if" in branch for branch in chosen["allOf"]):
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return {**rest, **chosen, "type": ["object", "null"]}
    refs = [item.get("$ref", "") for item in node.get("oneOf", [])]
    if not refs or not all(ref.startswith("#/$defs/") for ref in refs):
        return node
    members = [defs[ref.removeprefix("#/$defs/")] for ref in refs]
    key = next(
        name
        for name in members[0]["properties"]
        if all(_tag_values(m["properties"].get(name, {})) for m in members)
    )
    branches = []
    for ref, member in zip(refs, members, strict=True):
        # Without `required`, the condition also holds when the key is omitted: that is the
        # member whose key has a default (postgres without `engine`).
        condition: dict[str, Any] = {
            "type": "object",
            "properties": {key: {"enum": _tag_values(member["properties"][key])}},
        }
        if key in member.get("required", ()):
            condition["required"] = [key]
        branches.append({"if": condition, "then": {"$ref": ref}})
    rest = {k: v for k, v in node.items() if k not in ("oneOf", "discriminator")}
    required = all(key in m.get("required", ()) for m in members)
    return {
        **rest,
        "type": "object",
        **({"required": [key]} if required else {}),
        "properties": {
            key: {"enum": [t for m in members for t in _tag_values(m["properties"][key])]}
        },
        "allOf": branches,
    }


def _tag_values(prop: dict[str, Any]) -> list[Any]:
    """The values a member's discriminating property admits (`const` or `enum`)."""
    return [prop["const"]] if "const" in prop else list(prop.get("enum", ()))


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# --- the sections of the file -----------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of a section: its field, and (in a union) which members have it."""

    name: str
    field: FieldInfo
    owner: type[BaseModel]
    """The model (the first member, in a union) whose field this is."""
    holders: tuple[type[BaseModel], ...]


@dataclass(frozen=True)
class Section:
    """One mapping of the file, at its path (`accounts.<name>.network`)."""

    path: str
    node: Node
    where: str = ""
    """Which roles or engines have it, when not all do ("Only in security accounts.")."""

    @property
    def heading(self) -> str:
        return f"`{self.path}`" if self.path else "Top level"

    @property
    def anchor(self) -> str:
        """GitHub's anchor for the heading."""
        return re.sub(r"[^a-z0-9 _-]", "", self.heading.lower()).replace(" ", "-")

    @property
    def members(self) -> tuple[type[BaseModel], ...]:
        return self.node if isinstance(self.node, tuple) else (self.node,)

    def rows(self) -> list[Key]:
        """The keys in the order the members declare them, each once."""
        found: dict[str, Key] = {}
        for member in self.members:
            for name, field in member.model_fields.items():
                if name not in found:
                    holders = tuple(m for m in self.members if name in m.model_fields)
                    found[name] = Key(name, field, member, holders)
        return list(found.values())


def sections() -> list[Section]:
    """Every section, depth first from the top level, each model documented once."""
    found: list[Section] = []
    seen: set[Node] = set()

    def visit(section: Section) -> None:
        if section.node in seen:
            return
        seen.add(section.node)
        found.append(section)
        for key in section.rows():
            for suffix, child in _nested(key.field.annotation):
                path = f"{section.path}.{key.name}" if section.path else key.name
                visit(Section(path + suffix, child, _where(section, key)))

    visit(Section("", PlatformConfig))
    return found


def _nested(annotation: Any) -> Iterator[tuple[str, Node]]:
    """The sections inside a field's type, with the path suffix that reaches each."""
    annotation = unwrap(annotation)
    members = union_members(annotation)
    if members:
        yield "", members
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield "", annotation
    elif get_origin(annotation) is tuple:
        for suffix, node in _nested(get_args(annotation)[0]):
            yield "[]" + suffix, node
    elif get_origin(annotation) is dict:
        for suffix, node in _nested(get_args(annotation)[1]):
            yield ".<name>" + suffix, node


def _where(section: Section, key: Key) -> str:
    if len(key.holders) == len(section.members):
        return section.where
    field = discriminator(section.members)
    holding = _words([str(tag) for m in key.holders for tag in tags(m, field)])
    return (
        f"Only in **{holding}** accounts." if field == "role" else f"Only with {field} {holding}."
    )


# --- the reference ----------------------------------------------------------------------------

_INTRO = """\
Editors: the first line of `config/platform.yaml` points the YAML language server (VS Code's
YAML extension, JetBrains IDEs, Neovim, ...) at `config/platform.schema.json`, which is
generated with this page: keys complete, these descriptions show on hover, and a wrong type,
range or pattern is marked as you type. Rules that compare keys or accounts with each other
(overlapping CIDRs, promotion order, ...) run when the app loads the file.

Each section below is one mapping of the file: its keys, their type, default and meaning.
`<name>` stands for a name you choose (an account's, a cache's), `[]` for each item of a
list. Where a role or an engine decides which keys exist, a table says which has which.
"""


def reference() -> str:
    """docs/configuration.md."""
    all_sections = sections()
    anchors = {section.node: section for section in all_sections}
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `make config-docs` from the docstrings in config/model.py; edit "
        "those, not this page. -->",
        "",
        _docstring(PlatformConfig),
        "",
        _INTRO,
        "## Contents",
        "",
        *(f"- [{s.heading}](#{s.anchor})" for s in all_sections),
        "",
    ]
    for section in all_sections:
        lines += _section(section, anchors)
    return "\n".join(lines).rstrip("\n") + "\n"


def _section(section: Section, anchors: dict[Node, Section]) -> list[str]:
    lines = [f"## {section.heading}", ""]
    if section.where:
        lines += [section.where, ""]
    if section.path:
        lines += [_docstring(_common_base(section.members)), ""]
    if isinstance(section.node, tuple):
        lines += _union_table(section)
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    long_defaults: list[str] = []
    choosing = discriminator(section.members) if isinstance(section.node, tuple) else None
    for key in section.rows():
        if key.name == choosing:
            kind = _either([f"`{t}`" for m in section.members for t in tags(m, key.name)])
            default = next(
                (
                    _default(m.model_fields[key.name])
                    for m in section.members
                    if not m.model_fields[key.name].is_required()
                ),
                "**required**",
            )
        else:
            kind = _type(key.field.annotation, key.field.metadata, anchors)
            default = _default(key.field)
        if default is None:
            long_defaults.append(_yaml_block(key.name, _plain(key.field.get_default())))
            default = "see below"
        description = _description(section, key)
        lines.append(f"| `{key.name}` | {_cell(kind)} | {_cell(default)} | {_cell(description)} |")
    lines.append("")
    if long_defaults:
        lines += ["Defaults:", "", "```yaml", *long_defaults, "```", ""]
    return lines


def _description(section: Section, key: Key) -> str:
    """The key's docstring; in a union whose members document it differently, each one's,
    labelled with the roles or engines it is for."""
    by_doc: dict[str, list[type[BaseModel]]] = {}
    for member in key.holders:
        by_doc.setdefault(_field_docstring(member, key.name), []).append(member)
    if len(by_doc) == 1:
        return next(iter(by_doc))
    field = discriminator(section.members)
    return " ".join(
        f"**{', '.join(str(t) for m in members for t in tags(m, field))}**: {doc}"
        for doc, members in by_doc.items()
    )


def _union_table(section: Section) -> list[str]:
    """Which member (role, engine) has which key, and what each member is."""
    field = discriminator(section.members)
    columns = [", ".join(str(t) for t in tags(m, field)) for m in section.members]
    lines = [
        f"`{field}` decides which keys exist:",
        "",
        f"| key | {' | '.join(columns)} |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for key in section.rows():
        if key.name == field:
            continue
        cells = [
            (
                "—"
                if key.name not in m.model_fields
                else "required"
                if m.model_fields[key.name].is_required()
                else "optional"
            )
            for m in section.members
        ]
        lines.append(f"| `{key.name}` | {' | '.join(cells)} |")
    lines.append("")
    for column, member in zip(columns, section.members, strict=True):
        lines.append(f"- **{column}**: {' '.join(_docstring(member).split())}")
    lines.append("")
    return lines


def _common_base(members: tuple[type[BaseModel], ...]) -> type[BaseModel]:
    """The nearest class every member derives from (a model itself, for one member)."""
    return next(c for c in members[0].__mro__ if all(issubclass(m, c) for m in members))


def _docstring(model: type) -> str:
    doc = model.__doc__
    if not doc or doc == BaseModel.__doc__:
        raise ValueError(f"{model.__name__} has no docstring: say what the section is")
    return inspect.cleandoc(doc)


def _field_docstring(model: type[BaseModel], key: str) -> str:
    doc = attribute_docstrings(model).get(key)
    if not doc:
        raise ValueError(f"{model.__name__}.{key} has no docstring: say what the key means")
    return " ".join(doc.split())


# --- types, constraints and defaults in words -------------------------------------------------


def _type(annotation: Any, metadata: Sequence[Any], anchors: dict[Node, Section]) -> str:
    """A field's type as a reader of the YAML file sees it, with its constraints."""
    constraints = list(metadata)
    while get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        constraints += more
    origin, args = get_origin(annotation), get_args(annotation)
    members = union_members(annotation)
    if members:
        return f"{_link(anchors[members])} (by `{discriminator(members)}`)"
    if origin in (Union, UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _type(rest[0], constraints, anchors)
        return " or ".join(_type(a, (), anchors) for a in rest)
    enums = [
        c.json_schema["enum"]
        for c in constraints
        if isinstance(c, WithJsonSchema) and c.json_schema is not None
    ]
    if enums:
        return _either([f"`{_yaml_flow(value)}`" for value in enums[0]])
    if origin is Literal:
        return _either([f"`{_yaml_flow(value)}`" for value in args])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _link(anchors[annotation])
    if origin is tuple:
        item = _type(args[0], (), anchors)
        return _constrained(f"list of {item}", constraints, "item", "; ")
    if origin is dict:
        if args[1] is Any:
            return _constrained("mapping", constraints, "entry", "; ")
        key, value = _type(args[0], (), anchors), _type(args[1], (), anchors)
        return _constrained(f"mapping of {key} to {value}", constraints, "entry", "; ")
    words = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return _constrained(words.get(annotation, str(annotation)), constraints, "character", ", ")


def _link(section: Section) -> str:
    return f"[`{section.path}`](#{section.anchor})"


def _constrained(words: str, constraints: Sequence[Any], unit: str, separator: str) -> str:
    """`words` and the constraints on it: ranges, lengths (in `unit`s), a pattern."""
    bounds = {type(c): c for c in constraints}
    low = f"{bounds[Ge].ge}" if Ge in bounds else None
    high = f"{bounds[Le].le}" if Le in bounds else None
    parts = []
    if low and high:
        parts.append(f"{low}{DASH}{high}")
    elif low:
        parts.append(f"≥ {low}")
    elif high:
        parts.append(f"≤ {high}")
    if Gt in bounds:
        parts.append(f"> {bounds[Gt].gt}")
    if Lt in bounds:
        parts.append(f"< {bounds[Lt].lt}")
    shortest = bounds[MinLen].min_length if MinLen in bounds else None
    longest = bounds[MaxLen].max_length if MaxLen in bounds else None
    if shortest is not None and longest is not None:
        parts.append(f"{shortest}{DASH}{longest} {_plural(unit, longest)}")
    elif shortest is not None:
        parts.append(f"at least {shortest} {_plural(unit, shortest)}")
    elif longest is not None:
        parts.append(f"at most {longest} {_plural(unit, longest)}")
    patterns = [c.pattern for c in constraints if isinstance(c, StringConstraints) and c.pattern]
    if patterns:
        words += f" matching `{patterns[0]}`"
    return words + (separator + ", ".join(parts) if parts else "")


def _plural(unit: str, count: int) -> str:
    if count == 1:
        return unit
    return unit[:-1] + "ies" if unit.endswith("y") else unit + "s"


def _default(field: FieldInfo) -> str | None:
    """The default in words; None when it is too long for the table."""
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if isinstance(value, BaseModel) and _is_all_defaults(value):
        return "its defaults"
    text = _yaml_flow(_plain(value))
    return f"`{text}`" if len(text) <= LONG_DEFAULT else None


def _yaml_flow(value: Any) -> str:
    """A value as YAML writes it on one line (a string that would read as a number quoted)."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000)
    return text.strip().removesuffix("...").strip()


def _is_all_defaults(value: BaseModel) -> bool:
    try:
        return value == type(value)()
    except ValidationError:
        return False


def _plain(value: Any) -> Any:
    """A default as YAML would write it: models as mappings of their non-default keys."""
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value.model_dump(exclude_defaults=True).items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _yaml_block(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=None).rstrip("\n")


def _either(values: Sequence[str]) -> str:
    """`a`, `a` or `b`, one of `a`, `b`, `c`."""
    if len(values) <= 2:
        return " or ".join(values)
    return "one of " + ", ".join(values)


def _words(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else values[0]


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


# --- the command --------------------------------------------------------------------------------


def generated() -> dict[Path, str]:
    """Each generated file (relative to the project root) and its content."""
    return {REFERENCE: reference(), SCHEMA: schema_text()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project to write into")
    args = parser.parse_args(argv)
    files = generated()
    for relative, content in files.items():
        (args.root / relative).write_text(content, encoding="utf-8")
    print("wrote " + ", ".join(str(relative) for relative in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
