"""What a platform rule is: a function from one CloudFormation resource to a finding or None."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Resource = Mapping[str, Any]
"""A resource's entry in a CloudFormation template (`Type`, `Properties`, ...)."""


@dataclass(frozen=True)
class RuleContext:
    required_tags: tuple[str, ...]
    """Tag keys every taggable resource must carry (the cost-allocation tags)."""
    data_may_be_destroyed: bool = False
    """True only where the data-destruction opt-in applies (sandbox); never by default."""
    account: str | None = None
    """The account the template deploys to, from the cloud assembly's manifest; None when
    unknown (environment-agnostic stacks, rules evaluated on a bare template)."""


@dataclass(frozen=True)
class Rule:
    id: str
    """The rule name in findings and acknowledgements: `Platform::<id>`."""
    description: str
    check: Callable[[str, Resource, RuleContext], str | None]
    """(resource type, the resource's template entry, context) -> what is wrong, or None."""


def tags_of(resource: Resource) -> dict[str, Any]:
    """A resource's tags as a dict, whichever of CloudFormation's two shapes it uses."""
    tags = resource.get("Properties", {}).get("Tags", [])
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t.get("Value") for t in tags if isinstance(t, dict) and "Key" in t}


def is_aurora_instance(resource_type: str, resource: Resource) -> bool:
    """An instance of an Aurora cluster: compute only; storage, its encryption and its
    snapshots belong to the cluster."""
    return resource_type == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in resource.get(
        "Properties", {}
    )
