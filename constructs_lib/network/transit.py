"""The organisation's network hub: a Transit Gateway in shared-services, shared through AWS
RAM, and the attachments of the VPCs that use it."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Intrinsic, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ram as ram
from constructs import Construct

TRANSIT_GATEWAY_OUTPUT = "TransitGatewayId"
"""The hub stack's output other accounts read (with `Fn::GetStackOutput`, not an export)."""


class TransitGatewayHub(Construct):
    """A Transit Gateway shared with the whole organisation (RAM, no external principals),
    accepting shared attachments automatically, with one default route table that every
    attachment associates with and propagates to. Which VPC talks to which is decided by
    the VPCs' own route tables (`TransitGatewayAttachment.routes`).

    Other accounts read the gateway id from the stack output `TransitGatewayId` through
    `reader_role_name`, a role only their CloudFormation execution roles may assume and that
    may only describe this stack. Exposes `transit_gateway_id` and `reader_role_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        organization_arn: str,
        reader_role_name: str,
        reader_principal_arns: Sequence[str],
        amazon_side_asn: int = 64512,
    ) -> None:
        """
        :param organization_arn: `arn:aws:organizations::<management>:organization/o-...`.
        :param reader_principal_arns: the roles that read the gateway id: the CDK bootstrap
            CloudFormation execution roles of the attaching accounts.
        """
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.gateway = ec2.CfnTransitGateway(
            self,
            "TransitGateway",
            description=f"{name}: the organisation's network hub",
            amazon_side_asn=amazon_side_asn,
            auto_accept_shared_attachments="enable",
            default_route_table_association="enable",
            default_route_table_propagation="enable",
            dns_support="enable",
            vpn_ecmp_support="enable",
            tags=[{"key": "Name", "value": name}],
        )
        self.transit_gateway_id = self.gateway.ref
        ram.CfnResourceShare(
            self,
            "Share",
            name=name,
            allow_external_principals=False,
            principals=[organization_arn],
            resource_arns=[
                stack.format_arn(
                    service="ec2", resource="transit-gateway", resource_name=self.gateway.ref
                )
            ],
        )
        output = CfnOutput(
            stack,
            TRANSIT_GATEWAY_OUTPUT,
            value=self.gateway.ref,
            description="Read by attaching accounts with Fn::GetStackOutput",
        )
        output.override_logical_id(TRANSIT_GATEWAY_OUTPUT)
        self.reader_role_arn = ""
        if reader_principal_arns:
            reader = iam.Role(
                self,
                "Reader",
                role_name=reader_role_name,
                description="Lets attaching accounts' CloudFormation read the hub's id",
                assumed_by=iam.CompositePrincipal(
                    *(iam.ArnPrincipal(arn) for arn in reader_principal_arns)
                ),
            )
            iam.ManagedPolicy(
                self,
                "ReadHubOutputs",
                description="Describe the network hub stack, nothing else",
                roles=[reader],
                statements=[
                    iam.PolicyStatement(
                        actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id]
                    )
                ],
            )
            self.reader_role_arn = reader.role_arn


class TransitGatewayAttachment(Construct):
    """Attach `vpc` (its `subnets`, one per AZ) to the hub and route `routes` (CIDRs)
    through it from those subnets' route tables.

    `transit_gateway_id` is the hub's id: a token of the hub in this stack, or, from another
    account, `hub_output(...)`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        transit_gateway_id: str,
        routes: Sequence[str] = (),
        name: str,
    ) -> None:
        super().__init__(scope, id_)
        selected = vpc.select_subnets(subnet_type=subnets.subnet_type).subnets
        self.attachment = ec2.CfnTransitGatewayAttachment(
            self,
            "Attachment",
            transit_gateway_id=transit_gateway_id,
            vpc_id=vpc.vpc_id,
            subnet_ids=[s.subnet_id for s in selected],
            tags=[{"key": "Name", "value": name}],
        )
        for index, subnet in enumerate(selected):
            for cidr in routes:
                route = ec2.CfnRoute(
                    self,
                    f"Route{index}-{cidr.replace('/', '-')}",
                    route_table_id=subnet.route_table.route_table_id,
                    destination_cidr_block=cidr,
                    transit_gateway_id=transit_gateway_id,
                )
                route.add_resource_dependency(self.attachment)


def hub_output(*, stack_name: str, region: str, reader_role_arn: str) -> str:
    """The hub's id read from its stack in another account, resolved when the attaching
    stack deploys (`Fn::GetStackOutput` with the hub's reader role)."""
    return Token.as_string(
        Intrinsic(
            {
                "Fn::GetStackOutput": {
                    "StackName": stack_name,
                    "OutputName": TRANSIT_GATEWAY_OUTPUT,
                    "Region": region,
                    "RoleArn": reader_role_arn,
                }
            }
        )
    )
