"""A team's PostgreSQL user and schema on the account's Aurora cluster, through the RDS Data
API (no network path to the database needed) signed in as the master user (its
RDS-managed secret).

Properties (one custom resource per team): `ResourceArn` (the cluster), `SecretArn` (the
master secret), `Database` (the default database), `User` (the team's user and schema).

Create and Update run one `DO` block, atomic and idempotent: the role is created `LOGIN` if
missing (and given `LOGIN` again if a removed team comes back), granted `rds_iam` (so it can
sign in only with an IAM token) and `CONNECT` on the database, and owns a schema of its
name. Delete never drops data: the role loses `LOGIN`, its schema and tables stay.
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html#UsingWithRDS.IAMDBAuth.DBAccounts.PostgreSQL
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

Event = Mapping[str, Any]

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
"""The names this function accepts: lower case, so quoting changes nothing but safety."""


def ident(name: str) -> str:
    """`name` as a quoted identifier; only plain lower-case names are accepted."""
    if not NAME.match(name):
        raise ValueError(f"not a plain PostgreSQL name: {name!r}")
    return f'"{name}"'


def literal(name: str) -> str:
    ident(name)  # the same check: no quote can reach the literal
    return f"'{name}'"


def create_statement(user: str, database: str) -> str:
    """The user, its sign-in through IAM only, its right to connect and its schema."""
    u, lit = ident(user), literal(user)
    # PostgreSQL 16: the master user (CREATEROLE, not superuser) must be able to SET ROLE to
    # the schema's owner; createrole_self_grant gives it that on the role it creates.
    return (
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {lit}) THEN "
        "PERFORM set_config('createrole_self_grant', 'set, inherit', true); "
        f"CREATE ROLE {u} WITH LOGIN; "
        "END IF; "
        f"ALTER ROLE {u} WITH LOGIN; "
        f"GRANT rds_iam TO {u}; "
        f"GRANT CONNECT ON DATABASE {ident(database)} TO {u}; "
        f"CREATE SCHEMA IF NOT EXISTS {u} AUTHORIZATION {u}; "
        "END $$;"
    )


def delete_statement(user: str) -> str:
    """The user can no longer sign in; nothing it owns is dropped."""
    return (
        "DO $$ BEGIN "
        f"IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {literal(user)}) THEN "
        f"ALTER ROLE {ident(user)} WITH NOLOGIN; "
        "END IF; "
        "END $$;"
    )


def statement(request_type: str, properties: Mapping[str, str]) -> str:
    if request_type == "Delete":
        return delete_statement(properties["User"])
    return create_statement(properties["User"], properties["Database"])


def send_response(event: Event, status: str, reason: str, physical_id: str) -> None:
    """PUT the result to CloudFormation's pre-signed URL (the cfn-response protocol)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        LOG.info("CloudFormation answered %s", response.status)


def handler(
    event: Event,
    context: Any,
    *,
    rds_data: Any = None,
    respond: Callable[[Event, str, str, str], None] = send_response,
) -> None:
    """A custom resource: always answer CloudFormation."""
    props = event["ResourceProperties"]
    # A new user (or cluster) is a new resource: CloudFormation then deletes the old one.
    physical_id = (
        event["PhysicalResourceId"]
        if event["RequestType"] == "Delete"
        else f"{props['ResourceArn']}/{props['User']}"
    )
    try:
        client = rds_data or boto3.client("rds-data")
        client.execute_statement(
            resourceArn=props["ResourceArn"],
            secretArn=props["SecretArn"],
            database=props["Database"],
            sql=statement(event["RequestType"], props),
        )
    except Exception as error:  # answer with the reason instead of timing out
        LOG.exception("%s failed", event["RequestType"])
        respond(event, "FAILED", f"{type(error).__name__}: {error}", physical_id)
        return
    respond(event, "SUCCESS", "done", physical_id)
