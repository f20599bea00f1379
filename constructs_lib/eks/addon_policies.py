"""Least-privilege permissions of the platform add-ons Argo CD installs.

Each function returns the grants of one add-on's Pod Identity role, derived from the
add-on's published policy and narrowed to this cluster, VPC, zone or path wherever the API
allows. A wildcard that remains carries the reason it cannot be narrower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from constructs import Construct

from constructs_lib.eks.pod_identity import Grant
from facts.kubernetes import DISCOVERY_TAG


@dataclass(frozen=True)
class _StackEnv:
    """A stack's partition, region and account, read once: each read of a `Stack` property
    is a jsii round trip, and these ARNs name them about 35 times per cluster."""

    partition: str
    region: str
    account: str

    @classmethod
    def of(cls, scope: Construct) -> _StackEnv:
        stack = Stack.of(scope)
        return cls(stack.partition, stack.region, stack.account)


NO_RESOURCE_LEVEL = (
    "These are read-only Describe/List/Get calls that IAM cannot scope to a resource; the "
    "role is bound to one service account of one cluster."
)


def load_balancer_controller(scope: Construct, *, cluster_name: str, vpc_id: str) -> list[Grant]:
    stack = _StackEnv.of(scope)
    elb = f"arn:{stack.partition}:elasticloadbalancing:{stack.region}:{stack.account}"
    sg = f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:security-group/*"
    vpc = f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:vpc/{vpc_id}"

    def here(service: str) -> str:
        return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}"

    owned = {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
    owned_lbs = [
        f"{elb}:targetgroup/*/*",
        f"{elb}:loadbalancer/net/*/*",
        f"{elb}:loadbalancer/app/*/*",
    ]
    return [
        Grant(
            sid="CreateElbServiceLinkedRole",
            actions=["iam:CreateServiceLinkedRole"],
            resources=["*"],
            conditions={
                "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
            },
            wildcard_reason=(
                "iam:CreateServiceLinkedRole is limited by condition to the ELB service role."
            ),
        ),
        Grant(
            sid="Describe",
            resources=["*"],
            actions=[
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:DescribeRouteTables",
                "ec2:DescribeCoipPools",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeCapacityReservation",
                "acm:ListCertificates",
                "shield:GetSubscriptionState",
            ],
            wildcard_reason=NO_RESOURCE_LEVEL,
        ),
        # The controller's reads that IAM authorises on a resource type (Service
        # Authorization Reference, https://docs.aws.amazon.com/service-authorization/latest/
        # reference/reference_policies_actions-resources-contextkeys.html), each on this
        # account's resources of that type in this region.
        Grant(
            sid="ReadClusterVpcSecurityGroups",
            actions=["ec2:GetSecurityGroupsForVpc"],
            resources=[vpc],
        ),
        Grant(
            sid="ReadListenerInputs",
            resources=[
                f"{here('acm')}:certificate/*",
                f"{here('cognito-idp')}:userpool/*",
                f"{here('ec2')}:coip-pool/*",
                f"arn:{stack.partition}:shield::{stack.account}:protection/*",
                f"{here('wafv2')}:regional/webacl/*/*",
                f"{elb}:loadbalancer/app/*/*",
            ],
            actions=[
                "acm:DescribeCertificate",
                "cognito-idp:DescribeUserPoolClient",
                "ec2:GetCoipPoolUsage",
                "shield:DescribeProtection",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
            ],
            wildcard_reason=(
                "Read-only: the certificates, user pools, customer-owned IP pools, Shield "
                "protections and regional web ACLs an Ingress names are chosen by its author, "
                "so the grant covers this account's resources of each type (in this region), "
                "the narrowest ARNs these actions take."
            ),
        ),
        Grant(
            sid="CreateSecurityGroupsInClusterVpc",
            actions=["ec2:CreateSecurityGroup"],
            resources=[sg, vpc],
            wildcard_reason=(
                "New security groups have no id yet; creation is limited to the cluster's VPC."
            ),
        ),
        Grant(
            sid="TagSecurityGroupsOnCreate",
            actions=["ec2:CreateTags"],
            resources=[sg],
            conditions={
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
            },
            wildcard_reason=(
                "Only while creating a security group, and only with the controller's cluster tag."
            ),
        ),
        Grant(
            sid="ManageOwnSecurityGroups",
            resources=[sg],
            conditions=owned,
            actions=[
                "ec2:CreateTags",
                "ec2:DeleteTags",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
            ],
            wildcard_reason=(
                "Limited by condition to security groups carrying the controller's cluster tag."
            ),
        ),
        Grant(
            sid="OpenNodeSecurityGroupsInClusterVpc",
            resources=[sg],
            conditions={"ArnEquals": {"ec2:Vpc": vpc}},
            actions=["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            wildcard_reason=(
                "Admits load balancer traffic to node security groups of the cluster's VPC only."
            ),
        ),
        Grant(
            sid="CreateTaggedInternalLoadBalancers",
            resources=["*"],
            # Internal only: the internet reaches the workloads through CloudFront and WAF
            # (a VPC origin to the edge's internal ALB), never through a load balancer of
            # their own (`elasticloadbalancing:Scheme`, https://aws.amazon.com/about-aws/
            # whats-new/2023/11/aws-elastic-load-balancing-iam-condition-keys/).
            conditions={
                "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
                "StringEquals": {"elasticloadbalancing:Scheme": "internal"},
            },
            actions=["elasticloadbalancing:CreateLoadBalancer"],
            wildcard_reason=(
                "Load balancers being created have no ARN; the request must carry the cluster "
                "tag and ask for an internal scheme."
            ),
        ),
        Grant(
            sid="CreateTaggedTargetGroups",
            resources=["*"],
            conditions={"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}},
            actions=["elasticloadbalancing:CreateTargetGroup"],
            wildcard_reason=(
                "Target groups being created have no ARN; the request must carry the cluster tag."
            ),
        ),
        Grant(
            sid="ManageListenersAndRules",
            resources=[
                f"{elb}:loadbalancer/app/*/*",
                f"{elb}:loadbalancer/net/*/*",
                f"{elb}:listener/app/*/*/*",
                f"{elb}:listener/net/*/*/*",
                f"{elb}:listener-rule/app/*/*/*/*",
                f"{elb}:listener-rule/net/*/*/*/*",
            ],
            actions=[
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:SetWebAcl",
            ],
            wildcard_reason=(
                "Listener and rule ARNs embed generated ids; the grant covers this account's "
                "load balancers in this region, which the controller creates tagged."
            ),
        ),
        Grant(
            sid="TagOwnLoadBalancers",
            resources=owned_lbs,
            conditions=owned,
            actions=["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            wildcard_reason=(
                "Limited by condition to load balancers and target groups with the cluster tag."
            ),
        ),
        Grant(
            sid="TagLoadBalancersOnCreate",
            resources=owned_lbs,
            actions=["elasticloadbalancing:AddTags"],
            conditions={
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": [
                        "CreateTargetGroup",
                        "CreateLoadBalancer",
                    ]
                },
                "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
            },
            wildcard_reason="Only while creating, and only with the controller's cluster tag.",
        ),
        Grant(
            sid="ModifyOwnLoadBalancers",
            resources=owned_lbs,
            conditions=owned,
            actions=[
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyCapacityReservation",
            ],
            wildcard_reason=(
                "Limited by condition to load balancers and target groups with the cluster tag."
            ),
        ),
        Grant(
            sid="RegisterTargets",
            resources=[f"{elb}:targetgroup/*/*"],
            actions=[
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            wildcard_reason=(
                "Target groups created by CDK for TargetGroupBinding have generated names; the "
                "controller registers pod IPs in this account's target groups only."
            ),
        ),
    ]


def external_dns(scope: Construct, *, zone_name: str) -> list[Grant]:
    stack = _StackEnv.of(scope)
    zones = f"arn:{stack.partition}:route53:::hostedzone/*"
    return [
        Grant(
            sid="ChangeRecordsInEnvironmentZone",
            actions=["route53:ChangeResourceRecordSets"],
            resources=[zones],
            conditions={
                "ForAllValues:StringLike": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                        zone_name,
                        f"*.{zone_name}",
                    ]
                }
            },
            wildcard_reason=(
                f"Zone ids are created later (shared-services); the condition limits every change "
                f"to names in {zone_name}."
            ),
        ),
        Grant(
            sid="ListZones",
            resources=["*"],
            actions=["route53:ListHostedZones"],
            wildcard_reason=NO_RESOURCE_LEVEL,
        ),
        Grant(
            sid="ReadRecordsAndTags",
            # Authorised on the hosted zone (Service Authorization Reference, Route 53).
            resources=[zones],
            actions=["route53:ListResourceRecordSets", "route53:ListTagsForResources"],
            wildcard_reason=(
                "Read-only: the zone ids are created later (shared-services), so the grant "
                "covers hosted zones, the narrowest resource type these reads take."
            ),
        ),
    ]


def cert_manager(scope: Construct, *, zone_name: str) -> list[Grant]:
    stack = _StackEnv.of(scope)
    return [
        Grant(
            sid="ReadChangeStatus",
            actions=["route53:GetChange"],
            resources=[f"arn:{stack.partition}:route53:::change/*"],
            wildcard_reason=(
                "Route 53 change ids are generated per change; reading their status is harmless."
            ),
        ),
        Grant(
            sid="AnswerDns01Challenges",
            actions=["route53:ChangeResourceRecordSets"],
            resources=[f"arn:{stack.partition}:route53:::hostedzone/*"],
            conditions={
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]
                },
                "ForAllValues:StringLike": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                        f"_acme-challenge.{zone_name}",
                        f"_acme-challenge.*.{zone_name}",
                    ]
                },
            },
            wildcard_reason=(
                f"Only TXT records named _acme-challenge under {zone_name}, whatever zone id it "
                "has."
            ),
        ),
        Grant(
            sid="FindZones",
            resources=["*"],
            actions=["route53:ListHostedZonesByName"],
            wildcard_reason=NO_RESOURCE_LEVEL,
        ),
    ]


SECRET_READ_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:GetResourcePolicy",
)


def external_secrets(
    scope: Construct, *, secrets_prefix: str, assumable_role_arns: Sequence[str] = ()
) -> list[Grant]:
    """Read the environment's secrets and assume `assumable_role_arns` (the teams' secrets
    roles, which their `SecretStore`s name)."""
    stack = _StackEnv.of(scope)
    assume = (
        [
            Grant(
                sid="AssumeTeamSecretsRoles",
                actions=["sts:AssumeRole"],
                resources=list(assumable_role_arns),
            )
        ]
        if assumable_role_arns
        else []
    )
    return [
        *assume,
        Grant(
            sid="ReadEnvironmentSecrets",
            resources=[
                f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:"
                f"secret:{secrets_prefix}*"
            ],
            actions=SECRET_READ_ACTIONS,
            wildcard_reason=(
                f"Secrets Manager appends a random suffix to secret ARNs; the grant covers the "
                f"environment's path {secrets_prefix} only."
            ),
        ),
        # The teams' secrets under the same path are read only through each team's secrets
        # role (its SecretStore names it): never with the controller's own credentials, which
        # any ClusterSecretStore or SecretStore without a role would use.
        Grant(
            sid="NotTheTeamsSecrets",
            deny=True,
            resources=[
                f"arn:{stack.partition}:secretsmanager:{stack.region}:{stack.account}:"
                f"secret:{secrets_prefix}teams/*"
            ],
            actions=SECRET_READ_ACTIONS,  # what the allow above grants
        ),
        Grant(
            sid="DecryptThroughSecretsManager",
            actions=["kms:Decrypt"],
            resources=[f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}
            },
            wildcard_reason=(
                "Secrets may use any of the account's keys; decryption is allowed only when "
                "Secrets Manager asks on the pod's behalf."
            ),
        ),
    ]


def fluent_bit(scope: Construct, *, log_group_arn: str) -> list[Grant]:
    return [
        Grant(
            sid="WriteApplicationLogs",
            resources=[log_group_arn],
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            wildcard_reason=(
                "Log streams are created per pod inside the cluster's one application log group."
            ),
        ),
    ]


def karpenter_controller(
    scope: Construct,
    *,
    cluster_name: str,
    cluster_arn: str,
    node_role_arn: str,
    queue_arn: str,
    queue_key_arn: str,
) -> list[Grant]:
    stack = _StackEnv.of(scope)
    ec2 = f"arn:{stack.partition}:ec2:{stack.region}"
    here = f"{ec2}:{stack.account}"
    profiles = f"arn:{stack.partition}:iam::{stack.account}:instance-profile/*"
    owned_request = {
        f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
    }
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    in_a_nodepool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    for_a_nodepool = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    launched = [
        f"{here}:{kind}/*"
        for kind in (
            "fleet",
            "instance",
            "volume",
            "network-interface",
            "launch-template",
            "spot-instances-request",
        )
    ]
    tag_scoped = (
        "Resources Karpenter launches have generated ids; every call is limited by "
        "condition to resources tagged as owned by this cluster."
    )
    return [
        Grant(
            sid="LaunchFromImages",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                f"{here}:capacity-reservation/*",
            ],
            wildcard_reason=(
                "The node class chooses the AMI by alias at run time (AWS's public EKS "
                "images); launching still needs the tag-scoped statements below."
            ),
        ),
        # aws:ResourceTag on the subnet and security-group resources of RunInstances and
        # CreateFleet: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
        Grant(
            sid="LaunchIntoDiscoveredSubnetsAndGroups",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[f"{here}:security-group/*", f"{here}:subnet/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{DISCOVERY_TAG}": cluster_name}},
            wildcard_reason=(
                "Subnet and group ids are chosen at run time; only those tagged for this "
                "cluster's Karpenter (the private subnets and the workload-clients group)."
            ),
        ),
        Grant(
            sid="LaunchWithClusterSecurityGroup",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[f"{here}:security-group/*"],
            conditions={"StringEquals": owned},
            # EKS tags the group it makes kubernetes.io/cluster/<name>: owned
            # (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html).
            wildcard_reason=(
                "The cluster security group is made by EKS (tagged as owned by the cluster), "
                "so its id is known only at run time."
            ),
        ),
        Grant(
            sid="LaunchFromOwnLaunchTemplates",
            actions=["ec2:RunInstances", "ec2:CreateFleet"],
            resources=[f"{here}:launch-template/*"],
            conditions={
                "StringEquals": owned,
                "StringLike": in_a_nodepool,
            },
            wildcard_reason=tag_scoped,
        ),
        Grant(
            sid="CreateOwnedInstances",
            actions=["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            resources=launched,
            conditions={
                "StringEquals": owned_request,
                "StringLike": for_a_nodepool,
            },
            wildcard_reason=tag_scoped,
        ),
        Grant(
            sid="TagOnCreate",
            actions=["ec2:CreateTags"],
            resources=launched,
            conditions={
                "StringEquals": {
                    **owned_request,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": for_a_nodepool,
            },
            wildcard_reason=tag_scoped,
        ),
        Grant(
            sid="TagOwnInstances",
            actions=["ec2:CreateTags"],
            resources=[f"{here}:instance/*"],
            conditions={
                "StringEquals": owned,
                "StringLike": in_a_nodepool,
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
            wildcard_reason=tag_scoped,
        ),
        Grant(
            sid="DeleteOwnInstances",
            actions=["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            resources=[f"{here}:instance/*", f"{here}:launch-template/*"],
            conditions={
                "StringEquals": owned,
                "StringLike": in_a_nodepool,
            },
            wildcard_reason=tag_scoped,
        ),
        Grant(
            sid="ReadRegion",
            resources=["*"],
            conditions={"StringEquals": {"aws:RequestedRegion": stack.region}},
            actions=[
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
                "ec2:DescribeCapacityReservations",
                "ec2:DescribePlacementGroups",
            ],
            wildcard_reason=NO_RESOURCE_LEVEL,
        ),
        Grant(
            sid="ReadPublicAmiParameters",
            actions=["ssm:GetParameter"],
            resources=[f"arn:{stack.partition}:ssm:{stack.region}::parameter/aws/service/*"],
            wildcard_reason=(
                "AWS publishes the EKS-optimised AMI ids under /aws/service/; read-only."
            ),
        ),
        Grant(
            sid="ReadPrices",
            actions=["pricing:GetProducts"],
            resources=["*"],
            wildcard_reason=NO_RESOURCE_LEVEL,
        ),
        Grant(
            sid="ConsumeInterruptionQueue",
            resources=[queue_arn],
            actions=["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        ),
        Grant(sid="DecryptInterruptionQueue", actions=["kms:Decrypt"], resources=[queue_key_arn]),
        Grant(
            sid="PassNodeRole",
            actions=["iam:PassRole"],
            resources=[node_role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        ),
        Grant(
            sid="CreateOwnInstanceProfiles",
            actions=["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
            resources=[profiles],
            conditions={
                "StringEquals": {
                    **owned_request,
                    "aws:RequestTag/topology.kubernetes.io/region": stack.region,
                },
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
            wildcard_reason=(
                "Instance profiles are created per node class with generated names; only with "
                "this cluster's ownership tags."
            ),
        ),
        Grant(
            sid="ManageOwnInstanceProfiles",
            resources=[profiles],
            actions=[
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:TagInstanceProfile",
            ],
            conditions={
                "StringEquals": {
                    **owned,
                    "aws:ResourceTag/topology.kubernetes.io/region": stack.region,
                },
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
            wildcard_reason=(
                "Limited by condition to instance profiles tagged as owned by this cluster."
            ),
        ),
        Grant(
            sid="ReadInstanceProfiles",
            actions=["iam:GetInstanceProfile"],
            resources=[profiles],
            wildcard_reason=(
                "Read-only lookup of the instance profiles Karpenter creates with generated names."
            ),
        ),
        Grant(sid="DiscoverApiEndpoint", actions=["eks:DescribeCluster"], resources=[cluster_arn]),
    ]


ARGO_ROLLOUTS_QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels")
"""What Argo Rollouts' Prometheus provider calls: instant and range queries (QueryMetrics);
series and labels for the client's metadata calls. No DescribeWorkspace: the address comes
from the bridge annotation, not from the API. AMP's IAM actions and their resource type
(workspace): https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedserviceforprometheus.html"""


def argo_rollouts(workspace_arn: str) -> list[Grant]:
    """The Argo Rollouts controller runs every AnalysisRun's Prometheus query, signed with
    SigV4 (the template's `authentication.sigv4`; the credentials are the controller's Pod
    Identity ones, https://argo-rollouts.readthedocs.io/en/stable/analysis/prometheus/): it may
    read its own cluster's workspace, nothing else."""
    return [
        Grant(
            sid="QueryTheClustersWorkspace",
            resources=[workspace_arn],
            actions=list(ARGO_ROLLOUTS_QUERY_ACTIONS),
        )
    ]
