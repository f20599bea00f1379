"""SSM parameters between the stacks of one account: the cluster publishes its security
group, the data and edge stacks read it and publish what applications need."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm

from config import PlatformConfig
from stages.naming import CLUSTER_SECURITY_GROUP, parameter_name


def cluster_security_group(
    stack: Stack, config: PlatformConfig, account_name: str
) -> ec2.ISecurityGroup:
    """The cluster security group (construct id "ClusterSecurityGroup"), read from the
    parameter the cluster stack writes when `stack` deploys: a parameter, not an export, so
    the cluster can be replaced without touching `stack` first."""
    return ec2.SecurityGroup.from_security_group_id(
        stack,
        "ClusterSecurityGroup",
        ssm.StringParameter.value_for_string_parameter(
            stack, parameter_name(config, account_name, *CLUSTER_SECURITY_GROUP)
        ),
        mutable=False,
    )


def publish(
    stack: Stack,
    config: PlatformConfig,
    account_name: str,
    path: str,
    value: str,
    *,
    description: str | None = None,
) -> ssm.StringParameter:
    """`value` as `/<prefix>/<account>/<path>` (construct id "Parameter-<path with '-'>"
    below the stack's first segment), for applications, External Secrets and GitOps."""
    section, _, rest = path.partition("/")
    return ssm.StringParameter(
        stack,
        "Parameter-" + rest.replace("/", "-"),
        parameter_name=parameter_name(config, account_name, section, *rest.split("/")),
        string_value=value,
        description=description,
    )
