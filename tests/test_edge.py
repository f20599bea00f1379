"""The edge: behaviours exactly as config says, origins nobody can reach around CloudFront,
TLS and headers, the web ACL and certificate in us-east-1, and bad config stopped early."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from config.model import EDGE_ORIGIN_ALB, Edge
from constructs_lib.edge.distribution import EdgeBehavior, PlatformEdge
from constructs_lib.edge.protection import EdgeProtection
from tests.conftest import new_stack
from tests.helpers import only, props
from tests.test_config import broken, problems_of
from tests.test_gitops import registration, rendered

EDGE_ACCOUNTS = ("dev", "staging", "prod", "sandbox")
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"


@pytest.fixture(scope="module")
def edges(organisation):
    return organisation.stacks_named("Edge")


@pytest.fixture(scope="module")
def edge_globals(organisation):
    return organisation.stacks_named("EdgeGlobal")


def distribution(stack) -> dict:
    return props(only(stack.of_type("AWS::CloudFront::Distribution")))["DistributionConfig"]


def origins_by_id(stack) -> dict[str, dict]:
    return {o["Id"]: o for o in distribution(stack)["Origins"]}


def origin_kind(stack, origin_id: str) -> str:
    """'alb' for the VPC origin, else the bucket's name in config (from its BucketName)."""
    origin = origins_by_id(stack)[origin_id]
    if "VpcOriginConfig" in origin:
        return EDGE_ORIGIN_ALB
    bucket_id = origin["DomainName"]["Fn::GetAtt"][0]
    name = props(stack.resources[bucket_id])["BucketName"]
    return name.split("-edge-")[1].split("-")[0]


def test_every_workload_domain_gets_an_edge_and_its_us_east_1_companion(
    edges, edge_globals, sample_config
):
    assert set(edges) == set(edge_globals) == set(EDGE_ACCOUNTS)
    for name, stack in edge_globals.items():
        assert (stack.account, stack.region) == (sample_config.accounts[name].id, "us-east-1")
        stack.cdk_template.resource_count_is("AWS::Route53::HostedZone", 1)
        stack.cdk_template.has_resource_properties(
            "AWS::Route53::HostedZone", {"Name": sample_config.accounts[name].domain + "."}
        )


@pytest.mark.parametrize("name", EDGE_ACCOUNTS)
def test_behaviours_are_exactly_the_configured_table_in_order(edges, sample_config, name):
    edge = sample_config.accounts[name].edge_settings
    stack = edges[name]
    config = distribution(stack)
    behaviours = config["CacheBehaviors"]
    assert [b["PathPattern"] for b in behaviours] == [b.path for b in edge.behaviors]
    for behaviour, wanted in zip(
        [*behaviours, config["DefaultCacheBehavior"]], [*edge.behaviors, edge.default], strict=True
    ):
        alb = wanted.origin == EDGE_ORIGIN_ALB
        assert origin_kind(stack, behaviour["TargetOriginId"]) == wanted.origin
        assert behaviour["CachePolicyId"] == (
            CACHING_OPTIMIZED if wanted.cache == "optimized" else CACHING_DISABLED
        )
        forward = wanted.forward or ("all" if alb else "none")
        assert behaviour.get("OriginRequestPolicyId") == (ALL_VIEWER if forward == "all" else None)
        assert len(behaviour["AllowedMethods"]) == (7 if alb else 3)
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["Compress"] is True
        assert "ResponseHeadersPolicyId" in behaviour


def test_the_sample_table_is_the_seed_table(edges):
    """The argued part: user-specific answers are never cached, assets always are."""
    stack = edges["dev"]
    table = {
        b["PathPattern"]: (origin_kind(stack, b["TargetOriginId"]), b["CachePolicyId"])
        for b in distribution(stack)["CacheBehaviors"]
    }
    assert table == {
        "/graphql/*": ("alb", CACHING_DISABLED),
        "/static/*": ("static", CACHING_OPTIMIZED),
        "/media/*": ("media", CACHING_OPTIMIZED),
        "/thumbnail/*": ("media", CACHING_OPTIMIZED),
        "/.well-known/jwks.json": ("alb", CACHING_DISABLED),
    }
    default = distribution(stack)["DefaultCacheBehavior"]
    assert origin_kind(stack, default["TargetOriginId"]) == "alb"
    assert default["CachePolicyId"] == CACHING_DISABLED


@pytest.mark.parametrize("name", EDGE_ACCOUNTS)
def test_viewer_tls_http_versions_waf_logging_and_price_class(edges, sample_config, name):
    edge = sample_config.accounts[name].edge_settings
    template = edges[name].cdk_template
    template.resource_count_is("AWS::CloudFront::Distribution", 1)
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": {
                "ViewerCertificate": {
                    "MinimumProtocolVersion": "TLSv1.2_2021",
                    "SslSupportMethod": "sni-only",
                },
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": {"100": "PriceClass_100", "200": "PriceClass_200"}.get(
                    edge.price_class, "PriceClass_All"
                ),
                "Aliases": list(edge.hostnames or (sample_config.accounts[name].domain,)),
                "Logging": {"Prefix": "cloudfront/"},
                # In config's order, and no others.
                "CustomErrorResponses": [
                    {"ErrorCode": p.status, "ResponsePagePath": p.page} for p in edge.error_pages
                ],
            }
        },
    )


@pytest.mark.parametrize("name", EDGE_ACCOUNTS)
def test_certificate_and_web_acl_come_from_the_us_east_1_stack(edges, edge_globals, name):
    """Fn::GetStackOutput: CloudFormation reads the output when the edge deploys; no export
    pins the producer and no custom resource copies values between regions."""
    config = distribution(edges[name])
    producer = edge_globals[name]
    for reference in (config["ViewerCertificate"]["AcmCertificateArn"], config["WebACLId"]):
        output = reference["Fn::GetStackOutput"]
        assert output["StackName"] == f"{name}-EdgeGlobal"
        assert output["Region"] == "us-east-1"
        assert output["OutputName"] in producer.template["Outputs"]
    acl_output = producer.template["Outputs"][
        config["WebACLId"]["Fn::GetStackOutput"]["OutputName"]
    ]
    (acl_id,) = producer.of_type("AWS::WAFv2::WebACL")
    assert acl_output["Value"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "Export" not in acl_output


def test_the_vpc_origin_is_an_internal_https_only_load_balancer(edges):
    stack = edges["prod"]
    (vpc_origin,) = stack.of_type("AWS::CloudFront::VpcOrigin").values()
    endpoint = props(vpc_origin)["VpcOriginEndpointConfig"]
    (alb_id,) = stack.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert endpoint["Arn"] == {"Ref": alb_id}
    assert endpoint["OriginProtocolPolicy"] == "https-only"
    assert endpoint["OriginSSLProtocols"] == ["TLSv1.2"]
    alb = props(stack.resources[alb_id])
    assert alb["Scheme"] == "internal"
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    (listener,) = stack.of_type("AWS::ElasticLoadBalancingV2::Listener").values()
    assert props(listener)["Protocol"] == "HTTPS" and props(listener)["Port"] == 443
    assert props(listener)["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    # The origin certificate covers the viewer's Host, which AllViewer forwards.
    (certificate,) = stack.of_type("AWS::CertificateManager::Certificate").values()
    assert props(certificate)["DomainName"] == "app.example.com"
    assert props(certificate)["SubjectAlternativeNames"] == ["*.app.example.com"]


def test_the_load_balancer_admits_only_its_subnets_and_sends_only_to_the_pods(edges):
    stack = edges["prod"]
    (group,) = (
        g
        for g in stack.of_type("AWS::EC2::SecurityGroup").values()
        if "Edge load balancer" in props(g)["GroupDescription"]
    )
    ingress = props(group)["SecurityGroupIngress"]
    assert {rule["FromPort"] for rule in ingress} == {443}
    assert all(rule["CidrIp"].startswith("10.48.") for rule in ingress)  # prod's VPC only
    assert len(ingress) == 3  # one private subnet per AZ
    (egress,) = stack.of_type("AWS::EC2::SecurityGroupEgress").values()
    assert props(egress)["FromPort"] == 8080
    (to_pods,) = stack.of_type("AWS::EC2::SecurityGroupIngress").values()
    pods = props(to_pods)["GroupId"]
    assert pods == props(egress)["DestinationSecurityGroupId"]
    assert pods["Fn::GetStackOutput"]["StackName"] == "prod-Network"  # the workload clients
    assert "WorkloadClients" in pods["Fn::GetStackOutput"]["OutputName"]


def test_buckets_admit_only_this_distribution_through_oac(edges):
    stack = edges["staging"]
    (distribution_id,) = stack.of_type("AWS::CloudFront::Distribution")
    stack.cdk_template.resource_count_is("AWS::CloudFront::OriginAccessControl", 2)
    stack.cdk_template.all_resources_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": {
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
                "OriginAccessControlOriginType": "s3",
            }
        },
    )
    for origin in origins_by_id(stack).values():
        if "S3OriginConfig" in origin:
            assert "OriginAccessControlId" in origin
    policies = [props(p) for p in stack.of_type("AWS::S3::BucketPolicy").values()]
    cloudfront = [
        st
        for p in policies
        for st in p["PolicyDocument"]["Statement"]
        if st.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(cloudfront) == 2
    for statement in cloudfront:
        assert statement["Action"] == "s3:GetObject"
        source = json.dumps(statement["Condition"]["StringEquals"]["AWS:SourceArn"])
        assert distribution_id in source


def test_security_headers_on_every_response(edges):
    template = edges["dev"].cdk_template
    template.resource_count_is("AWS::CloudFront::ResponseHeadersPolicy", 1)
    template.has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": {
                "SecurityHeadersConfig": {
                    "StrictTransportSecurity": Match.object_equals(
                        {
                            "AccessControlMaxAgeSec": 63072000,
                            "IncludeSubdomains": True,
                            "Override": True,
                        }
                    ),
                    "ContentTypeOptions": Match.object_equals({"Override": True}),
                    "FrameOptions": Match.object_equals({"FrameOption": "DENY", "Override": True}),
                    "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin"},
                }
            }
        },
    )


@pytest.mark.parametrize("name", EDGE_ACCOUNTS)
def test_web_acl_rules_scope_and_logging(edge_globals, sample_config, name):
    stack = edge_globals[name]
    acl = props(only(stack.of_type("AWS::WAFv2::WebACL")))
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = sorted(acl["Rules"], key=lambda r: r["Priority"])
    assert [r["Name"] for r in rules] == [
        "RateLimitPerIp",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ]
    rate = rules[0]["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == sample_config.accounts[name].edge_settings.rate_limit
    assert rate["AggregateKeyType"] == "IP"
    assert rules[0]["Action"] == {"Block": {}}
    logging = props(only(stack.of_type("AWS::WAFv2::LoggingConfiguration")))
    (log_group_id,) = stack.of_type("AWS::Logs::LogGroup")
    log_group = props(stack.resources[log_group_id])
    assert log_group["LogGroupName"].startswith("aws-waf-logs-")
    assert "KmsKeyId" in log_group
    assert logging["LogDestinationConfigs"] == [{"Fn::GetAtt": [log_group_id, "Arn"]}]
    assert logging["RedactedFields"] == [
        {"SingleHeader": {"Name": "authorization"}},
        {"SingleHeader": {"Name": "cookie"}},
    ]
    (certificate,) = stack.of_type("AWS::CertificateManager::Certificate").values()
    assert props(certificate)["ValidationMethod"] == "DNS"
    (zone_id,) = stack.of_type("AWS::Route53::HostedZone")
    assert props(certificate)["DomainValidationOptions"][0]["HostedZoneId"] == {"Ref": zone_id}


def test_alias_records_for_every_hostname(edges, sample_config):
    stack = edges["prod"]
    records = [props(r) for r in stack.of_type("AWS::Route53::RecordSet").values()]
    hostnames = sample_config.accounts["prod"].edge_settings.hostnames
    assert sorted((r["Name"], r["Type"]) for r in records) == sorted(
        (f"{h}.", t) for h in hostnames for t in ("A", "AAAA")
    )
    for record in records:
        assert "Fn::GetStackOutput" in record["HostedZoneId"]
        assert "AliasTarget" in record


def test_target_group_is_named_for_the_gitops_bridge_and_published(edges, organisation):
    stack = edges["dev"]
    # the platform's group, and one per team with public paths (tests/test_team_edge.py)
    stack.cdk_template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2)
    stack.cdk_template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Name": "exco-dev-edge", "TargetType": "ip", "Port": 8080, "HealthCheckPath": "/healthz"},
    )
    names = {props(p)["Name"] for p in stack.of_type("AWS::SSM::Parameter").values()}
    assert {"/exco/dev/edge/target-group-arn", "/exco/dev/edge/distribution-id"} <= names
    # The spoke's registration carries the name to the hub's Argo CD before the ARN exists.
    secret, _ = registration(organisation.stacks_named("Cluster")["dev"])
    fields = json.loads(rendered(secret["SecretString"]).replace("<token>", "TOKEN"))
    assert fields["annotation_edge_target_group_name"] == "exco-dev-edge"


@pytest.mark.parametrize(("name", "kept"), [("prod", True), ("dev", True), ("sandbox", False)])
def test_buckets_and_zone_are_kept_like_data(edges, edge_globals, name, kept):
    policy = "Retain" if kept else "Delete"
    edge_bucket = {"BucketName": Match.string_like_regexp("-edge-")}
    buckets = edges[name].cdk_template
    buckets.resource_properties_count_is("AWS::S3::Bucket", edge_bucket, 2)
    kept_buckets = {"DeletionPolicy": policy, "Properties": edge_bucket}
    assert len(buckets.find_resources("AWS::S3::Bucket", kept_buckets)) == 2
    zone = edge_globals[name].cdk_template
    zone.resource_count_is("AWS::Route53::HostedZone", 1)
    zone.has_resource("AWS::Route53::HostedZone", {"DeletionPolicy": policy})


# --- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [
                (
                    "accounts.dev.edge",
                    {"behaviors": [{"path": "/api/*", "origin": "apii", "cache": "disabled"}]},
                )
            ],
            "accounts.dev.edge.behaviors.0.origin: not an origin: use 'alb' or one of buckets "
            "(static, media) (got 'apii')",
        ),
        (
            [
                (
                    "accounts.dev.edge",
                    {
                        "behaviors": [
                            {
                                "path": "/a/*",
                                "origin": "static",
                                "cache": "optimized",
                                "forward": "all",
                            }
                        ]
                    },
                )
            ],
            "accounts.dev.edge.behaviors.0.forward: a bucket origin cannot take the viewer's "
            "headers: S3 rejects a forwarded Host header; use none (got 'all')",
        ),
        (
            [
                (
                    "accounts.dev.edge",
                    {
                        "behaviors": [
                            {"path": "/a/*", "origin": "alb", "cache": "disabled"},
                            {"path": "/a/*", "origin": "static", "cache": "optimized"},
                        ]
                    },
                )
            ],
            "accounts.dev.edge.behaviors.1.path: already the path of behaviors.0 (got '/a/*')",
        ),
        (
            [("accounts.dev.edge", {"error_pages": [{"status": 503, "page": "/errors/503.html"}]})],
            "accounts.dev.edge.error_pages.0.page: must match a bucket behaviour: an error page "
            "served by the load balancer fails with it (got '/errors/503.html')",
        ),
        (
            [("accounts.dev.edge", {"hostnames": ["www.example.com"]})],
            "accounts.dev.edge.hostnames.0: must be dev.example.com or one label below it (the "
            "certificate covers dev.example.com and *.dev.example.com) (got 'www.example.com')",
        ),
        (
            [("accounts.dev.domain", ...), ("accounts.dev.edge", {})],
            "accounts.dev.edge: needs accounts.dev.domain: the zone the CDN serves",
        ),
        (
            [("accounts.security.edge", {})],
            "accounts.security.edge: not allowed for a security account (workloads only)",
        ),
        (
            [("organization.allowed_regions", ["eu-west-1", "eu-central-1"])],
            "organization.allowed_regions: must include us-east-1: accounts.dev has an edge, "
            "whose certificate and WAF live there (got ['eu-west-1', 'eu-central-1'])",
        ),
    ],
)
def test_bad_edge_config_is_refused_with_its_path(sample_raw, edits, expected):
    problems = problems_of(broken(sample_raw, *edits))
    assert problems[0] == expected


def test_a_bad_path_pattern_is_refused_by_the_model(sample_raw):
    raw = broken(
        sample_raw,
        (
            "accounts.dev.edge",
            {"behaviors": [{"path": "api/<x>", "origin": "alb", "cache": "disabled"}]},
        ),
    )
    (problem,) = problems_of(raw)
    assert problem.startswith("accounts.dev.edge.behaviors.0.path: String should match pattern")


def test_every_problem_of_an_edge_is_reported_at_once(sample_raw):
    raw = broken(
        sample_raw,
        (
            "accounts.staging.edge",
            {
                "buckets": ["assets"],
                "behaviors": [{"path": "/x/*", "origin": "static", "cache": "optimized"}],
                "default": {"path": "/*", "origin": "media", "cache": "disabled"},
            },
        ),
    )
    problems = problems_of(raw)
    assert [p.split(":")[0] for p in problems] == [
        "accounts.staging.edge.behaviors.0.origin",
        "accounts.staging.edge.default.origin",
        "accounts.staging.edge.error_pages.0.page",
        "accounts.staging.edge.error_pages.1.page",
        "accounts.staging.edge.error_pages.2.page",
    ]


def test_edge_defaults_are_the_seed_table():
    assert [(b.path, b.origin, b.cache) for b in Edge().behaviors] == [
        ("/graphql/*", "alb", "disabled"),
        ("/static/*", "static", "optimized"),
        ("/media/*", "media", "optimized"),
        ("/thumbnail/*", "media", "optimized"),
        ("/.well-known/jwks.json", "alb", "disabled"),
    ]


# --- constructs -----------------------------------------------------------------------------


def edge_props(stack: Stack, **overrides) -> dict:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    zone = route53.PublicHostedZone(stack, "Zone", zone_name="example.com")
    certificate = acm.Certificate(stack, "Cert", domain_name="example.com")
    return {
        "vpc": vpc,
        "subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        "targets": ec2.SecurityGroup(stack, "Pods", vpc=vpc),
        "zone": zone,
        "hostnames": ["example.com"],
        "viewer_certificate": certificate,
        "origin_certificate": certificate,
        "origin_domain_name": "origin.example.com",
        "web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1",
        "behaviors": [],
        "default_behavior": EdgeBehavior("/*", PlatformEdge.ALB, cached=False, forward_all=True),
        "buckets": {"static": "test-static"},
        "access_logs": s3.Bucket(stack, "Logs"),
        "target_group_name": "test-edge",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"behaviors": [EdgeBehavior("/x/*", "nowhere", cached=True, forward_all=False)]},
            "behaviors: origin 'nowhere' of '/x/*' is neither 'alb' nor a bucket (static)",
        ),
        (
            {"behaviors": [EdgeBehavior("/x/*", "static", cached=True, forward_all=True)]},
            "behaviors: '/x/*' forwards the viewer's Host header to bucket 'static', which S3 "
            "rejects",
        ),
        ({"hostnames": []}, "hostnames: the distribution needs at least one; got none"),
        (
            {"target_group_name": "x" * 33},
            "target_group_name: at most 32 characters; got '" + "x" * 33 + "'",
        ),
    ],
)
def test_platform_edge_refuses_bad_props(overrides, message):
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        PlatformEdge(stack, "Edge", **edge_props(stack, **overrides))
    assert str(raised.value) == message


def test_edge_protection_refuses_any_region_but_us_east_1():
    stack = new_stack()  # eu-west-1
    zone = route53.PublicHostedZone(stack, "Zone", zone_name="example.com")
    with pytest.raises(ValueError, match="from us-east-1 only; this stack is in 'eu-west-1'"):
        EdgeProtection(
            stack,
            "Protection",
            zone=zone,
            domain_name="example.com",
            web_acl_name="x",
            rate_limit=1000,
            log_retention=logs.RetentionDays.ONE_YEAR,
        )
