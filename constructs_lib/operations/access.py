"""OperatorAccess: a keyless, inbound-closed instance for Session Manager port forwarding.

Operators reach the private cluster API, PostgreSQL and the caches from a laptop through AWS
Systems Manager Session Manager: `aws ssm start-session` with the AWS-owned document
`AWS-StartPortForwardingSessionToRemoteHost` opens a tunnel from a local port, through the SSM
agent of this instance, to a host and port the instance reaches
(https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-sessions-start.html#sessions-remote-port-forwarding).
The agent dials out to Session Manager over 443, so the instance needs no inbound rule, no
public address and no key pair.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from facts.aws import PORT_FORWARDING_DOCUMENT, TARGET_PORTS
from policies.acknowledgements import acknowledge
from policies.wildcards import acknowledge_wildcards

AGENT_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the SSM agent needs for Session Manager and nothing else: the session subset of
AmazonSSMManagedInstanceCore (no Run Command, State Manager, inventory or patching), as the
AWS managed policy AWSCloud9SSMInstanceProfile grants it
(https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html)."""


class OperatorAccess(Construct):
    """A t4g.nano on Amazon Linux 2023 (arm64, the SSM agent preinstalled) in a private subnet.

    - AMI: the latest AL2023 from AWS's public SSM parameter, resolved by CloudFormation at
      deploy time (no lookup at synth); a newer AMI replaces the instance on the next deploy,
      which is how it is patched: it holds no state.
    - No key pair, IMDSv2 required (hop limit 1), encrypted root volume, detailed monitoring,
      no public address (a private subnet, which assigns none).
    - Its own security group has no inbound rule; outbound only 443 (Session Manager's
      endpoints, through NAT or the VPC's interface endpoints, and the Kubernetes API) and the
      data ports inside the VPC. `clients` (the workload-clients group) is what the data
      services and the cluster's control plane admit.
    - The instance role may only run the agent's session channels (`AGENT_ACTIONS`).
    - `operator_policy`: a customer-managed policy attached to `operator_roles` that allows
      `ssm:StartSession` on this instance with the port-forwarding document only, and
      terminating or resuming one's own sessions.

    Exposes `instance`, `security_group` and `operator_policy`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
        operator_roles: Sequence[str],
        policy_name: str,
    ) -> None:
        """
        :param subnets: private subnets with a route to Session Manager (NAT or endpoints).
        :param clients: the group the data services and the cluster API admit.
        :param operator_roles: ARNs of existing roles of this account given the policy.
        :param policy_name: the customer-managed policy's name (the roles' admins see it).
        """
        super().__init__(scope, id_)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Operator access instance: no inbound; out to Session Manager and "
            "the private endpoints it forwards to",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "Session Manager (ssm, ssmmessages) and the Kubernetes API",
        )
        for target, port in TARGET_PORTS.items():
            if port != 443:
                self.security_group.add_egress_rule(
                    ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(port), f"Forward to {target}"
                )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="The operator access instance's SSM agent: session channels only",
        )
        agent = iam.ManagedPolicy(
            self,
            "AgentPolicy",
            description="The operator access instance's SSM agent: session channels only",
            statements=[
                iam.PolicyStatement(
                    sid="SessionChannels",
                    actions=[a for a in AGENT_ACTIONS if a.startswith("ssmmessages:")],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="RegisterTheInstance",
                    actions=[a for a in AGENT_ACTIONS if a.startswith("ssm:")],
                    resources=[
                        Stack.of(self).format_arn(
                            service="ec2", resource="instance", resource_name="*"
                        )
                    ],
                ),
            ],
            roles=[role],
        )
        acknowledge_wildcards(
            agent,
            {
                "SessionChannels": "The ssmmessages actions have no resource type (the AWS "
                "managed instance policies grant them on *)",
                "RegisterTheInstance": "The role exists before the instance it serves, so its "
                "policy cannot name the instance id; instances of this account and region only",
            },
        )
        self.instance = ec2.Instance(
            self,
            "Instance",
            vpc=vpc,
            vpc_subnets=subnets,
            instance_type=ec2.InstanceType("t4g.nano"),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            security_group=self.security_group,
            role=role,
            require_imdsv2=True,
            detailed_monitoring=True,
            ssm_session_permissions=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        self.instance.add_security_group(clients)
        acknowledge(
            self.instance,
            "AwsSolutions::AwsSolutions-EC29",
            "No termination protection: the instance is stateless and CloudFormation replaces "
            "it whenever a newer Amazon Linux AMI is published; protection would make that "
            "replacement, its only patching, fail",
        )
        self.operator_policy = self._operator_policy(operator_roles, policy_name)

    def _operator_policy(self, operator_roles: Sequence[str], name: str) -> iam.ManagedPolicy:
        """StartSession needs both the target and the document allowed; with
        `ssm:SessionDocumentAccessCheck` true, IAM also checks the default shell document
        (SSM-SessionManagerRunShell) when a caller names none, so a shell is refused
        (https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-quickstart.html#restrict-access-quickstart-end-user)."""
        stack = Stack.of(self)
        instance_arn = stack.format_arn(
            service="ec2", resource="instance", resource_name=self.instance.instance_id
        )
        document_arn = (
            f"arn:{Aws.PARTITION}:ssm:{stack.region}::document/{PORT_FORWARDING_DOCUMENT}"
        )
        policy = iam.ManagedPolicy(
            self,
            "OperatorPolicy",
            managed_policy_name=name,
            description="Session Manager port forwarding through the operator access "
            "instance, nothing else",
            statements=[
                iam.PolicyStatement(
                    sid="PortForwardingOnTheAccessInstance",
                    actions=["ssm:StartSession"],
                    resources=[instance_arn, document_arn],
                    conditions={"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
                ),
                # An assumed role's session ids start with its session name, which no policy
                # variable holds; Session Manager tags each session with its starter's
                # aws:userid (Example 4 of
                # https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-examples.html).
                iam.PolicyStatement(
                    sid="OwnSessions",
                    actions=["ssm:TerminateSession", "ssm:ResumeSession"],
                    resources=[
                        stack.format_arn(service="ssm", resource="session", resource_name="*")
                    ],
                    conditions={
                        "StringLike": {
                            "ssm:resourceTag/aws:ssmmessages:session-id": ["${aws:userid}"]
                        }
                    },
                ),
            ],
            roles=[
                iam.Role.from_role_arn(self, f"Operator{index}", arn, mutable=False)
                for index, arn in enumerate(operator_roles)
            ],
        )
        acknowledge_wildcards(
            policy,
            {
                "OwnSessions": "Session ids are made by Session Manager when a session starts; "
                "the session-id tag condition limits the caller to the sessions it started",
            },
        )
        return policy
