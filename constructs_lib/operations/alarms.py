"""The alarms of one stack's resources, built with cdklabs' cdk-monitoring-constructs (its
`MonitoringFacade`), each publishing to the account's alarm topic in the stack's region (the
account's one dashboard lists them: `constructs_lib.operations.dashboard`).

The facade knows each service's metrics and the alarm shapes that fit them (statistics,
periods, missing data); this module chooses which alarms a resource gets and their thresholds,
and adds the few metrics the library has no monitor for (NAT gateways, MSK, the Transit
Gateway, application load balancers without a target group object) as plain CloudWatch alarms
through the same naming and topic. `policies/platform/monitored.py` fails synthesis when a
resource of a monitored type has no alarm on the topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cdk_monitoring_constructs as monitoring
from aws_cdk import CfnResource, Duration, Fn, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_msk as msk
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from facts.aws import EDGE_REGION

ALARM = "Critical"
"""The facade's disambiguator of every alarm here: one level, routed by the account (posted
to its channel; in prod also paged)."""

GIB = 1024**3

POD_RESTARTS = 5
"""A pod whose containers restarted more than this many times alarms (crash loops)."""

QUEUE_AGE_SECONDS = 900
"""A queue's oldest message older than this (15 minutes) means its consumer is not reading:
the platform's queues (Argo CD's notifications, Karpenter's interruptions) are drained within
seconds when their consumer works."""

WAF_BLOCKED_STD_DEVS = 3
"""Width of the expected band of a web ACL's blocked requests (standard deviations of the
anomaly detection model)."""


def _metric(
    namespace: str,
    metric_name: str,
    dimensions: dict[str, str],
    statistic: str,
    *,
    minutes: int = 5,
) -> cloudwatch.Metric:
    """A metric the alarms below watch, over five minutes unless `minutes` says otherwise."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=Duration.minutes(minutes),
    )


@dataclass(frozen=True)
class AlarmThresholds:
    """What an account tolerates (config's `Thresholds`, by role unless set)."""

    cpu_percent: int = 80
    memory_percent: int = 90
    free_storage_percent: int = 15
    connections_percent: int = 80
    replica_lag_seconds: int = 30
    error_rate_percent: float = 5.0
    latency_ms: int = 2000
    function_errors: int = 1


class StackAlarms(Construct):
    """A `MonitoringFacade` for one stack: alarms named `<alarm_prefix>-<resource>-<metric>`,
    each sending ALARM to the topic `topic_arn` (the account's alarm topic in the stack's
    region). The library's dashboards are off: the account has one dashboard of all its alarms
    (`constructs_lib.operations.dashboard`).

    Call one method per resource; each alarm's actions name the topic.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        topic_arn: str,
        alarm_prefix: str,
        thresholds: AlarmThresholds,
    ) -> None:
        super().__init__(scope, id_)
        self.thresholds = thresholds
        self.topic = sns.Topic.from_topic_arn(self, "Topic", topic_arn)
        self._prefix = alarm_prefix
        self.made: list[cloudwatch.CfnAlarm] = []
        """The plain alarms made so far (`_alarm`), in order."""
        self.facade = monitoring.MonitoringFacade(
            self,
            "Monitoring",
            alarm_factory_defaults=monitoring.AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=alarm_prefix,
                action=monitoring.SnsAlarmActionStrategy(on_alarm_topic=self.topic),
                datapoints_to_alarm=3,
                evaluation_periods=3,
            ),
            dashboard_factory=monitoring.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=alarm_prefix,  # names nothing: no dashboard is made
                create_dashboard=False,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )

    # --- the library's monitors -----------------------------------------------------------

    def postgres(
        self,
        name: str,
        resource: rds.DatabaseCluster | rds.DatabaseInstance,
        *,
        max_connections: int | None = None,
        max_capacity_acu: float | None = None,
        allocated_storage_gib: int | None = None,
    ) -> None:
        """CPU, connections against `max_connections` (when known), free storage (an
        instance) or the Serverless v2 ceiling (`max_capacity_acu`: alarms at 90% of it)."""
        t = self.thresholds
        cpu = {ALARM: monitoring.UsageThreshold(max_usage_percent=t.cpu_percent)}
        connections = (
            {
                ALARM: monitoring.HighConnectionCountThreshold(
                    max_connection_count=int(max_connections * t.connections_percent / 100)
                )
            }
            if max_connections
            else None
        )
        if isinstance(resource, rds.DatabaseCluster):
            self.facade.monitor_aurora_cluster(
                cluster=resource,
                alarm_friendly_name=name,
                human_readable_name=f"PostgreSQL {name}",
                add_cpu_usage_alarm=cpu,
                add_max_connection_count_alarm=connections,
                add_max_serverless_database_capacity_alarm=(
                    {
                        ALARM: monitoring.UsageCountThreshold(
                            max_usage_count=round(max_capacity_acu * 0.9, 1)
                        )
                    }
                    if max_capacity_acu
                    else None
                ),
            )
        else:
            self.facade.monitor_rds_instance(
                instance=resource,
                alarm_friendly_name=name,
                human_readable_name=f"PostgreSQL {name}",
                add_cpu_usage_alarm=cpu,
                add_max_connection_count_alarm=connections,
                add_free_storage_space_alarm=(
                    {
                        ALARM: monitoring.MinUsageCountThreshold(
                            min_count=allocated_storage_gib * GIB * t.free_storage_percent / 100
                        )
                    }
                    if allocated_storage_gib
                    else None
                ),
            )

    def cache(self, name: str, group: elasticache.CfnReplicationGroup, *, nodes: int) -> None:
        """Per node of the replication group (`<id>-001`, …): host and engine CPU, evictions,
        freeable memory."""
        t = self.thresholds
        for index in range(1, nodes + 1):
            node = Fn.join("-", [group.ref, f"{index:03d}"])
            self.facade.monitor_elasti_cache_cluster(
                cluster_id=node,
                cluster_type=monitoring.ElastiCacheClusterType.REDIS,
                alarm_friendly_name=f"{name}-{index:03d}",
                human_readable_name=f"Cache {name} node {index}",
                add_cpu_usage_alarm={
                    ALARM: monitoring.UsageThreshold(max_usage_percent=t.cpu_percent)
                },
                add_redis_engine_cpu_usage_alarm={
                    ALARM: monitoring.UsageThreshold(max_usage_percent=t.cpu_percent)
                },
                add_max_evicted_items_count_alarm={
                    ALARM: monitoring.MaxItemsCountThreshold(max_items_count=1000)
                },
            )

    def search(self, name: str, domain: opensearch.Domain) -> None:
        """Cluster red and yellow, disk space, JVM pressure, automated snapshot failures."""
        t = self.thresholds
        self.facade.monitor_open_search_cluster(
            domain=domain,
            alarm_friendly_name=name,
            human_readable_name=f"OpenSearch {name}",
            add_cluster_status_alarm={
                ALARM: monitoring.OpenSearchClusterStatusCustomization(
                    status=monitoring.OpenSearchClusterStatus.YELLOW
                )
            },
            add_disk_space_usage_alarm={
                ALARM: monitoring.UsageThreshold(max_usage_percent=100 - t.free_storage_percent)
            },
            add_jvm_memory_pressure_alarm={
                ALARM: monitoring.UsageThreshold(max_usage_percent=t.memory_percent)
            },
            add_cluster_automated_snapshot_failure_alarm={
                ALARM: monitoring.OpenSearchClusterAutomatedSnapshotFailureThreshold(max_failures=0)
            },
        )

    def functions(self, functions: Sequence[CfnResource]) -> None:
        """Errors of each Lambda function (`AWS::Lambda::Function` resources: the platform's
        handlers and the ones CDK makes for custom resources alike), in five minutes at or
        above the threshold."""
        for function in functions:
            parent = function.node.scope
            name = (
                parent.node.id
                if function.node.id == "Resource" and parent is not None
                else function.node.id
            )
            self._alarm(
                # the stack's id too: two stacks of a region may both have a "Handler"
                f"function-{Stack.of(function).node.id}-{name}-errors",
                _metric("AWS/Lambda", "Errors", {"FunctionName": function.ref}, "Sum"),
                self.thresholds.function_errors - 1,
                f"Function {function.node.path} failed",
                periods=1,
            )

    # --- metrics the library has no monitor for ------------------------------------------

    def load_balancer(self, name: str, balancer: elbv2.ApplicationLoadBalancer) -> None:
        """5xx share of requests (the balancer's and the targets'), unhealthy hosts of any
        target group, p99 target latency."""
        t = self.thresholds
        metrics = balancer.metrics
        requests = metrics.request_count(period=Duration.minutes(5))
        for code, metric in (
            ("elb-5xx", metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT)),
            ("target-5xx", metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT)),
        ):
            self._alarm(
                f"{name}-{code}-rate",
                cloudwatch.MathExpression(
                    expression="100 * errors / MAX([requests, 1])",
                    using_metrics={
                        "errors": metric.with_(period=Duration.minutes(5)),
                        "requests": requests,
                    },
                    period=Duration.minutes(5),
                    label=f"{code} %",
                ),
                t.error_rate_percent,
                f"{name}: more than {t.error_rate_percent}% of requests answered {code}",
            )
        self._alarm(
            f"{name}-latency-p99",
            metrics.target_response_time(statistic="p99", period=Duration.minutes(5)),
            t.latency_ms / 1000,
            f"{name}: p99 target response time above {t.latency_ms} ms",
        )
        self._alarm(
            f"{name}-unhealthy-hosts",
            _metric(
                "AWS/ApplicationELB",
                "UnHealthyHostCount",
                {"LoadBalancer": balancer.load_balancer_full_name},
                "Maximum",
                minutes=1,
            ),
            0,
            f"{name}: a target is unhealthy",
        )

    def cluster(self, name: str, cluster_name: str) -> None:
        """An EKS cluster (`cluster_name` a `Ref` of its `AWS::EKS::Cluster`): from Container
        Insights (the CloudWatch Observability add-on's agent, namespace ContainerInsights,
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html)
        the busiest node's CPU and memory, failed nodes and pods restarting their containers;
        from the control plane's free vended metrics (AWS/EKS,
        https://docs.aws.amazon.com/eks/latest/userguide/cloudwatch.html) the share of API
        server requests answered 5xx."""
        t = self.thresholds
        for metric, short, threshold, what in (
            (
                "node_cpu_utilization",
                "node-cpu",
                t.cpu_percent,
                f"a node's CPU above {t.cpu_percent}%",
            ),
            (
                "node_memory_utilization",
                "node-memory",
                t.memory_percent,
                f"a node's memory above {t.memory_percent}%",
            ),
            (
                "cluster_failed_node_count",
                "failed-nodes",
                0,
                "a node has failed (a node condition)",
            ),
        ):
            self._alarm(
                f"{name}-{short}",
                _metric("ContainerInsights", metric, {"ClusterName": cluster_name}, "Maximum"),
                threshold,
                f"EKS {name}: {what}",
            )
        self._alarm(
            f"{name}-pod-restarts",
            cloudwatch.MathExpression(
                expression=Fn.join(
                    "",
                    [
                        "SELECT MAX(pod_number_of_container_restarts) FROM SCHEMA("
                        '"ContainerInsights", ClusterName, Namespace, PodName) '
                        "WHERE ClusterName = '",
                        cluster_name,
                        "'",
                    ],
                ),
                using_metrics={},
                period=Duration.minutes(5),
                label="container restarts of the most restarting pod",
            ),
            POD_RESTARTS,
            f"EKS {name}: a pod's containers restarted more than {POD_RESTARTS} times",
            periods=1,
        )
        api = {"ClusterName": cluster_name}
        self._alarm(
            f"{name}-apiserver-5xx-rate",
            cloudwatch.MathExpression(
                expression="100 * errors / MAX([requests, 1])",
                using_metrics={
                    "errors": _metric("AWS/EKS", "apiserver_request_total_5XX", api, "Sum"),
                    "requests": _metric("AWS/EKS", "apiserver_request_total", api, "Sum"),
                },
                period=Duration.minutes(5),
                label="API server 5xx %",
            ),
            t.error_rate_percent,
            f"EKS {name}: more than {t.error_rate_percent}% of API server requests answered 5xx",
        )

    def nat_gateways(self, gateways: Sequence[CfnResource]) -> None:
        """Port allocation errors and dropped packets of each NAT gateway."""
        for index, gateway in enumerate(gateways, start=1):
            for metric, what in (
                ("ErrorPortAllocation", "could not allocate a source port"),
                ("PacketsDropCount", "dropped packets"),
            ):
                self._alarm(
                    f"nat-{index}-{metric}",
                    _metric("AWS/NATGateway", metric, {"NatGatewayId": gateway.ref}, "Sum"),
                    0,
                    f"NAT gateway {index} {what}",
                )

    def kafka(self, name: str, cluster: msk.CfnCluster) -> None:
        """Under-replicated partitions and the fullest broker's data disk."""
        t = self.thresholds
        for metric, threshold, what in (
            ("UnderReplicatedPartitions", 0, "has under-replicated partitions"),
            ("KafkaDataLogsDiskUsed", 100 - t.free_storage_percent, "is running out of disk"),
        ):
            self._alarm(
                f"{name}-{metric}",
                _metric("AWS/Kafka", metric, {"Cluster Name": cluster.cluster_name}, "Maximum"),
                threshold,
                f"Kafka {name} {what}",
            )

    def transit_gateway(self, name: str, gateway_id: str) -> None:
        """Packets dropped for want of a route (a segment's routes missing) or to a blackhole."""
        for metric in ("PacketDropCountNoRoute", "PacketDropCountBlackhole"):
            self._alarm(
                f"{name}-{metric}",
                _metric("AWS/TransitGateway", metric, {"TransitGateway": gateway_id}, "Sum"),
                0,
                f"Transit Gateway {name}: {metric}",
            )

    def backup_failures(self, vault: backup.IBackupVault) -> None:
        """A backup or copy job of `vault` that fails, aborts or expires posts to the topic
        (AWS Backup's EventBridge events, https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html)."""
        events.Rule(
            self,
            "BackupFailures",
            description=f"Failed, aborted or expired jobs of {vault.node.path}",
            event_pattern=events.EventPattern(
                source=["aws.backup"],
                detail_type=["Backup Job State Change", "Copy Job State Change"],
                detail={
                    "state": ["FAILED", "ABORTED", "EXPIRED"],
                    "backupVaultName": [vault.backup_vault_name],
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )

    def distribution(self, name: str, distribution_id: str) -> None:
        """A CloudFront distribution's 5xx share of viewer requests (`5xxErrorRate`, a default
        metric: no additional metrics needed), above the error-rate threshold for 15 minutes.

        CloudFront publishes to us-east-1 only, with dimensions `DistributionId` and
        `Region=Global`, so the stack must be in us-east-1:
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html
        """
        self._in_edge_region("distribution")
        t = self.thresholds
        self._alarm(
            f"{name}-5xx-rate",
            _metric(
                "AWS/CloudFront",
                "5xxErrorRate",
                {"DistributionId": distribution_id, "Region": "Global"},
                "Average",
            ),
            t.error_rate_percent,
            f"Distribution {name}: more than {t.error_rate_percent}% of viewer requests "
            "answered 5xx",
        )
        # OriginLatency is one of the distribution's additional metrics, published once its
        # monitoring subscription is on (`additional_metrics`): the time to the origin's first
        # byte, in milliseconds, for requests CloudFront does not answer from its cache.
        self._alarm(
            f"{name}-origin-latency-p90",
            _metric(
                "AWS/CloudFront",
                "OriginLatency",
                {"DistributionId": distribution_id, "Region": "Global"},
                "p90",
            ),
            t.latency_ms,
            f"Distribution {name}: p90 origin latency above {t.latency_ms} ms",
        )

    def additional_metrics(self, distribution_id: str) -> None:
        """Turn on the distribution's additional CloudWatch metrics (origin latency, error
        rates by status code, cache hit rate), which `distribution` alarms on; billed per
        metric like custom metrics:
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/viewing-cloudfront-metrics.html#monitoring-console.distributions-additional"""
        self._in_edge_region("additional_metrics")
        cloudfront.CfnMonitoringSubscription(
            self,
            "AdditionalMetrics",
            distribution_id=distribution_id,
            monitoring_subscription=cloudfront.CfnMonitoringSubscription.MonitoringSubscriptionProperty(
                realtime_metrics_subscription_config=cloudfront.CfnMonitoringSubscription.RealtimeMetricsSubscriptionConfigProperty(
                    realtime_metrics_subscription_status="Enabled"
                )
            ),
        )

    def web_acl(self, name: str, acl: wafv2.CfnWebACL) -> None:
        """A spike of the CLOUDFRONT web ACL's blocked requests (all rules): `BlockedRequests`
        (dimensions `WebACL`, `Rule=ALL`; no `Region` for CloudFront, whose metrics are in
        us-east-1) above the band a CloudWatch anomaly detection model expects
        (`WAF_BLOCKED_STD_DEVS` wide) in two of three five-minute periods.

        Anomaly detection, not a threshold: blocks come from the rate rule and the managed
        rule groups alike, and their normal level follows each environment's traffic and
        the day's bot noise; the model learns that daily and weekly pattern, where a fixed
        number (say, a multiple of the rate limit) would be noise in one account and blind in
        another. https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html,
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Anomaly_Detection.html
        """
        self._in_edge_region("web_acl")
        if acl.scope != "CLOUDFRONT" or not isinstance(acl.name, str):
            raise ValueError("acl: a CLOUDFRONT web ACL with a literal name")
        alarm = cloudwatch.AnomalyDetectionAlarm(
            self,
            f"Alarm-{name}-blocked-spike",
            alarm_name=f"{self._prefix}-{name}-blocked-spike",
            alarm_description=f"Web ACL {acl.name}: blocked requests above the expected band",
            metric=_metric(
                "AWS/WAFV2", "BlockedRequests", {"WebACL": acl.name, "Rule": "ALL"}, "Sum"
            ),
            std_devs=WAF_BLOCKED_STD_DEVS,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))

    def queues(self, queues: Sequence[CfnResource]) -> None:
        """Each SQS queue's oldest message older than `QUEUE_AGE_SECONDS` for 15 minutes
        (its consumer stopped reading), and, for a queue that is another's dead-letter queue,
        any message visible in it."""
        stack = Stack.of(self)
        dead_letter_ids = {
            target[0]
            for queue in queues
            if isinstance(queue, sqs.CfnQueue)
            and isinstance(policy := stack.resolve(queue.redrive_policy), dict)
            and isinstance(target := policy.get("deadLetterTargetArn", {}).get("Fn::GetAtt"), list)
        }
        for queue in queues:
            name = _path_name(queue)
            queue_name = queue.get_att("QueueName").to_string()
            self._alarm(
                f"queue-{name}-age",
                _metric(
                    "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue_name}, "Maximum"
                ),
                QUEUE_AGE_SECONDS,
                f"Queue {queue.node.path}: oldest message older than {QUEUE_AGE_SECONDS} s",
            )
            if stack.resolve(queue.logical_id) in dead_letter_ids:
                self._alarm(
                    f"queue-{name}-dead-letters",
                    _metric(
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        {"QueueName": queue_name},
                        "Maximum",
                    ),
                    0,
                    f"Dead-letter queue {queue.node.path} holds messages",
                    periods=1,
                )

    def pipes(self, pipes: Sequence[CfnResource]) -> None:
        """Each EventBridge pipe's failed executions and failed target invocations (namespace
        `AWS/EventBridge/Pipes`, dimension `PipeName`), any in five minutes:
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-monitoring.html"""
        for pipe in pipes:
            name = _path_name(pipe)
            for metric, what in (
                ("ExecutionFailed", "executions failed"),
                ("TargetStageFailed", "could not deliver to its target"),
            ):
                self._alarm(
                    f"pipe-{name}-{metric}",
                    _metric("AWS/EventBridge/Pipes", metric, {"PipeName": pipe.ref}, "Sum"),
                    0,
                    f"Pipe {pipe.node.path} {what}",
                    periods=1,
                )

    def _in_edge_region(self, method: str) -> None:
        region = Stack.of(self).region
        if region != EDGE_REGION:
            raise ValueError(
                f"{method}: CloudFront and its WAF publish metrics to {EDGE_REGION} only; this "
                f"stack is in {region!r}"
            )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        periods: int = 3,
    ) -> cloudwatch.Alarm:
        """A plain alarm above `threshold` for `periods` of `periods` periods, missing data not
        breaching, named and routed like the facade's."""
        alarm = cloudwatch.Alarm(
            self,
            f"Alarm-{name}",
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.made.append(alarm.node.default_child)  # type: ignore[arg-type]
        return alarm


def _path_name(resource: CfnResource) -> str:
    """`<parent>-<construct>` of an L2's resource (`Notifications-Queue`), or of the
    resource itself: short, and unique within the stack for the platform's constructs."""
    inside = resource.node.path.removeprefix(Stack.of(resource).node.path + "/")
    parts = [p for p in inside.split("/") if p != "Resource"]
    return "-".join(parts[-2:])
