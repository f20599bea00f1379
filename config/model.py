"""The typed model of `platform.yaml`.

Every model is frozen and rejects unknown keys, so a typo is an error, not a silently ignored
setting. What one model can check on its own lives here: types and ranges, the account roles
and PostgreSQL engines as discriminated unions (a key that only one role or engine has is
refused on the others), and comparisons between the fields of one model (model validators).
Rules that compare accounts or sections with each other live in `config.rules`, so that every
problem in a file is reported at once.

The docstring under each field is its documentation: `make config-docs` turns them into
docs/configuration.md and config/platform.schema.json.
"""

from __future__ import annotations

import ipaddress
import re
import zlib
from collections.abc import Mapping
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from config.docstrings import describe_properties
from facts.aws import CLOUDWATCH_RETENTION
from facts.endpoints import DEFAULT_INTERFACE_ENDPOINTS, INTERFACE_ENDPOINT_IDS
from facts.postgres import DEFAULT_VERSION as DEFAULT_POSTGRES_VERSION
from facts.postgres import OLDEST_OFFERED_MINOR

# --- vocabulary -----------------------------------------------------------------------------

Role = Literal["management", "security", "shared-services", "dev", "staging", "prod", "sandbox"]
"""What an account is for. Workload roles (dev, staging, prod, sandbox) get a WorkloadStage."""

SINGLETON_ROLES: tuple[Role, ...] = ("management", "security", "shared-services")
"""Roles an organisation has exactly one account of."""

WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "staging", "prod", "sandbox")
REQUIRED_WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "staging", "prod")
"""The promotion path; each needs at least one account. Sandbox is optional."""

CLOUDWATCH_RETENTION_DAYS: frozenset[int] = frozenset(CLOUDWATCH_RETENTION)
"""The retention periods CloudWatch Logs accepts."""

VPC_PREFIX_MIN, VPC_PREFIX_MAX = 16, 20
"""VPC sizes accepted: /16 (65,536 addresses) to /20 (4,096). Smaller VPCs run out of pod IPs."""

_REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
_TAG_KEY_CHARS = re.compile(r"^[\w .:/=+\-@]+$")


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=describe_properties,
    )


Finding = tuple[tuple[str | int, ...], str, Any]
"""What a model validator found: where in the model (a path of keys), what, and the value."""


def _refuse(model: BaseModel, findings: list[Finding]) -> None:
    """Raise every finding of a model validator at once, each at its own key, so the loader
    reports them like any other field error."""
    if findings:
        raise ValidationError.from_exception_data(
            type(model).__name__,
            [
                InitErrorDetails(
                    # The template is a literal (pydantic's guard against formatting text it
                    # did not write); the finding comes in as context, unformatted.
                    type=PydanticCustomError("inconsistent", "{message}", {"message": message}),
                    loc=loc,
                    input=value,
                )
                for loc, message, value in findings
            ],
        )


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
RetentionDays = Annotated[
    int,
    AfterValidator(_check_retention),
    WithJsonSchema({"type": "integer", "enum": sorted(CLOUDWATCH_RETENTION_DAYS)}),
]
"""A CloudWatch Logs retention period in days (the schema lists the accepted values)."""
EndpointName = Annotated[
    str, WithJsonSchema({"type": "string", "enum": sorted(INTERFACE_ENDPOINT_IDS)})
]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")]
"""A notification channel's name: 2-20 lowercase letters, digits and `-`."""


# --- organisation-wide sections -------------------------------------------------------------


class Organization(_Frozen):
    """The AWS Organization the platform is deployed to."""

    name: str = Field(min_length=1, max_length=64)
    """Human-readable organisation name, used in stack descriptions and reports."""
    prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    """2-12 lowercase letters or digits, starting with a letter; starts every deterministic
    resource name (`<prefix>-<account>-<purpose>`)."""
    home_region: Region
    """A region name like `eu-west-1`: where the organisation-wide services (and the pipeline)
    live. Must be in `allowed_regions`."""
    allowed_regions: Annotated[tuple[Region, ...], AfterValidator(_check_unique)] = Field(
        min_length=1
    )
    """At least one region, no duplicates. Every account's region must be listed; an SCP
    denies the others (global services excepted) in every member account. Include
    `us-east-1` when any workload account has a `domain` (its edge's certificate and WAF
    live there)."""
    id: Annotated[str, StringConstraints(pattern=r"^o-[a-z0-9]{10,32}$")]
    """The AWS Organizations id, `o-` and 10-32 lowercase letters or digits (`aws
    organizations describe-organization`): the log archive admits the organisation trail, and
    its Config bucket the Config of this organisation only."""
    root_id: Annotated[str, StringConstraints(pattern=r"^r-[0-9a-z]{4,32}$")]
    """The organisation root, `r-` and 4-32 lowercase letters or digits (`aws organizations
    list-roots`), that the OUs are created under."""


class Budgets(_Frozen):
    """Cost alerts: the management account holds one monthly budget per account (its
    `monthly_budget_usd`) and e-mails when actual spend passes each threshold."""

    alert_emails: tuple[Email, ...] = Field(default=(), max_length=9)
    """Addresses e-mailed by every budget alert: at most 9 (AWS Budgets allows 10
    subscribers; the SNS topic is one)."""
    thresholds_percent: Annotated[tuple[int, ...], AfterValidator(_check_unique)] = Field(
        default=(80, 100), min_length=1, max_length=5
    )
    """1-5 distinct percentages of the monthly limit; alert when actual spend passes each."""


# --- an account's network -------------------------------------------------------------------


class SlackChannel(_Frozen):
    """A Slack channel AWS Chatbot posts to. The workspace must be authorised for AWS Chatbot
    once in each account that posts to it (console, *AWS Chatbot > Configure a chat client*):
    CloudFormation cannot do that step."""

    workspace_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{1,255}$")]
    """The Slack workspace (team) id, as the AWS Chatbot console shows it (`T0…`)."""
    channel_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]+$")]
    """The channel id: the last part of the channel's link (`C0…`)."""


class TeamsChannel(_Frozen):
    """A Microsoft Teams channel AWS Chatbot posts to. The team must be authorised for AWS
    Chatbot once in each account that posts to it (console)."""

    tenant_id: Annotated[
        str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
    ]
    """The Microsoft Entra tenant id."""
    team_id: Annotated[
        str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
    ]
    """The team's id."""
    channel_id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")]
    """The channel's id (`19:…@thread.tacv2`, from the channel's link)."""


class Channel(_Frozen):
    """Where one kind of notification goes: a chat channel (through AWS Chatbot) and/or e-mail
    addresses; at least one."""

    slack: SlackChannel | None = None
    """A Slack channel."""
    teams: TeamsChannel | None = None
    """A Microsoft Teams channel."""
    emails: tuple[Email, ...] = Field(default=(), max_length=10)
    """Addresses subscribed by e-mail (each confirms the subscription once); a paging
    service's e-mail integration address pages."""

    @model_validator(mode="after")
    def _somewhere(self) -> Channel:
        if self.slack is None and self.teams is None and not self.emails:
            raise ValueError("a channel needs `slack`, `teams` or `emails`")
        return self


class Notifications(_Frozen):
    """Where alarms and findings go. Every account has an alarm topic (encrypted SNS) in each
    region; its alarms post to the account's `monitoring.channel`, and prod's also page."""

    channels: dict[ChannelName, Channel] = Field(min_length=1)
    """Channel name (2-20 lowercase letters, digits and `-`) -> where it delivers."""
    default_channel: ChannelName
    """The channel of every account that names none (`accounts.<name>.monitoring.channel`)."""
    page: ChannelName | None = None
    """The channel that pages (e.g. a paging service's e-mail address): accounts whose
    `monitoring.page` is on (prod by default) send their alarms there too."""
    security: ChannelName | None = None
    """The security team's channel: GuardDuty, Security Hub and AWS Config findings, root and
    MFA-less console sign-ins, from the security account. Default: `default_channel`."""
    pipeline: ChannelName | None = None
    """The channel the pipeline's notifications (failures, approvals waiting) post to, besides
    `pipeline.notification_emails`. Default: `default_channel`."""

    @model_validator(mode="after")
    def _known_channels(self) -> Notifications:
        problems = [
            f"{field}: no channel named {getattr(self, field)!r} in `channels`"
            for field in ("default_channel", "page", "security", "pipeline")
            if getattr(self, field) is not None and getattr(self, field) not in self.channels
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Thresholds(_Frozen):
    """Alarm thresholds; each account's default depends on its role (`DEFAULT_THRESHOLDS`)."""

    cpu_percent: int = Field(default=80, ge=1, le=100)
    """Databases, caches and search domains: average CPU above this for 15 minutes."""
    memory_percent: int = Field(default=90, ge=1, le=100)
    """Caches: memory used above this (evictions follow)."""
    free_storage_percent: int = Field(default=15, ge=1, le=99)
    """Databases and search domains: free storage below this share of the allocated."""
    connections_percent: int = Field(default=80, ge=1, le=100)
    """PostgreSQL: connections above this share of `max_connections` for the instance class
    (Aurora Serverless: of its maximum capacity's)."""
    replica_lag_seconds: int = Field(default=30, ge=1)
    """PostgreSQL readers and cache replicas: lag above this."""
    error_rate_percent: float = Field(default=5.0, gt=0, le=100)
    """Load balancers and the CDN: 5xx responses above this share of requests."""
    latency_ms: int = Field(default=2000, ge=1)
    """Load balancers: p99 target response time above this."""
    function_errors: int = Field(default=1, ge=1)
    """The platform's Lambda functions: errors in 5 minutes at or above this."""


class Monitoring(_Frozen):
    """How an account's alarms reach people, and how long the health gate soaks."""

    channel: ChannelName | None = None
    """Its alarm channel (`notifications.channels`); default `notifications.default_channel`."""
    page: bool | None = None
    """Also page (`notifications.page`) on its alarms; default on for prod only."""
    soak_minutes: int = Field(default=10, ge=0, le=120)
    """Where the pipeline health-checks the account: minutes to wait after the deploy before
    reading its alarms (metrics need time to show a bad release)."""
    thresholds: Thresholds | None = None
    """Alarm thresholds; default: the role's (`DEFAULT_THRESHOLDS`)."""


DEFAULT_THRESHOLDS: Mapping[str, Thresholds] = MappingProxyType(
    {
        "prod": Thresholds(),
        "staging": Thresholds(),
        "dev": Thresholds(cpu_percent=90, error_rate_percent=20.0, latency_ms=5000),
        "sandbox": Thresholds(cpu_percent=95, error_rate_percent=50.0, latency_ms=10000),
    }
)
"""Thresholds by account role: dev and sandbox only post, and tolerate more."""


class TransitGateway(_Frozen):
    """This VPC's attachment to the shared-services Transit Gateway: `{}` or
    `{reach: [account, ...]}`. On shared-services it creates the hub (and attaches the
    platform VPC); on a workload account it attaches the VPC (the hub must exist, in the same
    region) and routes to the VPCs of `reach` and back."""

    reach: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = ()
    """Names of accounts whose VPC this one routes to (and back: routes are made on both
    sides); each must be attached itself. Accounts not listed stay unreachable even though
    they share the hub."""


class Network(_Frozen):
    """The account's VPC: public, private (NAT) and isolated subnets in each availability
    zone, flow logs, and PrivateLink endpoints."""

    cidr: Cidr
    """The VPC range: a private (RFC 1918) IPv4 network from /16 to /20, without host bits.
    It must not overlap any other account's VPC (they share a Transit Gateway)."""
    availability_zones: Annotated[tuple[AvailabilityZone, ...], AfterValidator(_check_unique)] = (
        Field(min_length=2, max_length=3)
    )
    """2 or 3 distinct AZ names of the account's region (`eu-west-1a`). AZ names map to
    different physical zones in each account: check yours if zones must line up across
    accounts."""
    nat_gateways: Literal["per-az", "single"] = "per-az"
    """per-az: one NAT gateway per AZ (survives an AZ outage); single: one (cheap, dev/sandbox)."""
    interface_endpoints: Annotated[tuple[EndpointName, ...], AfterValidator(_check_endpoints)] = (
        DEFAULT_INTERFACE_ENDPOINTS
    )
    """Distinct PrivateLink endpoints in the private tier, reachable on 443 from the VPC
    only."""
    flow_logs_retention_days: RetentionDays = 365
    """How long VPC flow logs (all traffic, KMS-encrypted) are kept."""
    transit_gateway: TransitGateway | None = None
    """Attach the VPC to the hub. On shared-services this creates the hub (and attaches the
    platform VPC); on a workload account it needs the hub. Default: not attached."""


# --- the security account's sections --------------------------------------------------------


class LogArchive(_Frozen):
    """The object-locked, KMS-encrypted bucket the organisation trail delivers to, named
    `<prefix>-<account name>-log-archive-<account id>-<region>`, and beside it the bucket
    every Config recorder delivers to (Config refuses object lock), named
    `<prefix>-<account name>-config-delivery-<account id>-<region>` (both computed by
    `stages/naming.py`, so other accounts find them without a CloudFormation export). The
    Config bucket takes the same lifecycle; object lock applies to the archive only."""

    object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    """COMPLIANCE: nobody, root included, can delete a locked version early; GOVERNANCE:
    principals with the bypass permission can."""
    object_lock_days: int = Field(default=365, ge=1, le=3650)
    """Default object-lock retention of every new object version."""
    glacier_after_days: int = Field(default=90, ge=30)
    """Move objects to Glacier Instant Retrieval after this many days; less than
    `expire_after_days`."""
    expire_after_days: int = Field(default=2557, ge=1)
    """Delete objects (and noncurrent versions) after this many days (2557 is seven years);
    at least `object_lock_days`."""

    @model_validator(mode="after")
    def _lifecycle_in_order(self) -> Self:
        found: list[Finding] = []
        if self.expire_after_days < self.object_lock_days:
            found.append(
                (
                    ("expire_after_days",),
                    f"must be at least object_lock_days ({self.object_lock_days})",
                    self.expire_after_days,
                )
            )
        if self.glacier_after_days >= self.expire_after_days:
            found.append(
                (
                    ("glacier_after_days",),
                    f"must be less than expire_after_days ({self.expire_after_days})",
                    self.glacier_after_days,
                )
            )
        _refuse(self, found)
        return self


class Audit(_Frozen):
    """The organisation trail and the security services (GuardDuty, Security Hub, Config,
    IAM Access Analyzer) the security account runs as delegated administrator."""

    trail_data_events: Annotated[
        tuple[Literal["s3", "lambda"], ...], AfterValidator(_check_unique)
    ] = ()
    """Data events the organisation trail records besides management events, for every
    bucket or function of the organisation (billed per event)."""
    security_hub_standards: Annotated[
        tuple[Literal["aws-foundational", "cis"], ...], AfterValidator(_check_unique)
    ] = ("aws-foundational", "cis")
    """Security Hub standards enabled: AWS Foundational Security Best Practices v1.0.0 and
    CIS AWS Foundations v3.0.0."""


# --- an account's cluster -------------------------------------------------------------------

RoleArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
]
AmiType = Literal[
    "AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64"
]
Addon = Literal[
    "vpc-cni",
    "coredns",
    "kube-proxy",
    "eks-pod-identity-agent",
    "aws-ebs-csi-driver",
    "amazon-cloudwatch-observability",
]
"""The name of an EKS managed add-on every cluster runs."""
ADDONS: tuple[Addon, ...] = get_args(Addon)
"""The EKS managed add-ons every cluster runs."""
KubernetesName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")
"""Instance types on AWS Graviton (ARM) processors: m7g.large, c6gn.xlarge, t4g.medium."""


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
    """The managed node group that runs the cluster's system pods (Karpenter adds the
    workload capacity)."""

    instance_types: tuple[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")], ...
    ] = Field(default=("m7g.large",), min_length=1)
    """EC2 instance types; they must match the AMI's architecture (Graviton types such as
    m7g.large with an ARM AMI type, others with an x86 one)."""
    ami_type: AmiType = "AL2023_ARM_64_STANDARD"
    """Amazon Linux 2023 or Bottlerocket, ARM (Graviton) or x86."""
    min_size: int = Field(default=2, ge=1, le=100)
    """Fewest nodes; at most `max_size`."""
    max_size: int = Field(default=10, ge=1, le=100)
    """Most nodes."""
    desired_size: int | None = Field(default=None, ge=1, le=100)
    """Nodes at creation, between `min_size` and `max_size`. Default: `min_size`."""
    disk_size_gib: int = Field(default=50, ge=20, le=1000)
    """Encrypted gp3 root (AL2023) or data (Bottlerocket) volume."""

    @model_validator(mode="after")
    def _sizes_and_architecture_agree(self) -> Self:
        found: list[Finding] = []
        if self.min_size > self.max_size:
            found.append((("min_size",), f"larger than max_size ({self.max_size})", self.min_size))
        desired = self.desired_size
        if desired is not None and not self.min_size <= desired <= self.max_size:
            found.append(
                (
                    ("desired_size",),
                    f"must be between min_size ({self.min_size}) and max_size ({self.max_size})",
                    desired,
                )
            )
        arm = "ARM_64" in self.ami_type
        kind = "an ARM (Graviton)" if arm else "an x86"
        for index, instance_type in enumerate(self.instance_types):
            if bool(_GRAVITON.match(instance_type)) != arm:
                found.append(
                    (
                        ("instance_types", index),
                        f"does not run {kind} AMI ({self.ami_type})",
                        instance_type,
                    )
                )
        _refuse(self, found)
        return self


CapacityType = Literal["spot", "on-demand"]
Architecture = Literal["arm64", "amd64"]
Duration = Annotated[str, StringConstraints(pattern=r"^([0-9]+h)?([0-9]+m)?$", min_length=2)]
"""Hours and minutes, e.g. `2h`, `90m`, `1h30m` (what a Karpenter budget's `duration` takes)."""


class DisruptionBudget(_Frozen):
    """How many of a pool's nodes Karpenter may disrupt at once (consolidation, drift): always,
    or from each `schedule` hit for `duration` (UTC, no time zones). The most restrictive
    active budget wins, so `{nodes: "0", schedule, duration}` closes a window. Spot
    interruptions and `expire_after` are not held back by budgets."""

    nodes: Annotated[str, StringConstraints(pattern=r"^((100|[0-9]{1,2})%|[0-9]+)$")] = "10%"
    """A count (`"2"`) or a percentage of the pool's nodes (`"10%"`); quote it."""
    schedule: str | None = None
    """Cron (five fields: minute hour day-of-month month day-of-week, or `@daily` and the
    like), UTC; with `duration`."""
    duration: Duration | None = None
    """How long the budget is active after each `schedule` hit; with `schedule`."""
    reasons: tuple[Literal["Underutilized", "Empty", "Drifted"], ...] = ()
    """The disruption reasons it limits; default all."""

    @model_validator(mode="after")
    def _schedule_with_duration(self) -> Self:
        if (self.schedule is None) != (self.duration is None):
            raise ValueError("schedule and duration go together: give both or neither")
        return self


class Taint(_Frozen):
    """A taint on a pool's nodes: only pods that tolerate it run there."""

    key: Annotated[str, StringConstraints(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9._-]{1,63}$")]
    """The taint's key (what pods tolerate), e.g. `spot`."""
    value: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{0,63}$")] = ""
    """Its value; default empty."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """What happens to pods that do not tolerate it; default NoSchedule (not placed)."""


class NodePool(_Frozen):
    """A Karpenter NodePool: the EC2 capacity Karpenter may launch for pending pods (from the
    cluster's one EC2NodeClass: pinned AMI, private subnets, IMDSv2, encrypted gp3)."""

    capacity_types: tuple[CapacityType, ...] = Field(default=("spot", "on-demand"), min_length=1)
    """Spot and/or on-demand; with both, Karpenter prefers Spot and falls back to on-demand."""
    architectures: tuple[Architecture, ...] = Field(default=("arm64", "amd64"), min_length=1)
    """CPU architectures; images must be built for each (multi-arch) or pods must select one."""
    instance_categories: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z]$")], ...] = (
        "c",
        "m",
        "r",
    )
    """EC2 instance categories (c: compute, m: general, r: memory); ignored when
    `instance_families` is given."""
    instance_families: tuple[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*$")], ...
    ] = ()
    """EC2 instance families (e.g. `m7g`, `c7i`); default: any of `instance_categories`."""
    min_generation: int = Field(default=6, ge=1, le=20)
    """Oldest instance generation (e.g. 6: m6g, c6i and newer)."""
    cpu_limit: int = Field(default=64, gt=0, le=100000)
    """Most vCPUs the pool's nodes may add up to."""
    memory_limit_gib: int = Field(default=256, gt=0, le=1000000)
    """Most memory (GiB) the pool's nodes may add up to."""
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = (
        "WhenEmptyOrUnderutilized"
    )
    """WhenEmpty: remove only empty nodes; WhenEmptyOrUnderutilized: also replace or remove
    nodes whose pods fit elsewhere."""
    consolidate_after: Annotated[str, StringConstraints(pattern=r"^(([0-9]+(s|m|h))+|Never)$")] = (
        "1m"
    )
    """How long a node must be consolidatable first (`30s`, `5m`, `Never`)."""
    expire_after: Annotated[str, StringConstraints(pattern=r"^(([0-9]+(s|m|h))+|Never)$")] = "720h"
    """Replace nodes this old (fresh AMIs, bounded drift); not held by budgets."""
    budgets: tuple[DisruptionBudget, ...] = Field(default=(DisruptionBudget(),), min_length=1)
    """Disruption budgets (default: 10% of the nodes at a time)."""
    taints: tuple[Taint, ...] = ()
    """Taints on the pool's nodes; e.g. `spot` so that only pods tolerating it land there."""
    labels: dict[
        Annotated[str, StringConstraints(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9._-]{1,63}$")],
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{0,63}$")],
    ] = {}
    """Labels on the pool's nodes (pods select them with `nodeSelector`)."""
    weight: int | None = Field(default=None, ge=1, le=100)
    """Karpenter tries pools of higher weight first; default none."""


MAINTENANCE_WINDOW = (
    DisruptionBudget(nodes="10%"),
    DisruptionBudget(nodes="0", schedule="0 4 * * *", duration="22h"),
)
"""Voluntary disruption (consolidation, drift) only from 02:00 to 04:00 UTC, 10% at a time:
a budget of zero nodes from 04:00 for 22 hours closes the rest of the day."""

_SPOT_TAINT = Taint(key="spot", value="true")


def default_node_pools(role: str) -> dict[str, NodePool]:
    """The Karpenter pools of a cluster whose config sets no `node_pools`, by account role:
    dev and sandbox one mostly-Spot pool (Spot first, on-demand when Spot has none); staging
    the same, larger; prod an on-demand pool for everything and a Spot pool only pods
    tolerating the `spot` taint use (teams opt in), both disrupted only in the maintenance
    window; shared-services (the GitOps hub) a small on-demand pool."""
    if role in ("dev", "sandbox"):
        return {"default": NodePool(cpu_limit=32, memory_limit_gib=128)}
    if role == "staging":
        return {"default": NodePool(cpu_limit=64, memory_limit_gib=256)}
    if role == "prod":
        return {
            "on-demand": NodePool(
                capacity_types=("on-demand",),
                cpu_limit=256,
                memory_limit_gib=1024,
                consolidate_after="10m",
                budgets=MAINTENANCE_WINDOW,
            ),
            "spot": NodePool(
                capacity_types=("spot",),
                cpu_limit=128,
                memory_limit_gib=512,
                consolidate_after="5m",
                budgets=MAINTENANCE_WINDOW,
                taints=(_SPOT_TAINT,),
                labels={"capacity": "spot"},
            ),
        }
    return {
        "default": NodePool(
            capacity_types=("on-demand",),
            cpu_limit=16,
            memory_limit_gib=64,
            budgets=MAINTENANCE_WINDOW,
        )
    }


class Cluster(_Frozen):
    """An Amazon EKS cluster in the account's VPC: on shared-services the GitOps hub, on a
    workload account the cluster its applications run on."""

    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")]
    """A version Amazon EKS still creates and a kubectl layer is packaged for; quote it
    ("1.35"). A version in extended support is accepted with a warning: it costs more per
    cluster hour. `config/eks_calendar.py` holds each version's support dates."""
    endpoint_public_access_cidrs: Annotated[
        tuple[str, ...], AfterValidator(_check_public_cidrs)
    ] = ()
    """Empty (default): the API endpoint is private. Otherwise the endpoint is public, only
    from these CIDRs; `0.0.0.0/0` is refused."""
    admin_role_arns: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = ()
    """IAM role ARNs granted cluster admin (AmazonEKSClusterAdminPolicy) through access
    entries."""
    viewer_role_arns: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = ()
    """IAM role ARNs granted read-only access (AmazonEKSViewPolicy) through access entries."""
    system_nodes: NodeGroup = NodeGroup()
    """The node group that runs the system pods."""
    fargate_namespaces: Annotated[tuple[KubernetesName, ...], AfterValidator(_check_unique)] = (
        Field(default=(), max_length=5)
    )
    """Kubernetes namespace names (at most 5) whose pods run on Fargate."""
    addon_versions: dict[Addon, str] = {}
    """Pin an EKS add-on's version by name (e.g. `vpc-cni: v1.20.4-eksbuild.1`) over the
    platform's table for the cluster's Kubernetes version (`config/eks_calendar.py`
    `ADDON_VERSIONS`); an add-on the table has no version for must be pinned here."""
    log_retention_days: RetentionDays = 90
    """Retention of the application log group Fluent Bit writes to."""
    prometheus: bool | None = None
    """An Amazon Managed Service for Prometheus workspace fed by the AWS managed collector
    from this cluster (its endpoint goes to Argo CD's cluster annotations and to SSM for
    canary analysis and autoscaling). Default: on for a workload account's cluster, off for
    shared-services' (the GitOps hub runs no workload to analyse or scale; turn it on to keep
    Argo CD's own metrics, at the collector's hourly charge)."""
    grafana: bool = False
    """With `prometheus`, an Amazon Managed Grafana workspace reading it, signed in through
    IAM Identity Center, which must be enabled in the organisation first."""

    node_pools: dict[KubernetesName, NodePool] | None = None
    """Karpenter NodePools by name (the workload capacity beside `system_nodes`); `{}` for
    none. Default: the account role's (`default_node_pools`): dev, sandbox and staging one
    mostly-Spot pool; prod an on-demand pool and a Spot pool for pods tolerating the `spot`
    taint, both disrupted only in a maintenance window (02:00-04:00 UTC)."""

    def karpenter_pools(self, role: str) -> dict[str, NodePool]:
        """The pools this cluster gets: `node_pools`, else the role's defaults."""
        return dict(self.node_pools) if self.node_pools is not None else default_node_pools(role)

    @model_validator(mode="after")
    def _grafana_reads_prometheus(self) -> Cluster:
        if self.grafana and self.prometheus is False:
            raise ValueError("grafana reads the Prometheus workspace: it needs prometheus")
        return self


# --- a workload account's data --------------------------------------------------------------

ResourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")]
"""A data resource's short name (a cache, a bucket): 2-20 of a-z, 0-9 and `-`, starting with a
letter; part of its deterministic AWS name."""

POSTGRES_MIN_MAJOR = 16
PostgresEngine = Literal["aurora-serverless-v2", "aurora-provisioned", "rds"]
DEFAULT_POSTGRES_ENGINE: PostgresEngine = "aurora-serverless-v2"
InstanceClass = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]


def _check_postgres_version(value: str) -> str:
    major, minor = (int(part) for part in value.split("."))
    if major < POSTGRES_MIN_MAJOR:
        raise ValueError(f"PostgreSQL {POSTGRES_MIN_MAJOR} or newer is required")
    oldest = OLDEST_OFFERED_MINOR.get(major)
    if oldest is not None and minor < oldest:
        raise ValueError(
            f"{value} is no longer offered for new databases; use {major}.{oldest} or newer "
            f"(default {DEFAULT_POSTGRES_VERSION})"
        )
    return value


class _PostgresBase(_Frozen):
    """One PostgreSQL database for the account's applications, reachable only from its
    cluster. `engine` decides the other keys: each engine has only the keys that mean
    something to it."""

    engine: PostgresEngine
    """aurora-serverless-v2 (default): Aurora PostgreSQL on Serverless v2 capacity;
    aurora-provisioned: Aurora on instances of `instance_class`; rds: RDS PostgreSQL, a
    single instance, Multi-AZ by `multi_az`."""
    version: Annotated[
        str, StringConstraints(pattern=r"^\d{2}\.\d{1,2}$"), AfterValidator(_check_postgres_version)
    ] = DEFAULT_POSTGRES_VERSION
    """Engine version, major.minor, 16 or newer and still offered for new databases; quote it
    ("16.11")."""
    max_connections: int | None = Field(default=None, ge=10, le=262143)
    """Default: the engine's formula from instance memory."""
    log_min_duration_ms: int = Field(default=1000, ge=-1)
    """Log every statement slower than this many milliseconds (-1: off); logs go to
    CloudWatch."""
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    """Automated backups and point-in-time recovery window (the data stack's AWS Backup plan
    keeps its own recovery points too)."""
    database_name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")] = "app"
    """The database created with the cluster or instance: a lowercase letter, then up to 62
    lowercase letters, digits or `_`."""


class AuroraServerlessPostgres(_PostgresBase):
    """Aurora PostgreSQL on Serverless v2 capacity: it scales between `min_capacity` and
    `max_capacity` ACUs, readers with the writer."""

    engine: Literal["aurora-serverless-v2"] = "aurora-serverless-v2"
    min_capacity: float = Field(default=0.5, ge=0, le=256)
    """Fewest ACUs (0 lets an idle cluster pause); at most `max_capacity`."""
    max_capacity: float = Field(default=8, ge=1, le=256)
    """Most ACUs."""
    readers: int = Field(default=0, ge=0, le=15)
    """Aurora reader instances, spread over the AZs (prod needs at least one to fail over
    to)."""

    @model_validator(mode="after")
    def _capacity_in_order(self) -> Self:
        if self.min_capacity > self.max_capacity:
            _refuse(
                self,
                [
                    (
                        ("min_capacity",),
                        f"larger than max_capacity ({self.max_capacity})",
                        self.min_capacity,
                    )
                ],
            )
        return self


class AuroraProvisionedPostgres(_PostgresBase):
    """Aurora PostgreSQL on provisioned instances of `instance_class`."""

    engine: Literal["aurora-provisioned"]
    instance_class: InstanceClass = "r7g.large"
    """Instance class of the writer and readers, without the `db.` prefix."""
    readers: int = Field(default=0, ge=0, le=15)
    """Aurora reader instances, spread over the AZs (prod needs at least one to fail over
    to)."""


class RdsPostgres(_PostgresBase):
    """RDS PostgreSQL: one instance, with a synchronous standby in another AZ when
    `multi_az`."""

    engine: Literal["rds"]
    instance_class: InstanceClass = "r7g.large"
    """Instance class without the `db.` prefix."""
    multi_az: bool = False
    """A synchronous standby in another AZ (prod needs it)."""
    allocated_storage_gib: int = Field(default=100, ge=20, le=65536)
    """Initial gp3 storage; it grows automatically up to 4x."""


def _postgres_engine(value: Any) -> Any:
    """The engine a `postgres` section names: the default one when it names none."""
    if isinstance(value, Mapping):
        return value.get("engine", DEFAULT_POSTGRES_ENGINE)
    return getattr(value, "engine", DEFAULT_POSTGRES_ENGINE)


Postgres = Annotated[
    Annotated[AuroraServerlessPostgres, Tag("aurora-serverless-v2")]
    | Annotated[AuroraProvisionedPostgres, Tag("aurora-provisioned")]
    | Annotated[RdsPostgres, Tag("rds")],
    Discriminator(_postgres_engine),
]
"""A `postgres` section: the model of its `engine` (aurora-serverless-v2 when omitted)."""

CACHE_VERSIONS = {"valkey": ("7.2", "8.0", "8.1"), "redis": ("7.0", "7.1")}
"""Engine versions ElastiCache offers with TLS, RBAC and Multi-AZ."""


class Cache(_Frozen):
    """An ElastiCache replication group for one application (never share a cache by database
    index): TLS, IAM-authenticated users, encrypted with a key of the data stack. Named
    `<prefix>-<account>-<name>`, at most 40 characters."""

    engine: Literal["valkey", "redis"] = "valkey"
    """Valkey, or Redis OSS."""
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")] = "8.0"
    """Valkey 7.2, 8.0 or 8.1; Redis OSS 7.0 or 7.1."""
    node_type: Annotated[str, StringConstraints(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = (
        "cache.t4g.small"
    )
    """ElastiCache node type of the primary and each replica."""
    replicas: int = Field(default=1, ge=0, le=5)
    """Read replicas of the primary; at least one gives automatic failover and Multi-AZ (prod
    needs it)."""
    snapshot_retention_days: int = Field(default=15, ge=1, le=35)
    """Daily snapshots kept this long (below 15 is an acknowledged NIST/HIPAA finding)."""

    @model_validator(mode="after")
    def _version_offered(self) -> Self:
        offered = CACHE_VERSIONS[self.engine]
        if self.version not in offered:
            _refuse(
                self,
                [
                    (
                        ("version",),
                        f"{self.engine} versions offered: {', '.join(offered)}",
                        self.version,
                    )
                ],
            )
        return self


class Search(_Frozen):
    """An OpenSearch domain in the isolated subnets: HTTPS only, fine-grained access control
    with an IAM admin role, encrypted, slow/application/audit logs to CloudWatch. Named
    `<prefix>-<account>-search`, at most 28 characters."""

    version: Annotated[str, StringConstraints(pattern=r"^OpenSearch_\d+\.\d+$")] = "OpenSearch_2.19"
    """Engine version, `OpenSearch_<major>.<minor>`."""
    data_node_type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] = (
        "r7g.large.search"
    )
    """Instance type of the data nodes."""
    data_nodes: int = Field(default=2, ge=1, le=80)
    """With two or more, nodes are spread over the AZs (zone awareness over min(3, AZs)
    zones): use a multiple of that number. Prod needs at least 2."""
    volume_gib: int = Field(default=100, ge=10, le=16384)
    """gp3 storage per data node."""
    dedicated_masters: Literal[0, 3, 5] = 0
    """Dedicated master nodes: 0, 3 or 5 (prod needs 3 or 5)."""
    master_node_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")
    ] = "m7g.large.search"
    """Instance type of the dedicated masters, when there are any."""
    log_retention_days: RetentionDays = 90
    """Retention of the domain's log groups."""
    create_service_linked_role: bool = True
    """Create `AWSServiceRoleForAmazonOpenSearchService`, which a domain in a VPC needs and
    CloudFormation does not create; false where the account already has it (IAM refuses a
    second one). `make preflight` says which."""


class Kafka(_Frozen):
    """An Amazon MSK cluster: IAM-authenticated clients over TLS (port 9098) from the
    account's cluster only, encrypted storage, broker logs to CloudWatch. Off unless
    configured."""

    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.(\d+|x)(\.kraft)?$")] = "3.8.x"
    """Apache Kafka version as MSK names it (`3.8.x`, `3.7.x.kraft`)."""
    broker_type: Annotated[str, StringConstraints(pattern=r"^kafka\.[a-z0-9]+\.[a-z0-9]+$")] = (
        "kafka.m7g.large"
    )
    """MSK broker instance type."""
    brokers_per_az: int = Field(default=1, ge=1, le=10)
    """Brokers in each availability zone of the VPC."""
    volume_gib: int = Field(default=100, ge=1, le=16384)
    """EBS storage per broker."""
    log_retention_days: RetentionDays = 90
    """Retention of the broker log group."""


class DataBucket(_Frozen):
    """A versioned S3 bucket with access logging, in AWS Backup. Named
    `<prefix>-<account>-<name>-<account id>-<region>`, at most 63 characters."""

    encryption: Literal["kms", "s3"] = "kms"
    """kms: a customer-managed key of the data stack; s3: S3-managed keys (SSE-S3, an
    acknowledged finding)."""
    noncurrent_version_days: int = Field(default=90, ge=1)
    """Delete overwritten and deleted versions after this many days."""
    expire_after_days: int | None = Field(default=None, ge=1)
    """Delete current objects after this many days; default never."""


class Backup(_Frozen):
    """The AWS Backup vault and daily plan that protect the data stack's databases and
    buckets (selected by tag)."""

    retention_days: int = Field(default=35, ge=1, le=36500)
    """How long AWS Backup keeps each daily recovery point."""
    vault_lock: bool | None = None
    """Lock the vault so no one, the account's administrators and root included, can delete
    recovery points early (compliance mode, minimum retention `retention_days`, immutable 3
    days after it is set). Default: on outside sandbox; `false` in prod, or `true` with
    `allow_data_loss`, is an error. Outside sandbox every recovery point is also copied to
    the security account's locked vault."""


class Data(_Frozen):
    """The data stack: stateful services, termination-protected in staging and prod and
    retained when deleted outside sandbox. Every service is optional; omit a key to go
    without it. Databases, caches, search and Kafka admit only the account's cluster, so they
    need `cluster`. Deterministic names are `<prefix>-<account>-<purpose>`; one longer than
    its service allows (search 28, caches 40, buckets 63 with account id and region) is a
    config error."""

    postgres: Postgres | None = None
    """A PostgreSQL database; its `engine` decides which keys it takes."""
    caches: dict[ResourceName, Cache] = Field(default={}, max_length=10)
    """Name (2-20 lowercase letters, digits and `-`) -> cache, at most 10: one replication
    group per application; never share a cache by database index."""
    search: Search | None = None
    """An OpenSearch domain."""
    kafka: Kafka | None = None
    """An MSK cluster; off unless configured."""
    buckets: dict[ResourceName, DataBucket] = Field(default={}, max_length=20)
    """Name (2-20 lowercase letters, digits and `-`) -> S3 bucket, at most 20."""
    backup: Backup = Backup()
    """The backup vault and plan."""
    allow_data_loss: bool = False
    """Sandbox only: deleting the data stack deletes its data (databases without a final
    snapshot, caches, domains, emptied buckets excepted). Anywhere else it is an error."""

    @property
    def needs_clients(self) -> bool:
        """Whether there is a network service a cluster's pods connect to."""
        return bool(self.postgres or self.caches or self.search or self.kafka)


# --- a workload account's edge --------------------------------------------------------------

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
    """A CloudFront path pattern starting with `/`: `*` matches any characters, `?` exactly
    one. Unique within `behaviors`."""
    origin: ResourceName
    """`alb` (the cluster's pods behind the internal load balancer) or a name in `buckets`."""
    cache: Literal["disabled", "optimized"]
    """disabled: every request reaches the origin (AWS managed CachingDisabled);
    optimized: cached by path and compression only (CachingOptimized)."""
    forward: Literal["all", "none"] | None = None
    """What the origin sees of the viewer's request. all: every header (Host included),
    cookie and query string (AllViewer); none: nothing beyond what the cache key holds.
    Default: all for `alb`, none for buckets (S3 rejects a forwarded Host header, so all is
    refused for a bucket)."""


class EdgeErrorPage(_Frozen):
    """Serve `page` instead of the origin's error `status`."""

    status: Literal[400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]
    """An error status CloudFront can replace; each status once."""
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
    """The CDN in front of a workload account: CloudFront with a WAF web ACL and a
    certificate (both in us-east-1), an internal load balancer sending to the cluster's
    pods, and S3 origins. Every workload account with a `domain` gets one, with these
    defaults unless `edge` says otherwise; it needs the account's `cluster`, and
    `organization.allowed_regions` must include us-east-1."""

    hostnames: tuple[DomainName, ...] = ()
    """Names the distribution answers, each the domain or one label below it
    (`www.<domain>`): the certificate covers `<domain>` and `*.<domain>`. Default: the domain
    alone."""
    buckets: tuple[ResourceName, ...] = Field(default=("static", "media"), max_length=10)
    """S3 origins (OAC-only buckets, retained like data), each 2-20 lowercase letters,
    digits and `-`; the name `alb` is reserved for the load balancer."""
    behaviors: tuple[EdgeBehavior, ...] = Field(default=SEED_BEHAVIORS, max_length=25)
    """The cache behaviours, tried in order: the default table never caches user-specific
    API answers and always caches static assets and media."""
    default: EdgeBehavior = EdgeBehavior(path="/*", origin=EDGE_ORIGIN_ALB, cache="disabled")
    """What matches no behaviour (its `path` is ignored: CloudFront's default is `*`)."""
    error_pages: tuple[EdgeErrorPage, ...] = (
        EdgeErrorPage(status=502, page="/static/errors/5xx.html"),
        EdgeErrorPage(status=503, page="/static/errors/5xx.html"),
        EdgeErrorPage(status=504, page="/static/errors/5xx.html"),
    )
    """Pages served instead of the origin's errors."""
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
    """The path the target group's health check requests from the pods."""
    rate_limit: int = Field(default=2000, ge=100, le=2_000_000_000)
    """Requests per client IP in any 5 minutes before WAF blocks it."""
    log_retention_days: RetentionDays = 365
    """WAF logs (CloudWatch, us-east-1) and CloudFront and load balancer access logs (S3) are
    kept this long."""

    @model_validator(mode="after")
    def _origins_exist_and_errors_load(self) -> Self:
        """Behaviours name origins that exist, and error pages load without the load
        balancer."""
        found: list[Finding] = []
        origins = {EDGE_ORIGIN_ALB, *self.buckets}
        if EDGE_ORIGIN_ALB in self.buckets:
            found.append((("buckets",), "names the load balancer, not a bucket", EDGE_ORIGIN_ALB))
        behaviours: list[tuple[tuple[str | int, ...], EdgeBehavior]] = [
            (("behaviors", index), behaviour) for index, behaviour in enumerate(self.behaviors)
        ]
        seen: dict[str, str] = {}
        for where, behaviour in [*behaviours, (("default",), self.default)]:
            if behaviour.origin not in origins:
                found.append(
                    (
                        (*where, "origin"),
                        f"not an origin: use {EDGE_ORIGIN_ALB!r} or one of buckets "
                        f"({', '.join(self.buckets) or 'none'})",
                        behaviour.origin,
                    )
                )
            elif behaviour.origin != EDGE_ORIGIN_ALB and behaviour.forward == "all":
                found.append(
                    (
                        (*where, "forward"),
                        "a bucket origin cannot take the viewer's headers: S3 rejects a "
                        "forwarded Host header; use none",
                        "all",
                    )
                )
            if where == ("default",):
                continue
            if behaviour.path in seen:
                found.append(
                    (
                        (*where, "path"),
                        f"already the path of {seen[behaviour.path]}",
                        behaviour.path,
                    )
                )
            seen.setdefault(behaviour.path, ".".join(map(str, where)))
        for index, page in enumerate(self.error_pages):
            served_by = next(
                (b for b in self.behaviors if fnmatchcase(page.page, b.path)), self.default
            )
            if served_by.origin == EDGE_ORIGIN_ALB or served_by.origin not in origins:
                found.append(
                    (
                        ("error_pages", index, "page"),
                        "must match a bucket behaviour: an error page served by the load "
                        "balancer fails with it",
                        page.page,
                    )
                )
        statuses = [page.status for page in self.error_pages]
        for index, status in enumerate(statuses):
            if status in statuses[:index]:
                found.append((("error_pages", index, "status"), "mapped twice", status))
        _refuse(self, found)
        return self


class OperatorAccess(_Frozen):
    """Private operator access: a minimal instance managed by AWS Systems Manager in the
    account's private subnets, through which the named roles open Session Manager
    port-forwarding sessions to the cluster API, PostgreSQL and the caches (`make tunnel`).
    No SSH, no key pair, no inbound rule; see docs/operations.md "Operator access"."""

    roles: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = Field(min_length=1)
    """IAM roles of this account that may open port-forwarding sessions on the access
    instance (and nothing else through Session Manager): the stack attaches a managed policy
    to each, so they must exist and must not be IAM Identity Center roles (IAM refuses to
    change those; grant the policy through the permission set instead)."""


# --- accounts, one model per role -----------------------------------------------------------


class _AccountBase(_Frozen):
    """One AWS account of the organisation. `role` decides which sections it may have:
    exactly one management, one security and one shared-services account; at least one each
    of dev, staging and prod; sandbox is optional. More than one account per workload
    environment is allowed (for example one per team or region); each is a `WorkloadStage`
    of its own. The account's name (2-24 lowercase letters, digits and `-`, starting with a
    letter) becomes its stage id: `cdk deploy 'prod/*'`."""

    role: Role
    """What the account is for; it decides the stage class and which sections exist."""
    id: AccountId
    """The 12-digit AWS account id, quoted (`"012345678901"`) so YAML keeps leading zeros;
    unique across accounts (the sample file uses placeholders)."""
    region: Region
    """The account's primary region, in `organization.allowed_regions`; its stacks are bound
    to it."""
    monthly_budget_usd: int = Field(gt=0)
    """The management account's monthly cost budget for this account, in US dollars; it
    alerts at `budgets.thresholds_percent`."""
    monitoring: Monitoring = Monitoring()
    """Where its alarms go and how the health gate reads them."""

    def thresholds(self) -> Thresholds:
        """Its alarm thresholds: its own, or its role's default."""
        return self.monitoring.thresholds or DEFAULT_THRESHOLDS.get(self.role, Thresholds())

    def pages(self) -> bool:
        """Whether its alarms page: its setting, or on for prod."""
        return self.monitoring.page if self.monitoring.page is not None else self.role == "prod"

    @property
    def is_workload(self) -> bool:
        return self.role in WORKLOAD_ROLES

    @property
    def edge_settings(self) -> Edge | None:
        """The edge this account gets: only a workload account with a domain has one."""
        return None


class _WithoutVpc:
    """Management and security accounts have no VPC, hence no network and no cluster."""

    network: ClassVar[None] = None
    cluster: ClassVar[None] = None


class _WithoutWorkload:
    """Only workload accounts hold a DNS subzone, an edge, data and operator access."""

    domain: ClassVar[None] = None
    edge: ClassVar[None] = None
    data: ClassVar[None] = None
    access: ClassVar[None] = None


class _WithoutSecurityServices:
    """Only the security account holds the log archive and runs the audit services."""

    log_archive: ClassVar[None] = None
    audit: ClassVar[None] = None


class ManagementAccount(_WithoutVpc, _WithoutWorkload, _WithoutSecurityServices, _AccountBase):
    """The Organizations management (payer) account: OUs, SCPs, the tag policy and every
    account's budget. No VPC."""

    role: Literal["management"]


class SecurityAccount(_WithoutVpc, _WithoutWorkload, _AccountBase):
    """The audit account: the log archive, the organisation trail, GuardDuty, Security Hub,
    Config and IAM Access Analyzer. No VPC."""

    role: Literal["security"]
    log_archive: LogArchive | None = None
    """The organisation's log archive; the defaults apply when omitted."""
    audit: Audit | None = None
    """The organisation trail and security services; the defaults apply when omitted."""


class SharedServicesAccount(_WithoutWorkload, _WithoutSecurityServices, _AccountBase):
    """Platform tooling: the network hub (Transit Gateway), the parent DNS zone, the
    container registry, CI roles, the pipeline and the GitOps hub cluster."""

    role: Literal["shared-services"]
    network: Network
    """The platform VPC."""
    cluster: Cluster | None = None
    """The GitOps hub cluster (needed by `gitops.mode: hub-and-spoke`)."""


class WorkloadAccount(_WithoutSecurityServices, _AccountBase):
    """An environment applications run in: network, cluster, data and edge. dev, staging,
    prod and sandbox are the same stage fed different config; sandbox is deployed by hand,
    never by the pipeline, and is the only place data may be destroyed on delete."""

    role: Literal["dev", "staging", "prod", "sandbox"]
    network: Network
    """The environment's VPC."""
    cluster: Cluster | None = None
    """The workload cluster; data, the edge and CI roles that describe it need one."""
    domain: DomainName | None = None
    """The environment's public DNS zone (e.g. dev.example.com), held by this account (in
    the EdgeGlobal stack) and delegated from `dns.parent_zone` (it must be below it).
    ExternalDNS and cert-manager may change records only inside it (their roles exist only
    when it is set). A workload account with a domain gets the edge (CloudFront, WAF,
    certificates)."""
    edge: Edge | None = None
    """The CDN's behaviours and settings; needs `domain`. Default: the edge defaults
    whenever `domain` is set."""
    data: Data | None = None
    """The stateful services of the data stack."""
    access: OperatorAccess | None = None
    """Private operator access through Session Manager; none when omitted."""

    @property
    def edge_settings(self) -> Edge | None:
        """The edge this account gets: with a domain it has one, with the defaults unless
        `edge` says otherwise."""
        if self.domain is None:
            return None
        return self.edge or Edge()


AccountModel = ManagementAccount | SecurityAccount | SharedServicesAccount | WorkloadAccount
"""The model of one role's accounts."""
Account = Annotated[AccountModel, Field(discriminator="role")]
"""An account: the model of its `role`."""

ACCOUNT_MODELS: Mapping[str, type[AccountModel]] = {
    "management": ManagementAccount,
    "security": SecurityAccount,
    "shared-services": SharedServicesAccount,
    **dict.fromkeys(WORKLOAD_ROLES, WorkloadAccount),
}
"""Role -> the model of an account with that role."""

AccountName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,23}$")]

# --- delivery -------------------------------------------------------------------------------

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
    """One stage of the pipeline: its accounts deploy in parallel."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,23}$")]
    """The wave's stage name in CodePipeline: 2-24 lowercase letters, digits and `-`."""
    accounts: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = Field(min_length=1)
    """Names of the accounts this wave deploys, in parallel; they must be one promotion step
    (security and shared-services may share a wave)."""
    approval: bool = False
    """Before the wave deploys anything, show the difference of every stack it deploys
    (templates and IAM/security-group changes) and wait for one person's approval (a wave
    deploying prod must). Waves deploying the security or shared-services account stop for
    approval anyway when a change broadens IAM permissions."""
    health_check: bool = False
    """After the wave deploys, run the health gate against each of its accounts (a wave
    deploying staging or prod must)."""


class Pipeline(_Frozen):
    """The self-mutating CDK Pipeline, in the shared-services account; without it every
    stage is deployed by hand. It deploys every account but sandbox: each exactly once, in
    waves that follow the promotion order management -> security and shared-services -> dev
    -> staging -> prod, one step per wave."""

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
    """The CodeConnections (or CodeStar Connections) connection to the Git host, made once in
    the console of the shared-services account."""
    notification_emails: tuple[Email, ...] = ()
    """Who hears about failed executions and approvals waiting (subscribed to the pipeline's
    notification topic, which is Chatbot-ready)."""
    waves: tuple[Wave, ...] = Field(min_length=1)
    """Promotion order: every account but sandbox in exactly one wave."""

    @model_validator(mode="before")
    @classmethod
    def _no_execution_policies(cls, data: Any) -> Any:
        """The setting that chose CloudFormation's execution policies (AdministratorAccess by
        default) is gone: `make bootstrap` installs the generated least-privilege policy."""
        if isinstance(data, Mapping) and "cloudformation_execution_policies" in data:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "removed",
                            "{message}",
                            {
                                "message": (
                                    "no longer set here: `make bootstrap` gives CloudFormation "
                                    "the least-privilege policy generated for each account "
                                    "(bootstrap/execution-policies/, docs/security.md); remove "
                                    "this key"
                                )
                            },
                        ),
                        loc=("cloudformation_execution_policies",),
                        input=data["cloudformation_execution_policies"],
                    )
                ],
            )
        return data


class GitOps(_Frozen):
    """Argo CD, installed by CDK on the clusters; without this section CDK installs nothing
    inside a cluster."""

    mode: Literal["hub-and-spoke", "spoke-only"] = "hub-and-spoke"
    """hub-and-spoke: Argo CD runs on the shared-services cluster (which must exist) and
    deploys to the others; spoke-only: every cluster runs its own Argo CD."""
    repository_url: Annotated[str, StringConstraints(pattern=r"^(https://|ssh://|git@)\S+$")]
    """The GitOps repository Argo CD's root Application reads: an `https://`, `ssh://` or
    `git@` URL."""
    revision: str = Field(default="main", min_length=1)
    """The branch, tag or commit the root Application tracks."""
    path: str = Field(default="gitops/bootstrap", min_length=1)
    """Folder of the app-of-apps in the repository (this project ships one: gitops/)."""
    argocd_chart_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")] = "9.5.4"
    """The argo-cd Helm chart version (argo-helm), pinned: x.y.z."""
    argocd_values: dict[str, Any] = {}
    """Helm values merged over the platform's defaults (the HA shape where Argo CD runs in
    high availability)."""
    high_availability: bool | None = None
    """Argo CD's HA install (redis-ha and two replicas of every component) where it runs;
    default: on the hub and on prod. HA needs at least three nodes in the cluster's
    `system_nodes.min_size` (redis-ha's pods each need a node of their own)."""
    register_sandbox: bool = False
    """hub-and-spoke: whether the hub deploys to sandbox too; if not, sandbox runs its own."""


NagPack = Literal["AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"]


class Registry(_Frozen):
    """ECR in the shared-services account; every workload account with a cluster may
    pull."""

    repositories: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = Field(
        min_length=1, max_length=50
    )
    """1-50 distinct repository names (2-20 lowercase characters); each becomes
    `<prefix>/<name>`."""
    keep_images: int = Field(default=100, ge=1, le=10_000)
    """Tagged images kept per repository (the oldest beyond this expire)."""
    untagged_days: int = Field(default=14, ge=1, le=365)
    """Untagged images expire after this many days."""


class Dns(_Frozen):
    """The organisation's public parent zone, in the shared-services account."""

    parent_zone: DomainName
    """The organisation's public zone, held by shared-services. Every workload `domain` must
    be below it; each is delegated to its account automatically."""


GitHubRepository = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
]
GitBranch = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{1,100}$")]


class CiRepository(_Frozen):
    """A GitHub repository whose Actions workflows get roles (OIDC: no access keys). It must
    get at least one of `push`, `describe_clusters` and `decrypt_secrets`."""

    repository: GitHubRepository
    """`owner/name`, as GitHub spells it. Its roles are named `<prefix>-ci-<owner>-<name>`
    (lowercase, other characters as `-`): at most 64 characters and unique."""
    branches: Annotated[tuple[GitBranch, ...], AfterValidator(_check_unique)] = Field(
        default=("main",), min_length=1, max_length=10
    )
    """Branch names, no wildcards: only workflows running on these branches may assume the
    roles (no pull requests, no tags, no other branches)."""
    push: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = ()
    """Names from `registry.repositories` it may push images to (a role in
    shared-services)."""
    describe_clusters: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = ()
    """Names of accounts with a cluster whose cluster it may describe (a role in each of
    them)."""
    decrypt_secrets: bool = False
    """May decrypt with the CI secrets key (shared-services; e.g. SOPS files in the
    repository), never encrypt or manage it."""


class Ci(_Frozen):
    """Keyless roles for GitHub Actions, through the account's GitHub OIDC provider."""

    repositories: tuple[CiRepository, ...] = Field(min_length=1, max_length=50)
    """The repositories that get roles (1-50)."""
    existing_oidc_provider_accounts: Annotated[tuple[str, ...], AfterValidator(_check_unique)] = ()
    """Accounts (by name) that already have the GitHub OIDC provider
    (`token.actions.githubusercontent.com`): IAM allows one provider per URL in an account, so
    creating a second fails with EntityAlreadyExists. Their CI roles trust the existing one
    (`arn:aws:iam::<id>:oidc-provider/token.actions.githubusercontent.com`) instead."""


class Compliance(_Frozen):
    """The policy gate: cdk-nag packs every template must pass before anything is written."""

    packs: Annotated[tuple[NagPack, ...], AfterValidator(_check_unique)] = (
        "AwsSolutions",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
    )
    """cdk-nag packs that gate synthesis (the platform's own pack always runs)."""


GitOpsRole = Literal["hub", "spoke", "standalone"]
"""What a cluster is to Argo CD (`gitops_role_of`)."""


def gitops_role_of(gitops: GitOps | None, account: Account) -> GitOpsRole | None:
    """What the account's cluster is to Argo CD: the hub, a spoke the hub deploys to, or
    standalone (runs its own Argo CD). None without gitops or without a cluster."""
    if gitops is None or account.cluster is None:
        return None
    if gitops.mode == "spoke-only":
        return "standalone"
    if account.role == "shared-services":
        return "hub"
    if account.role == "sandbox" and not gitops.register_sandbox:
        return "standalone"
    return "spoke"


def argocd_high_availability_of(gitops: GitOps | None, account: Account) -> bool:
    """Whether Argo CD, where it runs on the account's cluster (hub or standalone), is the HA
    install: `gitops.high_availability`, else on the hub and prod; `redis-ha.enabled: false`
    in `argocd_values` turns it off."""
    role = gitops_role_of(gitops, account)
    if gitops is None or role not in ("hub", "standalone"):
        return False
    redis_ha = gitops.argocd_values.get("redis-ha", {})
    if isinstance(redis_ha, dict) and redis_ha.get("enabled") is False:
        return False
    if gitops.high_availability is not None:
        return gitops.high_availability
    return role == "hub" or account.role == "prod"


TeamName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")]
"""A team's name (2-16 lowercase letters, digits and `-`): it names the team's roles
(`<prefix>-<account>-team-<team>`, `<prefix>-<account>-secrets-<team>`: at most 62
characters, within IAM's 64), its Argo CD project and its database user."""


class Quota(_Frozen):
    """What one team namespace may use in total (its `ResourceQuota`); its `LimitRange`
    gives containers that ask for nothing a share of it."""

    cpu: float = Field(default=4, gt=0, le=1024)
    """Cores of CPU requests in total (limits may reach twice that)."""
    memory_gib: int = Field(default=8, ge=1, le=4096)
    """GiB of memory requests in total (limits: the same, memory is not overcommitted)."""
    pods: int = Field(default=50, ge=1, le=5000)
    """Pods at once."""
    storage_gib: int = Field(default=0, ge=0, le=65536)
    """GiB of persistent volume claims in total (0: none)."""


class TeamBucket(_Frozen):
    """Part of one of the account's data buckets."""

    bucket: ResourceName
    """A name from the account's `data.buckets`."""
    prefix: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-_/]{0,100}/$")] | None = (
        None
    )
    """The key prefix the team's pods may use, ending in `/`; default `<team>/`."""
    read_only: bool = False
    """Read objects only (no put or delete)."""


class TeamData(_Frozen):
    """What the team's pods may use of the account's data services, each through their Pod
    Identity role and no password."""

    postgres: bool = False
    """A database user named after the team in the account's PostgreSQL database, signing in
    with IAM authentication (`rds-db:connect`), owning a schema of the team's name."""
    caches: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = ()
    """Names from the account's `data.caches`: a cache user of the team's name with IAM
    authentication (`elasticache:Connect`)."""
    buckets: tuple[TeamBucket, ...] = Field(default=(), max_length=10)
    """Bucket prefixes (read-write unless `read_only`)."""


class TeamEnvironment(_Frozen):
    """The team in one account."""

    namespaces: dict[KubernetesName, Quota] = Field(min_length=1, max_length=10)
    """Namespace -> its quota. A namespace belongs to one team; the team's roles and service
    accounts are per namespace."""
    data: TeamData = TeamData()
    """The data its pods may use (its secrets path `<prefix>/teams/<team>/` always)."""
    public_paths: tuple[EdgePathPattern, ...] = Field(default=(), max_length=10)
    """Paths of the account's edge (CloudFront, then the load balancer) that reach the team's
    ingress; each path belongs to one team."""


class TeamService(_Frozen):
    """A service the team deploys with Argo CD to each of its environments."""

    repository: GitHubRepository
    """One of the team's `repositories`."""
    path: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,200}$")] = (
        "deploy"
    )
    """The directory of its Helm chart or Kustomize tree in the repository."""
    namespace: KubernetesName
    """One of the team's namespaces, in every environment of the team."""
    canary: bool = False
    """Progressive delivery: canary steps with analysis and automatic rollback."""


def team_bucket_prefix(team: str, grant: TeamBucket) -> str:
    """The key prefix a team's grant on a bucket covers (default `<team>/`)."""
    return grant.prefix if grant.prefix is not None else f"{team}/"


EDGE_RULE_SLOTS = 4999
"""Slots of ten listener-rule priorities (1-49990 of the 1-50000 an ALB listener allows)."""


def edge_rule_priority(team: str, index: int) -> int:
    """The edge listener rule priority of the team's `index`-th public path: ten priorities
    per team at a slot given by the CRC-32 of its name, so that a team's priorities depend on
    its name alone (adding or removing another team moves none of them). Two teams of one
    account whose names share a slot are refused by config.rules.teams."""
    if not 0 <= index < 10:
        raise ValueError(f"index: a team has at most 10 public paths; got {index}")
    return edge_rule_slot(team) * 10 + index + 1


def edge_rule_slot(team: str) -> int:
    return zlib.crc32(team.encode()) % EDGE_RULE_SLOTS


class Team(_Frozen):
    """A team that runs services on the platform: one entry onboards it end to end (roles and
    data grants in its accounts, namespaces and quotas, Argo CD project and applications).
    Checked against the rest of the file (`config/rules/teams.py`): its environments are
    workload accounts with a cluster; it uses only data its account has (`postgres` needs an
    Aurora engine); no namespace, public path or bucket prefix of another team, of the
    platform or of the edge's behaviours; every team's quotas in an account fit the cluster's
    system nodes at `max_size`; owners are roles of its accounts and not already the
    cluster's admins or viewers."""

    owners: Annotated[tuple[RoleArn, ...], AfterValidator(_check_unique)] = ()
    """IAM roles of the team's people, each in the account of one of its environments (an IAM
    Identity Center permission set's role too): each gets `AmazonEKSEditPolicy` on the team's
    namespaces only, in the cluster of its account."""
    repositories: Annotated[tuple[GitHubRepository, ...], AfterValidator(_check_unique)] = Field(
        min_length=1, max_length=20
    )
    """GitHub repositories (`owner/name`) of its services: Argo CD may read only these for the
    team, and their workflows on `main` get keyless roles that push to the team's images."""
    images: Annotated[tuple[ResourceName, ...], AfterValidator(_check_unique)] = Field(
        default=(), max_length=20
    )
    """ECR repositories created for the team in the registry (`<prefix>/<team>/<name>`)."""
    environments: dict[AccountName, TeamEnvironment] = Field(min_length=1)
    """Workload account name -> the team there."""
    services: dict[KubernetesName, TeamService] = {}
    """Service name -> where its manifests are; Argo CD deploys each to every environment."""


class PlatformConfig(_Frozen):
    """`config/platform.yaml` is the only file you edit. Every section is frozen and
    **rejects unknown keys**. A wrong value stops `make synth` before any template is
    written, with one message listing every problem, its path and the value found, e.g.:

    ```
    config/platform.yaml: 2 problems in the platform configuration:
      - accounts.staging.id: account id already used by accounts.dev.id (got '444444444444')
      - accounts.prod.network.nat_gateways: Input should be 'per-az' or 'single' (got 'none')
    ```

    A missing file, unreadable file or invalid YAML (with line and column) is reported the
    same way. The app exits with status 2 and no traceback."""

    organization: Organization
    """The AWS Organization."""
    tags: Annotated[dict[str, str], AfterValidator(_check_tags)] = Field(min_length=1)
    """Cost-allocation tags on every taggable resource (at least one). Keys are 1-128
    letters, digits, spaces and `_.:/=+-@`, without the reserved `aws:` prefix; values at
    most 256 characters. `Environment` is not allowed here: it is set per account to the
    account's role."""
    budgets: Budgets = Budgets()
    """Budget alerts."""
    notifications: Notifications | None = None
    """Where alarms and security findings go; without it the alarms exist (and the health gate
    reads them) but notify no one."""
    accounts: dict[AccountName, Account] = Field(min_length=1)
    """Account name -> account. The name (2-24 lowercase letters, digits and `-`, starting
    with a letter) becomes the stage id (`cdk deploy 'dev/*'`)."""
    pipeline: Pipeline | None = None
    """The CDK Pipeline in the shared-services account; without it stages deploy by hand."""
    gitops: GitOps | None = None
    """Argo CD bootstrap on the clusters; without it CDK installs nothing in a cluster."""
    compliance: Compliance = Compliance()
    """The policy gate."""
    dns: Dns | None = None
    """The public parent zone, in the shared-services account."""
    registry: Registry | None = None
    """Container images, in the shared-services account."""
    ci: Ci | None = None
    """Keyless roles for GitHub Actions."""
    teams: dict[TeamName, Team] = {}
    """Teams on the platform, by name (see docs/onboard-a-team.md)."""

    def ci_repositories_for(self, name: str) -> list[CiRepository]:
        """The CI repositories that need a role in account `name`: pushers in
        shared-services, describers in the accounts they describe. A team's repositories
        push to the team's images (`team_images`) from `main`; a repository that `ci` lists
        too keeps its one entry (its branches), with the team's images added to its `push`."""
        shared = self.accounts[name].role == "shared-services"
        repositories = list(self.ci.repositories) if self.ci is not None else []
        for team, images in self.team_images().items():
            pushes = tuple(f"{team}/{image}" for image in images)
            for repository in self.teams[team].repositories:
                found = next(
                    (i for i, r in enumerate(repositories) if r.repository == repository), None
                )
                if found is None:
                    # model_construct: `push` names `<team>/<image>`, which ResourceName
                    # (a registry.repositories name) does not admit.
                    repositories.append(
                        CiRepository.model_construct(
                            repository=repository, branches=("main",), push=pushes
                        )
                    )
                else:
                    repo = repositories[found]
                    repositories[found] = repo.model_copy(update={"push": (*repo.push, *pushes)})
        return [
            repo
            for repo in repositories
            if (shared and (repo.push or repo.decrypt_secrets)) or name in repo.describe_clusters
        ]

    def team_images(self) -> dict[str, tuple[str, ...]]:
        """Team name -> its images, for the teams that have some."""
        return {team: t.images for team, t in self.teams.items() if t.images}

    def registry_repository_names(self) -> list[str]:
        """The registry's repository names below the prefix: `registry.repositories`, then
        each team's images as `<team>/<image>` (each becomes `<prefix>/<name>`)."""
        listed = list(self.registry.repositories) if self.registry is not None else []
        return listed + [
            f"{team}/{image}" for team, images in self.team_images().items() for image in images
        ]

    def teams_in(self, name: str) -> dict[str, TeamEnvironment]:
        """Team name -> the team in account `name`, for the teams that run there."""
        return {
            t: team.environments[name]
            for t, team in self.teams.items()
            if name in team.environments
        }

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

    def transit_route_cidrs(self, name: str) -> list[str]:
        """The VPC CIDRs of `transit_routes(name)`, in that order."""
        return [self.vpc_cidr(routed) for routed in self.transit_routes(name)]

    def vpc_cidr(self, name: str) -> str:
        """The VPC range of account `name`, which has a network."""
        network = self.accounts[name].network
        assert network is not None, f"{name} has no VPC"
        return network.cidr

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

    def gitops_role(self, name: str) -> GitOpsRole | None:
        """What the account's cluster is to Argo CD (`gitops_role_of`)."""
        return gitops_role_of(self.gitops, self.accounts[name])

    def prometheus(self, name: str) -> bool:
        """Whether `name`'s cluster has a Prometheus workspace and collector (`Cluster.prometheus`;
        by default every cluster but shared-services')."""
        cluster = self.accounts[name].cluster
        if cluster is None:
            return False
        if cluster.prometheus is not None:
            return cluster.prometheus
        return self.accounts[name].role != "shared-services"

    def argocd_high_availability(self, name: str) -> bool:
        """Whether Argo CD on `name`'s cluster is the HA install (`argocd_high_availability_of`)."""
        return argocd_high_availability_of(self.gitops, self.accounts[name])

    def gitops_spokes(self) -> list[str]:
        return [name for name in self.accounts if self.gitops_role(name) == "spoke"]

    def pipelined_accounts(self) -> frozenset[str]:
        """Accounts the pipeline deploys (those in a wave)."""
        if self.pipeline is None:
            return frozenset()
        return frozenset(n for w in self.pipeline.waves for n in w.accounts)

    def deployment_regions(self, name: str) -> list[str]:
        """The regions account `name` is bootstrapped and deployed in: every allowed region,
        its own first. Each holds at least the account's regional baseline (AWS Config: the
        detective controls run wherever the region SCP lets anyone work); us-east-1 also the
        edge's certificate and web ACL, and shared-services the pipeline's artifact bucket in
        each region the pipeline deploys to."""
        home = self.accounts[name].region
        return [home, *(r for r in self.organization.allowed_regions if r != home)]

    def account_with_role(self, role: Role) -> tuple[str, Account]:
        """The one account of a singleton role (validation guarantees exactly one)."""
        ((name, account),) = self.accounts_with_role(role).items()
        return name, account
