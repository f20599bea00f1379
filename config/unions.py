"""Reading the model's discriminated unions: an account's model is chosen by its `role`, a
database's by its `engine`. The loader uses this to word errors in the file's terms, and
tools/config_docs.py to document which role or engine has which key."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def unwrap(annotation: Any) -> Any:
    """The type inside `Annotated[...]` and `... | None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation):
            rest = tuple(a for a in get_args(annotation) if a is not type(None))
            annotation = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007
        else:
            return annotation


def union_members(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The models of a union of models (the model uses no other unions), else ()."""
    if get_origin(annotation) not in (Union, UnionType):
        return ()
    members = tuple(unwrap(a) for a in get_args(annotation))
    if all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        return members
    return ()


def discriminator(members: tuple[type[BaseModel], ...]) -> str:
    """The key that chooses the member: the one every member has as a Literal."""
    return next(
        name
        for name in members[0].model_fields
        if all(
            name in m.model_fields and get_origin(m.model_fields[name].annotation) is Literal
            for m in members
        )
    )


def tags(member: type[BaseModel], key: str) -> tuple[Any, ...]:
    """The values of `key` that choose `member`."""
    return get_args(member.model_fields[key].annotation)


def member_for(members: tuple[type[BaseModel], ...], tag: Any) -> type[BaseModel] | None:
    """The member a tag chooses."""
    key = discriminator(members)
    return next((m for m in members if tag in tags(m, key)), None)
