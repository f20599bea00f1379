"""The typed model of `platform.yaml`.

Every model is frozen and rejects unknown keys, so a typo is an error, not a silently ignored
setting. Field-level rules live here; rules that compare fields or accounts with each other
live in `config.rules`, so that every problem in a file is reported at once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from facts.aws import CLOUDWATCH_RETENTION
from facts.endpoints import DEFAULT_INTERFACE_ENDPOINTS, INTERFACE_ENDPOINT_IDS

# --- vocabulary -----------------------------------------------------------------------------

Role = Literal["management", "security", "shared-services", "dev", "staging", "prod", "sandbox"]
"""What an account is for. Workload roles (dev, staging, prod, sandbox) get a WorkloadStage."""

SINGLETON_ROLES: tuple[Role, ...] = ("management", "security", "shared-services")
"""Roles an organisation has exactly one account of."""

WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "staging", "prod", "sandbox")
REQUIRED_WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "staging", "prod")
"""The promotion path; each needs at least one account. Sandbox is optional."""

NETWORKED_ROLES: tuple[Role, ...] = ("shared-services", *WORKLOAD_ROLES)
"""Roles whose account gets a VPC (and so must configure `network`)."""

CLOUDWATCH_RETENTION_DAYS: frozenset[int] = frozenset(CLOUDWATCH_RETENTION)
"""The retention periods CloudWatch Logs accepts."""

VPC_PREFIX_MIN, VPC_PREFIX_MAX = 16, 20
"""VPC sizes accepted: /16 (65,536 addresses) to /20 (4,096). Smaller VPCs run out of pod IPs."""

_REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
_TAG_KEY_CHARS = re.compile(r"^[\w .:/=+\-@]+$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --- field validators -----------------------------------------------------------------------


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not a valid IPv4 network in CIDR notation ({exc})") from None
    if not network.is_private:
        raise ValueError("must be a private (RFC 1918) range")
    if not VPC_PREFIX_MIN <= network.prefixlen <= VPC_PREFIX_MAX:
        raise ValueError(
            f"prefix must be between /{VPC_PREFIX_MIN} and /{VPC_PREFIX_MAX} "
            f"(the private tier is sized for pod IPs)"
        )
    return str(network)


def _check_endpoints(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [name for name in value if name not in INTERFACE_ENDPOINT_IDS]
    if unknown:
        raise ValueError(
            f"unknown interface endpoint(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(INTERFACE_ENDPOINT_IDS))}"
        )
    return _check_unique(value)


def _check_unique(value: tuple[str, ...]) -> tuple[str, ...]:
    duplicates = sorted({item for item in value if value.count(item) > 1})
    if duplicates:
        raise ValueError(f"listed more than once: {', '.join(duplicates)}")
    return value


def _check_retention(value: int) -> int:
    if value not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(
            "not a CloudWatch Logs retention period; use one of "
            + ", ".join(str(days) for days in sorted(CLOUDWATCH_RETENTION_DAYS))
        )
    return value


def _check_tags(value: dict[str, str]) -> dict[str, str]:
    problems = []
    for key, tag_value in value.items():
        if key.lower().startswith("aws:"):
            problems.append(f"{key!r}: the aws: prefix is reserved by AWS")
        elif key == "Environment":
            problems.append(f"{key!r}: set per account from its role, do not set it here")
        elif not _TAG_KEY_CHARS.match(key) or len(key) > 128:
            problems.append(f"{key!r}: keys are 1-128 letters, digits, spaces or _.:/=+-@")
        if len(tag_value) > 256:
            problems.append(f"{key!r}: values are at most 256 characters")
    if problems:
        raise ValueError("; ".join(problems))
    return value


AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
Region = Annotated[str, StringConstraints(pattern=f"^{_REGION}$")]
AvailabilityZone = Annotated[str, StringConstraints(pattern=f"^{_REGION}[a-z]$")]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
RetentionDays = Annotated[int, AfterValidator(_check_retention)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


# --- sections -------------------------------------------------------------------------------


class Organization(_Frozen):
    name: str = Field(min_length=1, max_length=64)
    """Human-readable organisation name (descriptions, reports)."""
    prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    """2-12 lowercase letters/digits; starts every deterministic resource name."""
    home_region: Region
    """Where the organisation-wide services (and the pipeline) live."""
    allowed_regions: Annotated[tuple[Region, ...], AfterValidator(_check_unique)] = Field(
        min_length=1
    )
    """Every account region must be in this list; an SCP denies the others (global services
    excepted) in every member account."""
    id: Annotated[str, StringConstraints(pattern=r"^o-[a-z0-9]{10,32}$")]
    """The AWS Organizations id (`o-...`): the log archive admits the organisation trail and
    Config of this organisation only."""
    root_id: Annotated[str, StringConstraints(pattern=r"^r-[0-9a-z]{4,32}$")]
    """The organisation root (`r-...`) the OUs are created under."""


class Budgets(_Frozen):
    alert_emails: tuple[Email, ...] = Field(default=(), max_length=9)
    """Addresses e-mailed by every budget alert (AWS Budgets allows 10 subscribers with SNS)."""
    thresholds_percent: Annotated[tuple[int, ...], AfterValidator(_check_unique)] = Field(
        default=(80, 100), min_length=1, max_length=5
    )
    """Alert when actual spend passes each of these percentages of the monthly limit."""


class TransitGateway(_Frozen):
    """This VPC's attachment to the shared-services Transit Gateway."""

    reach: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = ()
    """Accounts whose VPC this one routes to (and back: routes are made on both sides).
    Accounts not listed stay unreachable even though they share the hub."""


class Network(_Frozen):
    cidr: Cidr
    """The VPC range: /16-/20, private, and not overlapping any other account's VPC."""
    availability_zones: Annotated[tuple[AvailabilityZone, ...], AfterValidator(_check_unique)] = (
        Field(min_length=2, max_length=3)
    )
    """2 or 3 AZ names in the account's region (AZ names are per account: check yours)."""
    nat_gateways: Literal["per-az", "single"] = "per-az"
    """per-az: one NAT gateway per AZ (survives an AZ outage); single: one (cheap, dev/sandbox)."""
    interface_endpoints: Annotated[tuple[str, ...], AfterValidator(_check_endpoints)] = (
        DEFAULT_INTERFACE_ENDPOINTS
    )
    """PrivateLink endpoints in the private tier, reachable on 443 from the VPC only."""
    flow_logs_retention_days: RetentionDays = 365
    """How long VPC flow logs (all traffic, KMS-encrypted) are kept."""
    transit_gateway: TransitGateway | None = None
    """Attach the VPC to the hub. On shared-services this creates the hub (and attaches the
    platform VPC); on a workload account it needs the hub."""


class LogArchive(_Frozen):
    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    """COMPLIANCE: nobody, root included, can delete a locked version early."""
    object_lock_days: int = Field(default=365, ge=1, le=3650)
    """Default object-lock retention of every new object version."""
    glacier_after_days: int = Field(default=90, ge=30)
    """Move objects to Glacier Instant Retrieval after this many days."""
    expire_after_days: int = Field(default=2557, ge=1)
    """Delete objects (and noncurrent versions) after this many days: 2557 is seven years."""


class Audit(_Frozen):
    trail_data_events: Annotated[
        tuple[Literal["s3", "lambda"], ...], AfterValidator(_check_unique)
    ] = ()
    """Data events the organisation trail records besides management events, for every
    bucket or function of the organisation (billed per event)."""
    security_hub_standards: Annotated[
        tuple[Literal["aws-foundational", "cis"], ...], AfterValidator(_check_unique)
    ] = ("aws-foundational", "cis")
    """AWS Foundational Security Best Practices v1.0.0 and CIS AWS Foundations v3.0.0."""


RoleArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
]
AmiType = Literal[
    "AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64"
]
ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")
"""The EKS managed add-ons every cluster runs."""
KubernetesName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]


def _check_public_cidrs(value: tuple[str, ...]) -> tuple[str, ...]:
    for cidr in value:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            raise ValueError(f"{cidr!r} is not a network in CIDR notation ({exc})") from None
        if network.prefixlen == 0:
            raise ValueError(f"{cidr!r} opens the API server to the whole internet")
    return _check_unique(value)


class NodeGroup(_Frozen):
    instance_types: tuple[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")], ...
    ] = Field(default=("m7g.large",), min_length=1)
    """Instance types of the system node group (Graviton types need an ARM AMI type)."""
    ami_type: AmiType = "AL2023_ARM_64_STANDARD"
    """Amazon Linux 2023 or Bottlerocket, ARM (Graviton) or x86."""
    min_size: int = Field(default=2, ge=1, le=100)
    max_size: int = Field(default=10, ge=1, le=100)
    desired_size: int | None = Field(default=None, ge=1, le=100)
    """Default: min_size. Karpenter adds the workload capacity; this group runs the system."""
    disk_size_gib: int = Field(default=50, ge=20, le=1000)
    """Encrypted gp3 root (AL2023) or data (Bottlerocket) volume."""


class Cluster(_Frozen):
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")]
    """A version Amazon EKS still creates (see README: EKS versions); quote it ("1.35")."""
    endpoint_public_access_cidrs: Annotated[
        tuple[str, ...], AfterValidator(_check_public_cidrs)
    ] = ()
    """Empty (default): the API endpoint is private. Otherwise public only from these CIDRs."""
    admin_role_arns: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = ()
    """IAM roles granted AmazonEKSClusterAdminPolicy through access entries."""
    viewer_role_arns: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = ()
    """IAM roles granted AmazonEKSViewPolicy (read-only) through access entries."""
    system_nodes: NodeGroup = NodeGroup()
    fargate_namespaces: Annotated[tuple[KubernetesName, ...], AfterValidator(_check_unique)] = (
        Field(default=(), max_length=5)
    )
    """Pods in these (at most 5) namespaces run on Fargate."""
    addon_versions: dict[Literal[ADDONS], str] = {}
    """Pin an add-on's version (e.g. vpc-cni: v1.20.4-eksbuild.1); unpinned ones get the
    default EKS chooses for the cluster's Kubernetes version."""
    log_retention_days: RetentionDays = 90
    """Retention of the application log group Fluent Bit writes to."""


ResourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")]
"""A data resource's short name (a cache, a bucket): part of its deterministic AWS name."""


def _check_postgres_version(value: str) -> str:
    if int(value.split(".")[0]) < POSTGRES_MIN_MAJOR:
        raise ValueError(f"PostgreSQL {POSTGRES_MIN_MAJOR} or newer is required")
    return value


POSTGRES_MIN_MAJOR = 16


class Postgres(_Frozen):
    engine: Literal["aurora-serverless-v2", "aurora-provisioned", "rds"] = "aurora-serverless-v2"
    """Aurora PostgreSQL on Serverless v2 capacity or provisioned instances, or RDS PostgreSQL
    (a single instance, Multi-AZ by `multi_az`)."""
    version: Annotated[
        str, StringConstraints(pattern=r"^\d{2}\.\d{1,2}$"), AfterValidator(_check_postgres_version)
    ] = "16.6"
    """Engine version, major.minor (16 or newer); quote it ("16.6")."""
    instance_class: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")] = (
        "r7g.large"
    )
    """Instance class without the `db.` prefix (provisioned Aurora and RDS)."""
    min_capacity: float = Field(default=0.5, ge=0, le=256)
    max_capacity: float = Field(default=8, ge=1, le=256)
    """Serverless v2 capacity range in ACUs (0 lets an idle cluster pause)."""
    readers: int = Field(default=0, ge=0, le=15)
    """Aurora reader instances, spread over the AZs (prod needs at least one)."""
    multi_az: bool = False
    """RDS only: a synchronous standby in another AZ (prod needs it)."""
    allocated_storage_gib: int = Field(default=100, ge=20, le=65536)
    """RDS only: initial gp3 storage; it grows automatically up to 4x."""
    max_connections: int | None = Field(default=None, ge=10, le=262143)
    """Default: the engine's formula from instance memory."""
    log_min_duration_ms: int = Field(default=1000, ge=-1)
    """Log every statement slower than this (-1: off); logs go to CloudWatch."""
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    """Automated backups and point-in-time recovery window."""
    database_name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")] = "app"


class Cache(_Frozen):
    engine: Literal["valkey", "redis"] = "valkey"
    """Valkey, or Redis OSS."""
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")] = "8.0"
    """Valkey 7.2/8.0/8.1 or Redis OSS 7.0/7.1."""
    node_type: Annotated[str, StringConstraints(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = (
        "cache.t4g.small"
    )
    replicas: int = Field(default=1, ge=0, le=5)
    """Read replicas of the primary; at least one gives automatic failover and Multi-AZ (prod
    needs it)."""
    snapshot_retention_days: int = Field(default=15, ge=1, le=35)
    """Daily snapshots kept this long (below 15 is an acknowledged NIST/HIPAA finding)."""


class Search(_Frozen):
    version: Annotated[str, StringConstraints(pattern=r"^OpenSearch_\d+\.\d+$")] = "OpenSearch_2.19"
    data_node_type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] = (
        "r7g.large.search"
    )
    data_nodes: int = Field(default=2, ge=1, le=80)
    """With two or more, nodes are spread over the AZs: a multiple of the AZ count used."""
    volume_gib: int = Field(default=100, ge=10, le=16384)
    """gp3 storage per data node."""
    dedicated_masters: Literal[0, 3, 5] = 0
    """Dedicated master nodes (prod needs 3 or 5)."""
    master_node_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")
    ] = "m7g.large.search"
    log_retention_days: RetentionDays = 90


class Kafka(_Frozen):
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.(\d+|x)(\.kraft)?$")] = "3.8.x"
    broker_type: Annotated[str, StringConstraints(pattern=r"^kafka\.[a-z0-9]+\.[a-z0-9]+$")] = (
        "kafka.m7g.large"
    )
    brokers_per_az: int = Field(default=1, ge=1, le=10)
    volume_gib: int = Field(default=100, ge=1, le=16384)
    """EBS storage per broker."""
    log_retention_days: RetentionDays = 90


class DataBucket(_Frozen):
    encryption: Literal["kms", "s3"] = "kms"
    """kms: a customer-managed key of the data stack; s3: S3-managed keys (SSE-S3)."""
    noncurrent_version_days: int = Field(default=90, ge=1)
    """Delete overwritten and deleted versions after this many days."""
    expire_after_days: int | None = Field(default=None, ge=1)
    """Delete current objects after this many days; default never."""


class Backup(_Frozen):
    retention_days: int = Field(default=35, ge=1, le=36500)
    """How long AWS Backup keeps each daily recovery point."""
    vault_lock: bool | None = None
    """Lock the vault so no one can delete recovery points early (governance mode, minimum
    retention `retention_days`). Default: on in prod (where it cannot be turned off)."""


class Data(_Frozen):
    postgres: Postgres | None = None
    caches: dict[ResourceName, Cache] = Field(default={}, max_length=10)
    """One replication group per application: never share a cache by database index."""
    search: Search | None = None
    """An OpenSearch domain."""
    kafka: Kafka | None = None
    """An MSK cluster; off unless configured."""
    buckets: dict[ResourceName, DataBucket] = Field(default={}, max_length=20)
    backup: Backup = Backup()
    allow_data_loss: bool = False
    """Sandbox only: deleting the data stack deletes its data (databases without a final
    snapshot, caches, domains, emptied buckets excepted). Anywhere else it is an error."""

    @property
    def needs_clients(self) -> bool:
        """Whether there is a network service a cluster's pods connect to."""
        return bool(self.postgres or self.caches or self.search or self.kafka)


DomainName = Annotated[
    str, StringConstraints(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
]

EDGE_ORIGIN_ALB = "alb"
"""The origin name of the account's internal Application Load Balancer (a VPC origin)."""

EdgePathPattern = Annotated[
    str, StringConstraints(pattern=r"^/[A-Za-z0-9_\-.*?$/~\"'@:+&]{0,254}$")
]
"""A CloudFront path pattern: starts with `/`; `*` matches any characters, `?` exactly one."""


class EdgeBehavior(_Frozen):
    """One cache behaviour; CloudFront tries them in list order, then the default."""

    path: EdgePathPattern
    origin: ResourceName
    """`alb` (the cluster's pods behind the internal load balancer) or a name in `buckets`."""
    cache: Literal["disabled", "optimized"]
    """disabled: every request reaches the origin (AWS managed CachingDisabled);
    optimized: cached by path and compression only (CachingOptimized)."""
    forward: Literal["all", "none"] | None = None
    """What the origin sees of the viewer's request. all: every header (Host included),
    cookie and query string (AllViewer); none: nothing beyond what the cache key holds.
    Default: all for `alb`, none for buckets (S3 rejects a forwarded Host header)."""


class EdgeErrorPage(_Frozen):
    """Serve `page` instead of the origin's error `status`."""

    status: Literal[400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]
    page: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_\-./~@:+]{0,254}$")]
    """Path of the page; it must be served from a bucket behaviour, so that it still
    loads when the load balancer is the thing failing."""
    response_status: int | None = Field(default=None, ge=200, le=599)
    """The status viewers get; default the origin's `status`."""
    ttl_seconds: int = Field(default=10, ge=0, le=86_400)
    """How long CloudFront caches the error before asking the origin again."""


SEED_BEHAVIORS: tuple[EdgeBehavior, ...] = (
    EdgeBehavior(path="/graphql/*", origin=EDGE_ORIGIN_ALB, cache="disabled"),
    EdgeBehavior(path="/static/*", origin="static", cache="optimized"),
    EdgeBehavior(path="/media/*", origin="media", cache="optimized"),
    EdgeBehavior(path="/thumbnail/*", origin="media", cache="optimized"),
    EdgeBehavior(path="/.well-known/jwks.json", origin=EDGE_ORIGIN_ALB, cache="disabled"),
)
"""The default behaviour table: user-specific API answers are never cached, static assets
and media always are; everything else goes to the load balancer uncached (`default`)."""


class Edge(_Frozen):
    """The CDN in front of a workload account (needs `domain` and `cluster`)."""

    hostnames: tuple[DomainName, ...] = ()
    """Names the distribution answers, each the domain or one label below it (the
    certificate covers `<domain>` and `*.<domain>`). Default: the domain alone."""
    buckets: tuple[ResourceName, ...] = Field(default=("static", "media"), max_length=10)
    """S3 origins (OAC-only buckets, retained like data)."""
    behaviors: tuple[EdgeBehavior, ...] = Field(default=SEED_BEHAVIORS, max_length=25)
    default: EdgeBehavior = EdgeBehavior(path="/*", origin=EDGE_ORIGIN_ALB, cache="disabled")
    """What matches no behaviour (its `path` is ignored: CloudFront's default is `*`)."""
    error_pages: tuple[EdgeErrorPage, ...] = (
        EdgeErrorPage(status=502, page="/static/errors/5xx.html"),
        EdgeErrorPage(status=503, page="/static/errors/5xx.html"),
        EdgeErrorPage(status=504, page="/static/errors/5xx.html"),
    )
    price_class: Literal["100", "200", "all"] = "100"
    """CloudFront price class: 100 (North America, Europe, Israel), 200 (adds most of Asia,
    the Middle East and Africa) or all edge locations."""
    countries: tuple[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")], ...] = ()
    """ISO 3166-1 alpha-2 codes of the only countries served (CloudFront geo restriction);
    default every country."""
    target_port: int = Field(default=8080, ge=1, le=65535)
    """The pods' port the load balancer's target group sends to (IP targets)."""
    health_check_path: Annotated[str, StringConstraints(pattern=r"^/[\x21-\x7e]{0,1023}$")] = (
        "/healthz"
    )
    rate_limit: int = Field(default=2000, ge=100, le=2_000_000_000)
    """Requests per client IP in any 5 minutes before WAF blocks it."""
    log_retention_days: RetentionDays = 365
    """WAF logs (CloudWatch, us-east-1) and access logs (S3) are kept this long."""


class Account(_Frozen):
    role: Role
    id: AccountId
    """The 12-digit AWS account id (the sample file uses placeholders)."""
    region: Region
    """The account's primary region; its stacks are bound to it."""
    monthly_budget_usd: int = Field(gt=0)
    """Monthly cost budget; the management account alerts at `budgets.thresholds_percent`."""
    network: Network | None = None
    """Required for shared-services and workload accounts; not allowed elsewhere."""
    log_archive: LogArchive | None = None
    """Security account only; defaults apply when omitted there."""
    audit: Audit | None = None
    """Security account only: the organisation trail and security services; defaults apply
    when omitted there."""
    cluster: Cluster | None = None
    """An EKS cluster (shared-services: the GitOps hub; workloads: the workload cluster)."""
    domain: DomainName | None = None
    """The environment's public DNS zone (e.g. dev.example.com), held by this account:
    ExternalDNS and cert-manager may change records only inside it. A workload account with a
    domain gets the edge (CloudFront, WAF, certificates)."""
    edge: Edge | None = None
    """Workload accounts with a `domain`: the CDN's behaviours and settings; defaults apply
    when omitted."""
    data: Data | None = None
    """Workload accounts only: the stateful services of the data stack."""

    @property
    def is_workload(self) -> bool:
        return self.role in WORKLOAD_ROLES

    @property
    def edge_settings(self) -> Edge | None:
        """The edge this account gets: a workload account with a domain has one, with the
        defaults unless `edge` says otherwise."""
        if not self.is_workload or self.domain is None:
            return None
        return self.edge or Edge()


AccountName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,23}$")]

PROMOTION_RANK: dict[str, int] = {
    "management": 0,
    "security": 1,
    "shared-services": 1,
    "dev": 2,
    "staging": 3,
    "prod": 4,
}
"""The order changes travel in: a wave may not hold a lower rank than an earlier wave, nor mix
ranks. Sandbox has no rank: the pipeline never deploys it."""


class Wave(_Frozen):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,23}$")]
    """The wave's stage name in CodePipeline."""
    accounts: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = Field(min_length=1)
    """Accounts deployed by this wave, in parallel (they must share one promotion rank)."""
    approval: bool = False
    """Stop before each stack's change set executes, for a person to review and approve it."""
    health_check: bool = False
    """After the wave deploys, run the health gate against each of its accounts."""


class Pipeline(_Frozen):
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")]
    """`owner/name` of the Git repository holding this project."""
    branch: str = Field(default="main", min_length=1)
    """The branch whose every commit is promoted."""
    connection_arn: Annotated[
        str,
        StringConstraints(
            pattern=r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:"
            r"\d{12}:connection/[0-9a-f-]{36}$"
        ),
    ]
    """The CodeConnections (CodeStar) connection to the Git host, made once in the console."""
    notification_emails: tuple[Email, ...] = ()
    """Who hears about failed executions and approvals waiting (the topic is Chatbot-ready)."""
    waves: tuple[Wave, ...] = Field(min_length=1)
    """Promotion order: every account but sandbox in exactly one wave."""
    cloudformation_execution_policies: tuple[
        Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/.+$")],
        ...,
    ] = Field(default=("arn:aws:iam::aws:policy/AdministratorAccess",), min_length=1)
    """What CloudFormation may do when the pipeline deploys (`cdk bootstrap`'s execution
    policies). AdministratorAccess is CDK's default; a narrower policy is better."""


class GitOps(_Frozen):
    mode: Literal["hub-and-spoke", "spoke-only"] = "hub-and-spoke"
    """hub-and-spoke: Argo CD runs on the shared-services cluster and deploys to the others;
    spoke-only: every cluster runs its own Argo CD."""
    repository_url: Annotated[str, StringConstraints(pattern=r"^(https://|ssh://|git@)\S+$")]
    """The GitOps repository Argo CD's root Application reads."""
    revision: str = Field(default="main", min_length=1)
    path: str = Field(default="gitops/bootstrap", min_length=1)
    """Folder of the app-of-apps in the repository (this project ships one: gitops/)."""
    argocd_chart_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")] = "9.5.4"
    """The argo-cd Helm chart version (argo-helm), pinned."""
    argocd_values: dict[str, Any] = {}
    """Helm values merged over the platform's defaults (HA replicas are set for prod)."""
    register_sandbox: bool = False
    """hub-and-spoke: whether the hub deploys to sandbox too; if not, sandbox runs its own."""


NagPack = Literal["AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"]


class Registry(_Frozen):
    """ECR in the shared-services account; every workload account may pull."""

    repositories: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = Field(
        min_length=1, max_length=50
    )
    """Repository names; each becomes `<prefix>/<name>`."""
    keep_images: int = Field(default=100, ge=1, le=10_000)
    """Tagged images kept per repository (the oldest beyond this expire)."""
    untagged_days: int = Field(default=14, ge=1, le=365)
    """Untagged images expire after this many days."""


class Dns(_Frozen):
    parent_zone: DomainName
    """The organisation's public zone, held by shared-services. Every workload `domain` must
    be below it; each is delegated to its account automatically."""


GitHubRepository = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
]
GitBranch = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,100}$")]


class CiRepository(_Frozen):
    """A GitHub repository whose Actions workflows get a role (OIDC: no access keys)."""

    repository: GitHubRepository
    """`owner/name`, as GitHub spells it."""
    branches: Annotated[tuple[GitBranch, ...], AfterValidator(_check_unique)] = Field(
        default=("main",), min_length=1, max_length=10
    )
    """Only workflows running on these branches may assume the roles (no pull requests,
    no tags, no other branches)."""
    push: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = ()
    """`registry.repositories` it may push images to (a role in shared-services)."""
    describe_clusters: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = ()
    """Accounts whose EKS cluster it may describe (a role in each of them)."""
    decrypt_secrets: bool = False
    """May decrypt with the CI secrets key (shared-services; e.g. SOPS files in the
    repository), never encrypt or manage it."""


class Ci(_Frozen):
    repositories: tuple[CiRepository, ...] = Field(min_length=1, max_length=50)


class Compliance(_Frozen):
    packs: Annotated[tuple[NagPack, ...], AfterValidator(_check_unique)] = (
        "AwsSolutions",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
    )
    """cdk-nag packs that gate synthesis (the platform's own pack always runs)."""


class PlatformConfig(_Frozen):
    organization: Organization
    tags: Annotated[dict[str, str], AfterValidator(_check_tags)] = Field(min_length=1)
    """Cost-allocation tags on every taggable resource; `Environment` is added per account."""
    budgets: Budgets = Budgets()
    accounts: dict[AccountName, Account] = Field(min_length=1)
    """Account name -> account. The name becomes the stage id (`cdk deploy 'dev/*'`)."""
    pipeline: Pipeline | None = None
    """The CDK Pipeline in the shared-services account; without it stages deploy by hand."""
    gitops: GitOps | None = None
    """Argo CD bootstrap on the clusters; without it CDK installs nothing in a cluster."""
    compliance: Compliance = Compliance()
    dns: Dns | None = None
    """The public parent zone, in the shared-services account."""
    registry: Registry | None = None
    """Container images, in the shared-services account."""
    ci: Ci | None = None
    """Keyless roles for GitHub Actions."""

    def ci_repositories_for(self, name: str) -> list[CiRepository]:
        """The CI repositories that need a role in account `name`: pushers in
        shared-services, describers in the accounts they describe."""
        if self.ci is None:
            return []
        shared = self.accounts[name].role == "shared-services"
        return [
            repo
            for repo in self.ci.repositories
            if (shared and (repo.push or repo.decrypt_secrets)) or name in repo.describe_clusters
        ]

    def hub_attachments(self) -> dict[str, TransitGateway]:
        """Account name -> its VPC's attachment to the Transit Gateway hub."""
        return {
            n: a.network.transit_gateway
            for n, a in self.accounts.items()
            if a.network is not None and a.network.transit_gateway is not None
        }

    def transit_routes(self, name: str) -> list[str]:
        """Accounts whose VPC account `name` routes to through the hub: those it reaches and
        those that reach it."""
        attached = self.hub_attachments()
        if name not in attached:
            return []
        return sorted({*attached[name].reach} | {n for n, t in attached.items() if name in t.reach})

    def image_repository(self, name: str) -> str:
        """The ECR name of registry repository `name`."""
        return f"{self.organization.prefix}/{name}"

    def accounts_with_role(self, *roles: Role) -> dict[str, Account]:
        return {name: account for name, account in self.accounts.items() if account.role in roles}

    def health_checked_accounts(self) -> frozenset[str]:
        """Accounts whose pipeline wave runs the health gate (they get its read-only role)."""
        if self.pipeline is None:
            return frozenset()
        return frozenset(n for w in self.pipeline.waves if w.health_check for n in w.accounts)

    def gitops_role(self, name: str) -> Literal["hub", "spoke", "standalone"] | None:
        """What the account's cluster is to Argo CD: the hub, a spoke the hub deploys to, or
        standalone (runs its own Argo CD). None without gitops or without a cluster."""
        account = self.accounts[name]
        if self.gitops is None or account.cluster is None:
            return None
        if self.gitops.mode == "spoke-only":
            return "standalone"
        if account.role == "shared-services":
            return "hub"
        if account.role == "sandbox" and not self.gitops.register_sandbox:
            return "standalone"
        return "spoke"

    def gitops_spokes(self) -> list[str]:
        return [name for name in self.accounts if self.gitops_role(name) == "spoke"]

    def account_with_role(self, role: Role) -> tuple[str, Account]:
        """The one account of a singleton role (validation guarantees exactly one)."""
        ((name, account),) = self.accounts_with_role(role).items()
        return name, account
