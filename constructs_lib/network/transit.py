"""The organisation's network hub: a Transit Gateway in shared-services, shared through AWS
RAM, and the attachments of the VPCs that use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    CfnOutput,
    CustomResource,
    Duration,
    Intrinsic,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ram as ram
from constructs import Construct

from constructs_lib.shared.functions import acknowledge_handler, handler_function
from policies.wildcards import acknowledge_wildcards

RECONCILE_EVERY = Duration.minutes(1)
"""How often the hub re-applies its segments and accepts a new spoke's attachment. A spoke's
CloudFormation waits for that acceptance (its `AWS::EC2::TransitGatewayAttachment` completes
only once `available`), so this bounds how long a spoke's first deployment waits on the hub.
One minute is EventBridge's shortest rate; AWS reports no event in the hub account when a
spoke requests an attachment (Network Manager's events need a global network and arrive in
us-west-2 only), so a schedule it is."""
SEGMENTS_CODE = Path(__file__).resolve().parents[2] / "runtime" / "transit_segments"

TRANSIT_GATEWAY_OUTPUT = "TransitGatewayId"
"""The hub stack's output other accounts read (with `Fn::GetStackOutput`, not an export)."""


@dataclass(frozen=True)
class Segment:
    """One attached account's part of the hub: its VPC range and the accounts it routes to."""

    name: str
    account: str
    cidr: str
    routes: Sequence[str]
    """Names of the segments whose VPC this one's attachment may send to."""


class TransitGatewayHub(Construct):
    """A Transit Gateway that enforces segmentation itself.

    It accepts no shared attachment automatically and associates or propagates none by
    default; each `segments` entry gets a route table of its own. A function in this account
    (`runtime/transit_segments/handler.py`) accepts the one attachment of each segment's
    account, associates it with that segment's table and keeps in each table exactly one
    static route per segment in its `routes` (that segment's CIDR, to its attachment). It
    runs on each deployment (custom resource `Custom::TransitSegments`) and every
    `reconcile_every` (the same plan, default every minute), so a spoke's attachment, made
    after the hub deployed, is accepted within a minute (the spoke's CloudFormation waits for
    that: the attachment's create completes only once it is `available`) and connected at
    the next run after it is available, and a change made by hand is undone. A scheduled run
    never waits, so runs do not overlap.

    Shared through RAM with `share_account_ids` only (no organisation-wide share, no external
    principals). Other accounts read the gateway id from the stack output `TransitGatewayId`
    through `reader_role_name`, a role only their CloudFormation execution roles may assume
    and that may only describe this stack. Exposes `transit_gateway_id`, `reader_role_arn`,
    `route_tables` (segment name -> table) and `segments_resource` (make it depend on the
    hub account's own attachment).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        share_account_ids: Sequence[str],
        segments: Sequence[Segment],
        reader_role_name: str,
        reader_principal_arns: Sequence[str],
        amazon_side_asn: int = 64512,
        reconcile_every: Duration = RECONCILE_EVERY,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        """
        :param share_account_ids: the accounts that may attach a VPC (RAM principals).
        :param segments: one per attached account, this account's own included.
        :param reader_principal_arns: the roles that read the gateway id: the CDK bootstrap
            CloudFormation execution roles of the attaching accounts.
        """
        super().__init__(scope, id_)
        names = [s.name for s in segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segments: names must be unique, got {names}")
        for segment in segments:
            unknown = sorted(set(segment.routes) - set(names))
            if unknown:
                raise ValueError(f"segments[{segment.name}].routes: no such segment {unknown}")
        stack = Stack.of(self)
        self.gateway = ec2.CfnTransitGateway(
            self,
            "TransitGateway",
            description=f"{name}: the organisation's network hub",
            amazon_side_asn=amazon_side_asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
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
            principals=list(share_account_ids),
            resource_arns=[
                stack.format_arn(
                    service="ec2", resource="transit-gateway", resource_name=self.gateway.ref
                )
            ],
        )
        self.route_tables = {
            segment.name: ec2.CfnTransitGatewayRouteTable(
                self,
                f"Segment-{segment.name}",
                transit_gateway_id=self.gateway.ref,
                tags=[{"key": "Name", "value": f"{name}-{segment.name}"}],
            )
            for segment in segments
        }
        self.plan = {
            "TransitGatewayId": self.gateway.ref,
            "Segments": [
                {
                    "Name": s.name,
                    "Account": s.account,
                    "Cidr": s.cidr,
                    "RouteTable": self.route_tables[s.name].ref,
                    "Routes": sorted(s.routes),
                }
                for s in segments
            ],
        }
        function, policy = _segments_function(
            self, list(self.route_tables.values()), log_retention=log_retention
        )
        self.segments_resource = CustomResource(
            self,
            "Segments",
            service_token=function.function_arn,
            resource_type="Custom::TransitSegments",
            properties=self.plan,
        )
        self.segments_resource.node.add_dependency(policy)  # its permissions exist first
        events.Rule(
            self,
            "Reconcile",
            description=f"{name}: accept, associate and route new attachments",
            schedule=events.Schedule.rate(reconcile_every),
            targets=[
                targets.LambdaFunction(
                    function, event=events.RuleTargetInput.from_object(self.plan), retry_attempts=0
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


SEGMENTS_WILDCARDS = {
    "Describe": "EC2's Describe actions support no resource-level permissions.",
    "Attachments": "Attachment ids are made by the spoke accounts after this stack deploys; "
    "the function accepts, associates and routes only attachments of this gateway owned by "
    "a segment's account (it checks the owner), and only into the segments' route tables.",
}


def _segments_function(
    scope: Construct,
    tables: Sequence[ec2.CfnTransitGatewayRouteTable],
    *,
    log_retention: logs.RetentionDays,
) -> tuple[lambda_.Function, iam.Policy]:
    """The function that applies the segments, and its policy: exactly what it uses."""
    stack = Stack.of(scope)
    function = handler_function(
        scope,
        ids=("SegmentsLogKey", "SegmentsLogs", "SegmentsFunction"),
        code=SEGMENTS_CODE,
        description="Accepts, associates and routes the Transit Gateway's attachments",
        logs_of="the Transit Gateway's segments",
        log_retention=log_retention,
    )
    table_arns = [
        stack.format_arn(service="ec2", resource="transit-gateway-route-table", resource_name=t.ref)
        for t in tables
    ]
    attachments = stack.format_arn(
        service="ec2", resource="transit-gateway-attachment", resource_name="*"
    )
    statements = [
        iam.PolicyStatement(
            sid="Describe", actions=["ec2:DescribeTransitGatewayAttachments"], resources=["*"]
        ),
        iam.PolicyStatement(
            sid="Tables",
            actions=[
                "ec2:GetTransitGatewayRouteTableAssociations",
                "ec2:GetTransitGatewayRouteTablePropagations",
                "ec2:SearchTransitGatewayRoutes",
            ],
            resources=table_arns,
        ),
        iam.PolicyStatement(
            sid="Attachments",
            actions=[
                "ec2:AcceptTransitGatewayVpcAttachment",
                "ec2:AssociateTransitGatewayRouteTable",
                "ec2:DisassociateTransitGatewayRouteTable",
                "ec2:DisableTransitGatewayRouteTablePropagation",
                "ec2:CreateTransitGatewayRoute",
                "ec2:ReplaceTransitGatewayRoute",
                "ec2:DeleteTransitGatewayRoute",
            ],
            resources=[*table_arns, attachments],
        ),
    ]
    role = function.role
    assert role is not None  # the Function made it
    # A policy of its own rather than the role's default policy, which CDK splits into
    # overflow managed policies once the route tables of many segments outgrow it (where
    # these acknowledgements would not reach).
    policy = iam.Policy(scope, "SegmentsPolicy", statements=statements, roles=[role])
    # nothing invokes it before it may act (the function itself: its role is in the policy)
    function.node.default_child.node.add_dependency(policy)  # type: ignore[union-attr]
    acknowledge_wildcards(policy, SEGMENTS_WILDCARDS)
    acknowledge_handler(
        function,
        policy,
        role,
        dlq="CloudFormation waits for its answer and the schedule runs it again within a minute; "
        "a failure fails the deployment or is retried by the next run.",
        concurrency="Invoked only by CloudFormation and by one schedule of this stack.",
        outside_vpc="It calls only the EC2 API; outside a VPC it cannot be cut off by the routes "
        "it manages.",
    )
    return function, policy


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
        for index, subnet in enumerate(selected if routes else ()):
            # read once per subnet: each read is a jsii round trip, and the hub routes every
            # spoke's CIDR
            route_table_id = subnet.route_table.route_table_id
            for cidr in routes:
                route = ec2.CfnRoute(
                    self,
                    f"Route{index}-{cidr.replace('/', '-')}",
                    route_table_id=route_table_id,
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
