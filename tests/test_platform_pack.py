"""The platform's own rules: a compliant and a non-compliant resource for each, the pack as
a gate, and its data kept in step with cfn-lint."""

from __future__ import annotations

import json

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_sqs as sqs

from policies.acknowledgements import acknowledge
from policies.platform import RULES, evaluate
from policies.platform.rule import RuleContext
from tests.conftest import new_stack
from tools.update_taggable_types import taggable_types_from_schemas

CONTEXT = RuleContext(required_tags=("CostCenter", "Environment"))
TAGS = [{"Key": "CostCenter", "Value": "1"}, {"Key": "Environment", "Value": "dev"}]
KEY = {"Fn::GetAtt": ["Key", "Arn"]}
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
BLOCK_ALL = {
    k: True
    for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
}


def bucket(**properties):
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Properties": {
            "Tags": TAGS,
            "PublicAccessBlockConfiguration": BLOCK_ALL,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": KEY,
                        }
                    }
                ]
            },
            **properties,
        },
    }


def security_group(cidr, port, *, tags=()):
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {
            "Tags": [*TAGS, *tags],
            "SecurityGroupIngress": [
                {"CidrIp": cidr, "IpProtocol": "tcp", "FromPort": port, "ToPort": port}
            ],
        },
    }


def policy(action, resource):
    return {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "PolicyDocument": {
                "Statement": [
                    {"Sid": "S", "Effect": "Allow", "Action": action, "Resource": resource}
                ]
            }
        },
    }


def pipeline(*stages: tuple[str, int]):
    """A CodePipeline with (stage name, number of actions) stages."""
    return {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {
            "Stages": [
                {"Name": name, "Actions": [{"Name": f"A{i}"} for i in range(actions)]}
                for name, actions in stages
            ]
        },
    }


CASES = {
    # rule: (compliant resource, non-compliant resource, words in the finding)
    "CostAllocationTags": (
        {"Type": "AWS::SQS::Queue", "Properties": {"Tags": TAGS, "KmsMasterKeyId": KEY}},
        {"Type": "AWS::SQS::Queue", "Properties": {"Tags": TAGS[:1], "KmsMasterKeyId": KEY}},
        "missing cost-allocation tag(s) Environment",
    ),
    "CustomerManagedKeys": (
        bucket(),
        bucket(
            BucketEncryption={
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            }
        ),
        "without a customer-managed KMS key",
    ),
    "NoPublicBuckets": (
        bucket(),
        bucket(PublicAccessBlockConfiguration={**BLOCK_ALL, "RestrictPublicBuckets": False}),
        "public access not blocked: RestrictPublicBuckets",
    ),
    "NoOpenIngress": (
        security_group("10.0.0.0/16", 443),
        security_group("0.0.0.0/0", 22),
        "ingress from 0.0.0.0/0 on tcp 22",
    ),
    "DataRetention": (
        bucket(),
        {**bucket(), "DeletionPolicy": "Delete"},
        "DeletionPolicy Delete / UpdateReplacePolicy Retain would lose its data",
    ),
    "NoAdminWildcards": (
        policy(["s3:GetObject"], "*"),
        policy("*", ["*"]),
        "statement S allows *",
    ),
    "PipelineLimits": (
        pipeline(("dev", 40), ("prod", 22)),
        pipeline(("dev", 41), ("prod", 22), ("sandbox", 60)),
        "stage dev: 41 actions, 82% of CodePipeline's 50; stage sandbox: 60 actions, 120% of "
        "CodePipeline's 50; split the wave",
    ),
}


def test_every_rule_has_a_pair():
    assert set(CASES) == {rule.id for rule in RULES}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes_the_compliant_and_flags_the_non_compliant(rule_id):
    good, bad, words = CASES[rule_id]
    rule = next(r for r in RULES if r.id == rule_id)
    assert evaluate({"Resources": {"Good": good}}, CONTEXT, [rule]) == []
    ((found_rule, logical_id, message),) = evaluate({"Resources": {"Bad": bad}}, CONTEXT, [rule])
    assert (found_rule, logical_id) == (rule_id, "Bad")
    assert words in message


PUBLIC_LB_TAG = {"Key": "platform.io/public-load-balancer", "Value": "true"}


@pytest.mark.parametrize(
    ("cidr", "port", "tags"),
    [("::/0", 443, ()), ("0.0.0.0/0", 80, ()), ("0.0.0.0/0", 443, (PUBLIC_LB_TAG,))],
)
def test_no_tag_exempts_a_group_from_taking_the_internet(cidr, port, tags):
    """The platform has no public load balancer; the tag that once exempted one on 443 no
    longer does (an exception is an acknowledgement, reviewed on its construct)."""
    (finding,) = evaluate(
        {"Resources": {"Sg": security_group(cidr, port, tags=tags)}},
        CONTEXT,
        [r for r in RULES if r.id == "NoOpenIngress"],
    )
    assert cidr in finding[2]


ALLOW_S3 = {"Sid": "S", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
OWN_ROOT = {
    "AWS": {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
        ]
    }
}
DEFAULT_KEY_STATEMENT = {
    "Effect": "Allow",
    "Principal": OWN_ROOT,
    "Action": "kms:*",
    "Resource": "*",
}


def document(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def key(*statements):
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": document(*statements)}}


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        (policy("s3:*", "arn:aws:s3:::b/*"), "statement S allows s3:*"),
        (policy(["sqs:SendMessage", "iam:*"], "*"), "statement S allows iam:*"),
        (
            {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [{"PolicyName": "P", "PolicyDocument": document(ALLOW_S3)}]
                },
            },
            "allows s3:*",
        ),
        (
            {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": document(
                        {"Sid": "N", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
                    )
                },
            },
            "statement N allows NotAction iam:*",
        ),
        (
            key({**DEFAULT_KEY_STATEMENT, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}),
            "allows kms:*",
        ),
        (key({**DEFAULT_KEY_STATEMENT, "Action": ["kms:*"], "Principal": "*"}), "allows kms:*"),
        (
            {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"PolicyDocument": document({**ALLOW_S3, "Principal": "*"})},
            },
            "allows s3:*",
        ),
        (
            {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "PolicyDocument": document(
                        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}
                    )
                },
            },
            "allows sqs:*",
        ),
        (
            {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "PolicyDocument": document(
                        {"Effect": "Allow", "Principal": "*", "Action": "sns:*", "Resource": "*"}
                    )
                },
            },
            "allows sns:*",
        ),
        (
            {
                "Type": "AWS::SecretsManager::ResourcePolicy",
                "Properties": {
                    "ResourcePolicy": document(
                        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*"}
                    )
                },
            },
            "allows secretsmanager:*",
        ),
        (
            {
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryPolicyText": json.dumps(
                        document({"Effect": "Allow", "Principal": "*", "Action": "ecr:*"})
                    )
                },
            },
            "allows ecr:*",
        ),
        (
            {
                "Type": "AWS::OpenSearchService::Domain",
                "Properties": {
                    "AccessPolicies": document(
                        {"Effect": "Allow", "Principal": OWN_ROOT, "Action": "es:*"}
                    )
                },
            },
            "allows es:*",
        ),
    ],
)
def test_no_policy_allows_a_whole_service_or_not_action(resource, words):
    ((rule, _, message),) = evaluate(
        {"Resources": {"Bad": resource}}, CONTEXT, [r for r in RULES if r.id == "NoAdminWildcards"]
    )
    assert rule == "NoAdminWildcards"
    assert words in message


@pytest.mark.parametrize(
    ("resource", "context"),
    [
        (policy(["s3:Get*", "s3:List*"], "*"), CONTEXT),
        (
            {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "PolicyDocument": document(
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "s3:*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    )
                },
            },
            CONTEXT,
        ),
        (
            {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": document(
                        {"Effect": "Deny", "NotAction": "kms:Decrypt", "Resource": "*"}
                    )
                },
            },
            CONTEXT,
        ),
        (key(DEFAULT_KEY_STATEMENT), CONTEXT),
        (
            key({**DEFAULT_KEY_STATEMENT, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}),
            RuleContext(required_tags=(), account="123456789012"),
        ),
    ],
)
def test_deny_statements_and_the_default_key_statement_pass(resource, context):
    """Deny may name a whole service; a key's default statement (kms:* to its own account's
    root, which lets IAM policies govern the key) is AWS's documented default."""
    rule = [r for r in RULES if r.id == "NoAdminWildcards"]
    assert evaluate({"Resources": {"Good": resource}}, context, rule) == []


def test_the_default_key_statement_needs_the_keys_own_account():
    literal = key({**DEFAULT_KEY_STATEMENT, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}})
    rule = [r for r in RULES if r.id == "NoAdminWildcards"]
    assert evaluate({"Resources": {"K": literal}}, CONTEXT, rule) != []  # account unknown
    other = RuleContext(required_tags=(), account="210987654321")
    assert evaluate({"Resources": {"K": literal}}, other, rule) != []


def test_the_gate_knows_each_templates_account(organisation):
    from policies.platform import template_accounts

    accounts = template_accounts(organisation.outdir / "assembly-dev")
    assert set(accounts.values()) == {"444444444444"}
    assert accounts


def test_the_sample_organisation_acknowledges_no_admin_wildcard(organisation):
    """Fixed in the constructs: nothing acknowledges Platform::NoAdminWildcards."""
    assert not [
        violation
        for report in organisation.report["pluginReports"]
        for violation in report.get("suppressedViolations", [])
        if violation["acknowledgedId"].startswith("Platform::NoAdminWildcards")
    ]


def test_sandbox_opt_in_lifts_only_data_retention():
    template = {"Resources": {"Data": {**bucket(), "DeletionPolicy": "Delete"}}}
    assert evaluate(template, RuleContext(required_tags=(), data_may_be_destroyed=True)) == []


def test_map_shaped_tags_count(tmp_path):
    parameter = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Tags": {"CostCenter": "1", "Environment": "dev"}},
    }
    assert evaluate({"Resources": {"P": parameter}}, CONTEXT) == []


def test_taggable_types_are_in_step_with_cfn_lint():
    from policies.platform.cost_allocation_tags import taggable_types

    assert sorted(taggable_types()) == taggable_types_from_schemas(), (
        "run: python -m tools.update_taggable_types"
    )


def test_a_platform_finding_fails_synthesis_and_acknowledges_like_any_other(tmp_path):
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    for id_ in ("Kept", "Plain"):
        sqs.Queue(
            stack,
            id_,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
    acknowledge(
        stack.node.find_child("Kept"),
        "Platform::CustomerManagedKeys",
        "Test double: proves a platform finding is acknowledged like a cdk-nag one.",
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        stack.node.root.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (platform,) = [p for p in report["pluginReports"] if p["pluginName"] == "Platform"]
    failing = {
        (v["ruleName"], c["constructPath"])
        for v in platform["violations"]
        for c in v["violatingConstructs"]
    }
    assert ("CustomerManagedKeys", "Test/Plain/Resource") in failing
    assert ("CustomerManagedKeys", "Test/Kept/Resource") not in failing
    assert [s["acknowledgedAt"] for s in platform["suppressedViolations"]] == ["Test/Kept"]
