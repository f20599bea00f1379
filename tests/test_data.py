"""The data stacks: each service as config says, reachable from the cluster only, encrypted,
and kept when a stack is deleted or a resource replaced, everywhere but an opted-in sandbox."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk.assertions import Match, Template

from constructs_lib.data.kafka import PlatformKafka
from constructs_lib.network.vpc import PlatformNetwork
from policies.acknowledgements import acknowledge, acknowledgements_on
from policies.platform import PACK_NAME
from policies.platform.data_retention import KEEPS_DATA, STATEFUL_TYPES
from policies.platform.rule import is_aurora_instance
from tests.conftest import new_stack
from tests.helpers import of_type, one, only, props, ref_of
from tests.test_config import broken, problems_of

WORKLOADS = ("dev", "staging", "prod", "sandbox")


def data(organisation, account: str):
    return organisation.stacks[account]["Data"]


# --- data safety ------------------------------------------------------------------------------


def reviewed_exceptions(organisation) -> set[tuple[str, str]]:
    """(stage, logical id) of resources whose Platform::DataRetention finding a reviewed
    acknowledgement accepts (e.g. registration secrets Argo CD's facts are rebuilt from)."""
    found = set()
    for construct in organisation.app.node.find_all():
        if "Platform::DataRetention" in acknowledgements_on(construct, [PACK_NAME]):
            resource = construct.node.default_child or construct
            stack = Stack.of(resource)
            found.add((stack.node.scope.node.id, stack.get_logical_id(resource)))
    return found


@pytest.mark.parametrize("account", ["dev", "staging", "prod", "shared-services", "security"])
def test_deleting_any_stack_outside_sandbox_keeps_every_piece_of_data(organisation, account):
    """Every stateful resource of every stack of the account survives stack deletion and
    replacement: retained, or snapshotted (databases, caches)."""
    exceptions = reviewed_exceptions(organisation)
    checked = 0
    for stack in organisation.stacks[account].values():
        for logical_id, resource in stack.resources.items():
            if (
                resource["Type"] not in STATEFUL_TYPES
                or is_aurora_instance(resource["Type"], resource)
                or (account, logical_id) in exceptions
            ):
                continue
            checked += 1
            policies = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
            assert set(policies) <= KEEPS_DATA, (stack.id, logical_id, policies)
    assert checked


@pytest.mark.parametrize("account", ["dev", "staging", "prod"])
def test_databases_are_deletion_protected_and_snapshotted(organisation, account):
    template = data(organisation, account).cdk_template
    snapshotted = {"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"}
    template.all_resources(
        "AWS::RDS::DBCluster", {**snapshotted, "Properties": {"DeletionProtection": True}}
    )
    template.all_resources("AWS::ElastiCache::ReplicationGroup", snapshotted)


def test_data_stacks_are_termination_protected_in_staging_and_prod(organisation):
    assert data(organisation, "staging").termination_protection
    assert data(organisation, "prod").termination_protection
    assert not data(organisation, "dev").termination_protection


def test_sandbox_opted_in_so_its_data_goes_with_the_stack(organisation, sample_config):
    assert sample_config.accounts["sandbox"].data.allow_data_loss
    stack = data(organisation, "sandbox")
    stack.cdk_template.resource_count_is("AWS::RDS::DBInstance", 1)
    stack.cdk_template.has_resource(
        "AWS::RDS::DBInstance",
        {
            "DeletionPolicy": "Delete",
            "Properties": {"DeletionProtection": False, "DeleteAutomatedBackups": True},
        },
    )
    key = stack.resources[ref_of(one(stack, "AWS::RDS::DBInstance")["KmsKeyId"])]
    assert key["DeletionPolicy"] == "Delete"


def test_the_opt_in_is_refused_outside_sandbox(sample_raw):
    problems = problems_of(broken(sample_raw, ("accounts.staging.data.allow_data_loss", True)))
    assert problems == [
        "accounts.staging.data.allow_data_loss: only a sandbox account may lose data on "
        "deletion, not a staging account (got True)"
    ]


def test_the_platform_check_stops_an_unsafe_database(tmp_path):
    """A future construct that would delete data cannot slip through: synthesis fails."""
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    rds.CfnDBCluster(stack, "Unsafe", engine="aurora-postgresql").apply_removal_policy(
        RemovalPolicy.DESTROY
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        stack.node.root.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (platform,) = [p for p in report["pluginReports"] if p["pluginName"] == "Platform"]
    assert ("DataRetention", "Test/Unsafe") in {
        (v["ruleName"], c["constructPath"])
        for v in platform["violations"]
        for c in v["violatingConstructs"]
    }


# --- PostgreSQL -------------------------------------------------------------------------------


def test_postgres_follows_each_environments_config(organisation, sample_config):
    for account in WORKLOADS:
        pg = sample_config.accounts[account].data.postgres
        template = data(organisation, account)
        instances = template.of_type("AWS::RDS::DBInstance")
        if pg.engine == "rds":
            instance = only(instances)
            assert props(instance)["DBInstanceClass"] == f"db.{pg.instance_class}"
            assert props(instance)["MultiAZ"] is pg.multi_az
            assert props(instance)["EngineVersion"] == pg.version
            continue
        cluster = props(only(template.of_type("AWS::RDS::DBCluster")))
        assert cluster["Engine"] == "aurora-postgresql"
        assert cluster["EngineVersion"] == pg.version
        assert len(instances) == 1 + pg.readers
        classes = {props(i)["DBInstanceClass"] for i in instances.values()}
        if pg.engine == "aurora-serverless-v2":
            assert classes == {"db.serverless"}
            assert cluster["ServerlessV2ScalingConfiguration"] == {
                "MinCapacity": pg.min_capacity,
                "MaxCapacity": pg.max_capacity,
            }
        else:
            assert classes == {f"db.{pg.instance_class}"}


def test_prod_postgres_has_a_reader_to_fail_over_to(organisation):
    assert len(data(organisation, "prod").of_type("AWS::RDS::DBInstance")) == 2


def test_postgres_is_encrypted_authenticated_by_iam_and_its_password_managed(organisation):
    for account in ("dev", "staging", "prod"):
        stack = data(organisation, account)
        stack.cdk_template.resource_count_is("AWS::RDS::DBCluster", 1)
        stack.cdk_template.has_resource_properties(
            "AWS::RDS::DBCluster",
            {
                "StorageEncrypted": True,
                "KmsKeyId": Match.any_value(),
                "EnableIAMDatabaseAuthentication": True,
                "ManageMasterUserPassword": True,
                "MasterUserPassword": Match.absent(),
                "EnableCloudwatchLogsExports": ["postgresql"],
                "Port": 5432,
            },
        )
        # The managed password is encrypted under the cluster's own key.
        cluster = one(stack, "AWS::RDS::DBCluster")
        assert ref_of(cluster["MasterUserSecret"]["KmsKeyId"]) == ref_of(cluster["KmsKeyId"])
    data(organisation, "dev").cdk_template.resource_count_is("AWS::SecretsManager::Secret", 0)


def test_postgres_parameters_force_tls_and_log_slow_queries(organisation, sample_config):
    template = data(organisation, "prod").cdk_template
    template.resource_count_is("AWS::RDS::DBClusterParameterGroup", 1)
    template.has_resource_properties(
        "AWS::RDS::DBClusterParameterGroup",
        {
            "Parameters": {
                "rds.force_ssl": "1",
                "log_min_duration_statement": "1000",
                "max_connections": str(
                    sample_config.accounts["prod"].data.postgres.max_connections
                ),
            }
        },
    )


def test_postgres_instances_have_insights_and_enhanced_monitoring(organisation):
    data(organisation, "prod").cdk_template.all_resources_properties(
        "AWS::RDS::DBInstance",
        {"EnablePerformanceInsights": True, "MonitoringInterval": 60, "PubliclyAccessible": False},
    )


def test_postgres_backups_follow_config(organisation, sample_config):
    for account in ("dev", "prod"):
        expected = sample_config.accounts[account].data.postgres.backup_retention_days
        template = data(organisation, account).cdk_template
        template.resource_count_is("AWS::RDS::DBCluster", 1)
        template.has_resource_properties("AWS::RDS::DBCluster", {"BackupRetentionPeriod": expected})


def ingress(template, port: int) -> list[dict[str, Any]]:
    rules = [
        props(r)
        for r in template.of_type("AWS::EC2::SecurityGroupIngress").values()
        if props(r)["FromPort"] == port
    ]
    for group in template.of_type("AWS::EC2::SecurityGroup").values():
        rules += [r for r in props(group).get("SecurityGroupIngress", []) if r["FromPort"] == port]
    return rules


def workload_clients(organisation, account: str) -> str:
    """The logical id of the network stack's workload-clients group (the nodes carry it)."""
    network = organisation.stacks[account]["Network"]
    (logical_id,) = [
        k
        for k, g in network.of_type("AWS::EC2::SecurityGroup").items()
        if g["Properties"]["GroupDescription"].startswith("Carried by the cluster nodes")
    ]
    return logical_id


@pytest.mark.parametrize("port", [5432, 6379, 443])
def test_only_the_workload_clients_group_gets_in(organisation, port):
    """From the network stack, read when the data stack deploys: the data stack does not wait
    for the cluster, and replacing the cluster leaves it untouched."""
    template = data(organisation, "prod")
    clients = workload_clients(organisation, "prod")
    rules = ingress(template, port)
    assert rules
    for rule in rules:
        source = rule["SourceSecurityGroupId"]["Fn::GetStackOutput"]
        assert source["StackName"] == "prod-Network"
        assert clients in source["OutputName"] and "CidrIp" not in rule


def test_data_and_edge_deploy_beside_the_cluster_not_after_it(organisation):
    """Two levels per environment: network, then cluster, data and edge side by side."""
    for account in ("dev", "staging", "prod"):
        for stack in ("Data", "Edge"):
            text = json.dumps(organisation.stacks[account][stack].template)
            assert f"{account}-Cluster" not in text, (account, stack)
            assert "/cluster/security-group-id" not in text, (account, stack)


def test_the_cluster_stack_publishes_its_security_group(organisation):
    template = organisation.stacks["prod"]["Cluster"].cdk_template
    name = "/exco/prod/cluster/security-group-id"
    template.resource_properties_count_is("AWS::SSM::Parameter", {"Name": name}, 1)
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        {"Name": name, "Value": {"Fn::GetAtt": [Match.any_value(), "ClusterSecurityGroupId"]}},
    )


def test_databases_caches_and_domains_live_in_isolated_subnets(organisation):
    network = organisation.stacks["prod"]["Network"]
    isolated = {
        logical_id
        for logical_id, subnet in network.of_type("AWS::EC2::Subnet").items()
        if any(
            t["Key"] == "aws-cdk:subnet-type" and t["Value"] == "Isolated"
            for t in props(subnet)["Tags"]
        )
    }
    template = data(organisation, "prod")

    def imported(ids) -> set[str]:
        return {i["Fn::GetStackOutput"]["OutputName"] for i in ids}

    rds_subnets = imported(props(only(template.of_type("AWS::RDS::DBSubnetGroup")))["SubnetIds"])
    assert len(rds_subnets) == 3
    assert all(any(s in value for s in isolated) for value in rds_subnets)
    for group in template.of_type("AWS::ElastiCache::SubnetGroup").values():
        assert imported(props(group)["SubnetIds"]) == rds_subnets
    domain = props(only(template.of_type("AWS::OpenSearchService::Domain")))
    assert imported(domain["VPCOptions"]["SubnetIds"]) == rds_subnets


# --- caches -----------------------------------------------------------------------------------


def test_one_cache_per_application(organisation, sample_config):
    expected = sample_config.accounts["prod"].data.caches
    stack = data(organisation, "prod")
    groups = stack.of_type("AWS::ElastiCache::ReplicationGroup").values()
    assert {props(g)["ReplicationGroupId"] for g in groups} == {
        f"exco-prod-{name}" for name in expected
    }
    for name, cache in expected.items():
        stack.cdk_template.has_resource_properties(
            "AWS::ElastiCache::ReplicationGroup",
            {
                "ReplicationGroupId": f"exco-prod-{name}",
                "ReplicasPerNodeGroup": cache.replicas,
                "CacheNodeType": cache.node_type,
                "Engine": cache.engine,
                "AutomaticFailoverEnabled": True,
                "MultiAZEnabled": True,
            },
        )


def test_caches_are_encrypted_both_ways_and_use_iam_users(organisation):
    template = data(organisation, "staging").cdk_template
    template.resource_count_is("AWS::ElastiCache::ReplicationGroup", 1)
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "TransitEncryptionEnabled": True,
            "TransitEncryptionMode": "required",
            "AtRestEncryptionEnabled": True,
            "KmsKeyId": Match.any_value(),
            "AuthToken": Match.absent(),
            "SnapshotRetentionLimit": 15,
        },
    )
    template.has_resource_properties(
        "AWS::ElastiCache::User",
        {"UserName": "default", "AccessString": Match.string_like_regexp("^off")},
    )
    template.has_resource_properties(
        "AWS::ElastiCache::User",
        {
            "UserName": "exco-staging-sessions-app",
            "AuthenticationMode": Match.object_equals({"Type": "iam"}),
        },
    )


def test_a_dev_cache_without_replicas_does_not_claim_failover(organisation):
    template = data(organisation, "dev").cdk_template
    template.resource_count_is("AWS::ElastiCache::ReplicationGroup", 1)
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"ReplicasPerNodeGroup": 0, "AutomaticFailoverEnabled": False},
    )


# --- OpenSearch -------------------------------------------------------------------------------


def test_prod_search_has_dedicated_masters_and_zone_awareness(organisation):
    template = data(organisation, "prod").cdk_template
    template.resource_count_is("AWS::OpenSearchService::Domain", 1)
    template.has_resource_properties(
        "AWS::OpenSearchService::Domain",
        {
            "ClusterConfig": {
                "DedicatedMasterEnabled": True,
                "DedicatedMasterCount": 3,
                "InstanceCount": 3,
                "ZoneAwarenessEnabled": True,
                "ZoneAwarenessConfig": Match.object_equals({"AvailabilityZoneCount": 3}),
            }
        },
    )


def test_search_is_encrypted_https_only_with_fine_grained_access(organisation):
    log_types = ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS")
    for account in ("staging", "prod"):
        template = data(organisation, account).cdk_template
        template.resource_count_is("AWS::OpenSearchService::Domain", 1)
        template.has_resource_properties(
            "AWS::OpenSearchService::Domain",
            {
                "NodeToNodeEncryptionOptions": Match.object_equals({"Enabled": True}),
                "EncryptionAtRestOptions": {"Enabled": True, "KmsKeyId": Match.any_value()},
                "DomainEndpointOptions": {
                    "EnforceHTTPS": True,
                    "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07",
                },
                "AdvancedSecurityOptions": {
                    "Enabled": True,
                    "InternalUserDatabaseEnabled": False,
                },
                "LogPublishingOptions": Match.object_equals(
                    {name: Match.any_value() for name in log_types}
                ),
            },
        )


def test_search_admits_this_accounts_principals_only(organisation):
    template = data(organisation, "prod").cdk_template
    template.resource_count_is("AWS::OpenSearchService::Domain", 1)
    template.has_resource_properties(
        "AWS::OpenSearchService::Domain",
        {
            "AccessPolicies": {
                "Statement": [
                    {
                        "Principal": {"AWS": "arn:aws:iam::666666666666:root"},
                        "Action": "es:ESHttp*",
                    }
                ]
            }
        },
    )


# --- buckets and backups ----------------------------------------------------------------------


def test_buckets_are_versioned_encrypted_logged_and_tidied(organisation, sample_config):
    stack = data(organisation, "prod")
    names = {
        props(b)["BucketName"]
        for b in stack.of_type("AWS::S3::Bucket").values()
        if "data-access-logs" not in props(b)["BucketName"]
    }
    expected = sample_config.accounts["prod"].data.buckets
    assert names == {f"exco-prod-{n}-666666666666-eu-west-1" for n in expected}
    for name, config in expected.items():
        days = config.expire_after_days
        expiry = Match.absent() if days is None else days  # no expiry rule unless configured
        stack.cdk_template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketName": f"exco-prod-{name}-666666666666-eu-west-1",
                "VersioningConfiguration": Match.object_equals({"Status": "Enabled"}),
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {"RestrictPublicBuckets": True},
                "LoggingConfiguration": {
                    "LogFilePrefix": Match.string_like_regexp(f"^{re.escape(f'exco-prod-{name}')}")
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "NoncurrentVersionExpiration": Match.object_equals(
                                {"NoncurrentDays": config.noncurrent_version_days}
                            ),
                            "AbortIncompleteMultipartUpload": Match.object_equals(
                                {"DaysAfterInitiation": 7}
                            ),
                            "ExpirationInDays": expiry,
                        }
                    ]
                },
            },
        )


def test_backup_plan_selects_by_tag_and_the_data_carries_it(organisation):
    template = data(organisation, "prod")
    selection = props(only(template.of_type("AWS::Backup::BackupSelection")))["BackupSelection"]
    assert selection["ListOfTags"] == [
        {
            "ConditionKey": "platform.io/backup",
            "ConditionValue": "daily",
            "ConditionType": "STRINGEQUALS",
        }
    ]
    tagged = [
        *template.of_type("AWS::RDS::DBCluster").values(),
        *[
            b
            for b in template.of_type("AWS::S3::Bucket").values()
            if "access-logs" not in props(b)["BucketName"]
        ],
    ]
    for resource in tagged:
        assert {"Key": "platform.io/backup", "Value": "daily"} in props(resource)["Tags"]


@pytest.mark.parametrize(("account", "days"), [("dev", 7), ("staging", 14), ("prod", 35)])
def test_vaults_outside_sandbox_are_compliance_locked_and_copied_to_the_security_account(
    organisation, account, days
):
    template = data(organisation, account).cdk_template
    template.resource_count_is("AWS::Backup::BackupVault", 1)
    # compliance mode: ChangeableForDays set, so the lock is immutable three days on
    template.has_resource_properties(
        "AWS::Backup::BackupVault",
        {
            "LockConfiguration": Match.object_equals(
                {"MinRetentionDays": days, "ChangeableForDays": 3}
            ),
            "AccessPolicy": {
                "Statement": [
                    {"Effect": "Deny", "Action": Match.array_with(["backup:DeleteRecoveryPoint"])}
                ]
            },
        },
    )
    template.resource_count_is("AWS::Backup::BackupPlan", 1)
    copy = {
        "DestinationBackupVaultArn": "arn:aws:backup:eu-west-1:222222222222:backup-vault:"
        "exco-security-backup-copies",
        "Lifecycle": {"DeleteAfterDays": days},
    }
    template.has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    {
                        "Lifecycle": Match.object_equals({"DeleteAfterDays": days}),
                        "CopyActions": [Match.object_equals(copy)],
                    }
                ]
            }
        },
    )


def test_the_keys_of_copied_recovery_points_are_shared_with_the_security_account_only(
    organisation,
):
    template = data(organisation, "prod").template
    shared = {
        logical_id
        for logical_id, key in of_type(template, "AWS::KMS::Key").items()
        for statement in props(key)["KeyPolicy"]["Statement"]
        if statement.get("Sid") == "CopyRecoveryPointsToTheBackupAccount"
        and statement["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    }
    # the vault's key (S3 recovery points) and the database's (its snapshots stay under it)
    (vault,) = of_type(template, "AWS::Backup::BackupVault").values()
    (cluster,) = of_type(template, "AWS::RDS::DBCluster").values()
    assert shared == {
        props(vault)["EncryptionKeyArn"]["Fn::GetAtt"][0],
        props(cluster)["KmsKeyId"]["Fn::GetAtt"][0],
    }


def test_sandbox_backups_are_neither_locked_nor_copied(organisation):
    template = data(organisation, "sandbox").cdk_template
    template.has_resource_properties(
        "AWS::Backup::BackupVault", {"LockConfiguration": Match.absent()}
    )
    plan = template.find_resources("AWS::Backup::BackupPlan")
    assert "CopyActions" not in json.dumps(plan)


def test_the_copy_vault_admits_copies_from_the_organisation_only_and_is_locked(organisation):
    copies = organisation.stacks["security"]["BackupCopies"].cdk_template
    copies.has_resource_properties(
        "AWS::Backup::BackupVault",
        {
            "BackupVaultName": "exco-security-backup-copies",
            "LockConfiguration": Match.object_equals(
                {"MinRetentionDays": 7, "ChangeableForDays": 3}
            ),
            "AccessPolicy": {
                "Statement": [
                    Match.object_like(
                        {
                            "Effect": "Deny",
                            "Action": Match.array_with(["backup:DeleteRecoveryPoint"]),
                        }
                    ),
                    {
                        "Sid": "CopyFromThisOrganisationOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "backup:CopyIntoBackupVault",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}},
                    },
                ]
            },
        },
    )
    assert organisation.stacks["security"]["BackupCopies"].termination_protection


def test_endpoints_are_published_for_applications(organisation):
    names = {
        props(p)["Name"] for p in data(organisation, "prod").of_type("AWS::SSM::Parameter").values()
    }
    assert {
        "/exco/prod/data/postgres/endpoint",
        "/exco/prod/data/postgres/master-secret-arn",
        "/exco/prod/data/caches/sessions/endpoint",
        "/exco/prod/data/caches/rate-limits/user",
        "/exco/prod/data/search/endpoint",
    } <= names


# --- MSK (off in the sample: a construct test) ------------------------------------------------


def test_kafka_uses_iam_tls_and_a_key_and_passes_the_gate(tmp_path):
    stack = new_stack(with_policy_gate=True, outdir=tmp_path)
    network = PlatformNetwork(
        stack, "Network", cidr="10.0.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b"]
    )
    clients = ec2.SecurityGroup(stack, "Clients", vpc=network.vpc, allow_all_outbound=False)
    PlatformKafka(
        stack,
        "Kafka",
        name="exco-dev-kafka",
        version="3.8.x",
        broker_type="kafka.m7g.large",
        brokers_per_az=2,
        volume_gib=200,
        vpc=network.vpc,
        subnet_ids=network.vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
        ).subnet_ids,
        clients=clients,
    )
    acknowledge(
        stack,
        "Platform::Monitored",
        "Construct test: the data stack wires the alarms (tests/test_monitoring.py).",
    )
    stack.node.root.synth()  # raises if any pack finds something
    template = Template.from_string((tmp_path / "Test.template.json").read_text())
    template.resource_count_is("AWS::MSK::Cluster", 1)
    template.has_resource(
        "AWS::MSK::Cluster",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "NumberOfBrokerNodes": 4,
                "ClientAuthentication": Match.object_equals(
                    {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}}
                ),
                "EncryptionInfo": {
                    "EncryptionInTransit": Match.object_equals(
                        {"ClientBroker": "TLS", "InCluster": True}
                    ),
                    "EncryptionAtRest": {"DataVolumeKMSKeyId": Match.any_value()},
                },
                "LoggingInfo": {"BrokerLogs": {"CloudWatchLogs": {"Enabled": True}}},
            },
        },
    )
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {"FromPort": 9098})


# --- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            [("accounts.prod.data.postgres.readers", 0)],
            "accounts.prod.data.postgres.readers: prod needs at least one reader in another AZ "
            "to fail over to (got 0)",
        ),
        (
            [("accounts.prod.data.caches.sessions.replicas", 0)],
            "accounts.prod.data.caches.sessions.replicas: prod needs at least one replica "
            "(automatic failover, Multi-AZ) (got 0)",
        ),
        (
            [("accounts.dev.data.caches.sessions.version", "7.1")],
            "accounts.dev.data.caches.sessions.version: valkey versions offered: 7.2, 8.0, 8.1 "
            "(got '7.1')",
        ),
        (
            [("accounts.prod.data.search.dedicated_masters", 0)],
            "accounts.prod.data.search.dedicated_masters: prod needs 3 or 5 dedicated master "
            "nodes (got 0)",
        ),
        (
            [("accounts.prod.data.search.data_nodes", 4)],
            "accounts.prod.data.search.data_nodes: nodes are spread evenly over 3 availability "
            "zones: use a multiple of 3 (got 4)",
        ),
        (
            [("accounts.prod.data.backup.vault_lock", False)],
            "accounts.prod.data.backup.vault_lock: prod's backup vault is always locked (got "
            "False)",
        ),
        (
            [("accounts.dev.data.postgres.version", "15.8")],
            "accounts.dev.data.postgres.version: PostgreSQL 16 or newer is required (got '15.8')",
        ),
        (
            [
                ("accounts.dev.cluster", ...),
                ("accounts.dev.domain", ...),  # the edge needs a cluster too
                ("ci", ...),  # and so does a CI role that describes it
                ("teams", ...),  # and the teams that run there
                ("accounts.sandbox.data.postgres.multi_az", "sometimes"),
            ],
            None,
        ),
    ],
)
def test_bad_data_config_is_refused_with_its_path(sample_raw, edits, expected):
    problems = problems_of(broken(sample_raw, *edits))
    if expected is None:  # two problems, both reported at once
        assert len(problems) == 2
        assert problems[1].startswith("accounts.dev.data: databases, caches, search and Kafka")
        assert problems[0].startswith("accounts.sandbox.data.postgres.multi_az:")
    else:
        assert problems == [expected]


def test_data_belongs_to_workload_accounts(sample_raw):
    raw = broken(sample_raw, ("accounts.management.data", {"buckets": {"reports": {}}}))
    assert problems_of(raw) == [
        "accounts.management.data: not allowed for a management account (workloads only)"
    ]


def test_a_name_too_long_for_the_service_is_refused(sample_raw):
    raw = broken(
        sample_raw,
        ("organization.prefix", "examplecorp1"),
        ("accounts.staging.data.caches", {"sessions-for-web-app": {"replicas": 1}}),
        ("teams.checkout.environments.staging.data.caches", ["sessions-for-web-app"]),
    )
    assert problems_of(raw) == [
        "accounts.staging.data.caches.sessions-for-web-app: its AWS name "
        "'examplecorp1-staging-sessions-for-web-app' is longer than 40 characters; shorten "
        "the name, the account name or organization.prefix"
    ]


# --- constructs refuse bad props, naming the prop and the value ---------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"engine": "mysql"},
            "engine: one of aurora-serverless-v2, aurora-provisioned, rds; got 'mysql'",
        ),
        ({"version": "15.8"}, "version: PostgreSQL 16 or newer; got '15.8'"),
        ({"engine": "rds", "readers": 1}, "readers: Aurora only (engine is rds); got 1"),
        ({"multi_az": True}, "multi_az: RDS only (engine is aurora-serverless-v2); got True"),
        ({"min_capacity": 8, "max_capacity": 4}, "min_capacity: at most max_capacity (4); got 8"),
    ],
)
def test_postgres_refuses_bad_props(props, message):
    from constructs_lib.data.postgres import PlatformPostgres

    stack = new_stack()
    network = PlatformNetwork(
        stack, "Network", cidr="10.0.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b"]
    )
    clients = ec2.SecurityGroup(stack, "Clients", vpc=network.vpc)
    arguments = {"engine": "aurora-serverless-v2", "version": "16.6", **props}
    with pytest.raises(ValueError, match=re.escape(message)):
        PlatformPostgres(
            stack,
            "Db",
            identifier="db",
            vpc=network.vpc,
            subnets=network.isolated_subnets,
            clients=clients,
            **arguments,
        )


def test_postgres_without_the_opt_in_is_kept(tmp_path):
    """Sandbox without `allow_data_loss` is as safe as prod: the opt-in is the only way in."""
    from constructs_lib.data.postgres import PlatformPostgres

    stack = new_stack(outdir=tmp_path)
    network = PlatformNetwork(
        stack, "Network", cidr="10.0.0.0/16", availability_zones=["eu-west-1a", "eu-west-1b"]
    )
    clients = ec2.SecurityGroup(stack, "Clients", vpc=network.vpc)
    PlatformPostgres(
        stack,
        "Db",
        identifier="db",
        engine="rds",
        version="16.6",
        vpc=network.vpc,
        subnets=network.isolated_subnets,
        clients=clients,
    )
    stack.node.root.synth()
    template = Template.from_string((tmp_path / "Test.template.json").read_text())
    template.resource_count_is("AWS::RDS::DBInstance", 1)
    template.has_resource(
        "AWS::RDS::DBInstance",
        {
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "Properties": {"DeletionProtection": True},
        },
    )
    template.all_resources("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_no_aurora_cluster_parameter_group_sets_an_instance_only_parameter(organisation):
    """A DB cluster parameter group refuses instance-level parameters (CloudFormation fails
    with "Invalid / Unmodifiable / Unsupported DB Parameter"); everything the platform sets is
    cluster-level (facts.postgres)."""
    from facts.postgres import AURORA_INSTANCE_ONLY_PARAMETERS

    groups = [
        group
        for stacks in organisation.stacks.values()
        for stack in stacks.values()
        for group in stack.of_type("AWS::RDS::DBClusterParameterGroup").values()
    ]
    assert groups
    for group in groups:
        parameters = set(group["Properties"]["Parameters"])
        assert parameters and not parameters & AURORA_INSTANCE_ONLY_PARAMETERS
        assert {"rds.force_ssl", "shared_preload_libraries"} <= parameters
