"""The organisation's audit services, run from the security account as delegated
administrator: the organisation trail, GuardDuty, Security Hub, AWS Config and IAM Access
Analyzer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_accessanalyzer as accessanalyzer
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from constructs_lib.organization.structure import SetupFunction, service_linked_role_arn
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies

DataEvents = Literal["s3", "lambda"]
DATA_RESOURCES = {
    "s3": ("AWS::S3::Object", "arn:aws:s3"),
    "lambda": ("AWS::Lambda::Function", "arn:aws:lambda"),
}
"""Config's data-event names -> CloudTrail's data resource type and the value meaning 'all'."""

STANDARDS = {
    "aws-foundational": "aws-foundational-security-best-practices/v/1.0.0",
    "cis": "cis-aws-foundations-benchmark/v/3.0.0",
}
"""Security Hub standards by the names config uses."""

GUARDDUTY_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RUNTIME_MONITORING",
    "RDS_LOGIN_EVENTS",
)
"""GuardDuty protections turned on: S3, EKS (audit logs and runtime) and RDS login activity
(Aurora and RDS PostgreSQL, which the data services run) included."""
GUARDDUTY_ADDITIONAL_CONFIGURATION = {"RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",)}
"""GuardDuty manages the runtime agent itself on every EKS cluster (the `aws-guardduty-agent`
add-on, and a VPC endpoint and security group in the cluster's VPC: see
`facts.aws_behaviour.IMPLICIT_RESOURCES`), so no cluster goes unwatched for want of an agent
(https://docs.aws.amazon.com/guardduty/latest/ug/how-runtime-monitoring-works-eks.html)."""


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


class OrganizationTrail(Construct):
    """A multi-region organisation trail of management events (and `data_events`), with log
    file validation, encrypted with the archive's key, written to the archive bucket and, given
    `log_group` (of this account and region), to CloudWatch Logs as well, through a role that
    may only write to that log group. A delegated administrator configures an organisation
    trail's log group through CreateTrail/UpdateTrail, which CloudFormation calls
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html);
    a multi-region trail delivers every region's events to the one log group.

    The log archive must admit it first (`LogArchive.admit_organization_trail`).
    Exposes `trail`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        trail_name: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        data_events: Sequence[DataEvents] = (),
        log_group: logs.ILogGroup | None = None,
    ) -> None:
        super().__init__(scope, id_)
        role, policy = _trail_log_role(self, log_group) if log_group is not None else (None, None)
        selectors = (
            [
                cloudtrail.CfnTrail.EventSelectorProperty(
                    include_management_events=True,
                    read_write_type="All",
                    data_resources=[
                        cloudtrail.CfnTrail.DataResourceProperty(
                            type=DATA_RESOURCES[event][0], values=[DATA_RESOURCES[event][1]]
                        )
                        for event in data_events
                    ],
                )
            ]
            if data_events
            else None
        )
        self.trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=trail_name,
            is_logging=True,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            s3_bucket_name=bucket.bucket_name,
            kms_key_id=key.key_arn,
            event_selectors=selectors,
            cloud_watch_logs_log_group_arn=log_group.log_group_arn if log_group else None,
            cloud_watch_logs_role_arn=role.role_arn if role else None,
        )
        if policy is not None:
            self.trail.node.add_dependency(policy)  # CloudTrail checks the role can write
            return
        acknowledge_control(
            self.trail,
            "CloudTrailCloudWatchLogsEnabled",
            "Accepted trade-off: the organisation trail goes to the object-locked archive "
            "without a CloudWatch Logs copy (ingestion cost for every account's events). "
            "GuardDuty analyses CloudTrail events natively but does not replace the CIS "
            "CloudWatch metric-filter alarms, which run only where the trail is given a log "
            "group (the platform's Audit stack gives it one).",
        )


def _trail_log_role(
    scope: Construct, log_group: logs.ILogGroup
) -> tuple[iam.Role, iam.ManagedPolicy]:
    """The role CloudTrail assumes to write the trail's events to `log_group`, and nothing else
    (the log group's ARN ends in `:*`, its streams; CloudTrail names them per account and
    region, with the organisation id for member accounts:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html,
    which also says the role policy supports no aws:SourceArn or aws:SourceAccount)."""
    role = iam.Role(
        scope,
        "LogsRole",
        description="Lets CloudTrail deliver the organisation trail to its log group",
        assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com"),
    )
    policy = iam.ManagedPolicy(
        scope,
        "LogsPolicy",
        description="Write the organisation trail's events to one log group",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        ],
    )
    return role, policy


class SecurityServices(Construct):
    """GuardDuty, Security Hub, AWS Config (recorder and organisation aggregator) and an
    organisation-wide IAM Access Analyzer, in the delegated administrator account.

    Designating this account as a service's delegated administrator (the management
    account's stack, deployed first) may already have turned the service on here, and a
    CloudFormation resource that turns it on again fails as already existing. So GuardDuty
    and Security Hub are custom resources that take what is there and turn on what is off
    (`runtime/organization_setup/handler.py`, each behaviour with AWS's documentation). They
    never call what the baseline SCP keeps for CloudFormation's execution role (changing a
    detector, turning a standard off).

    - GuardDuty: the detector (`GuardDutyDetector`, created with `GUARDDUTY_FEATURES` and
      findings every 15 minutes only if the account has none; one that was there is kept as
      it is, differences logged), and the same protections switched on in every member
      account, present and future (`GuardDutyOrganization`). `detector_id` is its id.
    - Security Hub: designation enables it in this account
      (https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html),
      so there is no `AWS::SecurityHub::Hub`; `security_hub` makes sure it is on, with
      consolidated control findings, new controls enabled, the `standards` chosen (each
      enabled only if it is not; one dropped from `standards` stays on). The organisation
      configuration (new accounts enabled with the default standards) depends on it.
    - Config: a recorder of every supported resource type (global types included) delivering
      to `bucket` (the archive's Config bucket, not the object-locked archive) under `key`,
      and an aggregator over the organisation, all regions.
    - Access Analyzer: zone of trust the organisation.

    GuardDuty's detector and Security Hub stay on when the stack is deleted: they hold the
    organisation's findings.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        standards: Sequence[str] = ("aws-foundational", "cis"),
        linked_regions: Sequence[str] = (),
        setup_name: str | None = None,
    ) -> None:
        """
        :param linked_regions: the other regions where GuardDuty (detector and organisation
            auto-enable) and Security Hub (hub, standards, organisation auto-enable) run too,
            and whose Security Hub findings the home region's finding aggregator collects;
            none: this region only, no aggregator. The management account designates this
            account as their delegated administrator there first.
        :param setup_name: the setup function's (and its role's) name, which the baseline SCP
            exempts from its denies; default: generated.
        """
        super().__init__(scope, id_)
        stack = Stack.of(self)
        unknown = set(standards) - set(STANDARDS)
        if unknown:
            raise ValueError(f"standards: unknown {sorted(unknown)}; known: {sorted(STANDARDS)}")
        setup = SetupFunction(
            self,
            "GuardDutySetup",
            description="GuardDuty's detector and member accounts, Security Hub in this account",
            statements=_security_statements(stack, sorted(linked_regions)),
            wildcard_reasons=SECURITY_SETUP_WILDCARDS,
            name=setup_name,
        )
        self.detector = CustomResource(
            self,
            "GuardDutyDetector",
            service_token=setup.function.function_arn,
            resource_type="Custom::GuardDutyDetector",
            properties={
                "GuardDutyDetector": {
                    "Features": list(GUARDDUTY_FEATURES),
                    "AdditionalConfiguration": _additional_configuration(),
                    "FindingPublishingFrequency": "FIFTEEN_MINUTES",
                    **({"Regions": sorted(linked_regions)} if linked_regions else {}),
                }
            },
        )
        self.detector_id = self.detector.get_att_string("DetectorId")
        members = CustomResource(
            self,
            "GuardDutyOrganization",
            service_token=setup.function.function_arn,
            resource_type="Custom::OrganizationSetup",
            properties={
                "GuardDutyOrganization": {
                    "DetectorId": self.detector_id,
                    "Features": list(GUARDDUTY_FEATURES),
                    "AdditionalConfiguration": _additional_configuration(),
                    **({"Regions": sorted(linked_regions)} if linked_regions else {}),
                }
            },
        )
        self.security_hub = CustomResource(
            self,
            "SecurityHubAccount",
            service_token=setup.function.function_arn,
            resource_type="Custom::SecurityHub",
            properties={
                "SecurityHub": {
                    "ControlFindingGenerator": "SECURITY_CONTROL",
                    "AutoEnableControls": True,
                    "Standards": _standard_arns(stack, stack.region, standards),
                    **(
                        {
                            "Regions": {
                                region: _standard_arns(stack, region, standards)
                                for region in sorted(linked_regions)
                            }
                        }
                        if linked_regions
                        else {}
                    ),
                }
            },
        )
        for resource in (self.detector, members, self.security_hub):
            resource.node.add_dependency(setup.policy)  # its permissions exist first
        organization = securityhub.CfnOrganizationConfiguration(
            self,
            "SecurityHubOrganization",
            auto_enable=True,
            auto_enable_standards="DEFAULT",
            configuration_type="LOCAL",
        )
        organization.node.add_dependency(self.security_hub)
        if linked_regions:
            # The organisation configuration is per region and CloudFormation's resource sets
            # it in the stack's region only: the setup function sets it in the others.
            elsewhere = CustomResource(
                self,
                "SecurityHubOrganizationElsewhere",
                service_token=setup.function.function_arn,
                resource_type="Custom::SecurityHubOrganization",
                properties={
                    "SecurityHubOrganization": {"Regions": sorted(linked_regions)},
                    # after the hubs, in every region, are on (a reference orders it)
                    "HubArn": self.security_hub.get_att_string("HubArn"),
                },
            )
            elsewhere.node.add_dependency(setup.policy)
            aggregator = securityhub.CfnFindingAggregator(
                self,
                "SecurityHubAggregator",
                region_linking_mode="SPECIFIED_REGIONS",
                regions=sorted(linked_regions),
            )
            aggregator.node.add_dependency(self.security_hub)
        ConfigRecorder(
            self,
            "Config",
            name_prefix=name_prefix,
            bucket_name=bucket.bucket_name,
            kms_key_arn=key.key_arn,
        )
        aggregator_role = iam.Role(
            self,
            "AggregatorRole",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description="AWS Config's organisation aggregator",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSConfigRoleForOrganizations"
                )
            ],
        )
        acknowledge_aws_managed_policies(
            aggregator_role.node.default_child,
            "AWS's aggregator policy: read-only Organizations calls listing the accounts.",
        )
        config.CfnConfigurationAggregator(
            self,
            "ConfigAggregator",
            configuration_aggregator_name=f"{name_prefix}-organization",
            organization_aggregation_source=config.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=aggregator_role.role_arn, all_aws_regions=True
            ),
        )
        accessanalyzer.CfnAnalyzer(
            self, "AccessAnalyzer", type="ORGANIZATION", analyzer_name=f"{name_prefix}-organization"
        )


def _standard_arns(stack: Stack, region: str, standards: Sequence[str]) -> list[str]:
    return [
        f"arn:{stack.partition}:securityhub:{region}::standards/{STANDARDS[name]}"
        for name in standards
    ]


def _additional_configuration() -> dict[str, list[str]]:
    return {name: list(extra) for name, extra in GUARDDUTY_ADDITIONAL_CONFIGURATION.items()}


SECURITY_SETUP_WILDCARDS = {
    "FindOrCreateTheDetector": "ListDetectors and CreateDetector have no resource-level "
    "permissions; an account has at most one detector per Region, and the condition limits "
    "the calls to the regions the platform runs GuardDuty in.",
    "ReadTheDetector": "The detector's id is generated when GuardDuty is turned on (perhaps "
    "by the delegated-administrator designation); this reads the detectors of this account "
    "and Region, of which there is at most one.",
    "AutoEnableMembers": "GuardDuty's UpdateOrganizationConfiguration has no resource-level "
    "permissions; only the delegated administrator account can call it, and the condition "
    "limits it to the regions the platform runs GuardDuty in.",
}
"""Why each wildcard of the security account's setup function is the narrowest form."""

SECURITY_SERVICE_LINKED_ROLES = {
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "malware-protection.guardduty.amazonaws.com": (
        "AWSServiceRoleForAmazonGuardDutyMalwareProtection"
    ),
    "securityhub.amazonaws.com": "AWSServiceRoleForSecurityHub",
}
"""The service-linked roles turning GuardDuty (with EBS malware protection) and Security Hub
on creates, with the caller's permission (AWS's own AmazonGuardDutyFullAccess grants the first
two: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonGuardDutyFullAccess.html;
https://docs.aws.amazon.com/securityhub/latest/userguide/using-service-linked-roles.html)."""


def _security_statements(stack: Stack, others: Sequence[str]) -> list[iam.PolicyStatement]:
    """The security account's setup function: GuardDuty's detector and member accounts,
    Security Hub with its settings and standards, in this region and `others`; Security
    Hub's organisation auto-enable in `others` (CloudFormation sets this region's)."""
    regions = [stack.region, *others]
    in_regions = {"StringEquals": {"aws:RequestedRegion": regions}}

    def hubs(where: Sequence[str]) -> list[str]:
        return [
            f"arn:{stack.partition}:securityhub:{region}:{stack.account}:hub/default"
            for region in where
        ]

    roles = {
        service: service_linked_role_arn(stack, service, name)
        for service, name in SECURITY_SERVICE_LINKED_ROLES.items()
    }
    return [
        iam.PolicyStatement(
            sid="FindOrCreateTheDetector",
            actions=["guardduty:ListDetectors", "guardduty:CreateDetector"],
            resources=["*"],
            conditions=in_regions,
        ),
        iam.PolicyStatement(
            sid="ReadTheDetector",
            actions=["guardduty:GetDetector"],
            resources=[
                f"arn:{stack.partition}:guardduty:{region}:{stack.account}:detector/*"
                for region in regions
            ],
        ),
        iam.PolicyStatement(
            sid="AutoEnableMembers",
            actions=["guardduty:UpdateOrganizationConfiguration"],
            resources=["*"],
            conditions=in_regions,
        ),
        iam.PolicyStatement(
            sid="SecurityHub",
            actions=[
                "securityhub:DescribeHub",
                "securityhub:EnableSecurityHub",
                "securityhub:UpdateSecurityHubConfiguration",
                "securityhub:GetEnabledStandards",
                "securityhub:BatchEnableStandards",
            ],
            resources=hubs(regions),
        ),
        *(
            [
                iam.PolicyStatement(
                    sid="SecurityHubOrganization",
                    actions=[
                        "securityhub:DescribeOrganizationConfiguration",
                        "securityhub:UpdateOrganizationConfiguration",
                    ],
                    resources=hubs(others),
                )
            ]
            if others
            else []
        ),
        iam.PolicyStatement(
            sid="CreateServiceLinkedRoles",
            actions=["iam:CreateServiceLinkedRole"],
            resources=sorted(roles.values()),
            conditions={"StringEquals": {"iam:AWSServiceName": sorted(roles)}},
        ),
    ]


class ConfigRecorder(Construct):
    """AWS Config in one account: a recorder of every supported resource type (global types
    included) delivering daily snapshots and changes to `bucket_name`: the organisation's
    Config bucket, never the object-locked archive, which Config does not support
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-config-deliverychannel.html).

    `kms_key_arn` names the archive's key where it is known (the security account); elsewhere
    the bucket's default encryption applies the same key, which admits this organisation's
    Config. Security Hub's controls read these recordings in every account.

    The recorder runs as its own IAM role (AWS's `AWS_ConfigRole` policy), not as Config's
    service-linked role AWSServiceRoleForConfig: CloudFormation does not create that role,
    and Config creates it only through PutServiceLinkedConfigurationRecorder
    (https://docs.aws.amazon.com/config/latest/APIReference/API_PutServiceLinkedConfigurationRecorder.html),
    not for a recorder given a role ARN; an `AWS::IAM::ServiceLinkedRole` fails where the role
    already exists. A role of the stack exists before the recorder, in every account. Where
    the role cannot write to the bucket in another account, Config delivers as its service
    principal, which the Config bucket's and the archive key's policies admit
    (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        bucket_name: str,
        kms_key_arn: str | None = None,
        global_resource_types: bool = True,
    ) -> None:
        """
        :param global_resource_types: record IAM's global resource types too: in one region
            of the account only (its own), or every region records them again.
        """
        super().__init__(scope, id_)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description="AWS Config's recorder",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWS_ConfigRole")
            ],
        )
        acknowledge_aws_managed_policies(
            role.node.default_child,
            "AWS's recorder policy: read-only describe calls across services, kept current "
            "by AWS as Config learns new resource types.",
        )
        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            name=f"{name_prefix}-recorder",
            role_arn=role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=True, include_global_resource_types=global_resource_types
            ),
        )
        channel = config.CfnDeliveryChannel(
            self,
            "Delivery",
            name=f"{name_prefix}-delivery",
            s3_bucket_name=bucket_name,
            s3_kms_key_arn=kms_key_arn,
            config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                delivery_frequency="TwentyFour_Hours"
            ),
        )
        channel.add_resource_dependency(self.recorder)
