"""LogArchive and BudgetAlerts on tiny stacks."""

from __future__ import annotations

import pytest
from aws_cdk import Duration, assertions

from constructs_lib.organization.budgets import AccountBudget, BudgetAlerts
from constructs_lib.organization.log_archive import LogArchive
from tests.conftest import new_stack
from tests.helpers import of_type


@pytest.fixture(scope="module")
def archive() -> dict:
    stack = new_stack()
    LogArchive(
        stack,
        "LogArchive",
        bucket_name="org-security-log-archive",
        config_bucket_name="org-security-config-delivery",
        access_logs_bucket_name="org-security-log-archive-access",
        object_lock_mode="GOVERNANCE",
        object_lock_retention=Duration.days(400),
    )
    return assertions.Template.from_stack(stack).to_json()


def bucket(template: dict, name: str) -> dict:
    (found,) = [
        b
        for b in of_type(template, "AWS::S3::Bucket").values()
        if b["Properties"]["BucketName"] == name
    ]
    return found


def test_archive_bucket_is_locked_encrypted_versioned_and_retained(archive):
    main = bucket(archive, "org-security-log-archive")
    props = main["Properties"]
    (key_id,) = of_type(archive, "AWS::KMS::Key")
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": "GOVERNANCE",
        "Days": 400,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert encryption["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": next(
            k
            for k, b in of_type(archive, "AWS::S3::Bucket").items()
            if b["Properties"]["BucketName"].endswith("-access")
        )
    }
    assert (main["DeletionPolicy"], main["UpdateReplacePolicy"]) == ("Retain", "Retain")
    key = archive["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_archive_lifecycle_moves_to_glacier_then_expires_after_lock(archive):
    rules = {
        r["Id"]: r
        for r in bucket(archive, "org-security-log-archive")["Properties"][
            "LifecycleConfiguration"
        ]["Rules"]
    }
    assert rules["archive"]["Transitions"] == [
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 90}
    ]
    assert rules["expire"]["ExpirationInDays"] == 2557
    assert rules["expire"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 2557}
    assert rules["expire"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_config_bucket_is_the_archive_without_object_lock(archive):
    """Config does not deliver to an object-locked bucket (`CONFIG_DELIVERY_DOC`): its bucket
    has the archive's key, versioning, access logs, lifecycle and retention, but no lock."""
    main = bucket(archive, "org-security-log-archive")["Properties"]
    config = bucket(archive, "org-security-config-delivery")
    props = config["Properties"]
    assert "ObjectLockEnabled" not in props
    assert "ObjectLockConfiguration" not in props
    for same in (
        "BucketEncryption",
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "LifecycleConfiguration",
    ):
        assert props[same] == main[same], same
    assert props["LoggingConfiguration"] == {
        **main["LoggingConfiguration"],
        "LogFilePrefix": "config-delivery/",
    }
    assert (config["DeletionPolicy"], config["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_no_one_deletes_a_config_recording(archive):
    (logical,) = (
        k
        for k, b in of_type(archive, "AWS::S3::Bucket").items()
        if b["Properties"]["BucketName"] == "org-security-config-delivery"
    )
    (policy,) = (
        p
        for p in of_type(archive, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical}
    )
    (deny,) = (
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "NoOneDeletesRecordings"
    )
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert "Condition" not in deny
    assert deny["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [logical, "Arn"]}, "/*"]]}


def test_every_bucket_refuses_plain_http(archive):
    policies = of_type(archive, "AWS::S3::BucketPolicy").values()
    assert len(policies) == 3
    for policy in policies:
        denies = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_access_log_bucket_uses_sse_s3_and_is_retained(archive):
    access = bucket(archive, "org-security-log-archive-access")
    (encryption,) = access["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert access["DeletionPolicy"] == "Retain"


def test_expiry_shorter_than_lock_is_refused():
    with pytest.raises(
        ValueError,
        match=r"expire_after: must be at least object_lock_retention "
        r"\(365 days\); got 30 days",
    ):
        LogArchive(
            new_stack(),
            "LogArchive",
            bucket_name="a-b",
            config_bucket_name="a-d",
            access_logs_bucket_name="a-c",
            expire_after=Duration.days(30),
            glacier_transition_after=Duration.days(10),
        )


@pytest.fixture(scope="module")
def budgets() -> dict:
    stack = new_stack()
    BudgetAlerts(
        stack,
        "Budgets",
        account_budgets=[
            AccountBudget("dev", "444444444444", 2000),
            AccountBudget("prod", "666666666666", 8000),
        ],
        thresholds_percent=(50, 100),
        alert_emails=("finops@example.com",),
    )
    return assertions.Template.from_stack(stack).to_json()


def test_one_monthly_cost_budget_per_account(budgets):
    found = {
        b["Properties"]["Budget"]["BudgetName"]: b["Properties"]["Budget"]
        for b in of_type(budgets, "AWS::Budgets::Budget").values()
    }
    assert {
        name: (b["BudgetLimit"]["Amount"], b["CostFilters"]["LinkedAccount"])
        for name, b in found.items()
    } == {"dev-monthly": (2000, ["444444444444"]), "prod-monthly": (8000, ["666666666666"])}
    assert all((b["BudgetType"], b["TimeUnit"]) == ("COST", "MONTHLY") for b in found.values())


def test_alerts_go_to_the_encrypted_topic_and_people_at_each_threshold(budgets):
    ((topic_id, topic),) = of_type(budgets, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    for budget in of_type(budgets, "AWS::Budgets::Budget").values():
        notifications = budget["Properties"]["NotificationsWithSubscribers"]
        assert [n["Notification"]["Threshold"] for n in notifications] == [50, 100]
        for n in notifications:
            assert n["Subscribers"] == [
                {"SubscriptionType": "SNS", "Address": {"Ref": topic_id}},
                {"SubscriptionType": "EMAIL", "Address": "finops@example.com"},
            ]


def test_only_budgets_of_this_account_may_publish(budgets):
    (policy,) = of_type(budgets, "AWS::SNS::TopicPolicy").values()
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    publish = statements["AllowBudgetsToPublish"]
    assert publish["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"account_budgets": []}, "account_budgets: at least one budget is required"),
        ({"alert_emails": [f"a{i}@example.com" for i in range(10)]}, "alert_emails: at most 9"),
        ({"thresholds_percent": (0,)}, r"thresholds_percent: need values in 1..1000; got \(0,\)"),
    ],
)
def test_invalid_budget_props(props, message):
    with pytest.raises(ValueError, match=message):
        BudgetAlerts(
            new_stack(),
            "Budgets",
            **{"account_budgets": [AccountBudget("dev", "444444444444", 1)], **props},
        )
