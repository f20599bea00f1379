"""The platform's own Lambda handlers (`runtime/`), built one way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.shared.encryption import log_group_key
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies


def handler_function(
    scope: Construct,
    *,
    ids: tuple[str, str, str],
    code: Path,
    description: str,
    logs_of: str,
    log_retention: logs.RetentionDays,
    **props: Any,
) -> lambda_.Function:
    """A `runtime/` handler (`handler.handler` in `code`) as a Python 3.14 ARM function with a
    five-minute timeout, its logs in a retained group kept `log_retention` and encrypted with
    a key of its own. `ids` are the construct ids of the key, the log group and the function
    (each caller keeps its logical ids); `props` go to the function (its role, its name)."""
    key_id, logs_id, function_id = ids
    key = log_group_key(scope, key_id, description=f"Encrypts the logs of: {logs_of}")
    log_group = logs.LogGroup(
        scope,
        logs_id,
        encryption_key=key,
        retention=log_retention,
        removal_policy=RemovalPolicy.RETAIN,
    )
    return lambda_.Function(
        scope,
        function_id,
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="handler.handler",
        code=lambda_.Code.from_asset(str(code), exclude=["__pycache__", "*.pyc"]),
        timeout=Duration.minutes(5),
        memory_size=256,
        log_group=log_group,
        **props,
    )


def acknowledge_handler(
    function: Construct,
    policy: iam.Policy,
    role: iam.IRole,
    *,
    dlq: str,
    concurrency: str,
    outside_vpc: str,
) -> None:
    """The findings every custom-resource handler of the platform shares, acknowledged the
    same way: its permissions in a policy of its own (not a managed one another principal
    could get), AWS's basic execution policy, and the three Lambda controls whose reasons are
    the handler's own (`dlq`, `concurrency`, `outside_vpc`)."""
    acknowledge_control(
        policy,
        "IAMNoInlinePolicy",
        "The function's permissions belong to it alone and change with it; a managed "
        "policy could be attached to other principals.",
    )
    acknowledge_aws_managed_policies(
        role.node.default_child,  # type: ignore[arg-type]
        "AWS's basic execution policy only lets the function write its own logs.",
    )
    packs = ("NIST.800.53.R5", "HIPAA.Security")
    acknowledge_control(function, "LambdaDLQ", dlq, packs=packs)
    acknowledge_control(function, "LambdaConcurrency", concurrency, packs=packs)
    acknowledge_control(function, "LambdaInsideVPC", outside_vpc)
