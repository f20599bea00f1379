"""PlatformEdge: CloudFront in front of a workload cluster, in the account's region next to
the VPC: the internal load balancer, the S3 origins and the distribution that ties them
together (what protects it is `constructs_lib.edge.protection`, in us-east-1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.data.bucket import DataBucket
from facts.aws import TARGET_GROUP_NAME_MAX
from policies.acknowledgements import acknowledge, acknowledge_all, controls

SECURITY_HEADERS_HSTS = Duration.days(730)
"""Strict-Transport-Security max-age: two years, the preload list's minimum."""
LOG_RETENTION = Duration.days(365)
"""How long CloudFront's standard logs are kept by default."""


OriginKind = Literal["alb", "bucket"]


@dataclass(frozen=True)
class EdgeBehavior:
    """One cache behaviour of `PlatformEdge`."""

    path: str
    """CloudFront path pattern; ignored for the default behaviour."""
    origin: str
    """`PlatformEdge.ALB` or a key of `buckets`."""
    cached: bool
    """True: CachingOptimized (path and compression only); False: CachingDisabled."""
    forward_all: bool
    """True: the origin gets every viewer header (Host too), cookie and query string."""


@dataclass(frozen=True)
class TeamRoute:
    """A team's public paths on the load balancer: a listener rule per path (at
    `priorities[i]`) forwarding to the team's own target group."""

    team: str
    paths: tuple[str, ...]
    priorities: tuple[int, ...]
    target_group_name: str


@dataclass(frozen=True)
class EdgeErrorPage:
    status: int
    page: str
    response_status: int
    ttl: Duration


class PlatformEdge(Construct):
    """A CloudFront distribution whose origins are an internal Application Load Balancer
    (through a CloudFront VPC origin: nothing listens publicly) and S3 buckets (through Origin
    Access Control: their policies admit this distribution only).

    - Load balancer: internal, in `subnets`; HTTPS only (TLS 1.3/1.2 policy) with
      `origin_certificate`; it admits 443 from those subnets' CIDRs (where CloudFront's VPC
      origin interfaces live) and sends only to `targets` on `target_port`. Its target group
      (IP targets, named `target_group_name`) is empty: the cluster attaches pods with a
      TargetGroupBinding, so CDK never edits in-cluster objects. Access logs go to
      `access_logs`.
    - Buckets: one per `buckets` entry, S3-managed encryption (the content is public by
      design), versioned, retained unless `allow_data_loss`.
    - Distribution: `hostnames` with `viewer_certificate`, TLSv1.2_2021 or later, HTTP/2 and
      HTTP/3, IPv6, compression, `web_acl_arn`, the security-headers policy on every
      behaviour, `error_pages`, standard logs to a bucket of their own, `price_class`.
      Behaviours keep the order given; load-balancer behaviours allow every method, bucket
      behaviours GET, HEAD and OPTIONS.
    - Route 53: A and AAAA aliases for every hostname in `zone`.

    Exposes `distribution`, `load_balancer`, `target_group`, `buckets` and
    `security_group`.
    """

    ALB = "alb"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        targets: ec2.ISecurityGroup,
        zone: route53.IHostedZone,
        hostnames: Sequence[str],
        viewer_certificate: acm.ICertificate,
        origin_certificate: acm.ICertificate,
        origin_domain_name: str,
        web_acl_arn: str,
        behaviors: Sequence[EdgeBehavior],
        default_behavior: EdgeBehavior,
        buckets: Mapping[str, str],
        access_logs: s3.IBucket,
        target_group_name: str,
        target_port: int = 8080,
        health_check_path: str = "/healthz",
        error_pages: Sequence[EdgeErrorPage] = (),
        teams: Sequence[TeamRoute] = (),
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        countries: Sequence[str] = (),
        log_retention: Duration = LOG_RETENTION,
        deletion_protection: bool = True,
        allow_data_loss: bool = False,
    ) -> None:
        """
        :param targets: the security group of the pods the load balancer sends to.
        :param origin_domain_name: the name CloudFront asks the load balancer for when it
            does not forward the viewer's Host; `origin_certificate` must cover it.
        :param buckets: origin name -> bucket name.
        :param access_logs: the bucket the load balancer's and the buckets' access logs go to.
        :param teams: the teams' public paths: each path gets a listener rule to the team's
            target group (IP targets on `target_port`, health check `health_check_path`),
            and, unless the default behaviour already sends it to the load balancer uncached
            with the whole viewer request, a CloudFront behaviour that does.
        :param countries: ISO 3166-1 alpha-2 codes of the only countries served; default
            every country.
        :param deletion_protection: the load balancer refuses deletion; default on.
        :param allow_data_loss: sandbox's opt-in: the buckets are deleted with the stack
            (once empty); default retained.
        """
        super().__init__(scope, id_)
        _validate(hostnames, target_group_name, buckets, behaviors, default_behavior)
        _validate_teams(teams)
        self._security_group(vpc=vpc, subnets=subnets, targets=targets, target_port=target_port)
        self._load_balancer(
            vpc=vpc,
            subnets=subnets,
            access_logs=access_logs,
            target_group_name=target_group_name,
            target_port=target_port,
            health_check_path=health_check_path,
            origin_certificate=origin_certificate,
            deletion_protection=deletion_protection,
        )
        self.team_target_groups = {
            route.team: self._team_route(
                route, vpc=vpc, target_port=target_port, health_check_path=health_check_path
            )
            for route in teams
        }
        self.buckets = {
            name: self._bucket(name, bucket_name, access_logs, allow_data_loss)
            for name, bucket_name in buckets.items()
        }
        resolved = self._origins(origin_domain_name, target_group_name)
        headers = self._security_headers()
        self._log_bucket(access_logs, log_retention)
        self._distribution(
            hostnames=hostnames,
            viewer_certificate=viewer_certificate,
            web_acl_arn=web_acl_arn,
            behaviors=[*behaviors, *_team_behaviors(teams, default_behavior)],
            default_behavior=default_behavior,
            resolved=resolved,
            headers=headers,
            error_pages=error_pages,
            price_class=price_class,
            countries=countries,
        )
        self._acknowledge(deletion_protection=deletion_protection, countries=countries)
        self._aliases(zone, hostnames)

    def _security_group(
        self,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        targets: ec2.ISecurityGroup,
        target_port: int,
    ) -> None:
        """The load balancer's group (443 from the subnets CloudFront's VPC origin uses, out
        to `targets` only) and the matching rule on `targets`."""
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Edge load balancer: 443 from the CloudFront VPC origin, to the pods",
            allow_all_outbound=False,
        )
        for subnet in vpc.select_subnets(subnet_type=subnets.subnet_type).subnets:
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(subnet.ipv4_cidr_block),
                ec2.Port.tcp(443),
                f"CloudFront VPC origin interfaces in {subnet.availability_zone}",
            )
        self.security_group.add_egress_rule(
            targets, ec2.Port.tcp(target_port), "To the pods behind the target group"
        )
        ec2.CfnSecurityGroupIngress(
            self,
            "TargetsIngress",
            group_id=targets.security_group_id,
            source_security_group_id=self.security_group.security_group_id,
            ip_protocol="tcp",
            from_port=target_port,
            to_port=target_port,
            description="From the edge load balancer",
        )

    def _load_balancer(
        self,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        access_logs: s3.IBucket,
        target_group_name: str,
        target_port: int,
        health_check_path: str,
        origin_certificate: acm.ICertificate,
        deletion_protection: bool,
    ) -> None:
        """The internal load balancer, its empty IP target group and its HTTPS listener."""
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=False,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
        )
        self.load_balancer.log_access_logs(access_logs, prefix="load-balancer")
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=vpc,
            target_group_name=target_group_name,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=target_port,
            health_check=elbv2.HealthCheck(path=health_check_path, healthy_http_codes="200-399"),
            deregistration_delay=Duration.seconds(30),
        )
        self.listener = self.load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(origin_certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_target_groups=[self.target_group],
            open=False,
        )

    def _team_route(
        self, route: TeamRoute, *, vpc: ec2.IVpc, target_port: int, health_check_path: str
    ) -> elbv2.ApplicationTargetGroup:
        """The team's empty IP target group (its TargetGroupBinding, applied by the
        platform, registers the pods) and one listener rule per public path. ALB path
        conditions are case-sensitive and `*`/`?` match like CloudFront's, so the rule
        matches exactly what the team's CloudFront path sends."""
        target_group = elbv2.ApplicationTargetGroup(
            self,
            f"Team-{route.team}",
            vpc=vpc,
            target_group_name=route.target_group_name,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=target_port,
            health_check=elbv2.HealthCheck(path=health_check_path, healthy_http_codes="200-399"),
            deregistration_delay=Duration.seconds(30),
        )
        for path, priority in zip(route.paths, route.priorities, strict=True):
            elbv2.ApplicationListenerRule(
                self,
                f"Team-{route.team}-{priority}",
                listener=self.listener,
                priority=priority,
                conditions=[elbv2.ListenerCondition.path_patterns([path])],
                action=elbv2.ListenerAction.forward([target_group]),
            )
        return target_group

    def _bucket(
        self, name: str, bucket_name: str, access_logs: s3.IBucket, allow_data_loss: bool
    ) -> DataBucket:
        """The bucket behind origin `name`: SSE-S3, since its content is public by design."""
        return DataBucket(
            self,
            f"Bucket-{name}",
            bucket_name=bucket_name,
            access_logs=access_logs,
            encryption="s3",
            noncurrent_version_days=30,
            allow_data_loss=allow_data_loss,
            replication_reason="Versioning keeps every overwritten or deleted object; "
            "cross-region replication is a disaster-recovery choice left to the "
            "application.",
            sse_s3_reason="Content of this bucket is served to anonymous viewers through "
            "CloudFront: SSE-S3 protects it at rest, and a customer-managed key would add "
            "a KMS call to every cache miss without keeping anything confidential.",
        )

    def _origins(
        self, origin_domain_name: str, vpc_origin_name: str
    ) -> dict[str, cloudfront.IOrigin]:
        """Origin name -> origin: the load balancer through a VPC origin (HTTPS only), each
        bucket through Origin Access Control."""
        return {
            self.ALB: origins.VpcOrigin.with_application_load_balancer(
                self.load_balancer,
                domain_name=origin_domain_name,
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
                vpc_origin_name=vpc_origin_name,
            ),
            **{
                name: origins.S3BucketOrigin.with_origin_access_control(bucket)
                for name, bucket in self.buckets.items()
            },
        }

    def _security_headers(self) -> cloudfront.ResponseHeadersPolicy:
        """The response-headers policy every behaviour uses."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="HSTS, nosniff, DENY framing, strict-origin-when-cross-origin referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=SECURITY_HEADERS_HSTS,
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )

    def _log_bucket(self, access_logs: s3.IBucket, log_retention: Duration) -> None:
        """The bucket of CloudFront's standard logs (`log_bucket`), expiring after
        `log_retention`, retained."""
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # CloudFront standard logs are written with an ACL grant (awslogsdelivery).
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cloudfront-logs/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire",
                    expiration=log_retention,
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _distribution(
        self,
        *,
        hostnames: Sequence[str],
        viewer_certificate: acm.ICertificate,
        web_acl_arn: str,
        behaviors: Sequence[EdgeBehavior],
        default_behavior: EdgeBehavior,
        resolved: Mapping[str, cloudfront.IOrigin],
        headers: cloudfront.IResponseHeadersPolicy,
        error_pages: Sequence[EdgeErrorPage],
        price_class: cloudfront.PriceClass,
        countries: Sequence[str],
    ) -> None:
        """The distribution: behaviours in the order given, standard logs to `log_bucket`."""
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{hostnames[0]}: load balancer and {len(self.buckets)} bucket origin(s)",
            domain_names=list(hostnames),
            certificate=viewer_certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            price_class=price_class,
            web_acl_id=web_acl_arn,
            default_behavior=_options(default_behavior, resolved, headers),
            additional_behaviors={b.path: _options(b, resolved, headers) for b in behaviors},
            geo_restriction=cloudfront.GeoRestriction.allowlist(*countries) if countries else None,
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=page.status,
                    response_page_path=page.page,
                    response_http_status=page.response_status,
                    ttl=page.ttl,
                )
                for page in error_pages
            ],
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )

    def _aliases(self, zone: route53.IHostedZone, hostnames: Sequence[str]) -> None:
        """A and AAAA alias records for every hostname."""
        target = route53.RecordTarget.from_alias(
            route53_targets.CloudFrontTarget(self.distribution)
        )
        for index, hostname in enumerate(hostnames):
            route53.ARecord(self, f"Alias{index}", zone=zone, record_name=hostname, target=target)
            route53.AaaaRecord(
                self, f"AliasV6{index}", zone=zone, record_name=hostname, target=target
            )

    def _acknowledge(self, *, deletion_protection: bool, countries: Sequence[str]) -> None:
        load_balancer = controls(
            "ALBWAFEnabled",
            "The load balancer is internal and reachable from the internet only through the "
            "CloudFront VPC origin; the distribution's web ACL inspects every such request.",
            packs=("NIST.800.53.R5", "PCI.DSS.321"),
        )
        if not deletion_protection:
            load_balancer |= controls(
                "ELBDeletionProtectionEnabled",
                "Off only where the stage's stacks may be deleted (dev, sandbox): the load "
                "balancer holds no data and the next deploy recreates it.",
                packs=("NIST.800.53.R5", "HIPAA.Security"),
            )
        acknowledge_all(self.load_balancer, load_balancer)
        if not countries:
            acknowledge(
                self.distribution,
                "AwsSolutions::AwsSolutions-CFR1",
                "No country allow-list configured (edge.countries): the service is offered "
                "worldwide; the web ACL still blocks abusive clients and bad IP reputation.",
            )
        logs_reason = (
            "CloudFront standard logs are operational diagnostics, not audit records (WAF "
            "logs every request); SSE-S3 like every access-log bucket of the platform."
        )
        acknowledge_all(
            self.log_bucket,
            {
                **controls("S3DefaultEncryptionKMS", logs_reason),
                "Platform::CustomerManagedKeys": logs_reason,
                **controls(
                    "S3BucketReplicationEnabled",
                    "Access logs are versioned and expire with their retention; a cross-region "
                    "copy would not add evidence.",
                ),
            },
        )


def _options(
    behavior: EdgeBehavior,
    resolved: Mapping[str, cloudfront.IOrigin],
    headers: cloudfront.IResponseHeadersPolicy,
) -> cloudfront.BehaviorOptions:
    """One behaviour: load-balancer behaviours allow every method, bucket behaviours GET,
    HEAD and OPTIONS; cached with CachingOptimized or not at all."""
    alb = behavior.origin == PlatformEdge.ALB
    return cloudfront.BehaviorOptions(
        origin=resolved[behavior.origin],
        viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowed_methods=(
            cloudfront.AllowedMethods.ALLOW_ALL
            if alb
            else cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS
        ),
        cache_policy=(
            cloudfront.CachePolicy.CACHING_OPTIMIZED
            if behavior.cached
            else cloudfront.CachePolicy.CACHING_DISABLED
        ),
        origin_request_policy=(
            cloudfront.OriginRequestPolicy.ALL_VIEWER if behavior.forward_all else None
        ),
        response_headers_policy=headers,
        compress=True,
    )


def _team_behaviors(
    teams: Sequence[TeamRoute], default_behavior: EdgeBehavior
) -> list[EdgeBehavior]:
    """CloudFront behaviours for the teams' paths, needed only when the default behaviour
    would not hand them to the load balancer uncached with the whole viewer request (the
    config keeps team paths apart from the configured behaviours, so without these they fall
    to the default)."""
    if (
        default_behavior.origin == PlatformEdge.ALB
        and not default_behavior.cached
        and default_behavior.forward_all
    ):
        return []
    return [
        EdgeBehavior(path=path, origin=PlatformEdge.ALB, cached=False, forward_all=True)
        for route in teams
        for path in route.paths
    ]


def _validate_teams(teams: Sequence[TeamRoute]) -> None:
    priorities: dict[int, str] = {}
    for route in teams:
        if len(route.target_group_name) > TARGET_GROUP_NAME_MAX:
            raise ValueError(
                f"teams: target group {route.target_group_name!r} of {route.team} is longer "
                f"than {TARGET_GROUP_NAME_MAX} characters"
            )
        if len(route.paths) != len(route.priorities):
            raise ValueError(f"teams: {route.team} needs one priority per path")
        for priority in route.priorities:
            if not 1 <= priority <= 50_000:
                raise ValueError(f"teams: priority {priority} of {route.team} not in 1-50000")
            if priority in priorities:
                raise ValueError(
                    f"teams: priority {priority} of {route.team} is {priorities[priority]}'s"
                )
            priorities[priority] = route.team


def _validate(
    hostnames: Sequence[str],
    target_group_name: str,
    buckets: Mapping[str, str],
    behaviors: Sequence[EdgeBehavior],
    default_behavior: EdgeBehavior,
) -> None:
    if not hostnames:
        raise ValueError("hostnames: the distribution needs at least one; got none")
    if len(target_group_name) > TARGET_GROUP_NAME_MAX:
        raise ValueError(
            f"target_group_name: at most {TARGET_GROUP_NAME_MAX} characters; "
            f"got {target_group_name!r}"
        )
    known = {PlatformEdge.ALB, *buckets}
    for behavior in (*behaviors, default_behavior):
        if behavior.origin not in known:
            raise ValueError(
                f"behaviors: origin {behavior.origin!r} of {behavior.path!r} is neither "
                f"{PlatformEdge.ALB!r} nor a bucket ({', '.join(buckets) or 'none'})"
            )
        if behavior.origin != PlatformEdge.ALB and behavior.forward_all:
            raise ValueError(
                f"behaviors: {behavior.path!r} forwards the viewer's Host header to "
                f"bucket {behavior.origin!r}, which S3 rejects"
            )
