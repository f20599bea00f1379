"""The network hub: a Transit Gateway shared with the organisation, and VPCs that reach only
what config lets them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.helpers import of_type, props
from tests.test_config import broken, problems_of

CIDRS = {
    "shared-services": "10.0.0.0/16",
    "dev": "10.16.0.0/16",
    "staging": "10.32.0.0/16",
    "prod": "10.48.0.0/16",
}


@pytest.fixture(scope="module")
def hub(organisation):
    return organisation.stacks["shared-services"]["NetworkHub"]


def test_the_hub_accepts_nothing_itself_and_is_shared_with_the_attached_accounts_only(hub):
    ((gateway_id, gateway),) = hub.of_type("AWS::EC2::TransitGateway").items()
    assert props(gateway)["AutoAcceptSharedAttachments"] == "disable"
    assert props(gateway)["DefaultRouteTableAssociation"] == "disable"
    assert props(gateway)["DefaultRouteTablePropagation"] == "disable"
    (share,) = hub.of_type("AWS::RAM::ResourceShare").values()
    assert sorted(props(share)["Principals"]) == ["444444444444", "555555555555", "666666666666"]
    assert props(share)["AllowExternalPrincipals"] is False
    assert f'"Ref": "{gateway_id}"' in str(props(share)["ResourceArns"]).replace("'", '"')
    output = hub.template["Outputs"]["TransitGatewayId"]
    assert output["Value"] == {"Ref": gateway_id}
    assert "Export" not in output  # read with Fn::GetStackOutput, so nothing pins the hub


def tgw_reachability(template: Mapping[str, Any], attached: Mapping[str, str]) -> set[tuple]:
    """(source, destination) account pairs that the Transit Gateway itself forwards, from
    its route tables alone (which table each attachment is associated with, and the routes
    of that table: static or propagated). `attached`: account name -> VPC CIDR. The VPC
    route tables of the spokes play no part: an account admin can edit those."""
    (gateway,) = of_type(template, "AWS::EC2::TransitGateway").values()
    options = props(gateway)
    table_of: dict[str, str] = {}
    routes_in: dict[str, dict[str, str]] = {}  # table -> CIDR -> account
    if options.get("DefaultRouteTableAssociation", "enable") == "enable":
        table_of = dict.fromkeys(attached, "default")
    if options.get("DefaultRouteTablePropagation", "enable") == "enable":
        routes_in["default"] = {cidr: name for name, cidr in attached.items()}
    for resource in of_type(template, "Custom::TransitSegments").values():
        segments = props(resource)["Segments"]
        cidrs = {s["Name"]: s["Cidr"] for s in segments}
        for segment in segments:
            table = json.dumps(segment["RouteTable"])
            table_of[segment["Name"]] = table
            routes_in.setdefault(table, {}).update(
                {cidrs[target]: target for target in segment["Routes"]}
            )
    for kind in ("Association", "Propagation", "Route"):  # none today: would need an id
        assert not of_type(template, f"AWS::EC2::TransitGatewayRouteTable{kind}")
    assert not of_type(template, "AWS::EC2::TransitGatewayRoute")
    return {
        (source, destination)
        for source, table in table_of.items()
        for cidr, destination in routes_in.get(table, {}).items()
        if destination != source and attached.get(destination) == cidr
    }


def test_dev_never_reaches_prod_through_the_transit_gateway_itself(hub):
    reach = tgw_reachability(hub.template, CIDRS)
    assert ("dev", "prod") not in reach
    assert ("prod", "dev") not in reach
    assert reach == {
        pair
        for spoke in ("dev", "staging", "prod")
        for pair in (("shared-services", spoke), (spoke, "shared-services"))
    }


def test_each_attached_account_has_a_route_table_of_its_own(hub):
    (segments,) = hub.of_type("Custom::TransitSegments").values()
    plan = props(segments)["Segments"]
    tables = hub.of_type("AWS::EC2::TransitGatewayRouteTable")
    assert sorted(s["RouteTable"]["Ref"] for s in plan) == sorted(tables)
    assert {s["Name"]: s["Account"] for s in plan} == {
        "shared-services": "333333333333",
        "dev": "444444444444",
        "staging": "555555555555",
        "prod": "666666666666",
    }
    # the same plan runs every minute: a spoke's first deployment waits for the hub to accept
    # its attachment (CloudFormation completes it only once available), at most this long
    (rule,) = hub.of_type("AWS::Events::Rule").values()
    assert props(rule)["ScheduleExpression"] == "rate(1 minute)"
    assert props(rule)["State"] == "ENABLED"
    (target,) = props(rule)["Targets"]
    scheduled = json.loads(
        "".join(
            p if isinstance(p, str) else f"ref:{p['Ref']}" for p in target["Input"]["Fn::Join"][1]
        )
    )
    assert scheduled["Segments"] == [
        {**s, "RouteTable": f"ref:{s['RouteTable']['Ref']}"} for s in plan
    ]


def test_only_attaching_accounts_deploy_roles_may_read_the_hub(hub):
    (role,) = (r for r in hub.of_type("AWS::IAM::Role").values() if "RoleName" in props(r))
    assert props(role)["RoleName"] == "exco-shared-services-network-hub-reader"
    (statement,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert sorted(statement["Principal"]["AWS"]) == [
        f"arn:aws:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-eu-west-1"
        for account in ("444444444444", "555555555555", "666666666666")
    ]
    (policy,) = hub.of_type("AWS::IAM::ManagedPolicy").values()
    (read,) = props(policy)["PolicyDocument"]["Statement"]
    assert (read["Action"], read["Resource"]) == (
        "cloudformation:DescribeStacks",
        {"Ref": "AWS::StackId"},
    )


def routes(stack) -> list[tuple[str, object]]:
    return sorted(
        (props(r)["DestinationCidrBlock"], str(props(r)["TransitGatewayId"]))
        for r in stack.of_type("AWS::EC2::Route").values()
        if "TransitGatewayId" in props(r)
    )


def test_the_platform_vpc_routes_back_to_every_vpc_that_reaches_it(hub):
    destinations = {cidr for cidr, _ in routes(hub)}
    assert destinations == {CIDRS["dev"], CIDRS["staging"], CIDRS["prod"]}
    (attachment,) = hub.of_type("AWS::EC2::TransitGatewayAttachment").values()
    assert len(props(attachment)["SubnetIds"]) == 3  # one private subnet per AZ


@pytest.mark.parametrize(("account", "subnets"), [("dev", 2), ("prod", 3)])
def test_a_workload_vpc_attaches_by_the_hubs_output_and_reaches_only_shared_services(
    organisation, account, subnets
):
    network = organisation.stacks[account]["Network"]
    (attachment,) = network.of_type("AWS::EC2::TransitGatewayAttachment").values()
    reference = props(attachment)["TransitGatewayId"]["Fn::GetStackOutput"]
    assert reference == {
        "StackName": "shared-services-NetworkHub",
        "OutputName": "TransitGatewayId",
        "Region": "eu-west-1",
        "RoleArn": "arn:aws:iam::333333333333:role/exco-shared-services-network-hub-reader",
    }
    assert len(props(attachment)["SubnetIds"]) == subnets
    assert {cidr for cidr, _ in routes(network)} == {CIDRS["shared-services"]}
    assert len(routes(network)) == subnets  # one per private route table


@pytest.mark.parametrize(
    ("account", "stack"),
    [("shared-services", "NetworkHub"), ("dev", "Network"), ("staging", "Network"),
     ("prod", "Network")],
)  # fmt: skip
def test_vpc_routes_to_the_gateway_wait_for_the_attachment(organisation, account, stack):
    """Creating an AWS::EC2::TransitGatewayAttachment completes only once it is `available`
    (accepted by the hub, for a spoke), so routes that depend on it never point at a gateway
    the VPC is not attached to; no reference ties them (the route names the gateway)."""
    template = organisation.stacks[account][stack]
    (attachment_id,) = template.of_type("AWS::EC2::TransitGatewayAttachment")
    routes = [
        r for r in template.of_type("AWS::EC2::Route").values() if "TransitGatewayId" in props(r)
    ]
    assert routes
    for route in routes:
        assert attachment_id in route.get("DependsOn", [])


def test_sandbox_is_not_attached(organisation):
    assert "NetworkHub" not in organisation.stacks["sandbox"]
    assert not organisation.stacks["sandbox"]["Network"].of_type(
        "AWS::EC2::TransitGatewayAttachment"
    )


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [("accounts.dev.network.transit_gateway", {"reach": ["qa"]})],
            "accounts.dev.network.transit_gateway.reach: no such account (got 'qa')",
        ),
        (
            [("accounts.dev.network.transit_gateway", {"reach": ["sandbox"]})],
            "accounts.dev.network.transit_gateway.reach: that account's VPC is not attached (no "
            "network.transit_gateway) (got 'sandbox')",
        ),
        (
            [("accounts.shared-services.network.transit_gateway", ...)],
            "accounts.dev.network.transit_gateway: the hub is in shared-services: set its "
            "network.transit_gateway too",
        ),
    ],
)
def test_bad_transit_config_is_refused_with_its_path(sample_raw, edits, expected):
    assert problems_of(broken(sample_raw, *edits))[0] == expected
