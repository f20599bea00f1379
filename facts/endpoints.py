"""The interface (PrivateLink) endpoints `PlatformNetwork` can create, as plain data.

Kept free of aws_cdk imports so the config model can validate names against it without
starting jsii. Each service name maps to the construct id of its endpoint: ids are a contract
(renaming one replaces the endpoint), so they are spelled out here, never derived.
"""

from types import MappingProxyType

INTERFACE_ENDPOINT_IDS = MappingProxyType(
    {
        "autoscaling": "AutoScalingEndpoint",
        "ec2": "Ec2Endpoint",
        "ec2messages": "Ec2MessagesEndpoint",
        "ecr.api": "EcrApiEndpoint",
        "ecr.dkr": "EcrDockerEndpoint",
        "eks": "EksEndpoint",
        "eks-auth": "EksAuthEndpoint",
        "elasticloadbalancing": "ElasticLoadBalancingEndpoint",
        "kms": "KmsEndpoint",
        "logs": "CloudWatchLogsEndpoint",
        "monitoring": "CloudWatchMonitoringEndpoint",
        "secretsmanager": "SecretsManagerEndpoint",
        "sqs": "SqsEndpoint",
        "ssm": "SsmEndpoint",
        "ssmmessages": "SsmMessagesEndpoint",
        "sts": "StsEndpoint",
        "xray": "XRayEndpoint",
    }
)
"""Service name (as in `com.amazonaws.<region>.<name>`) -> construct id of its endpoint."""

DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "sts", "logs")
"""What private nodes need to pull images, assume roles and ship logs without NAT."""
