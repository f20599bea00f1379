"""The policy gate: the app passes with narrow acknowledgements only, and a non-compliant
construct stops synthesis."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack, Stage
from aws_cdk import aws_s3 as s3

from policies.acknowledgements import (
    BOILERPLATE,
    MIN_REASON_LENGTH,
    acknowledge,
    acknowledgements_on,
    pack_of,
)
from policies.gate import PACKS
from tests.conftest import new_stack


def plugin_reports(organisation) -> dict[str, dict]:
    return {r["pluginName"]: r for r in organisation.report["pluginReports"]}


def test_the_whole_app_has_no_unacknowledged_finding(organisation):
    reports = plugin_reports(organisation)
    # every pack ran, and CDK's built-in template check did not (cfn-lint does it: app.py)
    assert set(reports) == set(PACKS)
    for name, report in reports.items():
        assert report["violations"] == [], name


def platform_acknowledgements(organisation) -> dict[tuple[str, str], object]:
    """(construct path, finding id) -> construct, for every acknowledgement our code made."""
    return {
        (construct.node.path, finding): construct
        for construct in organisation.app.node.find_all()
        for finding in acknowledgements_on(construct, PACKS)
    }


def used_acknowledgements(organisation) -> set[tuple[str, str]]:
    """(construct path, finding id) of every acknowledgement that silenced a finding."""
    return {
        (violation["acknowledgedAt"], violation["acknowledgedId"])
        for report in organisation.report["pluginReports"]
        for violation in report.get("suppressedViolations", [])
    }


def test_every_acknowledgement_is_narrow_used_and_explained(organisation):
    made = platform_acknowledgements(organisation)
    used = used_acknowledgements(organisation)
    assert made, "expected the known trade-offs to be acknowledged"
    assert set(made) - used == set(), "acknowledgements that match no finding: remove them"
    for (path, finding), construct in made.items():
        assert not isinstance(construct, Stage | Stack), f"{finding} on a whole {path!r}"
        assert pack_of(finding) in PACKS, finding
    for report in organisation.report["pluginReports"]:
        for violation in report.get("suppressedViolations", []):
            reason = violation["reason"]
            assert len(reason) >= MIN_REASON_LENGTH, violation["acknowledgedId"]
            assert not BOILERPLATE.match(reason), violation["acknowledgedId"]


def test_acknowledged_findings_are_the_reviewed_ones(organisation):
    """A new acknowledgement is a security decision: this list makes it a visible diff."""
    ids = {finding.split("[")[0] for _, finding in used_acknowledgements(organisation)}
    controls = {i.split("-", 1)[1] for i in ids if i.startswith(("HIPAA", "PCI"))}
    assert controls == {
        "VPCNoUnrestrictedRouteToIGW",
        "S3BucketReplicationEnabled",
        "S3DefaultEncryptionKMS",
        "IAMNoInlinePolicy",
        "CloudWatchLogGroupEncrypted",
        "LambdaConcurrency",
        "LambdaDLQ",
        "SecretsManagerRotationEnabled",
        "CodeBuildProjectSourceRepoUrl",
        "RDSInBackupPlan",
        "RDSInstanceDeletionProtectionEnabled",
        "RDSMultiAZSupport",
        "ALBWAFEnabled",
        "ELBDeletionProtectionEnabled",
        "LambdaInsideVPC",
    }  # the same reviewed controls as NIST's, plus one HIPAA/PCI false positive
    ids = {i for i in ids if not i.startswith(("HIPAA", "PCI"))}
    assert ids == {
        "Platform::CustomerManagedKeys",  # SSE-S3-only log buckets, CDK's kubectl log groups
        "Platform::DataRetention",  # regenerable registration secrets
        "AwsSolutions::AwsSolutions-IAM5",  # per statement: policies.wildcards, generated_grants
        "AwsSolutions::AwsSolutions-IAM4",  # AWS-managed policies of EKS, nodes, add-ons
        "AwsSolutions::AwsSolutions-L1",  # the kubectl handler's runtime, pinned by CDK
        "AwsSolutions::AwsSolutions-SQS3",  # Karpenter's interruption queue
        "AwsSolutions::AwsSolutions-EC29",  # the access instance: replaced for each new AMI
        "AwsSolutions::AwsSolutions-SMG4",  # registration secrets: facts, not credentials
        "NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled",  # the same
        "NIST.800.53.R5::NIST.800.53.R5-CloudWatchLogGroupEncrypted",  # kubectl provider logs
        "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",  # kubectl provider
        "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",  # kubectl provider
        "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",  # CDK Pipelines' own roles
        "NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
        "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
        "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS",
        # data services (constructs_lib/{postgres,cache,search,backup}.py)
        "NIST.800.53.R5::NIST.800.53.R5-RDSInBackupPlan",  # selected by tag, not by ARN
        "NIST.800.53.R5::NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled",  # sandbox opt-in
        "NIST.800.53.R5::NIST.800.53.R5-RDSMultiAZSupport",  # single-AZ RDS outside prod
        "AwsSolutions::AwsSolutions-RDS3",  # the same
        "AwsSolutions::AwsSolutions-RDS10",  # sandbox opt-in
        "AwsSolutions::AwsSolutions-RDS11",  # port 5432, reachable from the cluster only
        "AwsSolutions::AwsSolutions-AEC4",  # no replica outside prod
        "AwsSolutions::AwsSolutions-AEC6",  # RBAC + IAM users, not an AUTH token
        "AwsSolutions::AwsSolutions-OS3",  # VPC domain: IP conditions do not apply
        "AwsSolutions::AwsSolutions-OS4",  # no dedicated masters outside prod
        "AwsSolutions::AwsSolutions-OS7",  # one data node (one AZ) outside prod
        # the edge (constructs_lib/edge/distribution.py)
        "NIST.800.53.R5::NIST.800.53.R5-ALBWAFEnabled",  # WAF is on CloudFront, the only way in
        "NIST.800.53.R5::NIST.800.53.R5-ELBDeletionProtectionEnabled",  # dev and sandbox only
        "AwsSolutions::AwsSolutions-CFR1",  # no country allow-list configured
        # the organisation (constructs_lib/organization/structure.py)
        "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",  # management has no VPC
    }


def synth_failures(stack, outdir) -> set[tuple[str, str]]:
    """Synthesize a gated test app expecting failure; (rule, construct path) of each finding."""
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        stack.node.root.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    return {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }


def test_a_non_compliant_construct_fails_synthesis(tmp_path):
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    s3.Bucket(stack, "NoTls")
    failures = synth_failures(stack, tmp_path)
    assert ("AwsSolutions-S10", "Test/NoTls/Resource") in failures
    assert ("NIST.800.53.R5-S3BucketSSLRequestsOnly", "Test/NoTls/Resource") in failures


def test_an_acknowledgement_silences_one_finding_on_one_construct(tmp_path):
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    first = s3.Bucket(stack, "First")
    s3.Bucket(stack, "Second")
    acknowledge(
        first,
        "AwsSolutions::AwsSolutions-S10",
        "Test double: proves the acknowledgement stays on this one bucket.",
    )
    failures = synth_failures(stack, tmp_path)
    assert ("AwsSolutions-S10", "Test/First/Resource") not in failures
    assert ("AwsSolutions-S1", "Test/First/Resource") in failures
    assert ("AwsSolutions-S10", "Test/Second/Resource") in failures


@pytest.mark.parametrize(
    ("finding", "reason", "message"),
    [
        ("AwsSolutions-S1", "x" * 50, "expected 'Pack::RuleId'"),
        ("AwsSolutions::AwsSolutions-S1", "false positive", "say why"),
        ("AwsSolutions::AwsSolutions-S1", "   ", "say why"),
        ("AwsSolutions::AwsSolutions-S1", "by design.", "say why"),
        # CDK's built-in template check is off (app.APP_PROPS): nothing would use this
        ("CloudFormation-Validate::W3010", "x" * 50, "not a pack the gate runs"),
    ],
)
def test_acknowledge_refuses_vague_acknowledgements(finding, reason, message):
    bucket = s3.Bucket(new_stack(), "Bucket")
    with pytest.raises(ValueError, match=message):
        acknowledge(bucket, finding, reason)
