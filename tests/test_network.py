"""PlatformNetwork on tiny stacks: tiers and their tags, NAT per strategy, endpoints and their
security group, flow logs, and the default security group."""

from __future__ import annotations

import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from constructs_lib.network.vpc import PlatformNetwork
from tests.conftest import TEST_AZS, new_stack
from tests.helpers import logical_id, of_type, tag


def synth_network(**props) -> Template:
    stack = new_stack()
    PlatformNetwork(stack, "Network", **props)
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def three_az_cdk() -> Template:
    """Three AZs, every interface endpoint, flow logs kept 3 months: as CDK's Template."""
    return synth_network(
        cidr="10.0.0.0/16",
        availability_zones=TEST_AZS,
        interface_endpoints=("ecr.api", "ecr.dkr", "sts", "logs", "kms"),
        flow_logs_retention=logs.RetentionDays.THREE_MONTHS,
    )


@pytest.fixture(scope="module")
def three_az(three_az_cdk) -> dict:
    """The same template as a plain dict."""
    return three_az_cdk.to_json()


@pytest.fixture(scope="module")
def two_az_single_nat() -> dict:
    return synth_network(
        cidr="10.1.0.0/20", availability_zones=TEST_AZS[:2], nat_strategy="single"
    ).to_json()


def subnets_by_tier(template: dict) -> dict[str, list[dict]]:
    tiers: dict[str, list[dict]] = {}
    for subnet in of_type(template, "AWS::EC2::Subnet").values():
        tiers.setdefault(tag(subnet, "aws-cdk:subnet-name"), []).append(subnet["Properties"])
    return tiers


def test_three_tiers_one_subnet_per_az_sized_for_pods(three_az):
    tiers = subnets_by_tier(three_az)
    assert {tier: sorted(s["CidrBlock"] for s in subnets) for tier, subnets in tiers.items()} == {
        "Private": ["10.0.0.0/18", "10.0.128.0/18", "10.0.64.0/18"],
        "Public": ["10.0.192.0/22", "10.0.196.0/22", "10.0.200.0/22"],
        "Isolated": ["10.0.204.0/22", "10.0.208.0/22", "10.0.212.0/22"],
    }
    for subnets in tiers.values():
        assert sorted(s["AvailabilityZone"] for s in subnets) == list(TEST_AZS)


def test_small_vpc_keeps_the_same_shape(two_az_single_nat):
    tiers = subnets_by_tier(two_az_single_nat)
    assert sorted(s["CidrBlock"] for s in tiers["Private"]) == ["10.1.0.0/22", "10.1.4.0/22"]
    assert sorted(s["CidrBlock"] for s in tiers["Public"]) == ["10.1.8.0/26", "10.1.8.64/26"]


def test_subnet_tags_for_kubernetes_load_balancers(three_az):
    subnets = of_type(three_az, "AWS::EC2::Subnet").values()
    by_tier = {
        tier: [s for s in subnets if tag(s, "aws-cdk:subnet-name") == tier]
        for tier in ("Public", "Private", "Isolated")
    }
    # no internet-facing load balancer is discovered anywhere: the public tier has no tag
    assert not any(tag(s, "kubernetes.io/role/elb") for s in subnets)
    assert all(tag(s, "kubernetes.io/role/internal-elb") == "1" for s in by_tier["Private"])
    assert not any(tag(s, "kubernetes.io/role/internal-elb") for s in by_tier["Isolated"])


def test_no_subnet_assigns_public_ips(three_az_cdk):
    three_az_cdk.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})


def test_isolated_tier_has_no_route_out(three_az):
    isolated_tables = {
        k for k, v in of_type(three_az, "AWS::EC2::RouteTable").items() if "Isolated" in k
    }
    routes = of_type(three_az, "AWS::EC2::Route").values()
    assert isolated_tables
    assert not [r for r in routes if r["Properties"]["RouteTableId"]["Ref"] in isolated_tables]


@pytest.mark.parametrize(("fixture", "expected"), [("three_az", 3), ("two_az_single_nat", 1)])
def test_nat_gateways_per_strategy(request, fixture, expected):
    template = request.getfixturevalue(fixture)
    assert len(of_type(template, "AWS::EC2::NatGateway")) == expected
    private_routes = [
        r["Properties"] for k, r in of_type(template, "AWS::EC2::Route").items() if "Private" in k
    ]
    assert len(private_routes) == len(subnets_by_tier(template)["Private"])
    assert all("NatGatewayId" in r for r in private_routes)


def test_gateway_endpoints_for_s3_and_dynamodb_on_every_route_table(three_az):
    gateways = [
        e["Properties"]
        for e in of_type(three_az, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType", "Gateway") == "Gateway"
    ]
    services = sorted(str(g["ServiceName"]) for g in gateways)
    assert len(gateways) == 2 and "dynamodb" in services[0] and "s3" in services[1]
    table_count = len(of_type(three_az, "AWS::EC2::RouteTable"))
    assert all(len(g["RouteTableIds"]) == table_count for g in gateways)


def test_interface_endpoints_private_dns_in_private_tier_behind_one_group(three_az):
    endpoints = {
        k: e["Properties"]
        for k, e in of_type(three_az, "AWS::EC2::VPCEndpoint").items()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    }
    assert sorted(k.removeprefix("NetworkVpc").split("Endpoint")[0] for k in endpoints) == [
        "CloudWatchLogs",
        "EcrApi",
        "EcrDocker",
        "Kms",
        "Sts",
    ]
    private_subnets = {k for k in of_type(three_az, "AWS::EC2::Subnet") if "Private" in k}
    for endpoint in endpoints.values():
        assert endpoint["PrivateDnsEnabled"] is True
        assert {s["Ref"] for s in endpoint["SubnetIds"]} == private_subnets
        assert [g["Fn::GetAtt"][0] for g in endpoint["SecurityGroupIds"]] == [
            logical_id(three_az, "NetworkEndpointSecurityGroup")
        ]


def test_endpoint_security_group_admits_443_from_the_vpc_only(three_az_cdk):
    three_az_cdk.resource_count_is("AWS::EC2::SecurityGroup", 1)  # the endpoints' group
    three_az_cdk.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": Match.exact(
                [
                    {
                        "CidrIp": "10.0.0.0/16",
                        "Description": "HTTPS from the VPC",
                        "FromPort": 443,
                        "IpProtocol": "tcp",
                        "ToPort": 443,
                    }
                ]
            ),
            # No egress: CDK encodes "deny all" as a rule to an unroutable address.
            "SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32"}],
        },
    )


def test_flow_logs_capture_all_traffic_to_an_encrypted_log_group(three_az_cdk):
    (group_id,) = three_az_cdk.find_resources("AWS::Logs::LogGroup")
    (key_id,) = three_az_cdk.find_resources("AWS::KMS::Key")
    three_az_cdk.resource_count_is("AWS::EC2::FlowLog", 1)
    three_az_cdk.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": Match.object_equals({"Ref": group_id}),
        },
    )
    three_az_cdk.has_resource(
        "AWS::Logs::LogGroup",
        {
            "DeletionPolicy": "Retain",
            "Properties": {
                "RetentionInDays": 90,
                "KmsKeyId": Match.object_equals({"Fn::GetAtt": [key_id, "Arn"]}),
            },
        },
    )
    three_az_cdk.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_flow_log_role_is_scoped_to_its_log_group_with_a_managed_policy(three_az, three_az_cdk):
    role_id = logical_id(three_az, "NetworkFlowLogRole")
    role = three_az["Resources"][role_id]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    three_az_cdk.resource_count_is("AWS::IAM::Policy", 0)  # no inline policies
    three_az_cdk.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    three_az_cdk.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "Roles": Match.exact([{"Ref": role_id}]),
            "PolicyDocument": {
                "Statement": [
                    {
                        "Resource": {
                            "Fn::GetAtt": [Match.string_like_regexp("^NetworkFlowLogGroup"), "Arn"]
                        }
                    }
                ]
            },
        },
    )


def test_default_security_group_is_stripped(three_az_cdk):
    (vpc_id,) = three_az_cdk.find_resources("AWS::EC2::VPC")
    three_az_cdk.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    three_az_cdk.has_resource_properties(
        "Custom::VpcRestrictDefaultSG",
        {
            "DefaultSecurityGroupId": Match.object_equals(
                {"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}
            )
        },
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cidr": "10.0.0.0/8"}, "cidr: prefix must be /16 to /20; got '10.0.0.0/8'"),
        ({"cidr": "10.0.0.1/16"}, "cidr: not an IPv4 network"),
        ({"availability_zones": ("eu-west-1a",)}, "availability_zones: need 2 or 3 distinct"),
        ({"availability_zones": ("eu-west-1a", "eu-west-1a")}, "need 2 or 3 distinct"),
        ({"nat_strategy": "none"}, "nat_strategy: must be 'per-az' or 'single'; got 'none'"),
        (
            {"interface_endpoints": ("ecr",)},
            "interface_endpoints: unsupported service(s); got ['ecr']",
        ),
    ],
)
def test_invalid_props_name_the_prop_and_value(props, message):
    with pytest.raises(ValueError) as caught:
        PlatformNetwork(
            new_stack(),
            "Network",
            **{"cidr": "10.0.0.0/16", "availability_zones": TEST_AZS[:2], **props},
        )
    assert message in str(caught.value)
