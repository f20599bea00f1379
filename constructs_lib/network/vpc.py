"""PlatformNetwork: a three-tier VPC ready for EKS, with private service access and flow logs."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Literal

from aws_cdk import RemovalPolicy, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from constructs_lib.shared.encryption import log_group_key
from facts.endpoints import DEFAULT_INTERFACE_ENDPOINTS, INTERFACE_ENDPOINT_IDS
from policies.acknowledgements import acknowledge_control

NatStrategy = Literal["per-az", "single"]

# Subnet sizes relative to the VPC prefix: the private tier (nodes and pods, one IP per pod
# with the VPC CNI) takes a quarter of the VPC per AZ; public (load balancers, NAT) and
# isolated (data) take 1/64 each. A /16 gives /18 private, /22 public and isolated subnets.
_PRIVATE_EXTRA_BITS = 2
_SMALL_TIER_EXTRA_BITS = 6

PUBLIC, PRIVATE, ISOLATED = "Public", "Private", "Isolated"
"""Subnet group names: part of the construct-id contract of the subnets."""


class PlatformNetwork(Construct):
    """A VPC over 2-3 AZs with public, private-with-egress and isolated tiers.

    - Public subnets hold the NAT gateways only; they never assign public IPs on launch and
      are not tagged `kubernetes.io/role/elb`, so no Kubernetes load balancer controller
      discovers them for an internet-facing load balancer (the internet reaches workloads
      through CloudFront and WAF: an internal ALB behind a VPC origin).
    - Private subnets hold nodes and pods (sized for one IP per pod) and are tagged
      `kubernetes.io/role/internal-elb`; they reach the internet through NAT.
    - Isolated subnets hold data services and have no route out of the VPC.
    - S3 and DynamoDB gateway endpoints on every route table; the requested interface
      endpoints in the private tier, with private DNS and a security group admitting 443
      from the VPC only.
    - Flow logs of all traffic to a KMS-encrypted log group; the default security group has
      no rules.

    Exposes `vpc`, the subnet selections per tier, `endpoint_security_group` and
    `raw_resource_scopes` (see `constructs_lib.shared.tagging`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        nat_strategy: NatStrategy = "per-az",
        interface_endpoints: Sequence[str] = DEFAULT_INTERFACE_ENDPOINTS,
        flow_logs_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        flow_logs_key: kms.IKey | None = None,
        flow_logs_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param cidr: the VPC's IPv4 range, /16 to /20.
        :param availability_zones: 2 or 3 AZ names of the stack's region.
        :param nat_strategy: "per-az" (default): one NAT gateway per AZ, so losing an AZ does
            not cut the others off; "single": one gateway for all (cheaper, no AZ isolation).
        :param interface_endpoints: service names from `vpc_endpoints.INTERFACE_ENDPOINT_IDS`;
            default ECR (api, dkr), STS and CloudWatch Logs.
        :param flow_logs_retention: how long flow logs are kept; default one year.
        :param flow_logs_key: the KMS key encrypting the flow-log group; default a new
            customer-managed key with yearly rotation.
        :param flow_logs_removal_policy: what happens to the flow-log group when it leaves
            the stack; default RETAIN (logs are evidence).
        """
        super().__init__(scope, id_)
        network = _validate(cidr, availability_zones, nat_strategy, interface_endpoints)
        self._vpc(cidr, network.prefixlen, availability_zones, nat_strategy)
        self.public_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.isolated_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self._tag_subnets_for_load_balancers()
        self._interface_endpoints(network, interface_endpoints)
        self._flow_logs(flow_logs_retention, flow_logs_key, flow_logs_removal_policy)

    def _vpc(
        self,
        cidr: str,
        prefixlen: int,
        availability_zones: Sequence[str],
        nat_strategy: NatStrategy,
    ) -> None:
        """The VPC, its three tiers, gateway endpoints and emptied default security group."""
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=len(availability_zones) if nat_strategy == "per-az" else 1,
            # Allocation order is largest first so every subnet lands on its own boundary.
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PRIVATE,
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=prefixlen + _PRIVATE_EXTRA_BITS,
                ),
                ec2.SubnetConfiguration(
                    name=PUBLIC,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=prefixlen + _SMALL_TIER_EXTRA_BITS,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name=ISOLATED,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=prefixlen + _SMALL_TIER_EXTRA_BITS,
                ),
            ],
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        # restrict_default_security_group makes CDK add a provider that empties the default
        # group: a raw role and function, once per stack.
        self.raw_resource_scopes: tuple[IConstruct, ...] = (
            Stack.of(self).node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider"),
        )

    def _tag_subnets_for_load_balancers(self) -> None:
        """The tag the AWS Load Balancer Controller picks subnets for internal load balancers
        by (public subnets get none: no internet-facing load balancer is discovered there);
        public subnets' default routes to the internet gateway are acknowledged."""
        for subnet in self.vpc.public_subnets:
            # aws_eks_v2's Cluster tags every public subnet of its VPC with it, always; a
            # removal outranks that addition (remove's default priority 200 > add's 100).
            Tags.of(subnet).remove("kubernetes.io/role/elb")
            _acknowledge_public_route(subnet)
        for subnet in self.vpc.private_subnets:
            Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")

    def _interface_endpoints(self, network: ipaddress.IPv4Network, services: Sequence[str]) -> None:
        """The interface endpoints in the private tier, behind a group admitting 443 from
        the VPC only."""
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        # The literal CIDR, not the VPC's CidrBlock attribute: same value, but policy rules
        # can only judge a peer they can read at synth time.
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(str(network)), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        for service in services:
            self.vpc.add_interface_endpoint(
                INTERFACE_ENDPOINT_IDS[service],
                service=ec2.InterfaceVpcEndpointAwsService(service),
                private_dns_enabled=True,
                subnets=self.private_subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
            )

    def _flow_logs(
        self,
        retention: logs.RetentionDays,
        key: kms.IKey | None,
        removal_policy: RemovalPolicy,
    ) -> None:
        """Flow logs of all traffic to an encrypted log group, through a role that may write
        to that group only."""
        self.flow_logs_key = key or log_group_key(
            self, "FlowLogsKey", description="Encrypts the VPC flow-log group"
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=self.flow_logs_key,
            retention=retention,
            removal_policy=removal_policy,
        )
        self.flow_log_role = _flow_log_role(self, self.flow_log_group)
        self.vpc.add_flow_log(
            "FlowLog",
            # CDK would add its grants to an inline policy; the role's permissions are the
            # managed policy attached in _flow_log_role, so hand CDK a view it cannot edit.
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )


def _flow_log_role(scope: Construct, log_group: logs.ILogGroup) -> iam.Role:
    """The role VPC Flow Logs assumes: write to this one log group, for this account only."""
    account = Stack.of(scope).account
    role = iam.Role(
        scope,
        "FlowLogRole",
        description="Lets VPC Flow Logs deliver this VPC's flow records to its log group",
        assumed_by=iam.ServicePrincipal(
            "vpc-flow-logs.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ),
    )
    iam.ManagedPolicy(
        scope,
        "FlowLogPolicy",
        description="Write VPC flow logs to one log group",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],
            )
        ],
    )
    return role


def _acknowledge_public_route(subnet: ec2.ISubnet) -> None:
    route = subnet.node.find_child("DefaultRoute")
    acknowledge_control(
        route,
        "VPCNoUnrestrictedRouteToIGW",
        "Public tier by design: it holds only the NAT gateways (and their route tables); no "
        "load balancer is placed there (the load balancer controller may create internal ones "
        "only, in the private tier). "
        "Its subnets never assign public IPs on launch; nodes, pods and data live in the "
        "private and isolated tiers, which have no route to the internet gateway.",
    )


def _validate(
    cidr: str,
    availability_zones: Sequence[str],
    nat_strategy: str,
    interface_endpoints: Sequence[str],
) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(f"cidr: not an IPv4 network ({exc}); got {cidr!r}") from None
    if not 16 <= network.prefixlen <= 20:
        raise ValueError(f"cidr: prefix must be /16 to /20; got {cidr!r}")
    if not 2 <= len(availability_zones) <= 3 or len(set(availability_zones)) != len(
        availability_zones
    ):
        raise ValueError(
            f"availability_zones: need 2 or 3 distinct zones; got {list(availability_zones)!r}"
        )
    if nat_strategy not in ("per-az", "single"):
        raise ValueError(f"nat_strategy: must be 'per-az' or 'single'; got {nat_strategy!r}")
    unknown = [name for name in interface_endpoints if name not in INTERFACE_ENDPOINT_IDS]
    if unknown:
        raise ValueError(f"interface_endpoints: unsupported service(s); got {unknown!r}")
    return network
