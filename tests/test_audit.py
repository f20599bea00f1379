"""The security account's audit services and what the log archive admits."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs_lib.organization.audit import OrganizationTrail, SecurityServices
from tests.conftest import new_stack
from tests.helpers import one, only
from tests.test_config import broken, problems_of


@pytest.fixture(scope="module")
def audit(organisation):
    return organisation.stacks["security"]["Audit"]


@pytest.fixture(scope="module")
def archive(organisation):
    return organisation.stacks["security"]["LogArchive"]


def archive_bucket(archive) -> tuple[str, dict]:
    ((logical, bucket),) = (
        (k, v)
        for k, v in archive.of_type("AWS::S3::Bucket").items()
        if "ObjectLockEnabled" in v["Properties"]
    )
    return logical, bucket["Properties"]


def test_the_organisation_trail_writes_to_the_archive_under_its_key(audit, archive):
    trail = one(audit, "AWS::CloudTrail::Trail")
    assert trail["TrailName"] == "exco-organization-trail"
    assert trail["IsOrganizationTrail"] is True
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IsLogging"] is True
    _, bucket = archive_bucket(archive)
    # The archive stack's bucket and key, read from its outputs (no export pins the archive).
    for reference in (trail["S3BucketName"], trail["KMSKeyId"]):
        assert reference["Fn::GetStackOutput"]["StackName"] == "security-LogArchive"
    assert "EventSelectors" not in trail  # the sample records management events only
    assert bucket["BucketName"].startswith("exco-security-log-archive-")


def service_statements(document: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for statement in document["Statement"]:
        service = statement.get("Principal", {}).get("Service")
        if statement["Effect"] == "Allow" and service:
            found.setdefault(service, []).append(statement)
    return found


def config_bucket(archive) -> tuple[str, dict]:
    ((logical, bucket),) = (
        (k, v)
        for k, v in archive.of_type("AWS::S3::Bucket").items()
        if v["Properties"]["BucketName"].startswith("exco-security-config-delivery-")
    )
    return logical, bucket["Properties"]


def bucket_policy(archive, logical: str) -> dict:
    (policy,) = (
        p["Properties"]["PolicyDocument"]
        for p in archive.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    )
    return policy


def test_the_archive_admits_exactly_the_trail_and_this_organisations_config(archive, sample_config):
    """The object-locked archive admits the trail alone; the Config bucket beside it admits
    this organisation's Config alone; the archive's key both."""
    archive_services = service_statements(bucket_policy(archive, archive_bucket(archive)[0]))
    config_services = service_statements(bucket_policy(archive, config_bucket(archive)[0]))
    assert set(archive_services) == {"cloudtrail.amazonaws.com"}
    assert set(config_services) == {"config.amazonaws.com"}
    services = {**archive_services, **config_services}
    trail_arns = [
        f"arn:aws:cloudtrail:eu-west-1:{account}:trail/exco-organization-trail"
        for account in ("111111111111", "222222222222")
    ]
    for statement in services["cloudtrail.amazonaws.com"]:
        assert statement["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arns}}
    write = next(s for s in services["cloudtrail.amazonaws.com"] if s["Action"] == "s3:PutObject")
    assert json.dumps(write["Resource"]).endswith('/AWSLogs/*"]]}')
    for statement in services["config.amazonaws.com"]:
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceOrgID": sample_config.organization.id}
        }
    (key,) = archive.of_type("AWS::KMS::Key").values()
    key_services = service_statements(key["Properties"]["KeyPolicy"])
    assert set(key_services) == {"cloudtrail.amazonaws.com", "config.amazonaws.com"}
    assert key_services["cloudtrail.amazonaws.com"][0]["Condition"] == {
        "StringEquals": {"aws:SourceArn": trail_arns}
    }


def test_guardduty_protects_s3_and_eks(audit):
    """Through a custom resource that takes the detector the delegated-administrator
    designation may have made: an AWS::GuardDuty::Detector fails where one exists."""
    assert audit.of_type("AWS::GuardDuty::Detector") == {}
    detector = one(audit, "Custom::GuardDutyDetector")["GuardDutyDetector"]
    assert detector["FindingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert {"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RUNTIME_MONITORING"} <= set(detector["Features"])


def test_security_hub_runs_the_configured_standards_for_the_organisation(audit):
    """Designating the delegated administrator enables Security Hub in it, so there is no
    AWS::SecurityHub::Hub (it would fail as already existing), nor a Standard resource (an
    enabled one fails the same way): a custom resource takes what is there."""
    for kind in ("AWS::SecurityHub::Hub", "AWS::SecurityHub::Standard"):
        assert audit.of_type(kind) == {}, kind
    ((logical, hub),) = audit.of_type("Custom::SecurityHub").items()
    assert hub["Properties"]["SecurityHub"] == {
        "ControlFindingGenerator": "SECURITY_CONTROL",
        "AutoEnableControls": True,
        "Standards": [
            "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
            "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
        ],
        # and in every other allowed region, with that region's standards
        "Regions": {
            region: [
                f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
                f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
            ]
            for region in ("eu-central-1", "us-east-1")
        },
    }
    (organization,) = audit.of_type("AWS::SecurityHub::OrganizationConfiguration").values()
    assert organization["Properties"]["AutoEnable"] is True
    assert organization["DependsOn"] == [logical]


def test_the_security_accounts_setup_waits_for_its_permissions(audit):
    ((policy, _),) = audit.of_type("AWS::IAM::Policy").items()
    for kind in (
        "Custom::GuardDutyDetector",
        "Custom::OrganizationSetup",
        "Custom::SecurityHub",
        "Custom::SecurityHubOrganization",
    ):
        assert only(audit.of_type(kind))["DependsOn"] == [policy], kind


def test_config_records_everything_and_aggregates_the_organisation(audit):
    recorder = one(audit, "AWS::Config::ConfigurationRecorder")
    assert recorder["RecordingGroup"] == {
        "AllSupported": True,
        "IncludeGlobalResourceTypes": True,
    }
    channel = one(audit, "AWS::Config::DeliveryChannel")
    assert channel["S3BucketName"]["Fn::GetStackOutput"]["StackName"] == "security-LogArchive"
    assert "ConfigBucket" in channel["S3BucketName"]["Fn::GetStackOutput"]["OutputName"]
    assert "S3KmsKeyArn" in channel
    aggregator = one(audit, "AWS::Config::ConfigurationAggregator")
    assert aggregator["OrganizationAggregationSource"]["AllAwsRegions"] is True


def delivery_bucket(organisation, stack, channel: dict) -> dict:
    """The AWS::S3::Bucket a delivery channel's S3BucketName names: a literal name looked up
    among every bucket of the organisation, or another stack's output followed to its
    bucket."""
    name = channel["S3BucketName"]
    if isinstance(name, dict):
        ref = name["Fn::GetStackOutput"]
        (producer,) = (
            s
            for s in organisation.all_stacks()
            if f"{s.stage}-{s.id}" == ref["StackName"] and s.account == stack.account
        )
        value = producer.template["Outputs"][ref["OutputName"]]["Value"]
        return producer.resources[value["Ref"]]["Properties"]
    (found,) = (
        b["Properties"]
        for s in organisation.all_stacks()
        for b in s.of_type("AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName") == name
    )
    return found


def test_no_config_delivery_channel_targets_an_object_locked_bucket(organisation):
    """ "AWS Config does not support the delivery channel to an Amazon S3 bucket where object
    lock is enabled" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-config-deliverychannel.html):
    every account's channel must name a bucket of the organisation without object lock."""
    channels = [
        (stack, channel)
        for stack in organisation.all_stacks()
        for channel in (
            c["Properties"] for c in stack.of_type("AWS::Config::DeliveryChannel").values()
        )
    ]
    assert len(channels) == 3 * len(organisation.stacks)  # one per account and allowed region
    for stack, channel in channels:
        bucket = delivery_bucket(organisation, stack, channel)
        assert "ObjectLockEnabled" not in bucket, (stack.stage, bucket["BucketName"])
        assert "ObjectLockConfiguration" not in bucket, stack.stage
        assert bucket["BucketName"].startswith("exco-security-config-delivery-"), stack.stage


def test_access_analyzer_trusts_the_organisation(audit):
    assert one(audit, "AWS::AccessAnalyzer::Analyzer")["Type"] == "ORGANIZATION"


def test_data_events_come_from_config():
    stack = new_stack()
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket")
    trail = OrganizationTrail(
        stack, "Trail", trail_name="t", bucket=bucket, key=key, data_events=("s3", "lambda")
    )
    (selector,) = stack.resolve(trail.trail.event_selectors)
    assert selector["includeManagementEvents"] is True
    assert [(r["type"], r["values"]) for r in selector["dataResources"]] == [
        ("AWS::S3::Object", ["arn:aws:s3"]),
        ("AWS::Lambda::Function", ["arn:aws:lambda"]),
    ]


def test_unknown_standards_are_refused():
    stack = new_stack()
    with pytest.raises(ValueError, match=r"standards: unknown \['pci'\]"):
        SecurityServices(
            stack,
            "S",
            name_prefix="x",
            bucket=s3.Bucket(stack, "B"),
            key=kms.Key(stack, "K"),
            standards=("pci",),
        )


def test_audit_outside_the_security_account_is_refused(sample_raw):
    problems = problems_of(broken(sample_raw, ("accounts.dev.audit", {})))
    assert problems == [
        "accounts.dev.audit: only the security account runs the audit services, not a dev account"
    ]


def test_guardduty_is_switched_on_in_every_member_account(audit):
    (resource,) = audit.of_type("Custom::OrganizationSetup").values()
    (detector,) = audit.of_type("Custom::GuardDutyDetector")
    assert resource["Properties"]["GuardDutyOrganization"] == {
        "DetectorId": {"Fn::GetAtt": [detector, "DetectorId"]},
        "Features": [
            "S3_DATA_EVENTS",
            "EKS_AUDIT_LOGS",
            "EBS_MALWARE_PROTECTION",
            "RUNTIME_MONITORING",
            "RDS_LOGIN_EVENTS",
        ],
        # GuardDuty deploys and updates the runtime agent on every EKS cluster itself.
        "AdditionalConfiguration": {"RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT"]},
        # in the other allowed regions too (the home region is the function's own)
        "Regions": ["eu-central-1", "us-east-1"],
    }
    (policy,) = (
        p["Properties"]
        for p in audit.of_type("AWS::IAM::Policy").values()
        if "AutoEnableMembers" in json.dumps(p)
    )
    (statement,) = (
        s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "AutoEnableMembers"
    )
    assert statement["Action"] == "guardduty:UpdateOrganizationConfiguration"
    # No resource-level permissions: a grant on the detector's ARN would never apply.
    assert statement["Resource"] == "*"


def test_config_records_as_a_role_of_its_own_stack_not_the_service_linked_role(organisation):
    """CloudFormation does not create AWSServiceRoleForConfig; a recorder pointing at it
    fails where it does not exist."""
    for account, stacks in organisation.stacks.items():
        stack = stacks["Audit"] if account == "security" else stacks["Baseline"]
        recorder = one(stack, "AWS::Config::ConfigurationRecorder")
        (role, attribute) = recorder["RoleARN"]["Fn::GetAtt"]
        assert attribute == "Arn", account
        trust = stack.resources[role]["Properties"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"Service": "config.amazonaws.com"}, account
        assert "AWSServiceRoleForConfig" not in json.dumps(stack.template), account


def test_every_other_account_records_to_the_config_bucket(organisation, archive):
    _, bucket = config_bucket(archive)
    for account, stacks in organisation.stacks.items():
        if account == "security":
            continue
        baseline = stacks["Baseline"]
        recorder = one(baseline, "AWS::Config::ConfigurationRecorder")
        assert recorder["RecordingGroup"]["AllSupported"] is True, account
        channel = one(baseline, "AWS::Config::DeliveryChannel")
        assert channel["S3BucketName"] == bucket["BucketName"], account


def test_config_records_in_every_allowed_region_global_types_once(organisation, sample_config):
    """Detective controls run wherever the region SCP lets anyone work: every account has a
    recorder in every allowed region, recording IAM's global types in its own region only."""
    allowed = set(sample_config.organization.allowed_regions)
    for name, account in sample_config.accounts.items():
        recorders = {
            stack.region: recorder["Properties"]["RecordingGroup"]
            for stack in organisation.stacks[name].values()
            for recorder in stack.of_type("AWS::Config::ConfigurationRecorder").values()
        }
        assert set(recorders) == allowed, name
        for region, group in recorders.items():
            assert group["AllSupported"] is True, (name, region)
            assert group["IncludeGlobalResourceTypes"] is (region == account.region), (name, region)
