"""Private operator access: where config asks, a keyless, inbound-closed instance that the
named roles may use for Session Manager port forwarding only; `make tunnel` prints the session."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import PlatformConfig
from facts.aws import PORT_FORWARDING_DOCUMENT
from tests import iam_check
from tests.helpers import fake_aws_credentials, of_type, only, props
from tests.test_config import broken, problems_of
from tools import tunnel

ACCESS_ACCOUNTS = {"dev", "prod"}
INSTANCE_ID = "i-0123456789abcdef0"


CACHE_HOST = "abc.euw1.cache.amazonaws.com"


def _instance(organisation, stage: str) -> tuple[str, dict[str, Any]]:
    template = organisation.stacks[stage]["Access"].template
    return only({k: v for k, v in of_type(template, "AWS::EC2::Instance").items()}.items())


def test_an_instance_only_where_config_asks(organisation) -> None:
    with_access = {s for s, stacks in organisation.stacks.items() if "Access" in stacks}
    assert with_access == ACCESS_ACCOUNTS
    instances = [
        stage
        for stage, stacks in organisation.stacks.items()
        for stack in stacks.values()
        if of_type(stack.template, "AWS::EC2::Instance")
    ]
    assert sorted(instances) == sorted(ACCESS_ACCOUNTS)


@pytest.mark.parametrize("stage", sorted(ACCESS_ACCOUNTS))
def test_the_instance_has_no_key_no_inbound_and_imdsv2(organisation, stage: str) -> None:
    template = organisation.stacks[stage]["Access"].template
    instance = props(only(of_type(template, "AWS::EC2::Instance")))
    assert "KeyName" not in instance
    assert instance["Monitoring"] is True
    assert all(d["Ebs"]["Encrypted"] for d in instance["BlockDeviceMappings"])
    assert instance["InstanceType"] == "t4g.nano"
    image = template["Parameters"][instance["ImageId"]["Ref"]]
    assert image["Default"].startswith("/aws/service/ami-amazon-linux-latest/al2023-ami-")
    assert image["Default"].endswith("-arm64")
    launch = props(only(of_type(template, "AWS::EC2::LaunchTemplate")))
    assert launch["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    assert not of_type(template, "AWS::EC2::SecurityGroupIngress")
    for group in of_type(template, "AWS::EC2::SecurityGroup").values():
        assert not props(group).get("SecurityGroupIngress")
        egress = props(group)["SecurityGroupEgress"]
        assert {rule["FromPort"] for rule in egress} == {443, 5432, 6379}
    # The instance role may run the agent's session channels and nothing else.
    agent = [
        s
        for p in of_type(template, "AWS::IAM::ManagedPolicy").values()
        if "Roles" in props(p) and any("Ref" in r for r in props(p)["Roles"])
        for s in props(p)["PolicyDocument"]["Statement"]
    ]
    actions = {
        a for s in agent for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # the one action with a resource type is scoped to this account's instances
    (register,) = [s for s in agent if s["Sid"] == "RegisterTheInstance"]
    assert ":ec2:" in json.dumps(register["Resource"]) and "instance/*" in json.dumps(
        register["Resource"]
    )
    assert actions == {
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }


def _replace_ref(value: Any, logical_id: str, replacement: str) -> Any:
    if isinstance(value, list):
        return [_replace_ref(v, logical_id, replacement) for v in value]
    if isinstance(value, dict):
        if value == {"Ref": logical_id}:
            return replacement
        return {k: _replace_ref(v, logical_id, replacement) for k, v in value.items()}
    return value


def _operator_policy(organisation, stage: str) -> tuple[list[str], list[dict[str, Any]]]:
    stack = organisation.stacks[stage]["Access"]
    instance_id, _ = next(iter(of_type(stack.template, "AWS::EC2::Instance").items()))
    policies = [
        props(p)
        for p in of_type(stack.template, "AWS::IAM::ManagedPolicy").values()
        if all(isinstance(r, str) for r in props(p).get("Roles", [{}]))
    ]
    policy = only(dict(enumerate(policies)))
    world = iam_check.World(account=stack.account, region=stack.region)
    statements = iam_check.resolve(
        _replace_ref(policy["PolicyDocument"]["Statement"], instance_id, INSTANCE_ID), world
    )
    return policy["Roles"], statements


@pytest.mark.parametrize("stage", sorted(ACCESS_ACCOUNTS))
def test_operators_may_forward_ports_on_the_instance_only(
    organisation, sample_config: PlatformConfig, stage: str
) -> None:
    roles, statements = _operator_policy(organisation, stage)
    access = sample_config.accounts[stage].access
    assert access is not None
    assert roles == [arn.split("/")[-1] for arn in access.roles]
    account = sample_config.accounts[stage]
    instance = f"arn:aws:ec2:{account.region}:{account.id}:instance/{INSTANCE_ID}"
    other = f"arn:aws:ec2:{account.region}:{account.id}:instance/i-0ffffffffffffffff"

    def document(name: str) -> str:
        return f"arn:aws:ssm:{account.region}::document/{name}"

    checked = {"ssm:SessionDocumentAccessCheck": "true"}
    assert iam_check.decide(statements, "ssm:StartSession", instance, checked)
    assert iam_check.decide(
        statements, "ssm:StartSession", document(PORT_FORWARDING_DOCUMENT), checked
    )
    # A shell (the default document, checked because of the condition), another document,
    # another instance: refused.
    for name in (
        "SSM-SessionManagerRunShell",
        "AWS-StartInteractiveCommand",
        "AWS-StartSSHSession",
    ):
        assert not iam_check.decide(statements, "ssm:StartSession", document(name), checked)
    assert not iam_check.decide(statements, "ssm:StartSession", other, checked)
    assert not iam_check.decide(
        statements, "ssm:StartSession", instance, {"ssm:SessionDocumentAccessCheck": "false"}
    )
    assert not iam_check.decide(statements, "ssm:SendCommand", instance, {})
    # Only one's own sessions may be ended or resumed.
    session = f"arn:aws:ssm:{account.region}:{account.id}:session/alice-0123456789"
    mine = {
        "aws:userid": "AROAEXAMPLE:alice",
        "ssm:resourceTag/aws:ssmmessages:session-id": "AROAEXAMPLE:alice",
    }
    theirs = {**mine, "ssm:resourceTag/aws:ssmmessages:session-id": "AROAEXAMPLE:bob"}
    assert iam_check.decide(statements, "ssm:TerminateSession", session, mine)
    assert not iam_check.decide(statements, "ssm:TerminateSession", session, theirs)


def test_the_cluster_api_admits_the_access_instance_where_configured(organisation) -> None:
    for stage, stacks in organisation.stacks.items():
        if "Cluster" not in stacks:
            continue
        template = stacks["Cluster"].template
        rules = [
            props(r)
            for r in of_type(template, "AWS::EC2::SecurityGroupIngress").values()
            if "operator access" in props(r).get("Description", "")
        ]
        assert len(rules) == (1 if stage in ACCESS_ACCOUNTS else 0), stage
        for rule in rules:
            assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
            assert "WorkloadClients" in str(rule["SourceSecurityGroupId"])


def test_the_instance_id_is_published(organisation, sample_config: PlatformConfig) -> None:
    for stage in ACCESS_ACCOUNTS:
        names = [
            props(p)["Name"]
            for p in of_type(
                organisation.stacks[stage]["Access"].template, "AWS::SSM::Parameter"
            ).values()
        ]
        assert names == [f"/{sample_config.organization.prefix}/{stage}/access/instance-id"]


def test_access_roles_must_be_of_their_account(sample_raw) -> None:
    raw = broken(
        sample_raw, ("accounts.dev.access.roles", ["arn:aws:iam::666666666666:role/OnCall"])
    )
    assert problems_of(raw) == [
        "accounts.dev.access.roles.0: a role of account 666666666666, but the access instance "
        "is in accounts.dev (444444444444); name a role of that account "
        "(got 'arn:aws:iam::666666666666:role/OnCall')"
    ]
    empty = problems_of(broken(sample_raw, ("accounts.dev.access.roles", [])))
    assert len(empty) == 1 and empty[0].startswith("accounts.dev.access.roles")


@pytest.fixture
def published(monkeypatch, sample_config: PlatformConfig):
    fake_aws_credentials(monkeypatch, "eu-west-1")
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        prefix = f"/{sample_config.organization.prefix}"
        values = {
            f"{prefix}/prod/access/instance-id": INSTANCE_ID,
            f"{prefix}/prod/data/postgres/endpoint": "db.cluster-abc.eu-west-1.rds.amazonaws.com",
            f"{prefix}/prod/data/caches/sessions/endpoint": f"master.sessions.{CACHE_HOST}",
            f"{prefix}/prod/data/caches/rate-limits/endpoint": f"master.rl.{CACHE_HOST}",
        }
        for name, value in values.items():
            ssm.put_parameter(Name=name, Value=value, Type="String")
        yield


def test_tunnel_prints_the_port_forwarding_session(published, capsys) -> None:
    assert tunnel.main(["--env", "prod", "--target", "postgres", "--print"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"aws ssm start-session --region eu-west-1 --target {INSTANCE_ID} "
        "--document-name AWS-StartPortForwardingSessionToRemoteHost --parameters "
        '\'{"host":["db.cluster-abc.eu-west-1.rds.amazonaws.com"],"portNumber":["5432"],'
        '"localPortNumber":["15432"]}\''
    )
    assert (
        tunnel.main(["--env", "prod", "--target", "cache", "--cache", "sessions", "--print"]) == 0
    )
    assert '"host":["master.sessions.abc.euw1.cache.amazonaws.com"],"portNumber":["6379"]' in (
        capsys.readouterr().out
    )


def test_tunnel_explains_what_it_cannot_do(published, capsys) -> None:
    assert tunnel.main(["--env", "prod", "--target", "cache", "--print"]) == 1
    assert "several caches: name one with CACHE= (rate-limits, sessions)" in capsys.readouterr().err
    assert tunnel.main(["--env", "staging", "--target", "postgres", "--print"]) == 1
    assert "accounts.staging has no `access`" in capsys.readouterr().err
