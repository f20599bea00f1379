"""`make cost`: the monthly run-rate the synthesized templates commit an organisation to.

    python -m tools.cost [--assembly cdk.out] [--out reports/cost] [--compare OTHER_CDK_OUT]

Reads the templates (not the config), prices every resource with a fixed hourly or monthly
charge from the dated table `tools/prices.json`, and prints per account and in total the
estimate by category (NAT gateways, endpoints, EKS control planes, nodes, databases, ...).
Resources charged only by use (requests, GB stored, log ingestion) are counted as
"usage-based"; types the table does not know are listed as "not priced", never as zero.
`--compare` prices a second assembly (e.g. main's) and prints what this one adds.
Then, per team of the config (`--config`) and account, what its quotas reserve of the
account's system nodes and its images' storage (`team_costs`). Writes `cost.md` and
`cost.csv` to `--out`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from config.eks_calendar import EKS_CALENDAR
from config.model import PlatformConfig
from facts.ec2 import INSTANCE_SIZES
from tools.assembly import StackArtifact, read_stacks
from tools.readme import replace_block

PRICES = Path(__file__).with_name("prices.json")

USAGE_BASED = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::EC2::FlowLog",
        "AWS::SQS::Queue",
        "AWS::Pipes::Pipe",  # per request (Argo CD notifications: a handful a day)
        "AWS::SNS::Topic",
        "AWS::Lambda::Function",
        "AWS::CloudTrail::Trail",
        "AWS::GuardDuty::Detector",
        "AWS::Config::ConfigurationRecorder",
        "AWS::SecurityHub::Hub",
        "AWS::Backup::BackupVault",
        "AWS::Backup::BackupPlan",
        "AWS::CodeBuild::Project",
        "AWS::EKS::FargateProfile",
        "AWS::CloudFront::Distribution",
        "AWS::ECR::Repository",
        "AWS::Budgets::Budget",
        "AWS::Events::Rule",
        "AWS::SSM::Parameter",
        "AWS::CodePipeline::Pipeline",
        "AWS::WAFv2::LoggingConfiguration",
        "AWS::SecurityHub::Standard",
        "AWS::Logs::MetricFilter",  # its metric is charged in the hours it has data points
        "AWS::APS::Workspace",  # its samples are priced at the scraper that sends them
    }
)
"""Types with no fixed charge: they cost what they are used for."""

FREE_PREFIXES = ("AWS::IAM::", "AWS::CloudFormation::", "Custom::", "AWS::CDK::")
FREE = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::LaunchTemplate",
        "AWS::KMS::Alias",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::EKS::AccessEntry",
        "AWS::EKS::Addon",
        "AWS::EKS::PodIdentityAssociation",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBClusterParameterGroup",
        "AWS::ElastiCache::SubnetGroup",
        "AWS::ElastiCache::User",
        "AWS::ElastiCache::UserGroup",
        "AWS::Logs::ResourcePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::Chatbot::SlackChannelConfiguration",  # AWS Chatbot has no charge of its own
        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
        "AWS::S3::BucketPolicy",
        "AWS::Backup::BackupSelection",
        "AWS::CodeStarNotifications::NotificationRule",
        "AWS::Events::EventBusPolicy",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::CertificateManager::Certificate",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "AWS::CloudFront::VpcOrigin",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::Route53::RecordSet",
        "AWS::Organizations::OrganizationalUnit",
        "AWS::EC2::TransitGateway",
        "AWS::EC2::TransitGatewayRouteTable",
        "AWS::RAM::ResourceShare",
        "AWS::Organizations::Policy",
        "AWS::SecurityHub::DelegatedAdmin",
        "AWS::SecurityHub::OrganizationConfiguration",
        "AWS::SecurityHub::FindingAggregator",
        "AWS::AccessAnalyzer::Analyzer",
        "AWS::Config::ConfigurationAggregator",
        "AWS::Config::DeliveryChannel",
    }
)
"""Types AWS does not charge for."""


@dataclass(frozen=True)
class Line:
    account: str
    stack: str
    category: str
    item: str
    monthly_usd: float


@dataclass
class Estimate:
    as_of: str
    lines: list[Line] = field(default_factory=list)
    usage_based: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    not_priced: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Resource type -> how many, for types the table has no entry for."""

    def by_account(self) -> dict[str, dict[str, float]]:
        totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for line in self.lines:
            totals[line.account][line.category] += line.monthly_usd
        return {account: dict(categories) for account, categories in totals.items()}

    def total(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)


class Pricer:
    """Prices one template's resources in one region."""

    def __init__(self, table: Mapping[str, Any], region: str, today: date) -> None:
        if region not in table["regions"]:
            raise KeyError(f"no prices for {region}; known: {', '.join(table['regions'])}")
        self.p = table["regions"][region]
        self.hours = table["hours_per_month"]
        self.today = today

    def monthly(self, hourly: float) -> float:
        return hourly * self.hours

    def price(
        self, rtype: str, props: Mapping[str, Any], template: Mapping[str, Any]
    ) -> Iterator[tuple[str, str, float]] | None:
        """(category, item, monthly USD) for a priced type; None if the table has no rule."""
        rule = RULES.get(rtype)
        return None if rule is None else rule(self, props, template)

    def lookup(self, table: str, key: str) -> float:
        prices = self.p[table]
        if key not in prices:
            raise UnknownPrice(f"{table}: {key}")
        return prices[key]


class UnknownPrice(KeyError):
    """A priced type whose size (instance class, node type) is missing from the table."""


def _resource(template: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
    """The properties of the resource `value` refers to (Ref / GetAtt) in the same template."""
    if isinstance(value, dict):
        logical_id = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if logical_id in template.get("Resources", {}):
            return template["Resources"][logical_id].get("Properties", {})
    return {}


def _nat(pr: Pricer, props, template):
    yield "NAT gateways", "NAT gateway", pr.monthly(pr.p["nat_gateway_hour"])


def _eip(pr: Pricer, props, template):
    yield "NAT gateways", "public IPv4 address", pr.monthly(pr.p["public_ipv4_hour"])


def _endpoint(pr: Pricer, props, template):
    if props.get("VpcEndpointType") == "Interface":
        zones = len(props.get("SubnetIds", [])) or 1
        service = props.get("ServiceName", "")
        name = service.split(".")[-1] if isinstance(service, str) else "interface endpoint"
        yield (
            "Interface endpoints",
            f"{name} x {zones} AZ",
            zones * pr.monthly(pr.p["interface_endpoint_az_hour"]),
        )


def _eks(pr: Pricer, props, template):
    version = props.get("Version", "")
    release = EKS_CALENDAR.get(version)
    support = "extended" if release and release.status(pr.today) == "extended" else "standard"
    rate = pr.p["eks_cluster_hour"][support]
    yield "EKS control planes", f"{version} ({support} support)", pr.monthly(rate)


OBSERVATIONS_PER_NODE_MINUTE = 1000
"""Assumed Container Insights (enhanced observability) observations a node sends a minute: its
own metrics and those of its pods and containers (about 20 pods of 1-2 containers at some
30 metrics each). An estimate: the real count grows with the pods a node runs."""


def _container_insights(pr: Pricer, props, template):
    """The CloudWatch Observability add-on: Container Insights with enhanced observability is
    charged per observation (https://aws.amazon.com/cloudwatch/pricing/), estimated for the
    system node group's desired nodes (Karpenter's nodes come and go: not counted)."""
    if props.get("AddonName") != "amazon-cloudwatch-observability":
        return
    nodes = sum(
        (r.get("Properties", {}).get("ScalingConfig", {}).get("DesiredSize") or 0)
        for r in template.get("Resources", {}).values()
        if r.get("Type") == "AWS::EKS::Nodegroup"
    )
    millions = nodes * OBSERVATIONS_PER_NODE_MINUTE * 60 * pr.hours / 1e6
    yield (
        "Monitoring",
        f"Container Insights, {nodes} nodes x {OBSERVATIONS_PER_NODE_MINUTE} observations/min",
        millions * pr.p["container_insights_observations_million"],
    )


def _nodegroup(pr: Pricer, props, template):
    scaling = props.get("ScalingConfig", {})
    count = scaling.get("DesiredSize") or scaling.get("MinSize") or 0
    instance = (props.get("InstanceTypes") or ["m7g.large"])[0]
    rate = pr.lookup("ec2_instance_hour", instance)
    yield "EKS nodes", f"{count} x {instance}", count * pr.monthly(rate)
    launch = _resource(template, props.get("LaunchTemplate", {}).get("Id"))
    volumes = launch.get("LaunchTemplateData", {}).get("BlockDeviceMappings", [])
    gib = sum(v.get("Ebs", {}).get("VolumeSize", 0) for v in volumes) or props.get("DiskSize", 20)
    yield "EKS nodes", f"{count} x {gib} GiB gp3", count * gib * pr.p["ebs_gp3_gb_month"]


CLOUDFRONT_ADDITIONAL_METRICS = 8
"""What a distribution's monitoring subscription publishes (origin latency, cache hit rate,
4xx and 5xx rates by status code), each priced as a CloudWatch custom metric."""


def _cloudfront_metrics(pr: Pricer, props, template):
    yield (
        "Monitoring",
        f"CloudFront additional metrics ({CLOUDFRONT_ADDITIONAL_METRICS})",
        CLOUDFRONT_ADDITIONAL_METRICS * pr.p["cloudwatch_metric_month"],
    )


def _instance(pr: Pricer, props, template):
    """A lone EC2 instance (the operator access instance) and its root volume."""
    instance = props.get("InstanceType", "t4g.nano")
    yield "Operator access", f"1 x {instance}", pr.monthly(pr.lookup("ec2_instance_hour", instance))
    gib = sum(m.get("Ebs", {}).get("VolumeSize", 0) for m in props.get("BlockDeviceMappings", []))
    if gib:
        yield "Operator access", f"{gib} GiB gp3", gib * pr.p["ebs_gp3_gb_month"]


def _db_instance(pr: Pricer, props, template):
    klass = props.get("DBInstanceClass", "")
    if klass == "db.serverless":
        cluster = _resource(template, props.get("DBClusterIdentifier"))
        acus = cluster.get("ServerlessV2ScalingConfiguration", {}).get("MinCapacity", 0.5)
        yield (
            "Databases",
            f"Aurora Serverless v2 minimum {acus} ACU",
            acus * pr.monthly(pr.p["aurora_serverless_v2_acu_hour"]),
        )
        return
    engine = props.get("Engine") or _resource(template, props.get("DBClusterIdentifier")).get(
        "Engine", "aurora-postgresql"
    )
    copies = 2 if props.get("MultiAZ") is True else 1
    rate = pr.lookup("rds_instance_hour", f"{engine}:{klass}")
    suffix = " Multi-AZ" if copies == 2 else ""
    yield "Databases", f"{engine} {klass}{suffix}", copies * pr.monthly(rate)
    storage = props.get("AllocatedStorage")
    if storage:
        gib = int(storage)
        yield "Databases", f"{gib} GiB gp3", copies * gib * pr.p["rds_gp3_gb_month"]


def _cache(pr: Pricer, props, template):
    nodes = (props.get("NumNodeGroups") or 1) * (1 + (props.get("ReplicasPerNodeGroup") or 0))
    node_type = props.get("CacheNodeType", "")
    rate = pr.lookup("elasticache_node_hour", node_type)
    if props.get("Engine") == "valkey":
        rate *= 1 - pr.p["elasticache_valkey_discount"]
    engine = props.get("Engine", "redis")
    yield "Caches", f"{nodes} x {node_type} ({engine})", nodes * pr.monthly(rate)


def _search(pr: Pricer, props, template):
    config = props.get("ClusterConfig", {})
    count, instance = config.get("InstanceCount", 1), config.get("InstanceType", "")
    yield (
        "Search",
        f"{count} x {instance}",
        count * pr.monthly(pr.lookup("opensearch_instance_hour", instance)),
    )
    if config.get("DedicatedMasterEnabled"):
        masters, master = config.get("DedicatedMasterCount", 3), config.get("DedicatedMasterType")
        rate = pr.lookup("opensearch_instance_hour", master)
        yield "Search", f"{masters} x {master} (masters)", masters * pr.monthly(rate)
    gib = props.get("EBSOptions", {}).get("VolumeSize", 0)
    yield "Search", f"{count} x {gib} GiB gp3", count * gib * pr.p["opensearch_gp3_gb_month"]


def _kafka(pr: Pricer, props, template):
    brokers = props.get("NumberOfBrokerNodes", 0)
    info = props.get("BrokerNodeGroupInfo", {})
    broker = info.get("InstanceType", "")
    yield (
        "Kafka",
        f"{brokers} x {broker}",
        brokers * pr.monthly(pr.lookup("msk_broker_hour", broker)),
    )
    gib = info.get("StorageInfo", {}).get("EBSStorageInfo", {}).get("VolumeSize", 0)
    yield "Kafka", f"{brokers} x {gib} GiB", brokers * gib * pr.p["msk_storage_gb_month"]


def _fixed(category: str, item: str, key: str) -> Callable:
    def rule(pr: Pricer, props, template):
        yield category, item, pr.p[key]

    return rule


def _hourly(category: str, item: str, key: str) -> Callable:
    def rule(pr: Pricer, props, template):
        yield category, item, pr.monthly(pr.p[key])

    return rule


def _web_acl(pr: Pricer, props, template):
    rules = len(props.get("Rules", []))
    yield (
        "Edge",
        f"WAF web ACL + {rules} rules",
        pr.p["waf_web_acl_month"] + rules * pr.p["waf_rule_month"],
    )


def _pipeline(pr: Pricer, props, template):
    if props.get("PipelineType") != "V2":
        yield "Delivery", "CodePipeline (V1)", pr.p["codepipeline_v1_month"]


def _alarm(pr: Pricer, props, template):
    """An alarm costs per metric it evaluates (a metric-math alarm: each metric of its
    expression), three times as much at high resolution (a period under a minute),
    https://aws.amazon.com/cloudwatch/pricing/."""
    metrics = sum(1 for m in props.get("Metrics", []) if "MetricStat" in m) or 1
    high = 0 < int(props.get("Period", 60) or 60) < 60
    yield (
        "Monitoring",
        "CloudWatch alarm" + (" (high resolution)" if high else ""),
        metrics * pr.p["cloudwatch_alarm_metric_month"] * (3 if high else 1),
    )


SAMPLES_PER_NODE_PER_SECOND = 200
"""Assumption of the Prometheus lines: what the collector's configuration
(constructs_lib.operations.prometheus) gathers per node every second: about 6,000 series of
kubelet, cAdvisor and annotated pods per node at its 30 s interval. Sized on the node groups'
desired nodes in the cluster's template; Karpenter's extra nodes add theirs."""
BYTES_PER_STORED_SAMPLE = 2
"""AMP's pricing page: a stored sample takes "typically 1 or 2 bytes" (and metadata)."""
STORED_MONTHS = 5
"""AMP keeps samples 150 days by default: storage settles at five months of them."""
GRAFANA_USERS = {"editor": 1, "viewer": 5}
"""Assumption: one editor and five viewers sign in each month (Grafana charges active users)."""


def _scraper(pr: Pricer, props, template):
    """The AWS managed collector: its hours, and the samples it collects, the workspace
    ingests and stores (https://aws.amazon.com/prometheus/pricing/), at
    `SAMPLES_PER_NODE_PER_SECOND` per node of the template's node groups."""
    nodes = sum(
        (r.get("Properties", {}).get("ScalingConfig", {}).get("DesiredSize") or 0)
        for r in template.get("Resources", {}).values()
        if r.get("Type") == "AWS::EKS::Nodegroup"
    )
    yield "Prometheus", "managed collector", pr.monthly(pr.p["amp_collector_hour"])
    samples = nodes * SAMPLES_PER_NODE_PER_SECOND * 3600 * pr.hours
    per_10m = samples / 1e7
    yield (
        "Prometheus",
        f"{nodes} nodes x {SAMPLES_PER_NODE_PER_SECOND} samples/s collected and ingested",
        per_10m * (pr.p["amp_collected_samples_10m"] + pr.p["amp_ingested_samples_10m"]),
    )
    stored_gb = samples * STORED_MONTHS * BYTES_PER_STORED_SAMPLE / 2**30
    yield "Prometheus", f"{stored_gb:.0f} GB stored", stored_gb * pr.p["amp_storage_gb_month"]


def _grafana(pr: Pricer, props, template):
    users = pr.p["grafana_user_month"]
    yield (
        "Prometheus",
        "Grafana " + ", ".join(f"{n} {role}" for role, n in GRAFANA_USERS.items()),
        sum(n * users[role] for role, n in GRAFANA_USERS.items()),
    )


RULES: dict[str, Callable] = {
    "AWS::EC2::NatGateway": _nat,
    "AWS::EC2::Instance": _instance,
    "AWS::EC2::EIP": _eip,
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::EKS::Cluster": _eks,
    "AWS::EKS::Nodegroup": _nodegroup,
    "AWS::EKS::Addon": _container_insights,
    "AWS::RDS::DBInstance": _db_instance,
    "AWS::RDS::DBCluster": lambda pr, props, template: iter(()),  # priced by its instances
    "AWS::ElastiCache::ReplicationGroup": _cache,
    "AWS::OpenSearchService::Domain": _search,
    "AWS::MSK::Cluster": _kafka,
    "AWS::KMS::Key": _fixed("Keys and secrets", "KMS key", "kms_key_month"),
    "AWS::SecretsManager::Secret": _fixed("Keys and secrets", "secret", "secret_month"),
    "AWS::Route53::HostedZone": _fixed("DNS", "hosted zone", "hosted_zone_month"),
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _hourly(
        "Load balancers", "load balancer", "alb_hour"
    ),
    "AWS::EC2::TransitGatewayAttachment": _hourly(
        "Transit Gateway", "attachment", "transit_gateway_attachment_hour"
    ),
    "AWS::CodePipeline::Pipeline": _pipeline,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::APS::Scraper": _scraper,
    "AWS::Grafana::Workspace": _grafana,
    # the first three dashboards of an account are free: not counted, so an upper bound
    "AWS::CloudWatch::Dashboard": _fixed("Monitoring", "dashboard", "cloudwatch_dashboard_month"),
    "AWS::CloudFront::MonitoringSubscription": _cloudfront_metrics,
}


def estimate(
    stacks: Mapping[str, StackArtifact], table: Mapping[str, Any], *, today: date | None = None
) -> Estimate:
    today = today or date.today()
    result = Estimate(as_of=table["as_of"])
    pricers: dict[str, Pricer] = {}
    for path, stack in stacks.items():
        pricer = pricers.setdefault(stack.region, Pricer(table, stack.region, today))
        for resource in stack.resources.values():
            rtype = resource["Type"]
            try:
                priced = pricer.price(rtype, resource.get("Properties", {}), stack.template)
                lines = list(priced) if priced is not None else None
            except UnknownPrice as unknown:
                result.not_priced[f"{rtype} ({unknown.args[0]})"] += 1
                continue
            if lines:
                result.lines += [
                    Line(stack.account, path, category, item, round(usd, 2))
                    for category, item, usd in lines
                ]
            elif rtype in USAGE_BASED:  # V2 pipelines: priced by the minute
                result.usage_based[rtype] += 1
            elif lines is None and rtype not in FREE and not rtype.startswith(FREE_PREFIXES):
                result.not_priced[rtype] += 1
    return result


# --- per team -----------------------------------------------------------------------------------

ECR_GB_PER_IMAGE_REPOSITORY = 5.0
"""Assumption of the per-team table: each of a team's ECR repositories stores 5 GB (a few
dozen tagged images within the registry's lifecycle policy), at ECR's storage price
(https://aws.amazon.com/ecr/pricing/); pulls within the region are free."""


@dataclass(frozen=True)
class TeamLine:
    """What one team's quotas in one account reserve, and its images' storage (in the
    registry's account), priced a month."""

    team: str
    account: str
    item: str
    compute_usd: float
    """The quota's share of the system node type: max(CPU share, memory share) of its price."""
    storage_usd: float
    """Persistent volume claims up to the quota's `storage_gib`, as gp3 volumes."""
    images_usd: float

    @property
    def total(self) -> float:
        return round(self.compute_usd + self.storage_usd + self.images_usd, 2)


def _system_node_type(stacks: Sequence[StackArtifact]) -> str | None:
    """The instance type of the account's system node group (its only managed node group;
    Karpenter's nodes are not in the templates)."""
    for stack in stacks:
        for resource in stack.resources.values():
            if resource["Type"] == "AWS::EKS::Nodegroup":
                types = resource.get("Properties", {}).get("InstanceTypes") or []
                if types:
                    return types[0]
    return None


def team_costs(
    stacks: Mapping[str, StackArtifact], config: PlatformConfig, table: Mapping[str, Any]
) -> list[TeamLine]:
    """Per team and account where it has an environment: its namespaces' quota requests (CPU,
    memory) priced as a share of the account's system node instance type's hourly price,
    max(CPU share, memory share) as a scheduler would need it, plus its PVC storage quota at
    the gp3 price; per team, in the account holding its ECR repositories (read from the
    templates: `<prefix>/<team>/<image>`), `ECR_GB_PER_IMAGE_REPOSITORY` each. Prices of the
    region of the account's stacks. A team with no environment in an account has no line
    there."""
    by_account: dict[str, list[StackArtifact]] = defaultdict(list)
    for stack in stacks.values():
        by_account[stack.account].append(stack)
    hours = table["hours_per_month"]
    lines: list[TeamLine] = []
    for team in sorted(config.teams):
        for account in [a for a in config.accounts if a in config.teams[team].environments]:
            in_account = by_account.get(account)
            node = _system_node_type(in_account) if in_account else None
            if in_account is None or node is None or node not in INSTANCE_SIZES:
                continue
            prices = table["regions"][in_account[0].region]
            quotas = config.teams[team].environments[account].namespaces.values()
            cpu = sum(q.cpu for q in quotas)
            memory = sum(q.memory_gib for q in quotas)
            storage = sum(q.storage_gib for q in quotas)
            size = INSTANCE_SIZES[node]
            share = max(cpu / size.vcpus, memory / size.memory_gib)
            node_month = prices["ec2_instance_hour"][node] * hours
            lines.append(
                TeamLine(
                    team,
                    account,
                    f"{cpu:g} vCPU, {memory} GiB = {share:.2f} of {node}"
                    + (f"; {storage} GiB PVC" if storage else ""),
                    round(share * node_month, 2),
                    round(storage * prices["ebs_gp3_gb_month"], 2),
                    0.0,
                )
            )
        prefix = f"{config.organization.prefix}/{team}/"
        for account, in_account in sorted(by_account.items()):
            repositories = sum(
                1
                for stack in in_account
                for r in stack.resources.values()
                if r["Type"] == "AWS::ECR::Repository"
                and str(r.get("Properties", {}).get("RepositoryName", "")).startswith(prefix)
            )
            if repositories:
                gb = repositories * ECR_GB_PER_IMAGE_REPOSITORY
                rate = table["regions"][in_account[0].region]["ecr_storage_gb_month"]
                lines.append(
                    TeamLine(
                        team,
                        account,
                        f"{repositories} ECR repositor{'y' if repositories == 1 else 'ies'}"
                        f" x {ECR_GB_PER_IMAGE_REPOSITORY:g} GB",
                        0.0,
                        0.0,
                        round(gb * rate, 2),
                    )
                )
    return lines


def teams_markdown(lines: Sequence[TeamLine]) -> str:
    """The per-team table (empty string without teams)."""
    if not lines:
        return ""
    out = [
        "**Per team**: what each team's quotas reserve, priced as a share of the account's "
        "system node instance type: max(CPU requests / its vCPUs, memory requests / its GiB) "
        "x its hourly price; PVC storage quota as gp3; each ECR repository assumed to store "
        f"{ECR_GB_PER_IMAGE_REPOSITORY:g} GB. Reserved capacity, not use, and not added to the "
        "totals above (its nodes are the system nodes priced there, or Karpenter's).",
        "",
        "| team | account | reserves | compute | PVC storage | images | total |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for line in lines:
        out.append(
            f"| {line.team} | {line.account} | {line.item} | {_money(line.compute_usd)} | "
            f"{_money(line.storage_usd)} | {_money(line.images_usd)} | **{_money(line.total)}** |"
        )
    for team in sorted({line.team for line in lines}):
        total = sum(line.total for line in lines if line.team == team)
        out.append(f"| **{team}** | all | | | | | **{_money(total)}** |")
    return "\n".join(out) + "\n"


# --- output -------------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.2f}"


def to_markdown(result: Estimate) -> str:
    accounts = result.by_account()
    categories = sorted({c for totals in accounts.values() for c in totals})
    out = [
        f"# Estimated monthly run-rate (prices as of {result.as_of})",
        "",
        "Fixed charges only: what the templates cost before anything is used.",
        "",
        "| account | " + " | ".join(categories) + " | total |",
        "|---|" + "---:|" * (len(categories) + 1),
    ]
    for account, totals in sorted(accounts.items()):
        cells = [_money(totals[c]) if c in totals else "—" for c in categories]
        out.append(
            f"| {account} | " + " | ".join(cells) + f" | **{_money(sum(totals.values()))}** |"
        )
    column = [sum(t.get(c, 0.0) for t in accounts.values()) for c in categories]
    out.append(
        "| **total** | "
        + " | ".join(_money(v) for v in column)
        + f" | **{_money(result.total())}** |"
    )
    if result.usage_based:
        out += [
            "",
            "Usage-based (no fixed charge): "
            + ", ".join(f"{t} x {n}" for t, n in sorted(result.usage_based.items())),
        ]
    out += [
        "",
        "Not priced (add them to tools/prices.json and tools/cost.py): "
        + (", ".join(f"{t} x {n}" for t, n in sorted(result.not_priced.items())) or "none"),
    ]
    return "\n".join(out) + "\n"


def write_csv(path: Path, result: Estimate) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["account", "stack", "category", "item", "monthly_usd"])
        for line in result.lines:
            writer.writerow(
                [line.account, line.stack, line.category, line.item, f"{line.monthly_usd:.2f}"]
            )


def diff(before: Estimate, after: Estimate) -> list[tuple[str, str, float, float]]:
    """(account, category, before, after) wherever the two differ."""
    old, new = before.by_account(), after.by_account()
    rows = []
    for account in sorted(set(old) | set(new)):
        categories = set(old.get(account, {})) | set(new.get(account, {}))
        for category in sorted(categories):
            a = round(old.get(account, {}).get(category, 0.0), 2)
            b = round(new.get(account, {}).get(category, 0.0), 2)
            if a != b:
                rows.append((account, category, a, b))
    return rows


def diff_markdown(before: Estimate, after: Estimate) -> str:
    out = [
        "| account | category | before | after | change |",
        "|---|---|---:|---:|---:|",
    ]
    for account, category, a, b in diff(before, after):
        out.append(f"| {account} | {category} | {_money(a)} | {_money(b)} | {b - a:+,.2f} |")
    change = after.total() - before.total()
    out.append(
        f"| **total** | | {_money(before.total())} | {_money(after.total())} | **{change:+,.2f}** |"
    )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"))
    parser.add_argument("--out", type=Path, default=Path("reports/cost"))
    parser.add_argument("--compare", type=Path, help="another cdk.out to compare against")
    parser.add_argument("--prices", type=Path, default=PRICES)
    parser.add_argument("--readme", type=Path, help="also put the table in this README")
    parser.add_argument(
        "--config", type=Path, default=Path("config/platform.yaml"), help="for the teams' quotas"
    )
    args = parser.parse_args(argv)
    table = json.loads(args.prices.read_text(encoding="utf-8"))
    stacks = read_stacks(args.assembly)
    result = estimate(stacks, table)
    markdown = to_markdown(result)
    if args.config.exists():
        from config import load_config

        teams = teams_markdown(team_costs(stacks, load_config(args.config), table))
        markdown += f"\n{teams}" if teams else ""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cost.md").write_text(markdown, encoding="utf-8")
    write_csv(args.out / "cost.csv", result)
    print(markdown)
    if args.readme is not None:
        table_only = markdown.split("\n", 2)[2]  # without the title
        if not replace_block(args.readme, "cost", table_only):
            print(f"{args.readme}: no cost block (<!-- cost:start --> ...)", file=sys.stderr)
            return 1
    if args.compare:
        before = estimate(read_stacks(args.compare), table)
        changes = diff_markdown(before, result)
        (args.out / "cost-diff.md").write_text(changes, encoding="utf-8")
        print(f"## Compared with {args.compare}\n\n{changes}")
    print(f"(written to {args.out}/)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
