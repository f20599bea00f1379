"""PlatformCluster: an EKS cluster ready for Argo CD to install the platform add-ons."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from constructs_lib.eks import addon_policies
from constructs_lib.eks.kubectl_layers import kubectl_layer
from constructs_lib.eks.pod_identity import Grant, PodIdentity, cluster_pods
from constructs_lib.shared.encryption import log_group_key, platform_key
from policies.acknowledgements import acknowledge, acknowledge_all, controls
from policies.wildcards import (
    acknowledge_aws_managed_policies,
    aws_managed_policy_finding,
    wildcard_findings,
)

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_


class ServiceAccount(NamedTuple):
    namespace: str
    name: str


POD_IDENTITIES = MappingProxyType(
    {
        "aws-load-balancer-controller": ServiceAccount(
            "kube-system", "aws-load-balancer-controller"
        ),
        "external-dns": ServiceAccount("external-dns", "external-dns"),
        "cert-manager": ServiceAccount("cert-manager", "cert-manager"),
        "external-secrets": ServiceAccount("external-secrets", "external-secrets"),
        "karpenter": ServiceAccount("kube-system", "karpenter"),
        "fluent-bit": ServiceAccount("amazon-cloudwatch", "fluent-bit"),
        "vpc-cni": ServiceAccount("kube-system", "aws-node"),
        "aws-ebs-csi-driver": ServiceAccount("kube-system", "ebs-csi-controller-sa"),
        "amazon-cloudwatch-observability": ServiceAccount("amazon-cloudwatch", "cloudwatch-agent"),
        "argo-rollouts": ServiceAccount("argo-rollouts", "argo-rollouts"),
    }
)
"""The contract with the GitOps repository: each add-on's service account (namespace, name)
that holds its AWS role. Argo CD must install the add-on with exactly this service account."""

ADDONS = (
    "eks-pod-identity-agent",
    "vpc-cni",
    "kube-proxy",
    "coredns",
    "aws-ebs-csi-driver",
    "amazon-cloudwatch-observability",
)
"""EKS managed add-ons, in install order: the Pod Identity agent (host network) first, as
vpc-cni, the EBS driver and the CloudWatch agent get their roles through it; coredns, the EBS
driver and the CloudWatch agent need nodes."""

AWS_MANAGED_POD_POLICIES = MappingProxyType(
    {
        "vpc-cni": "AmazonEKS_CNI_Policy",
        "aws-ebs-csi-driver": "service-role/AmazonEBSCSIDriverPolicy",
        # What AWS documents for the agent with Pod Identity (add-on 3.1.0 or later):
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-setup-EKS-addon.html
        "amazon-cloudwatch-observability": "CloudWatchAgentServerPolicy",
    }
)
"""The managed add-ons whose pod role carries the AWS-managed policy written for them; each is
bound by the add-on's own `podIdentityAssociations`."""

CLOUDWATCH_OBSERVABILITY_CONFIGURATION = {"containerLogs": {"enabled": False}}
"""The CloudWatch Observability add-on's `configurationValues` (its Helm chart's values,
https://github.com/aws-observability/helm-charts, `containerLogs.enabled`, default true): the
add-on ships no container logs, as the Fluent Bit Argo CD installs already sends them to the
same log group (`/aws/containerinsights/<cluster>/application`, which this construct creates
with a key and a retention). Its CloudWatch agent still sends Container Insights (enhanced
observability) metrics."""

AWS_MANAGED_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
"""What an EKS node needs: join the cluster, pull images, be reachable by Session Manager
(no SSH). The VPC CNI's permissions are on its own Pod Identity role, not the node."""

KARPENTER_INTERRUPTION_EVENTS = MappingProxyType(
    {
        "ScheduledChangeRule": ("aws.health", "AWS Health Event"),
        "SpotInterruptionRule": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        "RebalanceRule": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        "InstanceStateChangeRule": ("aws.ec2", "EC2 Instance State-change Notification"),
    }
)
"""EventBridge rules (construct id -> source, detail type) feeding Karpenter's queue."""


class PlatformCluster(Construct):
    """An EKS cluster (aws_eks_v2) with system nodes, Fargate, Karpenter's AWS side, managed
    add-ons and a Pod Identity role per platform add-on.

    - API endpoint private by default, public only from `endpoint_public_access_cidrs`; its
      additional security group has no inbound rules and egress only into the VPC; all
      control-plane log types; secrets envelope-encrypted with a rotating CMK; authentication
      by access entries only (no aws-auth ConfigMap), the creator not left as admin.
    - A system managed node group in the given subnets from a launch template with IMDSv2
      required (hop limit 1: pods use Pod Identity, not the node's role) and encrypted gp3
      volumes; Fargate for the listed namespaces.
    - Karpenter: controller role (Pod Identity), node role with an EC2_LINUX access entry, an
      interruption queue (CMK that EventBridge may use) fed by four EventBridge rules.
    - Managed add-ons vpc-cni, kube-proxy, eks-pod-identity-agent, coredns,
      aws-ebs-csi-driver and amazon-cloudwatch-observability (Container Insights metrics, no
      container logs: Fluent Bit ships those) (versions pinned where given, EKS defaults
      otherwise).
    - `POD_IDENTITIES` roles for the add-ons Argo CD installs; ExternalDNS and cert-manager
      only when `dns_zone_name` is given; Argo Rollouts' through `add_addon_role`, by the
      stack that made the cluster's Prometheus workspace.

    Exposes `cluster`, `node_security_group`, `pod_roles` (add-on -> role),
    `karpenter_node_role`, `interruption_queue`, `application_log_group` and
    `raw_resource_scopes` (see `constructs_lib.shared.tagging`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_name: str,
        kubernetes_version: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        secrets_prefix: str,
        secrets_role_arns: Sequence[str] = (),
        endpoint_public_access_cidrs: Sequence[str] = (),
        endpoint_private_access_cidrs: Sequence[str] = (),
        node_security_groups: Sequence[ec2.ISecurityGroup] = (),
        admin_role_arns: Sequence[str] = (),
        viewer_role_arns: Sequence[str] = (),
        node_instance_types: Sequence[str] = ("m7g.large",),
        node_ami_type: str = "AL2023_ARM_64_STANDARD",
        node_min_size: int = 2,
        node_max_size: int = 10,
        node_desired_size: int | None = None,
        node_disk_size_gib: int = 50,
        fargate_namespaces: Sequence[str] = (),
        addon_versions: Mapping[str, str] = MappingProxyType({}),
        dns_zone_name: str | None = None,
        application_log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        """
        :param cluster_name: deterministic, so other accounts and Argo CD can name it.
        :param kubernetes_version: e.g. "1.35"; the kubectl layer of the same version is used.
        :param subnets: where nodes, pods and the API endpoint's interfaces go (private tier).
        :param secrets_prefix: External Secrets may read secrets under this path only.
        :param secrets_role_arns: roles External Secrets may assume besides (the teams'
            secrets roles, for their `SecretStore`s); default none.
        :param endpoint_public_access_cidrs: default none: the endpoint is private.
        :param endpoint_private_access_cidrs: networks outside the VPC (over the Transit
            Gateway) admitted to the private endpoint on 443, e.g. the GitOps hub's VPC;
            default none.
        :param node_security_groups: groups the system nodes carry besides the cluster
            security group (which stays on them), e.g. the one data services admit; default
            none.
        :param admin_role_arns: roles given AmazonEKSClusterAdminPolicy; default none.
        :param viewer_role_arns: roles given AmazonEKSViewPolicy; default none.
        :param node_ami_type: an EKS AMI type (AL2023_* or BOTTLEROCKET_*); default Graviton AL2023.
        :param node_desired_size: default `node_min_size`.
        :param fargate_namespaces: at most 5; default none (no Fargate profile).
        :param addon_versions: add-on name -> version (the config pins every one:
            config/eks_calendar.py); an unlisted add-on would get EKS's default.
        :param dns_zone_name: the zone ExternalDNS and cert-manager may change; default none
            (neither role is created).
        :param application_log_retention: retention of Fluent Bit's log group; default 90 days.
        """
        super().__init__(scope, id_)
        _validate(
            node_min_size,
            node_max_size,
            node_desired_size,
            fargate_namespaces,
            addon_versions,
            node_ami_type,
        )
        stack = Stack.of(self)
        self._control_plane(
            cluster_name=cluster_name,
            kubernetes_version=kubernetes_version,
            vpc=vpc,
            subnets=subnets,
            endpoint_public_access_cidrs=endpoint_public_access_cidrs,
            endpoint_private_access_cidrs=endpoint_private_access_cidrs,
        )
        self._grant_people(admin_role_arns, "AmazonEKSClusterAdminPolicy", "Admin")
        self._grant_people(viewer_role_arns, "AmazonEKSViewPolicy", "Viewer")
        self._system_nodes(
            subnets=subnets,
            instance_types=node_instance_types,
            ami_type=node_ami_type,
            min_size=node_min_size,
            max_size=node_max_size,
            desired_size=node_desired_size,
            disk_size_gib=node_disk_size_gib,
            security_groups=node_security_groups,
        )
        self._fargate(vpc=vpc, subnets=subnets, namespaces=fargate_namespaces)
        self.node_security_group = self.cluster.cluster_security_group
        self._karpenter(cluster_name=cluster_name, account=stack.account)
        self._application_logs(cluster_name=cluster_name, retention=application_log_retention)
        self._pod_identities(
            cluster_name=cluster_name,
            vpc_id=vpc.vpc_id,
            secrets_prefix=secrets_prefix,
            secrets_role_arns=secrets_role_arns,
            dns_zone_name=dns_zone_name,
        )
        self._addons(addon_versions)
        self._outputs(stack)
        self._acknowledge_cdk_internals(stack)

    def _control_plane(
        self,
        *,
        cluster_name: str,
        kubernetes_version: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_public_access_cidrs: Sequence[str],
        endpoint_private_access_cidrs: Sequence[str],
    ) -> None:
        """The cluster, its secrets key and the control plane's security group."""
        self.secrets_key = _key(self, "SecretsKey", "Envelope-encrypts Kubernetes secrets")
        control_plane = ec2.SecurityGroup(
            self,
            "ControlPlaneSecurityGroup",
            vpc=vpc,
            description="EKS control-plane interfaces: no inbound rules of its own, outbound "
            "only to nodes, pods and webhooks inside the VPC",
            allow_all_outbound=False,
        )
        control_plane.add_egress_rule(
            ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.all_traffic(), "Nodes, pods, webhooks"
        )
        self.control_plane_security_group = control_plane
        for cidr in endpoint_private_access_cidrs:
            control_plane.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"Kubernetes API from {cidr}"
            )
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            version=eks.KubernetesVersion.of(kubernetes_version),
            vpc=vpc,
            vpc_subnets=[subnets],
            security_group=control_plane,
            endpoint_access=(
                eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*endpoint_public_access_cidrs)
                if endpoint_public_access_cidrs
                else eks.EndpointAccess.PRIVATE
            ),
            secrets_encryption_key=self.secrets_key,
            cluster_logging=list(eks.ClusterLoggingTypes),
            default_capacity=0,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            bootstrap_cluster_creator_admin_permissions=False,
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=kubectl_layer(
                    self, "KubectlLayer", kubernetes_version=kubernetes_version
                )
            ),
        )
        # aws_eks_v2 orders kubectl resources after a raw SSM parameter it adds to the cluster.
        self.raw_resource_scopes: tuple[IConstruct, ...] = (
            self.cluster.node.find_child("KubectlReadyBarrier"),
        )

    def _system_nodes(
        self,
        *,
        subnets: ec2.SubnetSelection,
        instance_types: Sequence[str],
        ami_type: str,
        min_size: int,
        max_size: int,
        desired_size: int | None,
        disk_size_gib: int,
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> None:
        """The system managed node group and its IMDSv2-only, encrypted launch template.

        With extra `security_groups`, the template lists them and the cluster security group:
        EKS adds the cluster group itself only to a template that names no group
        (https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html)."""
        self.node_role = _node_role(self, "SystemNodeRole", "EKS system node group")
        bottlerocket = ami_type.startswith("BOTTLEROCKET")
        launch_template = ec2.LaunchTemplate(
            self,
            "SystemNodeLaunchTemplate",
            security_group=self.cluster.cluster_security_group if security_groups else None,
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    # Bottlerocket keeps containers on its data volume, AL2023 on the root.
                    device_name="/dev/xvdb" if bottlerocket else "/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        disk_size_gib,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        for group in security_groups:
            launch_template.add_security_group(group)
        self.system_nodes = eks.Nodegroup(
            self,
            "SystemNodes",
            cluster=self.cluster,
            node_role=self.node_role,
            subnets=subnets,
            instance_types=[ec2.InstanceType(t) for t in instance_types],
            ami_type=getattr(eks.NodegroupAmiType, ami_type.upper()),
            min_size=min_size,
            max_size=max_size,
            desired_size=desired_size or min_size,
            launch_template_spec=eks.LaunchTemplateSpec(
                id=launch_template.launch_template_id or "",
                version=launch_template.latest_version_number,
            ),
            labels={"platform.io/node-role": "system"},
        )

    def _fargate(
        self, *, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, namespaces: Sequence[str]
    ) -> None:
        """A Fargate profile for `namespaces`, if any."""
        if not namespaces:
            return
        profile = eks.FargateProfile(
            self,
            "Fargate",
            cluster=self.cluster,
            selectors=[eks.Selector(namespace=n) for n in namespaces],
            vpc=vpc,
            subnet_selection=subnets,
        )
        acknowledge_aws_managed_policies(
            profile.pod_execution_role.node.default_child,
            "AmazonEKSFargatePodExecutionRolePolicy is AWS's minimum for Fargate to pull "
            "images and write logs for the cluster's pods.",
        )

    def _karpenter(self, *, cluster_name: str, account: str) -> None:
        """Karpenter's AWS side: its node role and access entry, and the interruption queue
        (with a key EventBridge may use) fed by `KARPENTER_INTERRUPTION_EVENTS`."""
        self.karpenter_node_role = _node_role(self, "KarpenterNodeRole", "Karpenter nodes")
        eks.AccessEntry(
            self,
            "KarpenterNodeAccess",
            cluster=self.cluster,
            principal=self.karpenter_node_role.role_arn,
            access_entry_type=eks.AccessEntryType.EC2_LINUX,
            access_policies=[],
        )
        self.interruption_queue_key = _key(
            self, "KarpenterInterruptionKey", "Encrypts Karpenter's interruption queue"
        )
        self.interruption_queue_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeOfThisAccount",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        self.interruption_queue = sqs.Queue(
            self,
            "KarpenterInterruptionQueue",
            queue_name=cluster_name,
            retention_period=Duration.minutes(5),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.interruption_queue_key,
            enforce_ssl=True,
        )
        acknowledge(
            self.interruption_queue,
            "AwsSolutions::AwsSolutions-SQS3",
            "Interruption notices are only useful within their two-minute warning and expire "
            "after five; a dead-letter queue would collect stale notices nobody can act on.",
        )
        for rule_id, (source, detail_type) in KARPENTER_INTERRUPTION_EVENTS.items():
            events.Rule(
                self,
                rule_id,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
                targets=[targets.SqsQueue(self.interruption_queue)],
            )

    def _application_logs(self, *, cluster_name: str, retention: logs.RetentionDays) -> None:
        """Fluent Bit's encrypted, retained log group for the pods' output."""
        self.application_log_group = logs.LogGroup(
            self,
            "ApplicationLogs",
            log_group_name=f"/aws/containerinsights/{cluster_name}/application",
            encryption_key=log_group_key(
                self, "ApplicationLogsKey", description="Encrypts the cluster's application logs"
            ),
            retention=retention,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _pod_identities(
        self,
        *,
        cluster_name: str,
        vpc_id: str,
        secrets_prefix: str,
        secrets_role_arns: Sequence[str],
        dns_zone_name: str | None,
    ) -> None:
        """A Pod Identity role per add-on of `POD_IDENTITIES` (`pod_roles`): the ones Argo CD
        installs with their own policies, the managed add-ons of `AWS_MANAGED_POD_POLICIES`
        with AWS's."""
        cluster_arn = self.cluster.cluster_arn
        grants = {
            "aws-load-balancer-controller": addon_policies.load_balancer_controller(
                self, cluster_name=cluster_name, vpc_id=vpc_id
            ),
            "external-secrets": addon_policies.external_secrets(
                self, secrets_prefix=secrets_prefix, assumable_role_arns=secrets_role_arns
            ),
            "fluent-bit": addon_policies.fluent_bit(
                self, log_group_arn=self.application_log_group.log_group_arn
            ),
            "karpenter": addon_policies.karpenter_controller(
                self,
                cluster_name=cluster_name,
                cluster_arn=cluster_arn,
                node_role_arn=self.karpenter_node_role.role_arn,
                queue_arn=self.interruption_queue.queue_arn,
                queue_key_arn=self.interruption_queue_key.key_arn,
            ),
        }
        if dns_zone_name:
            grants["external-dns"] = addon_policies.external_dns(self, zone_name=dns_zone_name)
            grants["cert-manager"] = addon_policies.cert_manager(self, zone_name=dns_zone_name)
        self.pod_roles: dict[str, iam.IRole] = {}
        self._pods = cluster_pods(self, cluster_name=cluster_name, cluster_arn=cluster_arn)
        self._cluster_name = cluster_name
        for addon, addon_grants in grants.items():
            self.add_addon_role(addon, addon_grants)
        for addon, policy in AWS_MANAGED_POD_POLICIES.items():
            self.pod_roles[addon] = PodIdentity(
                self,
                _construct_id(addon),
                pods=self._pods,
                namespace=POD_IDENTITIES[addon].namespace,
                service_account=POD_IDENTITIES[addon].name,
                description=f"{addon} in {cluster_name}",
                aws_managed_policy=policy,
                aws_managed_policy_reason=f"AWS maintains {policy} together with the {addon} "
                "add-on it is written for; it is attached to that add-on's pod role only.",
                create_association=False,  # the managed add-on binds it
            ).role

    def add_addon_role(self, addon: str, grants: Sequence[Grant]) -> None:
        """The Pod Identity role of `addon` (a key of `POD_IDENTITIES`), bound to its service
        account: for add-ons whose grants name resources made outside this construct (Argo
        Rollouts: the cluster's Prometheus workspace)."""
        account = POD_IDENTITIES[addon]
        self.pod_roles[addon] = PodIdentity(
            self,
            _construct_id(addon),
            pods=self._pods,
            namespace=account.namespace,
            service_account=account.name,
            description=f"{addon} in {self._cluster_name}",
            grants=grants,
        ).role

    def _grant_people(self, role_arns: Sequence[str], policy: str, prefix: str) -> None:
        for arn in role_arns:
            self.cluster.grant_access(
                f"{prefix}-{arn.rsplit('/', 1)[-1]}",
                arn,
                [
                    eks.AccessPolicy.from_access_policy_name(
                        policy, access_scope_type=eks.AccessScopeType.CLUSTER
                    )
                ],
            )

    def _addons(self, versions: Mapping[str, str]) -> None:
        bound = AWS_MANAGED_POD_POLICIES
        self.addons: dict[str, eks_l1.CfnAddon] = {}
        for name in ADDONS:
            addon = eks_l1.CfnAddon(
                self,
                _construct_id(name) + "Addon",
                cluster_name=self.cluster.cluster_name,
                addon_name=name,
                addon_version=versions.get(name),
                resolve_conflicts="OVERWRITE",
                pod_identity_associations=[
                    eks_l1.CfnAddon.PodIdentityAssociationProperty(
                        role_arn=self.pod_roles[name].role_arn,
                        service_account=POD_IDENTITIES[name].name,
                    )
                ]
                if name in bound
                else None,
                configuration_values=json.dumps(CLOUDWATCH_OBSERVABILITY_CONFIGURATION)
                if name == "amazon-cloudwatch-observability"
                else None,
            )
            if name in ("coredns", "aws-ebs-csi-driver", "amazon-cloudwatch-observability"):
                addon.node.add_dependency(self.system_nodes)
            if name in bound:
                addon.node.add_dependency(self.addons["eks-pod-identity-agent"])
            self.addons[name] = addon

    def _outputs(self, stack: Stack) -> None:
        for output_id, value, description in (
            ("ClusterName", self.cluster.cluster_name, "EKS cluster name"),
            ("ClusterEndpoint", self.cluster.cluster_endpoint, "Kubernetes API endpoint"),
            (
                "KarpenterControllerRoleArn",
                self.pod_roles["karpenter"].role_arn,
                "Karpenter controller role (Pod Identity, kube-system/karpenter)",
            ),
            (
                "KarpenterNodeRoleName",
                self.karpenter_node_role.role_name,
                "Role for EC2NodeClass spec.role",
            ),
            (
                "KarpenterInterruptionQueueName",
                self.interruption_queue.queue_name,
                "Karpenter settings.interruptionQueue",
            ),
        ):
            CfnOutput(self, output_id, value=value, description=description)

    def _acknowledge_cdk_internals(self, stack: Stack) -> None:
        """Findings on what aws_eks_v2 builds for us and offers no option to change: the
        cluster role, and the kubectl handler and provider framework functions."""
        acknowledge_aws_managed_policies(
            self.cluster.role.node.default_child,
            "AmazonEKSClusterPolicy is the AWS-maintained policy the EKS control plane needs; "
            "EKS changes it with new features, which a copy would not track.",
        )
        provider = self.cluster.node.find_child("KubectlProvider")
        handler = provider.node.find_child("Handler")
        on_event = provider.node.find_child("Provider").node.find_child("framework-onEvent")
        handler_arn = f"<{stack.get_logical_id(handler.node.default_child)}.Arn>:*"
        _acknowledge_provider_function(
            handler,
            "kubectl handler",
            own_findings={
                "AwsSolutions::AwsSolutions-L1": (
                    "CDK pins the kubectl handler's runtime to match the kubectl layer it "
                    "ships; upgrading aws-cdk-lib moves both together."
                )
            },
        )
        _acknowledge_provider_function(
            on_event,
            "provider framework",
            policy_findings=wildcard_findings(
                {
                    f"Resource::{handler_arn}": (
                        "The provider framework may invoke any version of this cluster's "
                        "kubectl handler (the ':*' suffix is Lambda's version qualifier), "
                        "and nothing else."
                    )
                }
            ),
        )


def _acknowledge_provider_function(
    function: lambda_.Function,
    what: str,
    *,
    own_findings: Mapping[str, str] = MappingProxyType({}),
    policy_findings: Mapping[str, str] = MappingProxyType({}),
) -> None:
    """Findings on one of CDK's kubectl Lambda functions: its role's AWS-managed policies, its
    unkeyed log group, its generated default policy (plus `policy_findings`) and the function
    itself (plus `own_findings`)."""
    role = function.role
    assert role is not None  # CDK's provider functions always get one
    acknowledge_aws_managed_policies(
        role.node.default_child,
        f"CDK's {what} for this cluster runs in the VPC and needs the AWS-maintained "
        "basic and VPC-access execution policies (and ECR read for its image).",
    )
    unkeyed = (
        f"CDK creates the {what}'s log group with no key option; it holds deploy-time "
        "kubectl output (Argo CD's install), encrypted at rest by CloudWatch's own key."
    )
    acknowledge_all(
        function.node.find_child("LogGroup"),
        {
            **controls("CloudWatchLogGroupEncrypted", unkeyed),
            "Platform::CustomerManagedKeys": unkeyed,
        },
    )
    acknowledge_all(
        role.node.find_child("DefaultPolicy").node.default_child,
        {
            **controls(
                "IAMNoInlinePolicy",
                f"CDK generates the {what}'s grants on this cluster as the role's "
                "default policy; they change with the cluster construct, so a managed "
                "copy would drift.",
            ),
            **policy_findings,
        },
    )
    acknowledge_all(
        function,
        {
            **controls(
                "LambdaConcurrency",
                f"The {what} is invoked only by CloudFormation during a deploy of this "
                "stack, one request per resource; a reservation would only idle "
                "capacity.",
                packs=("NIST.800.53.R5", "HIPAA.Security"),
            ),
            **controls(
                "LambdaDLQ",
                f"The {what} is invoked synchronously by CloudFormation's "
                "custom-resource protocol, which records every failure in the stack "
                "events; nothing is queued to lose.",
                packs=("NIST.800.53.R5", "HIPAA.Security"),
            ),
            **own_findings,
        },
    )


def _construct_id(addon: str) -> str:
    """'aws-load-balancer-controller' -> 'AwsLoadBalancerController' (stable: add-on names
    are fixed by POD_IDENTITIES and ADDONS)."""
    return "".join(part.capitalize() for part in addon.split("-"))


def _key(scope: Construct, id_: str, description: str) -> kms.Key:
    return platform_key(
        scope,
        id_,
        description=description,
        removal_policy=RemovalPolicy.RETAIN,
    )


def _node_role(scope: Construct, id_: str, what: str) -> iam.Role:
    role = iam.Role(
        scope,
        id_,
        description=f"Instance role of {what}",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(name)
            for name in AWS_MANAGED_NODE_POLICIES
        ],
    )
    acknowledge_all(
        role,
        {
            aws_managed_policy_finding(name): (
                f"{name} is the AWS-maintained minimum for an EKS node ({what}); AWS updates "
                "it as EKS and the AMIs change, which a copy would not track."
            )
            for name in AWS_MANAGED_NODE_POLICIES
        },
    )
    return role


def _validate(
    min_size: int,
    max_size: int,
    desired: int | None,
    fargate_namespaces: Sequence[str],
    addon_versions: Mapping[str, str],
    ami_type: str,
) -> None:
    if not 1 <= min_size <= max_size:
        raise ValueError(f"node_min_size: must be 1..node_max_size ({max_size}); got {min_size}")
    if desired is not None and not min_size <= desired <= max_size:
        raise ValueError(f"node_desired_size: must be within min and max; got {desired}")
    if len(fargate_namespaces) > 5:
        raise ValueError(
            f"fargate_namespaces: a Fargate profile takes at most 5; got {len(fargate_namespaces)}"
        )
    unknown = sorted(set(addon_versions) - set(ADDONS))
    if unknown:
        raise ValueError(f"addon_versions: unknown add-on(s) {unknown}; known: {list(ADDONS)}")
    if not hasattr(eks.NodegroupAmiType, ami_type.upper()):
        raise ValueError(f"node_ami_type: not an EKS AMI type; got {ami_type!r}")
