"""The base of every stack of the platform: bound to its stage's account, offline AZs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import CfnResource, Environment, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import IConstruct

from constructs_lib.operations.alarms import AlarmThresholds, StackAlarms
from constructs_lib.operations.notification import topic_arn
from stages.naming import alarm_topic_name

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


FOUND_TYPES = (
    "AWS::Lambda::Function",
    "AWS::EC2::NatGateway",
    "AWS::SQS::Queue",
    "AWS::Pipes::Pipe",
)
"""Resource types `monitor_found` alarms on wherever a construct made them."""

ALARM_TYPE = "AWS::CloudWatch::Alarm"


def alarm_name(alarm: CfnResource) -> str:
    """The name of a platform alarm, which every platform alarm sets (the account's dashboard
    lists alarms by ARN)."""
    assert isinstance(alarm, cloudwatch.CfnAlarm)
    name = alarm.alarm_name
    if name is None or Token.is_unresolved(name):
        raise ValueError(f"{alarm.node.path}: a platform alarm needs a literal alarm_name")
    return name


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
        self._stage = scope
        self._alarms: StackAlarms | None = None
        self._availability_zones = list(availability_zones)
        self.raw_resource_scopes: list[IConstruct] = []
        """Scopes holding the raw CfnResources this stack's constructs make CDK build, which
        `Tags.of` cannot reach; the stage tags them (`constructs_lib.shared.tagging`)."""

    @property
    def alarms(self) -> StackAlarms:
        """This stack's alarms (made on first use): named `<prefix>-<account>-...`, on the
        account's alarm topic in the stack's region, with the account's thresholds (the
        account's dashboard lists them: `monitor_found`)."""
        if self._alarms is None:
            config, name = self._stage.config, self._stage.node.id
            account = config.accounts[name]
            self._alarms = StackAlarms(
                self,
                "Alarms",
                topic_arn=topic_arn(self, self.region, alarm_topic_name(config, name)),
                alarm_prefix=f"{config.organization.prefix}-{name}",
                thresholds=AlarmThresholds(**account.thresholds().model_dump()),
            )
        return self._alarms

    def monitor_found(self) -> list[str]:
        """Alarms for what any construct of the stack may have made: every Lambda function
        (errors), NAT gateway (port allocation, drops), SQS queue (age of the oldest message;
        messages in a dead-letter queue) and EventBridge pipe (failures). The stage calls this
        once every construct exists; other resources are monitored where they are built.

        :returns: the names of every alarm of the stack (for the account's dashboard).
        """
        found: dict[str, list[CfnResource]] = {t: [] for t in (*FOUND_TYPES, ALARM_TYPE)}
        for c in self.node.find_all():
            if isinstance(c, CfnResource) and c.cfn_resource_type in found:
                found[c.cfn_resource_type].append(c)
        alarms = found.pop(ALARM_TYPE)
        if any(found.values()):  # only then does the stack get its StackAlarms
            made = len(self.alarms.made)
            for resources, watch in (
                (found["AWS::Lambda::Function"], self.alarms.functions),
                (found["AWS::EC2::NatGateway"], self.alarms.nat_gateways),
                (found["AWS::SQS::Queue"], self.alarms.queues),
                (found["AWS::Pipes::Pipe"], self.alarms.pipes),
            ):
                if resources:
                    watch(resources)
            alarms += self.alarms.made[made:]  # the alarms just made
        return [alarm_name(alarm) for alarm in alarms]

    @property
    def availability_zones(self) -> list[str]:
        if not self._availability_zones:
            raise RuntimeError(
                f"{self.node.path}: no availability zones configured for this stack; "
                "pass them from the account's network config instead of looking them up"
            )
        return self._availability_zones
