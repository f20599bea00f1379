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
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_securityhub as securityhub
from constructs import Construct

from constructs_lib.organization.structure import SetupFunction
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
)
"""GuardDuty protections turned on: S3 and EKS (audit logs and runtime) included."""


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


class OrganizationTrail(Construct):
    """A multi-region organisation trail of management events (and `data_events`), with log
    file validation, encrypted with the archive's key, written to the archive bucket.

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
    ) -> None:
        super().__init__(scope, id_)
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
        )
        acknowledge_control(
            self.trail,
            "CloudTrailCloudWatchLogsEnabled",
            "The organisation trail goes to the object-locked archive; GuardDuty analyses "
            "CloudTrail events natively for every account, so a CloudWatch copy of every "
            "account's events would duplicate the detection at ingestion cost.",
        )


class SecurityServices(Construct):
    """GuardDuty, Security Hub, AWS Config (recorder and organisation aggregator) and an
    organisation-wide IAM Access Analyzer, in the delegated administrator account.

    - GuardDuty: a detector with `GUARDDUTY_FEATURES`, findings every 15 minutes, and the
      same detector and protections switched on in every member account, present and future
      (the `OrganizationSetup` custom resource: CloudFormation has no resource for it).
    - Security Hub: the hub, the `standards` chosen, consolidated control findings, new
      organisation accounts enabled automatically with the default standards.
    - Config: a recorder of every supported resource type (global types included) delivering
      to `bucket` under the archive's key, and an aggregator over the organisation, all regions.
    - Access Analyzer: zone of trust the organisation.
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
    ) -> None:
        super().__init__(scope, id_)
        unknown = set(standards) - set(STANDARDS)
        if unknown:
            raise ValueError(f"standards: unknown {sorted(unknown)}; known: {sorted(STANDARDS)}")
        stack = Stack.of(self)
        self._guardduty(stack)
        self._security_hub(stack, standards)
        ConfigRecorder(
            self,
            "Config",
            name_prefix=name_prefix,
            bucket_name=bucket.bucket_name,
            kms_key_arn=key.key_arn,
        )
        self._config_aggregator(name_prefix)
        accessanalyzer.CfnAnalyzer(
            self, "AccessAnalyzer", type="ORGANIZATION", analyzer_name=f"{name_prefix}-organization"
        )

    def _guardduty(self, stack: Stack) -> None:
        """The detector (`detector`), and the same detector and protections switched on in
        every member account through the `OrganizationSetup` custom resource."""
        self.detector = guardduty.CfnDetector(
            self,
            "GuardDuty",
            enable=True,
            finding_publishing_frequency="FIFTEEN_MINUTES",
            features=[
                guardduty.CfnDetector.CFNFeatureConfigurationProperty(
                    name=feature, status="ENABLED"
                )
                for feature in GUARDDUTY_FEATURES
            ],
        )
        guardduty_setup = SetupFunction(
            self,
            "GuardDutySetup",
            description="GuardDuty and its protections in every member account",
            statements=[
                iam.PolicyStatement(
                    sid="AutoEnableMembers",
                    actions=["guardduty:UpdateOrganizationConfiguration"],
                    resources=[
                        stack.format_arn(
                            service="guardduty",
                            resource="detector",
                            resource_name=self.detector.ref,
                        )
                    ],
                )
            ],
            wildcard_reasons={},
        )
        CustomResource(
            self,
            "GuardDutyOrganization",
            service_token=guardduty_setup.function.function_arn,
            resource_type="Custom::OrganizationSetup",
            properties={
                "GuardDutyOrganization": {
                    "DetectorId": self.detector.ref,
                    "Features": list(GUARDDUTY_FEATURES),
                }
            },
        )

    def _security_hub(self, stack: Stack, standards: Sequence[str]) -> None:
        """The hub with consolidated control findings, the chosen standards, and new
        organisation accounts enabled with the default standards."""
        hub = securityhub.CfnHub(
            self,
            "SecurityHub",
            enable_default_standards=False,
            control_finding_generator="SECURITY_CONTROL",
            auto_enable_controls=True,
        )
        for name in standards:
            standard = securityhub.CfnStandard(
                self,
                f"Standard-{name}",
                standards_arn=f"arn:{stack.partition}:securityhub:{stack.region}::standards/"
                f"{STANDARDS[name]}",
            )
            standard.add_resource_dependency(hub)
        organization = securityhub.CfnOrganizationConfiguration(
            self,
            "SecurityHubOrganization",
            auto_enable=True,
            auto_enable_standards="DEFAULT",
            configuration_type="LOCAL",
        )
        organization.add_resource_dependency(hub)

    def _config_aggregator(self, name_prefix: str) -> None:
        """AWS Config's aggregator over the organisation, all regions, with its role."""
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


class ConfigRecorder(Construct):
    """AWS Config in one account: a recorder of every supported resource type (global types
    included) delivering daily snapshots and changes to the organisation's archive.

    `kms_key_arn` names the archive's key where it is known (the security account); elsewhere
    the bucket's default encryption applies the same key, which admits this organisation's
    Config. Security Hub's controls read these recordings in every account.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        bucket_name: str,
        kms_key_arn: str | None = None,
    ) -> None:
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
                all_supported=True, include_global_resource_types=True
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
