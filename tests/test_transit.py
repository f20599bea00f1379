"""The network hub: a Transit Gateway shared with the organisation, and VPCs that reach only
what config lets them."""

from __future__ import annotations

import pytest

from tests.helpers import props
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


def test_the_hub_is_shared_with_the_organisation_only(hub, sample_config):
    ((gateway_id, gateway),) = hub.of_type("AWS::EC2::TransitGateway").items()
    assert props(gateway)["AutoAcceptSharedAttachments"] == "enable"
    assert props(gateway)["DefaultRouteTableAssociation"] == "enable"
    assert props(gateway)["DefaultRouteTablePropagation"] == "enable"
    (share,) = hub.of_type("AWS::RAM::ResourceShare").values()
    org = sample_config.organization
    assert props(share)["Principals"] == [
        f"arn:aws:organizations::111111111111:organization/{org.id}"
    ]
    assert props(share)["AllowExternalPrincipals"] is False
    assert f'"Ref": "{gateway_id}"' in str(props(share)["ResourceArns"]).replace("'", '"')
    output = hub.template["Outputs"]["TransitGatewayId"]
    assert output["Value"] == {"Ref": gateway_id}
    assert "Export" not in output  # read with Fn::GetStackOutput, so nothing pins the hub


def test_only_attaching_accounts_deploy_roles_may_read_the_hub(hub):
    (role,) = hub.of_type("AWS::IAM::Role").values()
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
