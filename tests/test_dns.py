"""The parent zone in shared-services and each environment's delegated subzone."""

from __future__ import annotations

import json

import pytest

from constructs_lib.network.dns import Delegation, ParentZone
from tests.conftest import new_stack
from tests.helpers import props
from tests.test_config import broken, problems_of

ENVIRONMENTS = {
    "dev": ("444444444444", "dev.example.com"),
    "staging": ("555555555555", "staging.example.com"),
    "prod": ("666666666666", "app.example.com"),
    "sandbox": ("777777777777", "sandbox.example.com"),
}


@pytest.fixture(scope="module")
def dns(organisation):
    return organisation.stacks["shared-services"]["Dns"]


def test_the_parent_zone_is_kept(dns):
    (zone,) = dns.of_type("AWS::Route53::HostedZone").values()
    assert props(zone)["Name"] == "example.com."
    assert zone["DeletionPolicy"] == "Retain"


def test_each_environment_may_write_only_its_own_ns_records(dns):
    roles = {props(r)["RoleName"]: (k, r) for k, r in dns.of_type("AWS::IAM::Role").items()}
    assert set(roles) == {f"exco-shared-services-dns-{env}" for env in ENVIRONMENTS}
    for env, (account, zone) in ENVIRONMENTS.items():
        logical, role = roles[f"exco-shared-services-dns-{env}"]
        (trust,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
        assert account in json.dumps(trust["Principal"])
        (policy,) = (
            props(p)
            for p in dns.of_type("AWS::IAM::ManagedPolicy").values()
            if {"Ref": logical} in props(p)["Roles"]
        )
        change = next(
            s
            for s in policy["PolicyDocument"]["Statement"]
            if s["Sid"] == "ThisSubzoneNsRecordsOnly"
        )
        assert change["Condition"] == {
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsRecordTypes": ["NS"],
                "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [zone],
            }
        }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_subzone_delegates_itself_through_its_role(organisation, env):
    stack = organisation.stacks[env]["EdgeGlobal"]
    (record,) = stack.of_type("Custom::CrossAccountZoneDelegation").values()
    assert props(record)["ParentZoneName"] == "example.com"
    assert props(record)["AssumeRoleArn"] == (
        f"arn:aws:iam::333333333333:role/exco-shared-services-dns-{env}"
    )
    assert props(record)["DelegatedZoneName"] == ENVIRONMENTS[env][1]


def test_a_domain_outside_the_parent_is_refused(sample_raw):
    problems = problems_of(broken(sample_raw, ("accounts.dev.domain", "dev.example.org")))
    assert problems[0] == (
        "accounts.dev.domain: must be below dns.parent_zone (example.com): the parent zone is "
        "in shared-services and delegates one subzone per environment (got 'dev.example.org')"
    )


def test_a_delegation_outside_the_zone_is_refused():
    with pytest.raises(ValueError, match=r"'dev\.example\.org' is not below 'example\.com'"):
        ParentZone(
            new_stack(),
            "Parent",
            zone_name="example.com",
            delegations=[Delegation("dev.example.org", "123456789012", "r")],
        )
