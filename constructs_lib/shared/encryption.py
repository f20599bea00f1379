"""Keys shared by several constructs, and the key policy every platform key starts from."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

GRANTS_FOR_AWS_RESOURCES = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
"""A grant only an AWS service integrated with KMS asks for, for a resource it manages (an EBS
volume, a database): https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource"""


KEY_ACTIONS_BUT_GRANTS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:GenerateMac",
    "kms:Get*",
    "kms:ImportKeyMaterial",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:ReEncrypt*",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
    "kms:Verify",
    "kms:VerifyMac",
)
"""Every action of the KMS key resource type but kms:CreateGrant (Service Authorization
Reference, AWS KMS), spelled out: an `Allow` with `NotAction` would be refused by the
platform's own rule, and `kms:*` would include the grant."""


@cache
def _account_root() -> iam.AccountRootPrincipal:
    """The account's root principal, made once: it names `${AWS::AccountId}` of whichever
    stack renders it, and each new one is a jsii round trip (one per platform key)."""
    return iam.AccountRootPrincipal()


def key_policy(
    scope: Construct, *, administration: Sequence[str] | None = None
) -> iam.PolicyDocument:
    """The account's part of a key policy (what IAM policies of the account can be given):

    - `administration` None: everything but kms:CreateGrant, which is given only for AWS
      resources (`GRANTS_FOR_AWS_RESOURCES`): a principal cannot hand the key's use to another
      principal by a grant of its own;
    - `administration` listed: those actions only (no cryptographic use, no grants), for a
      key whose use the policy gives statement by statement.
    """
    account = _account_root()
    if administration is not None:
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="AccountAdministersTheKey",
                    principals=[account],
                    actions=list(administration),
                    resources=["*"],
                )
            ]
        )
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="AccountUsesAndAdministersTheKey",
                principals=[account],
                actions=list(KEY_ACTIONS_BUT_GRANTS),
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="AccountGrantsForAWSResourcesOnly",
                principals=[account],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions=GRANTS_FOR_AWS_RESOURCES,
            ),
        ]
    )


def platform_key(scope: Construct, id_: str, **props: Any) -> kms.Key:
    """A `kms.Key` (`props` as kms.Key's; rotation on unless said otherwise) whose policy is
    `key_policy(scope)` instead of CDK's default `kms:*` for the account; statements added
    later (`add_to_resource_policy`, grants) join it."""
    props.setdefault("enable_key_rotation", True)
    return kms.Key(scope, id_, policy=key_policy(scope), **props)


def log_group_key(scope: Construct, id_: str, *, description: str) -> kms.Key:
    """A rotating CMK that CloudWatch Logs may use for this account's log groups only."""
    stack = Stack.of(scope)
    key = platform_key(scope, id_, description=description)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key
