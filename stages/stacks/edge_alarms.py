"""The distribution's alarms, in us-east-1 where CloudFront publishes its metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facts.aws import EDGE_REGION
from stages.platform_stack import PlatformStack
from stages.stacks.edge import EdgeStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class EdgeAlarmsStack(PlatformStack):
    """Alarms on the `Edge` stack's distribution, on the account's alarm topic in us-east-1.

    CloudWatch alarms watch metrics of their own region and CloudFront's are in us-east-1
    only, while the distribution is built at home (next to its VPC origin). The distribution
    id comes by a cross-region reference (`Fn::GetStackOutput`, resolved when this stack
    deploys), so this stack deploys after `Edge`; `EdgeGlobal` cannot hold these alarms, as
    it deploys before the distribution exists.
    """

    def __init__(self, scope: PlatformStage, id_: str, *, edge: EdgeStack) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} edge alarms "
            f"({EDGE_REGION}, where CloudFront publishes metrics)",
            region=EDGE_REGION,
            cross_region_references=True,
        )
        distribution_id = edge.edge.distribution.distribution_id
        self.alarms.additional_metrics(distribution_id)
        self.alarms.distribution("cdn", distribution_id)
