"""One CloudWatch dashboard per account: the state of every alarm the account has, in each
region, and the golden signals (traffic, errors, latency, saturation) of what it runs.

The graphs are CloudWatch `SEARCH` expressions over the account's own metrics
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-search-expressions.html):
they name no resource, so the dashboard refers to no other stack (no export, no deploy order)
and shows a new cache or function as soon as it publishes metrics. The alarms are named:
their names are known when the stage is built, so the alarm widgets list them by ARN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

PERIOD = 300
"""Seconds per point of every graph (five minutes: what most AWS metrics publish at)."""


@dataclass(frozen=True)
class Signal:
    """One graph: a golden signal of one service, as a SEARCH over the account's metrics."""

    title: str
    signal: str
    """traffic, errors, latency or saturation."""
    schema: str
    """`{Namespace,Dimension,...}`: the metrics that have exactly these dimensions."""
    metric: str
    statistic: str
    region: str | None = None
    """Where the metrics are; default the dashboard's region (CloudFront and its WAF publish
    in us-east-1 only)."""

    def expression(self) -> str:
        return f"SEARCH('{self.schema} MetricName=\"{self.metric}\"', '{self.statistic}', {PERIOD})"


def _signals(edge_region: str) -> dict[str, tuple[Signal, ...]]:
    """Service -> its golden signals, in the order traffic, errors, latency, saturation."""
    alb, rds, cache = (
        "{AWS/ApplicationELB,LoadBalancer}",
        "{AWS/RDS,DBClusterIdentifier}",
        ("{AWS/ElastiCache,CacheClusterId}"),
    )
    eks, ci = "{AWS/EKS,ClusterName}", "{ContainerInsights,ClusterName}"
    cdn, waf = "{AWS/CloudFront,DistributionId,Region}", "{AWS/WAFV2,Rule,WebACL}"
    search, lam = "{AWS/ES,ClientId,DomainName}", "{AWS/Lambda,FunctionName}"
    return {
        "edge": (
            Signal("CloudFront requests", "traffic", cdn, "Requests", "Sum", edge_region),
            Signal("CloudFront 5xx %", "errors", cdn, "5xxErrorRate", "Average", edge_region),
            Signal("Origin latency p90 (ms)", "latency", cdn, "OriginLatency", "p90", edge_region),
            Signal(
                "WAF blocked requests", "saturation", waf, "BlockedRequests", "Sum", edge_region
            ),
        ),
        "load_balancer": (
            Signal("Load balancer requests", "traffic", alb, "RequestCount", "Sum"),
            Signal("Target 5xx", "errors", alb, "HTTPCode_Target_5XX_Count", "Sum"),
            Signal("Target response p99 (s)", "latency", alb, "TargetResponseTime", "p99"),
            Signal(
                "Unhealthy targets",
                "saturation",
                "{AWS/ApplicationELB,LoadBalancer,TargetGroup}",
                "UnHealthyHostCount",
                "Maximum",
            ),
        ),
        "cluster": (
            Signal("API server requests", "traffic", eks, "apiserver_request_total", "Sum"),
            Signal("API server 5xx", "errors", eks, "apiserver_request_total_5XX", "Sum"),
            Signal(
                "Container restarts",
                "errors",
                "{ContainerInsights,ClusterName,Namespace,PodName}",
                "pod_number_of_container_restarts",
                "Sum",
            ),
            Signal("Node CPU %", "saturation", ci, "node_cpu_utilization", "Average"),
            Signal("Node memory %", "saturation", ci, "node_memory_utilization", "Average"),
        ),
        "postgres": (
            Signal("PostgreSQL connections", "traffic", rds, "DatabaseConnections", "Maximum"),
            Signal("PostgreSQL commit latency (ms)", "latency", rds, "CommitLatency", "Average"),
            Signal("PostgreSQL CPU %", "saturation", rds, "CPUUtilization", "Maximum"),
        ),
        "postgres_instance": (
            Signal(
                "PostgreSQL connections",
                "traffic",
                "{AWS/RDS,DBInstanceIdentifier}",
                "DatabaseConnections",
                "Maximum",
            ),
            Signal(
                "PostgreSQL write latency (s)",
                "latency",
                "{AWS/RDS,DBInstanceIdentifier}",
                "WriteLatency",
                "Average",
            ),
            Signal(
                "PostgreSQL CPU %",
                "saturation",
                "{AWS/RDS,DBInstanceIdentifier}",
                "CPUUtilization",
                "Maximum",
            ),
        ),
        "cache": (
            Signal("Cache connections", "traffic", cache, "CurrConnections", "Maximum"),
            Signal("Cache evictions", "errors", cache, "Evictions", "Sum"),
            Signal("Cache engine CPU %", "saturation", cache, "EngineCPUUtilization", "Maximum"),
            Signal(
                "Cache memory %", "saturation", cache, "DatabaseMemoryUsagePercentage", "Maximum"
            ),
        ),
        "search": (
            Signal("OpenSearch requests", "traffic", search, "OpenSearchRequests", "Sum"),
            Signal("OpenSearch 5xx", "errors", search, "5xx", "Sum"),
            Signal("Search latency (ms)", "latency", search, "SearchLatency", "Average"),
            Signal(
                "OpenSearch JVM pressure %", "saturation", search, "JVMMemoryPressure", "Maximum"
            ),
        ),
        "kafka": (
            Signal(
                "Kafka bytes in",
                "traffic",
                "{AWS/Kafka,Broker ID,Cluster Name}",
                "BytesInPerSec",
                "Average",
            ),
            Signal(
                "Kafka disk used %",
                "saturation",
                "{AWS/Kafka,Broker ID,Cluster Name}",
                "KafkaDataLogsDiskUsed",
                "Maximum",
            ),
        ),
        "nat": (
            Signal(
                "NAT bytes out",
                "traffic",
                "{AWS/NATGateway,NatGatewayId}",
                "BytesOutToDestination",
                "Sum",
            ),
            Signal(
                "NAT port allocation errors",
                "errors",
                "{AWS/NATGateway,NatGatewayId}",
                "ErrorPortAllocation",
                "Sum",
            ),
        ),
        "functions": (
            Signal("Function invocations", "traffic", lam, "Invocations", "Sum"),
            Signal("Function errors", "errors", lam, "Errors", "Sum"),
            Signal("Function duration p99 (ms)", "latency", lam, "Duration", "p99"),
            Signal("Function throttles", "saturation", lam, "Throttles", "Sum"),
        ),
    }


SERVICES = tuple(_signals("us-east-1"))
"""What a dashboard can show, in the order it shows it."""

TITLES = {
    "edge": "Edge (CloudFront, WAF)",
    "load_balancer": "Load balancer",
    "cluster": "Kubernetes",
    "postgres": "PostgreSQL",
    "postgres_instance": "PostgreSQL",
    "cache": "Caches",
    "search": "OpenSearch",
    "kafka": "Kafka",
    "nat": "NAT gateways",
    "functions": "Lambda functions",
}


class AccountDashboard(Construct):
    """The dashboard `dashboard_name`: a markdown header, one alarm-status grid per region
    with alarms, then a row per service in `services` (names from `SERVICES`) of its golden
    signals."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        dashboard_name: str,
        title: str,
        alarms: Mapping[str, Sequence[str]],
        services: Sequence[str],
        edge_region: str,
    ) -> None:
        """
        :param alarms: region -> names of the account's alarms there.
        """
        super().__init__(scope, id_)
        unknown = sorted(set(services) - set(SERVICES))
        if unknown:
            raise ValueError(f"no golden signals for {', '.join(unknown)}")
        repeated = sorted(
            f"{region}: {name}"
            for region, names in alarms.items()
            for name in set(names)
            if names.count(name) > 1
        )
        if repeated:  # CloudWatch alarm names are unique per account and region
            raise ValueError(f"alarm names used twice: {', '.join(repeated)}")
        stack = Stack.of(self)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(6),
        )
        count = sum(len(names) for names in alarms.values())
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {title}\n{count} alarms; each sends to the account's alarm topic "
                "(docs/operations.md, *Monitoring and alerts*). Graphs: traffic, errors, "
                "latency and saturation of what this account runs.",
                width=24,
                height=2,
            )
        )
        for region, names in alarms.items():
            if not names:
                continue
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title=f"Alarms in {region}",
                    alarms=[
                        cloudwatch.Alarm.from_alarm_arn(
                            self,
                            f"{region}-{name}",
                            f"arn:{stack.partition}:cloudwatch:{region}:{stack.account}:alarm:{name}",
                        )
                        for name in sorted(names)
                    ],
                    width=24,
                    height=max(3, 1 + (len(names) + 3) // 4),
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                )
            )
        signals = _signals(edge_region)
        for service in (s for s in SERVICES if s in services):
            self.dashboard.add_widgets(
                *(
                    cloudwatch.GraphWidget(
                        title=f"{TITLES[service]}: {signal.title}",
                        left=[
                            cloudwatch.MathExpression(
                                expression=signal.expression(),
                                using_metrics={},
                                period=Duration.seconds(PERIOD),
                                label="",
                                search_region=signal.region,
                            )
                        ],
                        region=signal.region,
                        width=24 // len(signals[service]),
                        height=6,
                        legend_position=cloudwatch.LegendPosition.BOTTOM,
                    )
                    for signal in signals[service]
                )
            )
