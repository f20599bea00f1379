"""The organisation's service control policies and tag policy, as plain documents.

Plain data (no aws_cdk import): the Organization stack attaches them, the tests read them, and
a reviewer can diff them. Every SCP is a deny list; the organisation keeps AWS's default
`FullAWSAccess` policy as the allow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from facts.cdk import CDK_QUALIFIER

SCP_MAX_CHARACTERS = 5120
"""AWS Organizations' limit on a service control policy document."""
SCP_MAX_PER_TARGET = 5
"""SCPs attached to one OU or account, AWS's `FullAWSAccess` included: why the denies below
are combined into a few documents instead of one policy each."""

CDK_DEPLOY_ROLE_PATTERN = f"arn:aws:iam::*:role/cdk-{CDK_QUALIFIER}-cfn-exec-role-*"
"""CloudFormation's execution role from the CDK bootstrap (default qualifier): the only
principal that may change the security services and the log archive's settings, because the
platform itself deploys them."""

GLOBAL_SERVICES = (
    "account:*",
    "acm:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "cur:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "kms:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf:*",
    "wafv2:*",
)
"""Actions exempt from the region deny: global services whose calls go to us-east-1 (or no
region) whatever region the caller works in. Taken from AWS's example region-deny SCP
(Organizations user guide), trimmed to the services this platform uses."""

SECURITY_SERVICE_ACTIONS = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "guardduty:DeleteDetector",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:UpdateDetector",
    "guardduty:DeleteMembers",
    "guardduty:StopMonitoringMembers",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
    "securityhub:BatchDisableStandards",
    "securityhub:DeleteMembers",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationAggregator",
    "access-analyzer:DeleteAnalyzer",
)
"""Turning off or deleting CloudTrail, GuardDuty, Security Hub, Config or Access Analyzer."""

LOG_ARCHIVE_SETTINGS_ACTIONS = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketLogging",
)
LOG_ARCHIVE_DESTRUCTIVE_ACTIONS = (
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
)


def _deny(
    sid: str, actions: Sequence[str], resources: Sequence[str] = ("*",), **condition: Any
) -> dict:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Deny",
        "Action": list(actions),
        "Resource": list(resources) if len(resources) > 1 else resources[0],
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _not_deployer() -> dict:
    return {"ArnNotLike": {"aws:PrincipalArn": CDK_DEPLOY_ROLE_PATTERN}}


def baseline() -> dict:
    """What every member account is denied: leaving the organisation, turning off the
    security services (except by the platform's own deployments), acting as root, and
    creating long-lived access keys."""
    return _document(
        _deny("DenyLeavingTheOrganization", ["organizations:LeaveOrganization"]),
        {
            **_deny("DenyDisablingSecurityServices", SECURITY_SERVICE_ACTIONS),
            "Condition": _not_deployer(),
        },
        _deny(
            "DenyMemberAccountRootUser",
            ["*"],
            StringLike={"aws:PrincipalArn": "arn:aws:iam::*:root"},
        ),
        _deny("DenyLongLivedAccessKeys", ["iam:CreateAccessKey"]),
    )


def deny_regions_outside(allowed_regions: Sequence[str]) -> dict:
    return _document(
        {
            "Sid": "DenyRegionsOutsideTheAllowedList",
            "Effect": "Deny",
            "NotAction": list(GLOBAL_SERVICES),
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": sorted(allowed_regions)}},
        }
    )


def protect_log_archive(bucket_name: str) -> dict:
    bucket = f"arn:aws:s3:::{bucket_name}"
    return _document(
        _deny(
            "DenyDeletingTheLogArchive", LOG_ARCHIVE_DESTRUCTIVE_ACTIONS, [bucket, f"{bucket}/*"]
        ),
        {
            **_deny("DenyChangingTheLogArchive", LOG_ARCHIVE_SETTINGS_ACTIONS, [bucket]),
            "Condition": _not_deployer(),
        },
    )


def tag_policy(tags: Iterable[str], environments: Sequence[str]) -> dict:
    """The cost-allocation tag keys, spelled as config spells them, and `Environment` limited
    to the account roles."""
    policy: dict[str, Any] = {
        key: {"tag_key": {"@@assign": key}} for key in sorted({*tags} - {"Environment"})
    }
    policy["Environment"] = {
        "tag_key": {"@@assign": "Environment"},
        "tag_value": {"@@assign": sorted(environments)},
    }
    return {"tags": policy}


def size(document: Mapping[str, Any]) -> int:
    """Characters the document takes as CloudFormation hands it over (compact JSON)."""
    return len(json.dumps(document, separators=(",", ":")))
