"""Reading synthesized templates as plain dicts: the one copy of the small helpers the test
files share.

Prefer CDK's own vocabulary where it says the thing directly: `stack.cdk_template` (an
`aws_cdk.assertions.Template` over the session's synthesized template) with
`has_resource_properties`, `resource_count_is` and `Match`. These helpers are for what that
vocabulary cannot say: following a reference to another resource, collecting values across
resources, comparing with config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

Resource = dict[str, Any]
"""One entry of a template's Resources: Type, Properties, DeletionPolicy, ..."""


class HasTemplate(Protocol):
    @property
    def template(self) -> dict[str, Any]: ...


def of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, Resource]:
    """A template's resources of one type, by logical id."""
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == resource_type}


def only(found: Mapping[str, T]) -> T:
    """The one value of `found` (e.g. resources by logical id); fails on none or several."""
    (value,) = found.values()
    return value


def props(resource: Resource) -> dict[str, Any]:
    """A resource's Properties."""
    return resource["Properties"]


def one(source: HasTemplate | Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """The Properties of the one resource of `resource_type` in a synthesized stack or a
    template; fails unless there is exactly one."""
    template = source.template if hasattr(source, "template") else source
    return props(only(of_type(template, resource_type)))


def ref_of(value: Mapping[str, Any]) -> str:
    """The logical id a `Ref` or `Fn::GetAtt` points at."""
    return value.get("Ref") or value["Fn::GetAtt"][0]


def logical_id(template: Mapping[str, Any], prefix: str) -> str:
    """The one logical id starting with `prefix` (ids end in a hash we don't hard-code)."""
    (found,) = [k for k in template["Resources"] if k.startswith(prefix)]
    return found


def tags_of(resource: Resource) -> dict[str, str]:
    """A resource's tags as a dict, whether spelled as a list of Key/Value or as a map."""
    tags = resource.get("Properties", {}).get("Tags", [])
    return tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}


def tag(resource: Resource, key: str) -> str | None:
    """One tag's value, or None."""
    return tags_of(resource).get(key)


def no_tags(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Properties without their Tags."""
    return {k: v for k, v in properties.items() if k != "Tags"}


def by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A policy document's statements by Sid."""
    return {s["Sid"]: s for s in statements}


def fake_aws_credentials(monkeypatch: Any, region: str) -> None:
    """Credentials and a region for moto, so boto3 never looks for real ones."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
    }.items():
        monkeypatch.setenv(name, value)
