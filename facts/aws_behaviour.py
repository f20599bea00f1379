"""What AWS does on its own, and what must exist before a stack can deploy: the one place.

Each entry rests on AWS's documentation (the `doc` link). The deploy rehearsal
(`tools.rehearsal`, run by `make test`) reads these tables to decide whether every stack's
needs are met by a stack deployed strictly earlier, by an organisation prerequisite, or not at
all; `make preflight` checks the prerequisites against a real organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ImplicitResource:
    """Designating `service` a delegated administrator creates (or may create) a resource of
    `resource_type` in the administrator account: a stack that declares one there fails with
    "already exists"."""

    service: str
    resource_type: str
    doc: str
    certain: bool = True
    """False where AWS's documentation is ambiguous ("may"): the stack must tolerate both."""
    where: str = "administrator"
    """"administrator": in the delegated administrator account (the rehearsal checks that no
    stack there declares one); otherwise where AWS makes it, for the record: e.g. "member VPC
    with an EKS cluster"."""


IMPLICIT_RESOURCES: tuple[ImplicitResource, ...] = (
    ImplicitResource(
        "securityhub.amazonaws.com",
        "AWS::SecurityHub::Hub",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html",
    ),
    ImplicitResource(
        "guardduty.amazonaws.com",
        "AWS::GuardDuty::Detector",
        "https://docs.aws.amazon.com/guardduty/latest/ug/delegated-admin-designate.html",
        certain=False,
    ),
    # GuardDuty Runtime Monitoring with automated agent configuration (EKS_ADDON_MANAGEMENT,
    # turned on organisation-wide by the Audit stack) makes, in every VPC of a member account
    # where an EKS cluster runs: an interface endpoint to guardduty-data, a security group
    # admitting HTTPS from the VPC to it, and the `aws-guardduty-agent` EKS add-on (so no
    # stack may declare that add-on). Its service-linked role does it, which no SCP limits.
    ImplicitResource(
        "guardduty.amazonaws.com",
        "AWS::EC2::VPCEndpoint",
        "https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html",
        where="member VPC with an EKS cluster",
    ),
    ImplicitResource(
        "guardduty.amazonaws.com",
        "AWS::EC2::SecurityGroup",
        "https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html",
        where="member VPC with an EKS cluster",
    ),
    ImplicitResource(
        "guardduty.amazonaws.com",
        "AWS::EKS::Addon",
        "https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html",
        where="member EKS cluster (the aws-guardduty-agent add-on)",
    ),
)


@dataclass(frozen=True)
class ServiceLinkedRoleNeed:
    """A resource of `resource_type` (with `when_property` set, if given) needs the
    service-linked role of `service` to exist before it is created: CloudFormation does not
    create it."""

    resource_type: str
    service: str
    role_name: str
    doc: str
    when_property: str | None = None


SERVICE_LINKED_ROLE_NEEDS: tuple[ServiceLinkedRoleNeed, ...] = (
    ServiceLinkedRoleNeed(
        "AWS::OpenSearchService::Domain",
        "opensearchservice.amazonaws.com",
        "AWSServiceRoleForAmazonOpenSearchService",
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr.html",
        when_property="VPCOptions",
    ),
)


@dataclass(frozen=True)
class WaitsForOwner:
    """Creating a resource of `resource_type` on a resource another account owns completes
    only once that owner has accepted it, unless the owner's resource accepts on its own
    (`auto_accept_property` = "enable"). CloudFormation waits for it up to the handler's
    timeout, then fails the stack."""

    resource_type: str
    owner_property: str
    """The property naming the owner's resource (read from the owner's stack)."""
    owner_type: str
    """The owner's resource the request is made to."""
    auto_accept_property: str
    acceptors: tuple[str, ...]
    """Custom resource types of the platform that accept such requests when a schedule in
    the owner's stack also runs their function (the requests come after the owner deploys)."""
    doc: str
    source: str
    """Where the wait is visible: the resource type's handler."""


WAITS_FOR_OWNER: tuple[WaitsForOwner, ...] = (
    # The handler's create stabilises on `available` only (a change to also accept
    # `pendingAcceptance` was reverted), and declares no timeoutInMinutes: the default, 120.
    WaitsForOwner(
        "AWS::EC2::TransitGatewayAttachment",
        "TransitGatewayId",
        "AWS::EC2::TransitGateway",
        "AutoAcceptSharedAttachments",
        ("Custom::TransitSegments",),
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AcceptTransitGatewayVpcAttachment.html",
        "https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-transitgateway"
        "/blob/master/aws-ec2-transitgatewayattachment/src/main/java/com/aws/ec2/"
        "transitgatewayattachment/workflow/create/Create.java",
    ),
)
"""Requests across accounts that a stack's create waits on (the deploy rehearsal checks that
the owner's acceptor deploys earlier)."""


ORGANIZATION_SETTINGS = MappingProxyType(
    {
        "ram-sharing": (
            "resource sharing with the organisation (ram:EnableSharingWithAwsOrganization, "
            "from the management account)",
            "https://docs.aws.amazon.com/ram/latest/userguide/getting-started-sharing.html"
            "#getting-started-sharing-orgs",
        ),
        "trusted-access": (
            "trusted access for the service (organizations:EnableAWSServiceAccess)",
            "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html",
        ),
        "delegated-admin": (
            "the account registered as the service's delegated administrator",
            "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html",
        ),
        # GuardDuty's regional designation: "in the current Region"
        # (https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html);
        # Security Hub's: "in each Region" (the delegated-admin-region link below).
        "delegated-admin-region": (
            "the account designated the service's delegated administrator in that region, "
            "from the management account (GuardDuty's and Security Hub's "
            "EnableOrganizationAdminAccount act in the current region only; trusted access "
            "for the service first). The Organization stack's setup does it in every "
            "`organization.allowed_regions`",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html",
        ),
        "registrar-delegation": (
            "the registrar delegates the zone to its Route 53 name servers (checked by the "
            "pipeline's DnsDelegation step)",
            "https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html",
        ),
        "policy-type": (
            "the policy type enabled at the root (ENABLED, not PENDING_ENABLE)",
            "https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnablePolicyType.html",
        ),
        # Needed by every backup plan copying into another account's vault (the data
        # accounts') and every vault admitting such copies (the security account's
        # BackupCopies); made by management/Organization's setup (`CrossAccountBackup`).
        "backup-cross-account": (
            "cross-account backup enabled for the organisation (trusted access for "
            "backup.amazonaws.com, then backup:UpdateGlobalSettings "
            "isCrossAccountBackupEnabled=true, both from the management account): without it "
            "every copy job into the security account's vault fails",
            "https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html",
        ),
    }
)
"""Organisation-level settings a stack may rely on: kind -> (what it is, documentation)."""


@dataclass(frozen=True)
class Prerequisite:
    """Something the platform never creates: it exists before the first deploy, and
    `make preflight` checks it."""

    key: str
    description: str
    doc: str


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        "organization",
        "an AWS Organization with all features, holding every configured account",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html",
    ),
    Prerequisite(
        "cdk-bootstrap",
        "the CDK bootstrap stack (roles, assets bucket, version parameter) in every account "
        "and region a stack deploys to",
        "https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping.html",
    ),
    Prerequisite(
        "pipeline-connection",
        "the CodeConnections connection to the Git host, AVAILABLE",
        "https://docs.aws.amazon.com/dtconsole/latest/userguide/connections.html",
    ),
    Prerequisite(
        "registrar-delegation",
        "the registrar of the parent domain points at the parent zone's name servers",
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/domain-name-servers-glue-records.html",
    ),
    Prerequisite(
        "external-principal",
        "IAM principals named in config (cluster admins and viewers) exist in their account",
        "https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html",
    ),
)
