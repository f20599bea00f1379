"""The EKS clusters of the sample organisation, from the one session synth, and the
construct's own validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from constructs_lib.eks.cluster import ADDONS, POD_IDENTITIES, PlatformCluster
from constructs_lib.network.vpc import PlatformNetwork
from tests.conftest import TEST_AZS, new_stack
from tests.helpers import by_sid, no_tags, one

ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


@pytest.fixture(scope="module")
def clusters(organisation):
    return organisation.stacks_named("Cluster")


def test_every_workload_and_the_hub_has_a_cluster_on_the_configured_version(
    clusters, sample_config
):
    assert set(clusters) == {"shared-services", "dev", "staging", "prod", "sandbox"}
    for stage, stack in clusters.items():
        stack.cdk_template.resource_count_is("AWS::EKS::Cluster", 1)
        stack.cdk_template.has_resource_properties(
            "AWS::EKS::Cluster",
            {
                "Name": f"exco-{stage}",
                "Version": sample_config.accounts[stage].cluster.kubernetes_version,
            },
        )


def test_kubectl_layer_matches_the_cluster_version(clusters):
    for stack in clusters.values():
        version = one(stack, "AWS::EKS::Cluster")["Version"]
        layers = [
            r["Properties"]["Description"]
            for r in stack.of_type("AWS::Lambda::LayerVersion").values()
        ]
        assert any(d.startswith(f"/opt/kubectl/kubectl {version}.") for d in layers), layers


def test_control_plane_is_private_logged_encrypted_and_api_authenticated(clusters):
    template = clusters["dev"].cdk_template
    key = Capture()
    template.resource_count_is("AWS::EKS::Cluster", 1)
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "ResourcesVpcConfig": {"EndpointPrivateAccess": True, "EndpointPublicAccess": False},
            "Logging": {"ClusterLogging": {"EnabledTypes": [{"Type": t} for t in ALL_LOG_TYPES]}},
            "EncryptionConfig": [
                {"Resources": ["secrets"], "Provider": {"KeyArn": {"Fn::GetAtt": [key, "Arn"]}}}
            ],
            "AccessConfig": Match.object_equals(
                {"AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": False}
            ),
            # Not Auto Mode: our node groups.
            "ComputeConfig": Match.object_equals({"Enabled": False}),
        },
    )
    assert clusters["dev"].resources[key.as_string()]["Properties"]["EnableKeyRotation"] is True


def test_control_plane_security_group_is_minimal(clusters, sample_config):
    """Outbound to the VPC only; inbound only the Kubernetes API from the GitOps hub's VPC
    (dev is a spoke), over the Transit Gateway."""
    cluster = one(clusters["dev"], "AWS::EKS::Cluster")
    (group_ref,) = cluster["ResourcesVpcConfig"]["SecurityGroupIds"]
    group = clusters["dev"].resources[group_ref["Fn::GetAtt"][0]]["Properties"]
    (ingress,) = group["SecurityGroupIngress"]
    assert ingress["CidrIp"] == sample_config.accounts["shared-services"].network.cidr
    assert (ingress["IpProtocol"], ingress["FromPort"], ingress["ToPort"]) == ("tcp", 443, 443)
    (egress,) = group["SecurityGroupEgress"]
    assert egress["IpProtocol"] == "-1"
    assert "CidrBlock" in egress["CidrIp"]["Fn::GetStackOutput"]["OutputName"]  # the VPC's


def test_nodes_and_endpoint_interfaces_are_in_the_private_tier(clusters):
    cluster = one(clusters["dev"], "AWS::EKS::Cluster")
    outputs = [
        s["Fn::GetStackOutput"]["OutputName"] for s in cluster["ResourcesVpcConfig"]["SubnetIds"]
    ]
    assert outputs and all("PrivateSubnet" in name for name in outputs)
    nodegroup = one(clusters["dev"], "AWS::EKS::Nodegroup")
    assert all(
        "PrivateSubnet" in s["Fn::GetStackOutput"]["OutputName"] for s in nodegroup["Subnets"]
    )


def test_public_endpoint_only_from_configured_cidrs(clusters):
    template = clusters["sandbox"].cdk_template
    template.resource_count_is("AWS::EKS::Cluster", 1)
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "ResourcesVpcConfig": {
                "EndpointPrivateAccess": True,
                "EndpointPublicAccess": True,
                "PublicAccessCidrs": ["203.0.113.0/24"],
            }
        },
    )


def test_access_entries_for_admins_viewers_and_karpenter_nodes(clusters):
    entries = [
        no_tags(e["Properties"]) for e in clusters["prod"].of_type("AWS::EKS::AccessEntry").values()
    ]
    by_principal = {json.dumps(e["PrincipalArn"]): e for e in entries}

    def policy(entry):
        (access,) = entry["AccessPolicies"]
        return access["PolicyArn"]["Fn::Join"][1][-1].rsplit("/", 1)[1]

    assert policy(by_principal['"arn:aws:iam::666666666666:role/PlatformAdmin"']) == (
        "AmazonEKSClusterAdminPolicy"
    )
    for viewer in ("Developer", "OnCall"):
        entry = by_principal[f'"arn:aws:iam::666666666666:role/{viewer}"']
        assert policy(entry) == "AmazonEKSViewPolicy"
        assert entry["AccessPolicies"][0]["AccessScope"] == {"Type": "cluster"}
    (karpenter,) = [e for e in entries if e.get("Type") == "EC2_LINUX"]
    assert karpenter["AccessPolicies"] == []
    assert "KarpenterNodeRole" in karpenter["PrincipalArn"]["Fn::GetAtt"][0]


def test_system_node_group_from_config(clusters, sample_config):
    for stage in ("dev", "prod"):
        nodes = sample_config.accounts[stage].cluster.system_nodes
        template = clusters[stage].cdk_template
        template.resource_count_is("AWS::EKS::Nodegroup", 1)
        template.has_resource_properties(
            "AWS::EKS::Nodegroup",
            {
                "AmiType": nodes.ami_type.upper(),
                "InstanceTypes": list(nodes.instance_types),
                "ScalingConfig": Match.object_equals(
                    {
                        "MinSize": nodes.min_size,
                        "MaxSize": nodes.max_size,
                        "DesiredSize": nodes.desired_size or nodes.min_size,
                    }
                ),
            },
        )


@pytest.mark.parametrize(
    ("stage", "device", "size"), [("dev", "/dev/xvda", 50), ("prod", "/dev/xvdb", 100)]
)
def test_launch_template_requires_imdsv2_and_encrypts_volumes(clusters, stage, device, size):
    template = clusters[stage].cdk_template
    template.resource_count_is("AWS::EC2::LaunchTemplate", 1)
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "MetadataOptions": Match.object_equals(
                    {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
                ),
                "BlockDeviceMappings": Match.exact(
                    [
                        {
                            "DeviceName": device,
                            "Ebs": {
                                "DeleteOnTermination": True,
                                "Encrypted": True,
                                "VolumeSize": size,
                                "VolumeType": "gp3",
                            },
                        }
                    ]
                ),
            }
        },
    )


def test_fargate_profile_for_configured_namespaces(clusters):
    dev = clusters["dev"].cdk_template
    dev.resource_count_is("AWS::EKS::FargateProfile", 1)
    dev.has_resource_properties("AWS::EKS::FargateProfile", {"Selectors": [{"Namespace": "batch"}]})
    clusters["sandbox"].cdk_template.resource_count_is("AWS::EKS::FargateProfile", 0)


def test_karpenter_interruption_queue_and_rules(clusters):
    stack = clusters["dev"]
    queue_id, queue = next(iter(stack.of_type("AWS::SQS::Queue").items()))
    assert queue["Properties"]["QueueName"] == "exco-dev"
    assert queue["Properties"]["MessageRetentionPeriod"] == 300
    key_id = queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = stack.resources[key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in key_policy)
    patterns = sorted(
        (
            r["Properties"]["EventPattern"]["source"][0],
            r["Properties"]["EventPattern"]["detail-type"][0],
        )
        for r in stack.of_type("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    )
    assert patterns == [
        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("aws.health", "AWS Health Event"),
    ]
    statements = one(stack, "AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)


def test_managed_addons_with_pod_identity_for_cni_and_ebs(clusters):
    addons = {
        a["Properties"]["AddonName"]: a for a in clusters["dev"].of_type("AWS::EKS::Addon").values()
    }
    assert set(addons) == set(ADDONS)
    assert addons["vpc-cni"]["Properties"]["PodIdentityAssociations"][0]["ServiceAccount"] == (
        "aws-node"
    )
    assert (
        addons["aws-ebs-csi-driver"]["Properties"]["PodIdentityAssociations"][0]["ServiceAccount"]
        == "ebs-csi-controller-sa"
    )
    # pinned from the calendar's table (tests/test_eks_versions.py checks every cluster)
    assert addons["coredns"]["Properties"]["AddonVersion"] == "v1.14.3-eksbuild.3"


def test_pod_identity_associations_follow_the_contract(clusters):
    associations = {
        (a["Properties"]["Namespace"], a["Properties"]["ServiceAccount"])
        for a in clusters["dev"].of_type("AWS::EKS::PodIdentityAssociation").values()
    }
    assert associations == {
        tuple(POD_IDENTITIES[name])
        for name in (
            "aws-load-balancer-controller",
            "external-dns",
            "cert-manager",
            "external-secrets",
            "karpenter",
            "fluent-bit",
            "argo-rollouts",  # with the cluster's Prometheus workspace (tests/test_rollouts.py)
        )
    }
    hub = {
        a["Properties"]["ServiceAccount"]
        for a in clusters["shared-services"].of_type("AWS::EKS::PodIdentityAssociation").values()
    }
    assert "external-dns" not in hub and "cert-manager" not in hub  # the hub has no zone
    assert "argo-rollouts" not in hub  # nor a Prometheus workspace


def test_pod_roles_trust_only_pods_of_this_cluster(clusters):
    stack = clusters["dev"]
    (cluster_id,) = stack.of_type("AWS::EKS::Cluster")
    for association in stack.of_type("AWS::EKS::PodIdentityAssociation").values():
        role = stack.resources[association["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "444444444444"}
        assert trust["Condition"]["ArnEquals"] == {
            "aws:SourceArn": {"Fn::GetAtt": [cluster_id, "Arn"]}
        }


def policy_of(stack, service_account: str) -> list[dict]:
    (association,) = [
        a
        for a in stack.of_type("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == service_account
    ]
    role = association["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = [
        p
        for p in stack.of_type("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_external_dns_and_cert_manager_change_only_the_environment_zone(clusters):
    dns = by_sid(policy_of(clusters["dev"], "external-dns"))
    assert dns["ChangeRecordsInEnvironmentZone"]["Condition"] == {
        "ForAllValues:StringLike": {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                "dev.example.com",
                "*.dev.example.com",
            ]
        }
    }
    acme = by_sid(policy_of(clusters["dev"], "cert-manager"))["AnswerDns01Challenges"]
    assert acme["Condition"]["ForAllValues:StringEquals"] == {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]
    }
    assert acme["Condition"]["ForAllValues:StringLike"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    ] == ["_acme-challenge.dev.example.com", "_acme-challenge.*.dev.example.com"]


def test_external_secrets_reads_only_the_environment_path(clusters):
    read = by_sid(policy_of(clusters["staging"], "external-secrets"))["ReadEnvironmentSecrets"]
    assert read["Resource"] == "arn:aws:secretsmanager:eu-west-1:555555555555:secret:exco/staging/*"
    assert not [
        a for a in read["Action"] if a.startswith(("secretsmanager:Put", "secretsmanager:Delete"))
    ]


def test_karpenter_may_pass_only_its_node_role_and_read_only_its_queue(clusters):
    statements = by_sid(policy_of(clusters["dev"], "karpenter"))
    assert statements["PassNodeRole"]["Resource"]["Fn::GetAtt"][0].startswith(
        "ClusterKarpenterNodeRole"
    )
    assert statements["PassNodeRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}
    }
    (queue_id,) = clusters["dev"].of_type("AWS::SQS::Queue")
    assert statements["ConsumeInterruptionQueue"]["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert statements["DeleteOwnInstances"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/exco-dev": "owned"
    }


def test_fluent_bit_writes_only_its_log_group(clusters):
    (statement,) = policy_of(clusters["dev"], "fluent-bit")
    ((group_id, group),) = [
        (k, v)
        for k, v in clusters["dev"].of_type("AWS::Logs::LogGroup").items()
        if "ApplicationLogs" in k
    ]
    assert statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert group["Properties"]["LogGroupName"] == "/aws/containerinsights/exco-dev/application"
    assert group["Properties"]["RetentionInDays"] == 30
    assert "KmsKeyId" in group["Properties"]


def test_outputs_for_the_gitops_side(clusters):
    outputs = clusters["dev"].template["Outputs"]
    described = {o.get("Description") for o in outputs.values()}
    assert {
        "EKS cluster name",
        "Kubernetes API endpoint",
        "Role for EC2NodeClass spec.role",
        "Karpenter settings.interruptionQueue",
    } <= described
    assert not [o for o in outputs.values() if "Export" in o], "no cross-stack exports"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"node_min_size": 5, "node_max_size": 2},
            r"node_min_size: must be 1\.\.node_max_size \(2\); got 5",
        ),
        (
            {"fargate_namespaces": [f"n{i}" for i in range(6)]},
            "fargate_namespaces: a Fargate profile takes at most 5; got 6",
        ),
        ({"addon_versions": {"istio": "1"}}, r"addon_versions: unknown add-on\(s\) \['istio'\]"),
        ({"node_ami_type": "WINDOWS"}, "node_ami_type: not an EKS AMI type; got 'WINDOWS'"),
        ({"kubernetes_version": "1.29"}, "kubernetes_version: no kubectl layer for '1.29'"),
    ],
)
def test_invalid_props_name_the_prop_and_value(props, message):
    stack = new_stack()
    network = PlatformNetwork(stack, "Net", cidr="10.0.0.0/16", availability_zones=TEST_AZS[:2])
    with pytest.raises(ValueError, match=message):
        PlatformCluster(
            stack,
            "Cluster",
            **{
                "cluster_name": "test",
                "kubernetes_version": "1.35",
                "vpc": network.vpc,
                "subnets": network.private_subnets,
                "secrets_prefix": "test/",
                **props,
            },
        )


def test_nodes_carry_the_workload_clients_group_and_keep_the_cluster_group(clusters):
    """The data services and the edge admit the network stack's workload-clients group; a
    launch template naming groups must also name the cluster group, which EKS then no longer
    adds itself."""
    template = clusters["prod"]
    (launch_template,) = template.of_type("AWS::EC2::LaunchTemplate").values()
    groups = launch_template["Properties"]["LaunchTemplateData"]["SecurityGroupIds"]
    rendered = json.dumps(groups)
    assert "ClusterSecurityGroupId" in rendered
    assert "WorkloadClients" in rendered and '"StackName": "prod-Network"' in rendered
    assert len(groups) == 2
