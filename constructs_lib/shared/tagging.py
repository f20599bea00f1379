"""Tags for the resources `Tags.of` cannot reach.

`Tags.of(scope).add(...)` tags every construct under `scope` that has a tag manager, which
every L1 class has. CDK also builds a few resources as raw `CfnResource`s, which have none:
custom-resource providers' roles and functions, aws_eks_v2's kubectl barrier. A construct
that makes CDK build one lists the scope holding it in its `raw_resource_scopes`, and whoever
owns the tags registers `RawResourceTags` on those scopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import jsii
from aws_cdk import AspectPriority, Aspects, CfnResource, IAspect
from constructs import IConstruct

RAW_TAGGABLE: Mapping[str, type] = MappingProxyType(
    {
        "AWS::IAM::Role": list,
        "AWS::Lambda::Function": list,
        "AWS::SSM::Parameter": dict,
    }
)
"""Types CDK creates as raw CfnResources that CloudFormation can tag, and their tag shape."""


@jsii.implements(IAspect)
class RawResourceTags:
    """An aspect giving each raw `CfnResource` of a `RAW_TAGGABLE` type `tags` (a property
    override, in the shape its type takes).

    Register it with `add_to` on the smallest scopes that hold raw resources, never on a stack
    or a stage: a Python aspect is called back from Node once for every construct it visits,
    about 0.5 ms of CPU each (3,000 constructs synthesized with and without one, on the
    project's 2-core VM). On a whole workload stage, about 400 constructs, that is 0.2 s per
    account; the scopes holding its raw resources have about 10.
    """

    def __init__(self, tags: Mapping[str, str]) -> None:
        ordered = dict(sorted(tags.items()))
        self._shapes = {
            list: [{"Key": key, "Value": value} for key, value in ordered.items()],
            dict: ordered,
        }

    def visit(self, node: IConstruct) -> None:
        if type(node) is not CfnResource:
            return
        shape = RAW_TAGGABLE.get(node.cfn_resource_type)
        if shape is not None:
            node.add_property_override("Tags", self._shapes[shape])

    def add_to(self, scopes: Iterable[IConstruct]) -> None:
        """Visit `scopes` and everything under them at synthesis, with the mutating aspects
        (`Tags.of` among them)."""
        for scope in scopes:
            Aspects.of(scope).add(self, priority=AspectPriority.MUTATING)
