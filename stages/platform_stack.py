"""The base of every stack of the platform: bound to its stage's account, offline AZs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Environment, Stack
from constructs import IConstruct

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


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
        self.raw_resource_scopes: list[IConstruct] = []
        """Scopes holding the raw CfnResources this stack's constructs make CDK build, which
        `Tags.of` cannot reach; the stage tags them (`constructs_lib.shared.tagging`)."""

    @property
    def availability_zones(self) -> list[str]:
        if not self._availability_zones:
            raise RuntimeError(
                f"{self.node.path}: no availability zones configured for this stack; "
                "pass them from the account's network config instead of looking them up"
            )
        return self._availability_zones
