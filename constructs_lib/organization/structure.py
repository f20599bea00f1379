"""OrganizationGuardrails: OUs, SCPs, the tag policy and delegated administrators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_organizations as organizations
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from constructs_lib.organization import guardrails
from constructs_lib.shared.functions import handler_function
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies, acknowledge_wildcards

HANDLER_CODE = Path(__file__).resolve().parents[2] / "runtime" / "organization_setup"
ROOT = "(root)"
"""A `ServiceControlPolicy.units` entry meaning the organisation's root: every account,
whichever OU it is in or none, is under it (the management account excepted: SCPs never
apply to it)."""
SECURITY_HUB = "securityhub.amazonaws.com"
"""The one service whose delegated administrator CloudFormation can register itself (in the
stack's region only)."""
GUARDDUTY = "guardduty.amazonaws.com"
REGIONAL_ADMINISTRATORS = (GUARDDUTY, SECURITY_HUB)
"""Services whose delegated administrator is designated in each region, through their own
EnableOrganizationAdminAccount ("in the current Region":
https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html; "in each
Region": https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html)."""


@dataclass(frozen=True)
class ServiceControlPolicy:
    name: str
    description: str
    document: Mapping[str, Any]
    units: Sequence[str]
    """The OUs (names given to `OrganizationGuardrails.units`) it is attached to, or `ROOT`."""


class OrganizationGuardrails(Construct):
    """The organisation's structure and guardrails, built in the management account.

    - One OU per key of `units`, under the root, holding the accounts listed for it (accounts
      are moved there; an account moved out of config goes back to the root).
    - `policies` as service control policies on their OUs or the root (`ROOT`); every
      document must fit the 5,120-character SCP limit, and no target may hold more than five
      SCPs, AWS's `FullAWSAccess` included. `tag_policy` on the root.
    - Trusted access for `service_access`, and each service's delegated administrator from
      `delegated_administrators` (service principal -> account id): Security Hub's through
      CloudFormation, every other one through the `OrganizationSetup` custom resource (a
      Python function, boto3 only, idempotent; see `runtime/organization_setup/handler.py`), which
      also enables the SCP and tag policy types on the root and waits until they are ENABLED
      before any policy is created or attached (each policy depends on it).
    - With `resource_sharing` (the default), RAM sharing with the organisation, which a share
      naming the organisation (the Transit Gateway's) needs; RAM's own API does it, once, from
      this account (see `OrganizationSetup.enable_resource_sharing`).
    - With `cross_account_backup`, AWS Backup's trusted access and its global setting
      `isCrossAccountBackupEnabled`, which copies into another account's vault need (see
      `OrganizationSetup.enable_cross_account_backup`); left on if this turns False.
    - The custom resource depends on its function's policy, so CloudFormation never invokes
      the function before its permissions exist.

    Exposes `units` (name -> CfnOrganizationalUnit) and `setup` (the custom resource).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        organization_id: str,
        root_id: str,
        units: Mapping[str, Sequence[str]],
        policies: Sequence[ServiceControlPolicy],
        tag_policy: Mapping[str, Any],
        service_access: Sequence[str],
        delegated_administrators: Mapping[str, str],
        admin_regions: Sequence[str] = (),
        resource_sharing: bool = True,
        cross_account_backup: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        """
        :param admin_regions: the regions where GuardDuty's and Security Hub's delegated
            administrators are designated (their designation is regional:
            `REGIONAL_ADMINISTRATORS`); default: this stack's region only.
        :param organization_id: `o-...`; scopes the function's permissions.
        :param root_id: `r-...`, the root the OUs hang from.
        :param units: OU name -> the account ids that belong in it.
        :param resource_sharing: enable RAM sharing with the organisation (left enabled if
            this later turns False or the stack is deleted: turning it off breaks every share).
        """
        super().__init__(scope, id_)
        _validate(policies, units)
        self.units = {
            name: organizations.CfnOrganizationalUnit(
                self, f"Unit-{name}", name=name, parent_id=root_id
            )
            for name in units
        }
        self._setup(
            organization_id=organization_id,
            root_id=root_id,
            units=units,
            service_access=service_access,
            delegated_administrators=delegated_administrators,
            admin_regions=admin_regions,
            resource_sharing=resource_sharing,
            cross_account_backup=cross_account_backup,
            log_retention=log_retention,
        )
        self._policies(policies, root_id=root_id, tag_policy=tag_policy)
        if SECURITY_HUB in delegated_administrators:
            admin = securityhub.CfnDelegatedAdmin(
                self, "SecurityHubAdmin", admin_account_id=delegated_administrators[SECURITY_HUB]
            )
            admin.node.add_dependency(self.setup)

    def _setup(
        self,
        *,
        organization_id: str,
        root_id: str,
        units: Mapping[str, Sequence[str]],
        service_access: Sequence[str],
        delegated_administrators: Mapping[str, str],
        admin_regions: Sequence[str],
        resource_sharing: bool,
        cross_account_backup: bool,
        log_retention: logs.RetentionDays,
    ) -> None:
        """The `OrganizationSetup` function and custom resource (`setup`): policy types,
        trusted access, RAM sharing, delegated administrators (Security Hub's in this region
        aside: `SecurityHubAdmin`; GuardDuty's and Security Hub's in every one of
        `admin_regions`), account placement; it runs only once its function's policy
        exists."""
        stack = Stack.of(self)
        regions = {
            GUARDDUTY: sorted({stack.region, *admin_regions}),
            SECURITY_HUB: sorted(set(admin_regions) - {stack.region}),
        }
        administrators = [
            {
                "ServicePrincipal": service,
                "AccountId": account,
                **({"Regions": regions[service]} if service in regions else {}),
            }
            for service, account in sorted(delegated_administrators.items())
            if service != SECURITY_HUB or regions[SECURITY_HUB]
        ]
        function = SetupFunction(
            self,
            "Function",
            description="Organizations steps CloudFormation has no resource for",
            statements=_setup_statements(
                Stack.of(self),
                organization_id,
                root_id,
                units,
                delegated_administrators,
                trusted_services=[
                    *service_access,
                    *([RAM] if resource_sharing else []),
                    *([BACKUP] if cross_account_backup else []),
                ],
                resource_sharing=resource_sharing,
                regions=regions,
                cross_account_backup=cross_account_backup,
            ),
            wildcard_reasons={
                **SETUP_WILDCARDS,
                **(BACKUP_WILDCARDS if cross_account_backup else {}),
            },
            log_retention=log_retention,
        )
        self.setup = CustomResource(
            self,
            "Setup",
            service_token=function.function.function_arn,
            resource_type="Custom::OrganizationSetup",
            properties={
                "RootId": root_id,
                "PolicyTypes": ["SERVICE_CONTROL_POLICY", "TAG_POLICY"],
                "ServiceAccess": list(service_access),
                "ResourceSharing": resource_sharing,
                "DelegatedAdministrators": administrators,
                "Placement": [
                    {"AccountId": account, "ParentId": self.units[name].attr_id}
                    for name, accounts in units.items()
                    for account in accounts
                ],
                **({"CrossAccountBackup": True} if cross_account_backup else {}),
            },
        )
        self.setup.node.add_dependency(function.policy)  # its permissions exist first

    def _policies(
        self,
        policies: Sequence[ServiceControlPolicy],
        *,
        root_id: str,
        tag_policy: Mapping[str, Any],
    ) -> None:
        """The SCPs on their OUs and the tag policy on the root, after the setup has enabled
        their policy types."""
        for policy in policies:
            scp = organizations.CfnPolicy(
                self,
                f"Scp-{policy.name}",
                name=policy.name,
                description=policy.description,
                type="SERVICE_CONTROL_POLICY",
                content=policy.document,
                target_ids=[
                    root_id if name == ROOT else self.units[name].attr_id for name in policy.units
                ],
            )
            scp.node.add_dependency(self.setup)  # the policy type is enabled there
        tags = organizations.CfnPolicy(
            self,
            "TagPolicy",
            name="cost-allocation-tags",
            description="The platform's cost-allocation tag keys and Environment values",
            type="TAG_POLICY",
            content=tag_policy,
            target_ids=[root_id],
        )
        tags.node.add_dependency(self.setup)


def _validate(policies: Sequence[ServiceControlPolicy], units: Mapping[str, Sequence[str]]) -> None:
    for policy in policies:
        size = guardrails.size(policy.document)
        if size > guardrails.SCP_MAX_CHARACTERS:
            raise ValueError(
                f"policies: {policy.name!r} is {size} characters; SCPs are limited to "
                f"{guardrails.SCP_MAX_CHARACTERS}"
            )
        unknown = set(policy.units) - {*units, ROOT}
        if unknown:
            raise ValueError(f"policies: {policy.name!r} targets unknown OUs {sorted(unknown)}")
    for target in (ROOT, *units):
        attached = [p.name for p in policies if target in p.units]
        if len(attached) + 1 > guardrails.SCP_MAX_PER_TARGET:  # FullAWSAccess is one
            raise ValueError(
                f"policies: {target} would hold {len(attached)} SCPs and FullAWSAccess; AWS "
                f"allows {guardrails.SCP_MAX_PER_TARGET} ({', '.join(attached)})"
            )


SETUP_WILDCARDS = {
    "ReadTheOrganization": "Read-only calls. ListAccounts, ListRoots, "
    "ListAWSServiceAccessForOrganization, ListDelegatedAdministrators, DescribeOrganization "
    "and ListOrganizationAdminAccounts have no resource-level permissions; DescribeAccount and "
    "DescribeOrganizationalUnit are made by GuardDuty on the accounts and OUs it chooses, and "
    "GuardDuty documents them on '*'.",
    "TrustedAccess": "EnableAWSServiceAccess has no resource type; the condition limits it to "
    "the service principals this organisation gives trusted access to.",
    "ResourceSharing": "RAM's EnableSharingWithAwsOrganization has no resource type; it only "
    "works from the management account, where this function runs.",
    "ServiceAdministrators": "CloudTrail's delegated-admin calls have no resource-level "
    "permissions; the organisation's management account is the only place they work.",
    "GuardDutyAdministrators": "GuardDuty's delegated-admin calls have no resource-level "
    "permissions; the condition limits them to the regions the platform designates it in, "
    "and only the management account can make them.",
    "FindServiceLinkedRoles": "iam:ListRoles has no resource-level permissions; the function "
    "lists only the path of RAM's service-linked role, to read whether it exists.",
    "PlaceAccounts": "OU ids are generated when CloudFormation creates them; the grant covers "
    "this organisation's OUs, its root and the named accounts only.",
}
"""Why each wildcard of the management-account function's policy is the narrowest form."""
BACKUP_WILDCARDS = {
    "CrossAccountBackup": "AWS Backup's DescribeGlobalSettings and UpdateGlobalSettings have "
    "no resource type; the global settings are the account's own, and UpdateGlobalSettings "
    "works only in the organisation's management account, where this function runs.",
}
"""The same, for the cross-account backup step's statement."""

RAM = "ram.amazonaws.com"
BACKUP = "backup.amazonaws.com"
SERVICE_LINKED_ROLES = {
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "cloudtrail.amazonaws.com": "AWSServiceRoleForCloudTrail",
    RAM: "AWSServiceRoleForResourceAccessManager",
}
"""The service-linked roles the management account's steps create (through the service that
owns each): GuardDuty's and CloudTrail's delegated-admin registrations, RAM's sharing."""


def service_linked_role_arn(stack: Stack, service: str, name: str) -> str:
    """A service-linked role's ARN: IAM keeps it under `aws-service-role/<service>/`."""
    return f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/{service}/{name}"


def _setup_statements(
    stack: Stack,
    organization_id: str,
    root_id: str,
    units: Mapping[str, Sequence[str]],
    admins: Mapping[str, str],
    *,
    trusted_services: Sequence[str],
    resource_sharing: bool,
    regions: Mapping[str, Sequence[str]],
    cross_account_backup: bool = False,
) -> list[iam.PolicyStatement]:
    """The management-account function's permissions: what it calls itself, and what the
    services it calls do with its permissions (a forward access session).

    - GuardDuty's EnableOrganizationAdminAccount needs the Organizations calls AWS documents
      for it (https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html).
    - CloudTrail's RegisterOrganizationDelegatedAdmin needs RegisterDelegatedAdministrator,
      iam:CreateServiceLinkedRole and iam:GetRole
      (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator-permissions.html).
    - RAM's EnableSharingWithAwsOrganization enables trusted access for ram.amazonaws.com and
      creates RAM's service-linked role
      (https://docs.aws.amazon.com/goto/WebAPI/ram/EnableSharingWithAwsOrganization).

    GuardDuty's admin calls have no resource type, so `aws:RequestedRegion` limits them to
    `regions[GUARDDUTY]`; Security Hub's name the management account's hub in each region
    of `regions[SECURITY_HUB]` (those its own API designates).

    iam:AWSServiceName is a condition key of iam:CreateServiceLinkedRole only
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):
    a request for iam:GetRole never carries it, so GetRole is limited by the roles' ARNs.
    """
    arn = f"arn:{stack.partition}:organizations::{stack.account}"
    accounts = sorted({*admins.values(), *(a for members in units.values() for a in members)})
    roles = {
        service: service_linked_role_arn(stack, service, name)
        for service, name in SERVICE_LINKED_ROLES.items()
        if service in admins or (service == RAM and resource_sharing)
    }
    statements = [
        iam.PolicyStatement(
            sid="ReadTheOrganization",
            actions=[
                "organizations:DescribeOrganization",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganizationalUnit",
                "organizations:ListAccounts",
                "organizations:ListRoots",
                "organizations:ListAWSServiceAccessForOrganization",
                "organizations:ListDelegatedAdministrators",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="EnablePolicyTypes",
            actions=["organizations:EnablePolicyType"],
            resources=[f"{arn}:root/{organization_id}/{root_id}"],
        ),
        iam.PolicyStatement(
            sid="TrustedAccess",
            actions=["organizations:EnableAWSServiceAccess"],
            resources=["*"],
            conditions={
                "StringEquals": {
                    "organizations:ServicePrincipal": sorted({*trusted_services, *admins})
                }
            },
        ),
        iam.PolicyStatement(
            sid="DelegatedAdministrators",
            actions=[
                "organizations:RegisterDelegatedAdministrator",
                "organizations:DeregisterDelegatedAdministrator",
            ],
            resources=[
                f"{arn}:account/{organization_id}/{a}" for a in sorted(set(admins.values()))
            ],
        ),
        iam.PolicyStatement(
            sid="ServiceAdministrators",
            actions=[
                "cloudtrail:RegisterOrganizationDelegatedAdmin",
                "cloudtrail:DeregisterOrganizationDelegatedAdmin",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="PlaceAccounts",
            actions=["organizations:MoveAccount"],
            resources=[
                *(f"{arn}:account/{organization_id}/{a}" for a in accounts),
                f"{arn}:ou/{organization_id}/ou-*",
                f"{arn}:root/{organization_id}/{root_id}",
            ],
        ),
    ]
    if GUARDDUTY in admins:
        statements.append(
            iam.PolicyStatement(
                sid="GuardDutyAdministrators",
                actions=[
                    "guardduty:ListOrganizationAdminAccounts",
                    "guardduty:EnableOrganizationAdminAccount",
                    "guardduty:DisableOrganizationAdminAccount",
                ],
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": list(regions[GUARDDUTY])}},
            )
        )
    if SECURITY_HUB in admins and regions[SECURITY_HUB]:
        statements.append(
            iam.PolicyStatement(
                sid="SecurityHubAdministrators",
                actions=[
                    "securityhub:ListOrganizationAdminAccounts",
                    "securityhub:EnableOrganizationAdminAccount",
                    "securityhub:DisableOrganizationAdminAccount",
                ],
                resources=[
                    f"arn:{stack.partition}:securityhub:{region}:{stack.account}:hub/default"
                    for region in regions[SECURITY_HUB]
                ],
            )
        )
    if cross_account_backup:
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html
        statements.append(
            iam.PolicyStatement(
                sid="CrossAccountBackup",
                actions=["backup:DescribeGlobalSettings", "backup:UpdateGlobalSettings"],
                resources=["*"],
            )
        )
    placed = sorted({a for members in units.values() for a in members})
    if placed:
        # ListParents is authorised on the child (account or OU): only the accounts the
        # function places.
        statements.append(
            iam.PolicyStatement(
                sid="ReadPlacement",
                actions=["organizations:ListParents"],
                resources=[f"{arn}:account/{organization_id}/{a}" for a in placed],
            )
        )
    if resource_sharing:
        statements += [
            iam.PolicyStatement(
                sid="ResourceSharing",
                actions=["ram:EnableSharingWithAwsOrganization"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="FindServiceLinkedRoles", actions=["iam:ListRoles"], resources=["*"]
            ),
        ]
    if roles:
        statements += [
            iam.PolicyStatement(
                sid="CreateServiceLinkedRoles",
                actions=["iam:CreateServiceLinkedRole"],
                resources=sorted(roles.values()),
                conditions={"StringEquals": {"iam:AWSServiceName": sorted(roles)}},
            ),
            iam.PolicyStatement(
                sid="ReadServiceLinkedRoles",
                actions=["iam:GetRole"],
                resources=sorted(roles.values()),
            ),
        ]
    return statements


class SetupFunction(Construct):
    """The `organization_setup` handler as a Lambda function (Python 3.14, ARM, five-minute
    timeout, KMS-encrypted logs kept `log_retention`, named `name` if given) with exactly
    `statements`; each
    wildcard is acknowledged by the reason `wildcard_reasons` gives its statement's Sid.
    Exposes `function` and `policy` (what a custom resource of the function must depend on:
    CloudFormation may otherwise invoke the function before its permissions exist)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        statements: Sequence[iam.PolicyStatement],
        wildcard_reasons: Mapping[str, str],
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        name: str | None = None,
    ) -> None:
        """
        :param name: the function's and its role's name, where a service control policy must
            name them; default: generated by CloudFormation.
        """
        super().__init__(scope, id_)
        role = None
        if name is not None:
            role = iam.Role(
                self,
                "Role",
                role_name=name,
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=description,
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name(
                        "service-role/AWSLambdaBasicExecutionRole"
                    )
                ],
            )
        self.function = handler_function(
            self,
            ids=("LogKey", "Logs", "Function"),
            code=HANDLER_CODE,
            description=description,
            logs_of=description,
            log_retention=log_retention,
            function_name=name,
            role=role,
        )
        self.policy = policy = iam.Policy(
            self, "Permissions", roles=[self.function.role], statements=list(statements)
        )
        acknowledge_wildcards(policy, wildcard_reasons)
        acknowledge_control(
            policy,
            "IAMNoInlinePolicy",
            "The function's permissions belong to it alone and change with it; a managed "
            "policy could be attached to other principals.",
        )
        role = self.function.role
        assert role is not None  # the Function made it
        acknowledge_aws_managed_policies(
            role.node.default_child,
            "AWS's basic execution policy only lets the function write its own logs.",
        )
        acknowledge_control(
            self.function,
            "LambdaDLQ",
            "CloudFormation invokes this custom resource synchronously and waits for its "
            "answer; a failure fails the deployment, which is the notification.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
        acknowledge_control(
            self.function,
            "LambdaConcurrency",
            "Invoked only by CloudFormation, once per deployment of its stack.",
            packs=("NIST.800.53.R5", "HIPAA.Security"),
        )
        acknowledge_control(
            self.function,
            "LambdaInsideVPC",
            "The account holding it has no VPC for it; the function calls only AWS APIs.",
        )
