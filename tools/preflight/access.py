"""Reaching each account: the caller's own credentials for its own account, an assumed
read-only role everywhere else; and reading CloudFormation stacks there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

import boto3
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
"""The role AWS Organizations creates in every account it creates (invited accounts need it
made by hand). Any role with read access will do (e.g. one with AWS's ReadOnlyAccess policy)."""
SESSION_NAME = "platform-preflight"


class AccessError(Exception):
    """An account cannot be reached. `str()` says which role and why."""


class Credentials(TypedDict, total=False):
    """An assumed role's credentials as boto3 takes them; empty: the base session's."""

    aws_access_key_id: str
    aws_secret_access_key: str
    aws_session_token: str


class Accounts:
    """boto3 clients per account: the caller's credentials in its own account, an assumed
    role's (`arn:<partition>:iam::<id>:role/<role_name>`) in any other. Each role is assumed
    once and each client made once; all come from the one base session, so botocore reads
    each service's model once however many accounts there are."""

    def __init__(self, base: boto3.Session, *, role_name: str = DEFAULT_ROLE_NAME) -> None:
        self.base = base
        self.role_name = role_name
        self.sts = base.client("sts")
        identity = self.sts.get_caller_identity()
        self.current = identity["Account"]
        self.caller = identity["Arn"]
        self.partition = identity["Arn"].split(":")[1]
        self._credentials: dict[str, Credentials | AccessError] = {self.current: {}}
        self._clients: dict[tuple[str, str, str | None], Any] = {}

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.role_name}"

    def how(self, account_id: str) -> str:
        """How the account is reached, for the access row of the table."""
        if account_id == self.current:
            return f"the current credentials ({self.caller})"
        return f"role {self.role_name}"

    def reach(self, account_id: str) -> Credentials:
        """The credentials for `account_id` ({}: the base session's); AccessError if its
        role cannot be assumed."""
        if account_id not in self._credentials:
            self._credentials[account_id] = self._assume(account_id)
        found = self._credentials[account_id]
        if isinstance(found, AccessError):
            raise found
        return found

    def client(self, account_id: str, service: str, region: str | None = None) -> Any:
        key = (account_id, service, region)
        if key not in self._clients:
            credentials = self.reach(account_id)
            self._clients[key] = self.base.client(service, region_name=region, **credentials)
        return self._clients[key]

    def _assume(self, account_id: str) -> Credentials | AccessError:
        arn = self.role_arn(account_id)
        try:
            credentials = self.sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)[
                "Credentials"
            ]
        except (ClientError, BotoCoreError) as error:
            return AccessError(f"cannot assume {arn} as {self.caller}: {error}")
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }


@dataclass(frozen=True)
class StackInfo:
    """What the preflight reads of a deployed CloudFormation stack."""

    status: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)


class Stacks(Protocol):
    """Looks a stack up by name in an account and region; None if it does not exist."""

    def describe(self, account_id: str, region: str, stack_name: str) -> StackInfo | None: ...


def describe_stack(cloudformation: Any, stack_name: str) -> StackInfo | None:
    """One stack through DescribeStacks; None when CloudFormation has no stack of that name
    (it says so with a ValidationError)."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if error.response.get("Error", {}).get("Code") == "ValidationError" and (
            "does not exist" in message
        ):
            return None
        raise
    return StackInfo(
        status=stack["StackStatus"],
        parameters={
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])
        },
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
    )


class CloudFormationStacks:
    """`Stacks` through each account's CloudFormation API, each stack read once."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self._seen: dict[tuple[str, str, str], StackInfo | None] = {}

    def describe(self, account_id: str, region: str, stack_name: str) -> StackInfo | None:
        key = (account_id, region, stack_name)
        if key not in self._seen:
            client = self.accounts.client(account_id, "cloudformation", region)
            self._seen[key] = describe_stack(client, stack_name)
        return self._seen[key]
