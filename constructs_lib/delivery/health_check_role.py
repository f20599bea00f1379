"""HealthCheckRole: what the pipeline's health gate may read in an environment, and no more."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from policies.wildcards import acknowledge_wildcards


class HealthCheckRole(Construct):
    """A read-only IAM role for one caller: a named role in another (the pipeline's) account.

    It may describe EKS clusters and node groups and read CloudWatch alarm states, which is
    all `runtime.health_check` needs. The trust names the caller's role ARN as a condition
    rather than as the principal, so this role can be created before the caller exists.
    Exposes `role`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        role_name: str,
        trusted_role_arn: str,
        alarm_regions: Sequence[str] = (),
    ) -> None:
        """
        :param role_name: the deterministic name the caller builds this role's ARN from.
        :param trusted_role_arn: the only principal that may assume the role.
        :param alarm_regions: other regions whose alarm states it may read (the account's
            alarms there count for the gate); default the stack's region only.
        """
        super().__init__(scope, id_)
        trusted_account = trusted_role_arn.split(":")[4] if ":" in trusted_role_arn else ""
        if not trusted_account.isdigit():
            raise ValueError(f"trusted_role_arn: not an IAM role ARN; got {trusted_role_arn!r}")
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description="Read-only: lets the pipeline's health gate check this environment",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(trusted_account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": trusted_role_arn}}
            ),
        )
        clusters = stack.format_arn(service="eks", resource="cluster", resource_name="*")
        nodegroups = stack.format_arn(service="eks", resource="nodegroup", resource_name="*")
        # DescribeAlarms is authorised on the `alarm` resource type (Service Authorization
        # Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html);
        # listing every alarm is authorised against `alarm:*`.
        alarms = [
            stack.format_arn(
                service="cloudwatch",
                region=region,
                resource="alarm",
                resource_name="*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for region in dict.fromkeys([stack.region, *alarm_regions])
        ]
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Describe EKS clusters and node groups, read alarm states",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeClusters",
                    actions=["eks:DescribeCluster", "eks:ListNodegroups"],
                    resources=[clusters],
                ),
                iam.PolicyStatement(
                    sid="DescribeNodegroups",
                    actions=["eks:DescribeNodegroup"],
                    resources=[nodegroups],
                ),
                iam.PolicyStatement(
                    sid="ListClusters", actions=["eks:ListClusters"], resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="ReadAlarmStates", actions=["cloudwatch:DescribeAlarms"], resources=alarms
                ),
            ],
        )
        acknowledge_wildcards(
            policy,
            {
                "DescribeClusters": "Read-only describe of every EKS cluster in this account and "
                "region: the gate checks whatever clusters the environment runs, so it cannot "
                "name them.",
                "DescribeNodegroups": "Read-only describe of every EKS node group in this "
                "account and region, whose ids EKS generates.",
                "ListClusters": "Read-only: eks:ListClusters has no resource type in the Service "
                "Authorization Reference, so it is authorised on '*' only.",
                "ReadAlarmStates": "Read-only: the gate reads the state of every alarm of this "
                "account and region, whatever the environment's stacks named them.",
            },
        )
