"""The documentation of the config model's fields: the docstring under each attribute.

A field is documented by the string literal that follows it in its class body, as PEP 257
suggests for attributes. Pydantic can read these itself (`use_attribute_docstrings`), but it
re-reads the source once per class when the module is imported: about 0.15 s of every synth.
Only the JSON Schema and the configuration reference need them, so they are read here, the
first time something asks, with one parse of the module.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from typing import Any


def attribute_docstrings(cls: type) -> dict[str, str]:
    """Field name -> its docstring, for `cls` and the classes it inherits from (the nearest
    class that documents a field wins)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(_module_docstrings(klass.__module__).get(klass.__qualname__, {}))
    return docs


def describe_properties(schema: dict[str, Any], cls: type) -> None:
    """Pydantic's `json_schema_extra` hook: each property's description is its docstring."""
    docs = attribute_docstrings(cls)
    for name, prop in schema.get("properties", {}).items():
        if name in docs:
            prop["description"] = " ".join(docs[name].split())


@cache
def _module_docstrings(module_name: str) -> dict[str, dict[str, str]]:
    """Class qualname -> field -> docstring, for every class of a module (one parse)."""
    module = sys.modules.get(module_name)
    if module is None or module_name in ("builtins", "typing"):
        return {}
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = _class_docstrings(node)
    return found


def _class_docstrings(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
