"""The organisation's service control policies and tag policy, as plain documents.

Plain data (no aws_cdk import): the Organization stack attaches them, the tests read them, and
a reviewer can diff them. Every SCP is a deny list; the organisation keeps AWS's default
`FullAWSAccess` policy as the allow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from facts.cdk import BOOTSTRAP_ROLE_NAME, CDK_NAME_PREFIX, cdk_role_arn

SCP_MAX_CHARACTERS = 5120
"""AWS Organizations' limit on a service control policy document."""
SCP_MAX_PER_TARGET = 5
"""SCPs attached to one OU or account, AWS's `FullAWSAccess` included: why the denies below
are combined into a few documents instead of one policy each."""

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

SILENCING_ACTIONS = (
    # GuardDuty: suppression (archive) filters, trusted IP lists, threat lists, where findings
    # are exported, malware-scan exclusions, member and organisation-wide protections.
    "guardduty:CreateFilter",
    "guardduty:UpdateFilter",
    "guardduty:CreateIPSet",
    "guardduty:UpdateIPSet",
    "guardduty:DeleteIPSet",
    "guardduty:CreateTrustedEntitySet",
    "guardduty:UpdateTrustedEntitySet",
    "guardduty:UpdateThreatIntelSet",
    "guardduty:DeleteThreatIntelSet",
    "guardduty:CreatePublishingDestination",
    "guardduty:UpdatePublishingDestination",
    "guardduty:DeletePublishingDestination",
    "guardduty:UpdateMalwareScanSettings",
    "guardduty:UpdateMemberDetectors",
    "guardduty:DisassociateMembers",
    # Security Hub: automation rules (which can suppress findings), controls, settings,
    # finding imports, the organisation's auto-enable, the cross-region aggregator.
    "securityhub:CreateAutomationRule",
    "securityhub:BatchUpdateAutomationRules",
    "securityhub:BatchDeleteAutomationRules",
    "securityhub:CreateAutomationRuleV2",
    "securityhub:UpdateAutomationRuleV2",
    "securityhub:UpdateStandardsControl",
    "securityhub:BatchUpdateStandardsControlAssociations",
    "securityhub:DisableImportFindingsForProduct",
    "securityhub:UpdateFindingAggregator",
    "securityhub:DeleteFindingAggregator",
    "securityhub:DisassociateMembers",
    # Config: what the recorder records and where it delivers.
    "config:PutConfigurationRecorder",
    "config:AssociateResourceTypes",
    "config:DisassociateResourceTypes",
    "config:PutDeliveryChannel",
    "config:PutConfigurationAggregator",
    "config:DeleteConfigRule",
    # The VPCs' flow logs.
    "ec2:DeleteFlowLogs",
    # Access Analyzer: archive rules archive findings as they arrive.
    "access-analyzer:CreateArchiveRule",
    "access-analyzer:UpdateArchiveRule",
    "access-analyzer:ApplyArchiveRule",
    # The account-wide S3 Block Public Access.
    "s3:PutAccountPublicAccessBlock",
)
"""Changes that leave a security service on but blind it: each action name checked against
the Service Authorization Reference (as cfn-lint ships it; `tests/test_guardrails.py`)."""

AUTO_ENABLE_ACTIONS = ("securityhub:UpdateOrganizationConfiguration",)
"""Security Hub's organisation auto-enable: set by CloudFormation in the home region and by
the security account's setup function in the other allowed regions (a per-region setting
that CloudFormation sets only in the stack's region), so both may, nobody else."""

SETUP_ACTIONS = (
    "guardduty:UpdateOrganizationConfiguration",
    "securityhub:UpdateSecurityHubConfiguration",
)
"""Organisation-wide detection switches that CloudFormation has no resource for: the security
account's setup function (a custom resource) sets them, and only it may."""

ROLE_CHANGES = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
)
"""Everything that creates, deletes or changes a role: who may assume it (trust policy),
what it may do (inline and attached policies, boundary), its tags and description."""
POLICY_CHANGES = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:DeletePolicy",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
"""Everything that creates, changes or deletes a customer managed policy."""
STACK_CHANGES = (
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DeleteStack",
    "cloudformation:CreateChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:ContinueUpdateRollback",
    "cloudformation:RollbackStack",
    "cloudformation:CancelUpdateStack",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateTerminationProtection",
)
"""What runs a stack's operations. CloudFormation keeps using the service role a stack was
deployed with for every later operation on it, even for a caller who may not pass that role
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
so whoever may update a platform stack acts as the execution role."""

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
KEY_DESTRUCTIVE_ACTIONS = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:DisableKeyRotation",
    "kms:DeleteImportedKeyMaterial",
)
"""What makes a key's ciphertext unreadable (deletion, disabling, key material) or hands its
use to someone (key policy, grants)."""
FUNCTION_CHANGES = (
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:AddPermission",
    "lambda:InvokeFunction",
)
"""Changing, deleting, exposing or invoking a function: invoking it with an event of one's
own makes it act with its role."""


OWN_ACCOUNT = "${aws:PrincipalAccount}"
"""The caller's account, as an IAM policy variable SCPs resolve
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)."""


@dataclass(frozen=True)
class DeployPath:
    """The principals of the deploy path, as the exact ARNs of the caller's own account
    (`deploy_path` builds them).

    Exact ARNs rather than `arn:aws:iam::*:role/cdk-...-*` patterns: an SCP limits the
    principals of the account it applies to, and any administrator there can create a role
    whose name matches a pattern; none can create a second role with an existing name, and
    `protect_deploy_path()` denies everyone but the bootstrap path changing these roles.

    Each is written once per region with `${aws:PrincipalAccount}` for the account, which
    resolves to one exact ARN in the caller's account: an SCP whose exemptions list every
    account's roles in every region would outgrow AWS's 5,120 characters with a few more
    accounts or regions. An SCP only ever judges principals of the account it applies to, so
    for the accounts in `accounts` this exempts exactly the roles an explicit list would; in
    any other account of the organisation (one created or invited outside the config, perhaps
    with CDK's own bootstrap) `protect_deploy_path()` lets nobody create, change or pass a
    `cdk-` role, so no role of these names can be put to work there.
    """

    accounts: tuple[str, ...]
    """The member accounts the platform deploys (their ids)."""
    bootstrap: tuple[str, ...]
    """`OrganizationAccountAccessRole`: creates and changes the CDK bootstrap (`make
    bootstrap`)."""
    deploy: tuple[str, ...]
    """The CDK deploy role in each region: starts deployments and passes the execution role to
    CloudFormation (the bootstrap template's deploy role policy is the only grant of
    iam:PassRole on it)."""
    execution: tuple[str, ...]
    """The CDK CloudFormation execution role in each region: what deploys the platform's
    stacks, so the only principal that may change what they hold."""
    stacks: tuple[str, ...]
    """ARN patterns of the platform's stacks."""

    def execution_in(self, account: str) -> tuple[str, ...]:
        """The execution roles of one account, written out."""
        return tuple(arn.replace(OWN_ACCOUNT, account) for arn in self.execution)


def deploy_path(
    account_ids: Sequence[str], regions: Sequence[str], stack_names: Sequence[str]
) -> DeployPath:
    """`account_ids`: the member accounts the platform deploys; `regions`: where each of them
    is bootstrapped (all in the same ones: the exemptions name a role per region, whatever the
    account); `stack_names`: the platform's stack-name patterns (`dev-*`)."""
    return DeployPath(
        accounts=tuple(sorted(account_ids)),
        bootstrap=(f"arn:aws:iam::{OWN_ACCOUNT}:role/{BOOTSTRAP_ROLE_NAME}",),
        deploy=tuple(cdk_role_arn("deploy", OWN_ACCOUNT, r) for r in sorted(regions)),
        execution=tuple(cdk_role_arn("cfn-exec", OWN_ACCOUNT, r) for r in sorted(regions)),
        stacks=tuple(f"arn:aws:cloudformation:*:*:stack/{name}/*" for name in stack_names),
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


def _unless(principals: Iterable[str]) -> dict:
    """Only the principals listed (exact ARNs, no wildcard) escape the deny."""
    arns = sorted(set(principals))
    if any("*" in arn or "?" in arn for arn in arns):
        raise ValueError(f"exemptions must be exact role ARNs: {arns}")
    return {"ArnNotEquals": {"aws:PrincipalArn": arns}}


def baseline(path: DeployPath, *, setup_role: str, security_deployers: Sequence[str] = ()) -> dict:
    """What every member account is denied: leaving the organisation, acting as root,
    creating long-lived access keys, sharing resources outside the organisation, creating an
    internet-facing load balancer (or one without a scheme: AWS's default is internet-facing)
    or a Gateway Load Balancer (it has no scheme), turning
    off or blinding the security services except by the platform's own deployments (the
    execution roles), and the organisation-wide detection switches (`SETUP_ACTIONS`) except
    by `setup_role` (the security account's setup function; `protect_log_archive` keeps
    everyone but the execution role from changing, passing or invoking it), Security Hub's
    auto-enable (`AUTO_ENABLE_ACTIONS`) except by `setup_role` and `security_deployers` (the
    security account's execution roles: only the delegated administrator can call it)."""
    return _document(
        _deny("DenyLeavingTheOrganization", ["organizations:LeaveOrganization"]),
        _deny(
            "DenyMemberAccountRootUser",
            ["*"],
            StringLike={"aws:PrincipalArn": "arn:aws:iam::*:root"},
        ),
        _deny("DenyLongLivedAccessKeys", ["iam:CreateAccessKey"]),
        # https://docs.aws.amazon.com/ram/latest/userguide/security-scp.html
        _deny(
            "DenySharingOutsideTheOrganization",
            ["ram:CreateResourceShare", "ram:UpdateResourceShare"],
            Bool={"ram:RequestedAllowsExternalPrincipals": "true"},
        ),
        _deny(
            "DenyDisablingSecurityServices",
            [*SECURITY_SERVICE_ACTIONS, *SILENCING_ACTIONS],
            **_unless(path.execution),
        ),
        _deny("DenyChangingDetectionSettings", SETUP_ACTIONS, **_unless([setup_role])),
        _deny(
            "DenyChangingAutoEnable",
            AUTO_ENABLE_ACTIONS,
            **_unless([setup_role, *security_deployers]),
        ),
        # The internet reaches workloads only through CloudFront and WAF (a VPC origin to an
        # internal ALB): no one, the deploy path included, creates an internet-facing load
        # balancer. One action serves ELBv2 and classic ELB, and both authorise it with
        # `elasticloadbalancing:Scheme` (Service Authorization Reference,
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
        # and list_awselasticloadbalancing.html). Anything but `internal` is denied: a
        # request that names no scheme gets AWS's default, internet-facing.
        _deny(
            "DenyInternetFacingLoadBalancers",
            ["elasticloadbalancing:CreateLoadBalancer"],
            StringNotEquals={"elasticloadbalancing:Scheme": "internal"},
        ),
    )


def protect_deploy_path(path: DeployPath) -> dict:
    """The deploy path cannot be changed, borrowed or bypassed inside a member account:

    - the CDK bootstrap's roles and managed policies (`cdk-<qualifier>-*`, the permissions
      boundary and the execution policies included) and `OrganizationAccountAccessRole` are
      created and changed by the bootstrap path only;
    - the bootstrap's roles are passed to a service by the deploy roles only (CloudFormation
      is handed the execution role);
    - the platform's stacks are operated by the deploy roles only, since an update by anyone
      else would run as the execution role (the platform has no nested stacks, which the
      execution role would operate: `tests/test_guardrails.py` checks that).
    """
    roles = f"arn:aws:iam::*:role/{CDK_NAME_PREFIX}*"
    bootstrap_role = f"arn:aws:iam::*:role/{BOOTSTRAP_ROLE_NAME}"
    return _document(
        _deny(
            "DenyChangingTheDeployPath",
            [*ROLE_CHANGES, *POLICY_CHANGES],
            [roles, bootstrap_role, f"arn:aws:iam::*:policy/{CDK_NAME_PREFIX}*"],
            **_unless(path.bootstrap),
        ),
        # One statement for both (the same exemption; IAM matches an action only with its own
        # resource type, so iam:PassRole never meets a stack nor a stack action a role).
        _deny(
            "DenyPassingOrOperatingTheDeployPath",
            ["iam:PassRole", *STACK_CHANGES],
            [roles, *path.stacks],
            **_unless(path.deploy),
        ),
        # The exemptions above name the caller's own account's roles: in an account the
        # platform does not deploy, nobody may make, change or pass a deploy-path role.
        _deny(
            "DenyTheDeployPathElsewhere",
            [*ROLE_CHANGES, "iam:PassRole"],
            [roles, bootstrap_role],
            StringNotEquals={"aws:PrincipalAccount": list(path.accounts)},
        ),
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


def protect_log_archive(
    bucket_name: str,
    *,
    config_bucket_name: str,
    account_id: str,
    deployers: Sequence[str],
    setup_role: str,
    setup_function: str,
) -> dict:
    """The security account's archive and what guards it: the bucket and the Config bucket
    beside it (neither they nor an object version deleted, their settings changed by
    `deployers` only: the account's execution roles), its keys (never
    deleted, disabled, re-permissioned or granted away but by `deployers`), and the setup
    function that `baseline` exempts (role and function changed, passed or invoked by
    `deployers` only: CloudFormation invokes a custom resource's function as the execution
    role)."""
    buckets = [f"arn:aws:s3:::{name}" for name in (bucket_name, config_bucket_name)]
    keep_out = _unless(deployers)
    return _document(
        _deny(
            "DenyDeletingTheLogArchive",
            LOG_ARCHIVE_DESTRUCTIVE_ACTIONS,
            [*buckets, *(f"{bucket}/*" for bucket in buckets)],
        ),
        _deny("DenyChangingTheLogArchive", LOG_ARCHIVE_SETTINGS_ACTIONS, buckets, **keep_out),
        _deny(
            "DenyDestroyingTheArchiveKeys",
            KEY_DESTRUCTIVE_ACTIONS,
            [f"arn:aws:kms:*:{account_id}:key/*"],
            **keep_out,
        ),
        _deny(
            "DenyBorrowingTheSecuritySetup",
            [*ROLE_CHANGES, "iam:PassRole", *FUNCTION_CHANGES],
            [setup_role, setup_function],
            **keep_out,
        ),
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
