"""What every stage and stack of the platform has in common."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Environment, Stack, Stage, Tags
from constructs import Construct

from config import Account, PlatformConfig
from constructs_lib.audit import ConfigRecorder
from constructs_lib.health_check_role import HealthCheckRole
from stages.naming import (
    HEALTH_CHECK,
    PIPELINE_HEALTH_CHECK,
    log_archive_bucket_name,
    role_arn,
    role_name,
    shared_services,
)

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
        if self.account_config.role != "security":  # the security account's is in Audit
            self.baseline_stack = PlatformStack(
                self,
                "Baseline",
                description=f"{config.organization.name} {self.account_config.role} account "
                "baseline: AWS Config recording to the organisation's archive",
            )
            ConfigRecorder(
                self.baseline_stack,
                "Config",
                name_prefix=config.organization.prefix,
                bucket_name=log_archive_bucket_name(config),
            )
        if id_ in config.health_checked_accounts():
            self.operations_stack = PlatformStack(
                self,
                "Operations",
                description=f"{config.organization.name} {self.account_config.role} operations: "
                "the pipeline health gate's read-only access",
            )
            HealthCheckRole(
                self.operations_stack,
                "HealthCheckRole",
                role_name=role_name(config, id_, HEALTH_CHECK),
                trusted_role_arn=role_arn(config, shared_services(config), PIPELINE_HEALTH_CHECK),
            )

    @property
    def termination_protection(self) -> bool:
        """Stacks outside dev and sandbox cannot be deleted by a stray `cdk destroy`."""
        return self.account_config.role not in UNPROTECTED_ROLES

    def tag_raw_resources(self) -> None:
        """Tag the resources CDK builds as raw `CfnResource`s, which `Tags.of()` cannot reach
        (custom-resource providers' roles and functions, aws_eks_v2's kubectl barrier).

        Call once, after the stage is built. The walk is one jsii call per stack; the type
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


class PlatformStack(Stack):
    """A stack whose availability zones come from config, never from an AWS lookup.

    CDK looks AZs up (and caches them in cdk.context.json) when a construct asks an
    environment-bound stack for them; overriding the property keeps synthesis offline and
    makes the configured AZs the only ones the stack knows.
    """

    def __init__(
        self,
        scope: PlatformStage,
        id_: str,
        *,
        description: str,
        availability_zones: Sequence[str] = (),
        region: str | None = None,
        cross_region_references: bool = False,
    ) -> None:
        """
        :param region: deploy to this region of the stage's account; default the stage's.
        :param cross_region_references: this stack refers to, or is referred to by, a stack
            of the stage in another region. CDK renders such references as CloudFormation's
            `Fn::GetStackOutput` (a weak reference to the producer's output, resolved when the
            consumer deploys: no export, no custom resource). Set it on both stacks.
        """
        account = scope.account_config
        elsewhere = region is not None and region != account.region
        super().__init__(
            scope,
            id_,
            description=description,
            termination_protection=scope.termination_protection,
            env=Environment(account=account.id, region=region) if elsewhere else None,
            cross_region_references=cross_region_references or None,
        )
        self._availability_zones = list(availability_zones)

    @property
    def availability_zones(self) -> list[str]:
        if not self._availability_zones:
            raise RuntimeError(
                f"{self.node.path}: no availability zones configured for this stack; "
                "pass them from the account's network config instead of looking them up"
            )
        return self._availability_zones
