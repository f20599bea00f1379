"""Teams' data: their PostgreSQL users (IAM authentication, made through the RDS Data API)
and their cache users (IAM authentication, keys under `<team>:*`), on the session synth."""

from __future__ import annotations

import re
from typing import Any

import pytest

from constructs_lib.data.team_database import RESOURCE_TYPE
from runtime.team_database import handler as team_database
from stages.naming import data_name, team_cache_user, team_database_user
from tests.helpers import only, props, ref_of

WORKLOADS = ("dev", "staging", "prod", "sandbox")


def data(organisation, account: str):
    return organisation.stacks[account]["Data"]


def postgres_of(stack) -> tuple[str, dict[str, Any]]:
    """The Aurora cluster, or else the RDS instance."""
    found = stack.of_type("AWS::RDS::DBCluster") or stack.of_type("AWS::RDS::DBInstance")
    return only({k: (k, v) for k, v in found.items()})


@pytest.mark.parametrize("account", WORKLOADS)
def test_every_platform_postgres_signs_in_with_iam(organisation, account):
    _, database = postgres_of(data(organisation, account))
    assert props(database)["EnableIAMDatabaseAuthentication"] is True


def is_cluster_arn(value: Any, stack, cluster_id: str) -> bool:
    return value == {
        "Fn::Join": [
            "",
            [f"arn:aws:rds:{stack.region}:{stack.account}:cluster:", {"Ref": cluster_id}],
        ]
    }


def postgres_teams(config, account: str) -> list[str]:
    return sorted(t for t, env in config.teams_in(account).items() if env.data.postgres)


@pytest.mark.parametrize("account", ("dev", "staging", "prod"))
def test_each_postgres_team_gets_exactly_its_user_and_schema(organisation, sample_config, account):
    stack = data(organisation, account)
    cluster_id, cluster = postgres_of(stack)
    assert props(cluster)["EnableHttpEndpoint"] is True  # the Data API the users are made by
    teams = postgres_teams(sample_config, account)
    assert teams == ["checkout"]  # the sample: reports has no database
    users = stack.of_type(RESOURCE_TYPE)
    assert sorted(props(u)["User"] for u in users.values()) == [
        team_database_user(t) for t in teams
    ]
    for user in users.values():
        p = props(user)
        assert is_cluster_arn(p["ResourceArn"], stack, cluster_id)
        assert p["SecretArn"] == {"Fn::GetAtt": [cluster_id, "MasterUserSecret.SecretArn"]}
        assert p["Database"] == props(cluster)["DatabaseName"]
        sql = team_database.statement("Create", p)
        name = p["User"]
        assert re.findall(r'CREATE ROLE "([^"]+)" WITH LOGIN', sql) == [name]
        assert f'GRANT rds_iam TO "{name}";' in sql
        assert f'GRANT CONNECT ON DATABASE "{p["Database"]}" TO "{name}";' in sql
        assert f'CREATE SCHEMA IF NOT EXISTS "{name}" AUTHORIZATION "{name}";' in sql
        gone = team_database.statement("Delete", p)
        assert f'ALTER ROLE "{name}" WITH NOLOGIN;' in gone
        assert "DROP" not in gone.upper()


def test_team_database_names_are_quoted_and_checked():
    with pytest.raises(ValueError):
        team_database.create_statement('x"; DROP TABLE t; --', "app")
    with pytest.raises(ValueError):
        team_database.create_statement("x", "app'")


@pytest.mark.parametrize("account", ("dev", "staging", "prod"))
def test_the_user_function_reaches_only_this_cluster_and_secret(organisation, account):
    stack = data(organisation, account)
    cluster_id, _ = postgres_of(stack)
    user = next(iter(stack.of_type(RESOURCE_TYPE).values()))
    function = stack.resources[ref_of(props(user)["ServiceToken"])]
    role = ref_of(props(function)["Role"])
    policies = [
        props(p)
        for p in stack.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in props(p)["Roles"]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    actions = {
        a: s["Resource"]
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert set(actions) == {
        "rds-data:ExecuteStatement",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
    }
    assert is_cluster_arn(actions["rds-data:ExecuteStatement"], stack, cluster_id)
    assert actions["secretsmanager:GetSecretValue"] == {
        "Fn::GetAtt": [cluster_id, "MasterUserSecret.SecretArn"]
    }
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"].startswith("secretsmanager.")
    # no managed policy grants anything beyond writing its logs
    managed = props(stack.resources[role]).get("ManagedPolicyArns", [])
    assert len(managed) == 1 and "AWSLambdaBasicExecutionRole" in str(managed[0])
    for user in stack.of_type(RESOURCE_TYPE).values():  # its permissions exist first
        assert any(d.startswith("TeamDatabaseUsersPolicy") for d in user["DependsOn"])


def test_no_data_api_or_team_users_without_postgres_teams(organisation):
    sandbox = data(organisation, "sandbox")
    assert not sandbox.of_type(RESOURCE_TYPE)
    _, database = postgres_of(sandbox)
    assert "EnableHttpEndpoint" not in props(database)


def cache_teams(config, account: str) -> dict[str, tuple[str, ...]]:
    return {t: env.data.caches for t, env in config.teams_in(account).items() if env.data.caches}


@pytest.mark.parametrize("account", ("dev", "staging", "prod"))
def test_one_iam_cache_user_per_team_limited_to_its_keys(organisation, sample_config, account):
    stack = data(organisation, account)
    teams = cache_teams(sample_config, account)
    users = {
        props(u)["UserId"]: props(u)
        for u in stack.of_type("AWS::ElastiCache::User").values()
        if props(u)["UserId"].startswith("team-")
    }
    assert sorted(users) == sorted(team_cache_user(t) for t in teams)
    for team in teams:
        user = users[team_cache_user(team)]
        assert user["UserName"] == user["UserId"]  # IAM authentication requires it
        assert user["AuthenticationMode"] == {"Type": "iam"}
        assert user["AccessString"] == f"on ~{team}:* +@all -@dangerous"
        assert "Passwords" not in user and "NoPasswordRequired" not in user


@pytest.mark.parametrize("account", ("dev", "staging", "prod"))
def test_team_users_are_in_exactly_the_granted_caches_user_groups(
    organisation, sample_config, account
):
    stack = data(organisation, account)
    teams = cache_teams(sample_config, account)
    groups = {
        props(g)["UserGroupId"]: (k, props(g))
        for k, g in stack.of_type("AWS::ElastiCache::UserGroup").items()
    }
    users = stack.of_type("AWS::ElastiCache::User")
    for cache_name in sample_config.accounts[account].data.caches:
        name = data_name(sample_config, account, cache_name)
        group_id, group = groups[name]
        members = [m for m in group["UserIds"] if str(m).startswith("team-")]
        assert sorted(members) == sorted(
            team_cache_user(t) for t, caches in teams.items() if cache_name in caches
        )
        # the group holds a `default` user, switched off and without a password
        (default,) = [
            props(u)
            for u in users.values()
            if props(u)["UserName"] == "default" and props(u)["UserId"] in group["UserIds"]
        ]
        assert default["AccessString"].startswith("off")
        assert default["AuthenticationMode"] == {"Type": "no-password-required"}
        (replication,) = [
            props(r)
            for r in stack.of_type("AWS::ElastiCache::ReplicationGroup").values()
            if props(r)["ReplicationGroupId"] == name
        ]
        assert replication["UserGroupIds"] == [{"Ref": group_id}]
        assert replication["TransitEncryptionEnabled"] is True


def test_prod_checkout_reaches_both_caches_staging_one(organisation, sample_config):
    """The sample's grants differ per environment: prod's rate-limits cache admits checkout,
    and no team user exists where no team uses caches (sandbox)."""
    prod = data(organisation, "prod")
    rate_limits = [
        props(g)
        for g in prod.of_type("AWS::ElastiCache::UserGroup").values()
        if props(g)["UserGroupId"] == data_name(sample_config, "prod", "rate-limits")
    ]
    assert "team-checkout" in only(dict(enumerate(rate_limits)))["UserIds"]
    sandbox = data(organisation, "sandbox")
    assert not [
        u
        for u in sandbox.of_type("AWS::ElastiCache::User").values()
        if props(u)["UserId"].startswith("team-")
    ]
