"""The base of every stage: one account of the config, its tags, and the stacks every account
has (the Config baseline and, where the pipeline gates on health, the operations stack)."""

from __future__ import annotations

from aws_cdk import CfnResource, Environment, Stack, Stage, Tags
from constructs import Construct

from config import Account, PlatformConfig
from stages.stacks.baseline import BaselineStack
from stages.stacks.ci import CiStack
from stages.stacks.operations import OperationsStack

RAW_TAGGABLE: dict[str, type] = {
    "AWS::IAM::Role": list,
    "AWS::Lambda::Function": list,
    "AWS::SSM::Parameter": dict,
}
"""Types CDK creates as raw CfnResources that CloudFormation can tag, and their tag shape."""

UNPROTECTED_ROLES = frozenset({"dev", "sandbox"})
"""Roles whose stacks may be deleted without first lifting termination protection."""


class PlatformStage(Stage):
    """A stage bound to one account of the config, carrying the cost-allocation tags.

    Every resource of every stack in the stage is tagged with `config.tags` plus
    `Environment: <account role>`.
    """

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        self.config = config
        self.account_config: Account = config.accounts[id_]
        super().__init__(
            scope,
            id_,
            env=Environment(account=self.account_config.id, region=self.account_config.region),
        )
        self.tags = {**config.tags, "Environment": self.account_config.role}
        for key, value in self.tags.items():
            Tags.of(self).add(key, value)
        self.baseline_stack: BaselineStack | None = None
        if self.account_config.role != "security":  # the security account's is in Audit
            self.baseline_stack = BaselineStack(self, "Baseline")
        self.operations_stack: OperationsStack | None = None
        if id_ in config.health_checked_accounts():
            self.operations_stack = OperationsStack(self, "Operations")
        self.build()
        ci = config.ci_repositories_for(id_)
        self.ci_stack = CiStack(self, "Ci", repositories=ci) if ci else None
        self.tag_raw_resources()

    def build(self) -> None:
        """The stacks of this account role (subclasses); called once, from the constructor,
        after the stacks every account has and before the CI stack."""

    @property
    def termination_protection(self) -> bool:
        """Stacks outside dev and sandbox cannot be deleted by a stray `cdk destroy`."""
        return self.account_config.role not in UNPROTECTED_ROLES

    def tag_raw_resources(self) -> None:
        """Tag the resources CDK builds as raw `CfnResource`s, which `Tags.of()` cannot reach
        (custom-resource providers' roles and functions, aws_eks_v2's kubectl barrier).

        Called once, after the stage is built. The walk is one jsii call per stack; the type
        checks run in Python.
        """
        as_list = [{"Key": key, "Value": value} for key, value in sorted(self.tags.items())]
        for stack in self.node.children:
            if not isinstance(stack, Stack):
                continue
            for construct in stack.node.find_all():
                if type(construct) is not CfnResource:
                    continue
                shape = RAW_TAGGABLE.get(construct.cfn_resource_type)
                if shape is not None:
                    construct.add_property_override(
                        "Tags", as_list if shape is list else dict(sorted(self.tags.items()))
                    )
