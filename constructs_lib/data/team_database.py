"""TeamDatabaseUsers: each team's PostgreSQL user and schema on an Aurora cluster."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from constructs_lib.shared.functions import acknowledge_handler, handler_function

CODE = Path(__file__).resolve().parents[2] / "runtime" / "team_database"
RESOURCE_TYPE = "Custom::TeamDatabaseUser"


class TeamDatabaseUsers(Construct):
    """One `Custom::TeamDatabaseUser` per team (`users`), run by one function that may execute
    statements on `cluster` only (RDS Data API) and read its master secret only.

    The function signs in as the master user and, idempotently, creates the team's role with
    `LOGIN`, grants it `rds_iam` (IAM tokens only, no password) and `CONNECT` on `database`,
    and gives it a schema of its name; when a team goes, its role loses `LOGIN` and nothing is
    dropped (runtime/team_database/handler.py).

    Exposes `users` (team user -> its custom resource) and `policy`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: rds.DatabaseCluster,
        secret_arn: str,
        key: kms.IKey,
        database: str,
        users: Sequence[str],
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        function = handler_function(
            self,
            ids=("LogKey", "Logs", "Function"),
            code=CODE,
            description="Creates the teams' PostgreSQL users and schemas (RDS Data API)",
            logs_of="the teams' PostgreSQL users",
            log_retention=log_retention,
        )
        role = function.role
        assert role is not None  # the Function made it
        self.policy = iam.Policy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="Statements",
                    actions=["rds-data:ExecuteStatement"],
                    resources=[cluster.cluster_arn],
                ),
                iam.PolicyStatement(
                    sid="MasterSecret",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[secret_arn],
                ),
                iam.PolicyStatement(
                    sid="MasterSecretKey",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"
                        }
                    },
                ),
            ],
        )
        function.node.default_child.node.add_dependency(self.policy)  # type: ignore[union-attr]
        self.users: dict[str, CustomResource] = {}
        for user in users:
            resource = CustomResource(
                self,
                f"User-{user}",
                service_token=function.function_arn,
                resource_type=RESOURCE_TYPE,
                properties={
                    "ResourceArn": cluster.cluster_arn,
                    "SecretArn": secret_arn,
                    "Database": database,
                    "User": user,
                },
            )
            resource.node.add_dependency(self.policy)  # its permissions exist first
            resource.node.add_dependency(cluster)  # the writer answers the Data API
            self.users[user] = resource
        _acknowledge(function, self.policy, role)


def _acknowledge(function: Construct, policy: iam.Policy, role: iam.IRole) -> None:
    acknowledge_handler(
        function,
        policy,
        role,
        dlq="Invoked only by CloudFormation, which waits for its answer: a failure fails the "
        "deployment.",
        concurrency="Invoked only by CloudFormation, once per team user and deployment.",
        outside_vpc="It calls only the RDS Data API's HTTPS endpoint; it needs no path to the "
        "database.",
    )
