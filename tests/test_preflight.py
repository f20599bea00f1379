"""make preflight against moto: a ready organisation passes, a brand-new one shows what the
platform creates itself as PENDING, and each failing check says what is wrong and how to fix it.

Two AWS APIs are stubbed narrowly instead of run in moto, each behind one function:
CloudFormation (moto's needs openapi-spec-validator, which the lock does not install), read
through the `Stacks` seam, so the checks get `StackInfo`s from a dict and `describe_stack`
alone is tested with botocore's Stubber; and CodeConnections' GetConnection (moto has no
CodeConnections), answered by a Stubber.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from config import PlatformConfig, parse_config
from config.deploy_path import BOOTSTRAP_ROLES, trusted_principals
from facts.cdk import CDK_QUALIFIER
from runtime.dns_delegation import LookupFailed
from stages.stacks.organization import SECURITY_SERVICES
from tests.conftest import SAMPLE_CONFIG
from tests.helpers import fake_aws_credentials
from tools.preflight import checks
from tools.preflight.access import Accounts, StackInfo, describe_stack
from tools.preflight.cli import main, run_checks
from tools.preflight.dns import ResolverUnavailable, system_resolver
from tools.preflight.needs import RAM, ChatWorkspace, Creator, Needs
from tools.preflight.report import Result, Status, exit_status, failed, passed, pending, render

REGION = "eu-west-1"
ZONE = "example.com"
SLACK = "T00000000"
"""The sample's Slack workspace."""
DEPLOYED = StackInfo("CREATE_COMPLETE")
BOTOCORE = botocore.session.get_session()
"""One botocore session for every test: it reads each service's model once (moto intercepts
its requests all the same)."""


# --- a moto organisation shaped like the sample config --------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    fake_aws_credentials(monkeypatch, REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.Session(botocore_session=BOTOCORE, region_name=REGION)


class FakeStacks(dict):
    """`Stacks` from a dict: (account id, region, stack name) -> StackInfo."""

    def describe(self, account_id: str, region: str, stack_name: str) -> StackInfo | None:
        return self.get((account_id, region, stack_name))


def connection_client(arn: str, status: str | None) -> Any:
    """A codeconnections client answering one GetConnection with `status` (None: no such
    connection)."""
    client = boto3.Session(botocore_session=BOTOCORE).client(
        "codeconnections", region_name=arn.split(":")[3]
    )
    stubber = Stubber(client)
    if status is None:
        stubber.add_client_error(
            "get_connection", "ResourceNotFoundException", "Connection not found", 404
        )
    else:
        stubber.add_response(
            "get_connection",
            {
                "Connection": {
                    "ConnectionName": "github",
                    "ConnectionArn": arn,
                    "ProviderType": "GitHub",
                    "OwnerAccountId": arn.split(":")[4],
                    "ConnectionStatus": status,
                }
            },
            {"ConnectionArn": arn},
        )
    stubber.activate()
    return client


def chatbot_client(slack: list[str], teams: list[tuple[str, str]] | None = None) -> Any:
    """A chatbot client answering which Slack workspaces (ids) and, when asked, which
    Microsoft Teams teams (id, tenant) are authorised (moto has no AWS Chatbot)."""
    client = boto3.Session(botocore_session=BOTOCORE).client("chatbot", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_slack_workspaces",
        {"SlackWorkspaces": [{"SlackTeamId": w, "SlackTeamName": "Example"} for w in slack]},
    )
    if teams is not None:
        stubber.add_response(
            "list_microsoft_teams_configured_teams",
            {"ConfiguredTeams": [{"TeamId": t, "TenantId": tenant} for t, tenant in teams]},
        )
    stubber.activate()
    return client


class MotoAccounts(Accounts):
    """Accounts in moto, with the connection and AWS Chatbot answered by Stubbers."""

    connection_status: str | None = "AVAILABLE"
    slack_workspaces: tuple[str, ...] = (SLACK,)

    def client(self, account_id: str, service: str, region: str | None = None) -> Any:
        if service in ("codeconnections", "codestar-connections"):
            return connection_client(self.connection_arn, self.connection_status)
        if service == "chatbot":
            return chatbot_client(list(self.slack_workspaces))
        return super().client(account_id, service, region)


@dataclass
class Org:
    """A moto organisation, the config naming its accounts, and an assembly for it."""

    session: boto3.Session
    config: PlatformConfig
    config_file: Path
    assembly: Path
    accounts: MotoAccounts
    stacks: FakeStacks = field(default_factory=FakeStacks)
    public_ns: list[str] = field(default_factory=list)
    """What the resolver answers for the parent zone."""

    @property
    def needs(self) -> Needs:
        return Needs.read(self.assembly)

    def id(self, name: str) -> str:
        return self.config.accounts[name].id

    def client(self, name: str, service: str, region: str = REGION) -> Any:
        return self.accounts.client(self.id(name), service, region)

    def deploy(self, path: str, info: StackInfo = DEPLOYED) -> None:
        stack = self.needs.stacks[path]
        self.stacks[(stack.account_id, stack.region, stack.stack_name)] = info

    def run(self) -> list[Result]:
        return run_checks(
            self.config,
            self.needs,
            self.accounts,
            stacks=self.stacks,
            resolve=lambda name: list(self.public_ns),
        )


def write_assembly(folder: Path, config: PlatformConfig) -> Path:
    """A cloud assembly with the stacks the checks read: a baseline per account, the
    organisation's setup, the parent zone and the RAM share, the pipeline and its us-east-1
    bucket, and the edges' us-east-1 stacks."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = {}

    def add(path: str, account_id: str, region: str, resources: dict | None = None) -> None:
        artifact = path.replace("/", "").replace("-", "")
        artifacts[artifact] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{account_id}/{region}",
            "displayName": path,
            "properties": {
                "templateFile": f"{artifact}.template.json",
                "stackName": path.replace("/", "-"),
                "requiresBootstrapStackVersion": 6,
            },
        }
        template = {
            "Resources": resources
            or {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
        }
        (folder / f"{artifact}.template.json").write_text(json.dumps(template))

    management = config.account_with_role("management")[1].id
    organisation = f"arn:aws:organizations::{management}:organization/{config.organization.id}"
    for name, account in config.accounts.items():
        add(f"{name}/Baseline", account.id, account.region)
        if account.role == "prod":
            add(
                f"{name}/Operations",
                account.id,
                account.region,
                {
                    "Chat": {
                        "Type": "AWS::Chatbot::SlackChannelConfiguration",
                        "Properties": {"SlackWorkspaceId": SLACK, "SlackChannelId": "C1"},
                    }
                },
            )
        if account.role == "management":
            add(
                f"{name}/Organization",
                account.id,
                account.region,
                {
                    "Setup": {
                        "Type": "Custom::OrganizationSetup",
                        "Properties": {"ServiceAccess": list(SECURITY_SERVICES)},
                    },
                    "SecurityHubAdmin": {
                        "Type": "AWS::SecurityHub::DelegatedAdmin",
                        "Properties": {"AdminAccountId": "x"},
                    },
                },
            )
        if account.role == "shared-services":
            add(
                f"{name}/Dns",
                account.id,
                account.region,
                {"Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": f"{ZONE}."}}},
            )
            add(
                f"{name}/NetworkHub",
                account.id,
                account.region,
                {
                    "Share": {
                        "Type": "AWS::RAM::ResourceShare",
                        "Properties": {"Name": "hub", "Principals": [organisation]},
                    }
                },
            )
            add("Pipeline", account.id, account.region)
            add("Pipeline-us-east-1", account.id, "us-east-1")
        if account.edge_settings is not None:
            add(f"{name}/EdgeGlobal", account.id, "us-east-1")
    (folder / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    return folder


@pytest.fixture
def org(aws, sample_raw, tmp_path) -> Org:
    return make_org(aws, sample_raw, tmp_path)


def make_org(aws, raw: dict, tmp_path: Path, *, feature_set: str = "ALL") -> Org:
    """Create the organisation and one account per config account (moto picks the ids), and
    the config with those ids in place of the sample's placeholders."""
    organizations = aws.client("organizations")
    created = organizations.create_organization(FeatureSet=feature_set)["Organization"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    ids = {}
    for name, account in raw["accounts"].items():
        ids[name] = (
            created["MasterAccountId"]
            if account["role"] == "management"
            else organizations.create_account(Email=f"{name}@example.com", AccountName=name)[
                "CreateAccountStatus"
            ]["AccountId"]
        )
    text = yaml.safe_dump(raw, sort_keys=False)
    for name, account in raw["accounts"].items():
        text = text.replace(account["id"], ids[name])
    mine = yaml.safe_load(text)
    mine["organization"].update(id=created["Id"], root_id=root)
    config_file = tmp_path / "platform.yaml"
    config_file.write_text(yaml.safe_dump(mine, sort_keys=False))
    config = parse_config(mine)
    accounts = MotoAccounts(aws)
    accounts.connection_arn = config.pipeline.connection_arn
    return Org(aws, config, config_file, write_assembly(tmp_path / "cdk.out", config), accounts)


def trust(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def service_role(iam: Any, name: str, service: str) -> None:
    iam.create_role(
        RoleName=name,
        Path=f"/aws-service-role/{service}/",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )


def bootstrap_everywhere(org: Org, *, version: str = "27") -> None:
    """What `make bootstrap --execute` leaves: CDKToolkit, its version parameter and roles
    that trust exactly the deploy path where the pipeline deploys."""
    name_of = {account.id: name for name, account in org.config.accounts.items()}
    for account_id, region in org.needs.environments():
        org.stacks[(account_id, region, "CDKToolkit")] = StackInfo(
            "UPDATE_COMPLETE", {"Qualifier": CDK_QUALIFIER}
        )
        org.accounts.client(account_id, "ssm", region).put_parameter(
            Name=f"/cdk-bootstrap/{CDK_QUALIFIER}/version", Value=version, Type="String"
        )
        iam = org.accounts.client(account_id, "iam", region)
        for kind in BOOTSTRAP_ROLES:
            pinned = trusted_principals(org.config, name_of[account_id], kind)
            iam.create_role(
                RoleName=f"cdk-{CDK_QUALIFIER}-{kind}-role-{account_id}-{region}",
                AssumeRolePolicyDocument=pinned_trust(*pinned) if pinned else trust(account_id),
            )


def make_ready(org: Org) -> None:
    """Everything in place: the state after bootstrap, the organisation stack and the Dns
    stack, the registrar step and the by-hand prerequisites."""
    organizations = org.session.client("organizations")
    for principal in (*checks.TRUSTED_SERVICES, RAM):
        organizations.enable_aws_service_access(ServicePrincipal=principal)
    service_role(org.client("management", "iam"), checks.RAM_ROLE, RAM)
    bootstrap_everywhere(org)
    org.deploy("management/Organization")
    org.deploy("shared-services/Dns")
    route53 = org.client("shared-services", "route53")
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="preflight")
    org.public_ns = list(zone["DelegationSet"]["NameServers"])
    for name, account in org.config.accounts.items():
        for role in checks.required_service_linked_roles(account):
            service_role(org.client(name, "iam"), role.name, role.service)
        if account.cluster is not None:
            for arn in (*account.cluster.admin_role_arns, *account.cluster.viewer_role_arns):
                iam = org.accounts.client(arn.split(":")[4], "iam", REGION)
                iam.create_role(
                    RoleName=arn.rsplit("/", 1)[-1], AssumeRolePolicyDocument=trust(account.id)
                )


def rows(results: list[Result], check: str, where: str = "") -> list[Result]:
    return [r for r in results if r.check == check and where in r.where]


def only(results: list[Result], check: str, where: str = "") -> Result:
    (found,) = rows(results, check, where)
    return found


# --- the whole run --------------------------------------------------------------------------------


def test_a_ready_organisation_passes_every_check(org, capsys):
    make_ready(org)
    status = main(
        ["--config", str(org.config_file), "--assembly", str(org.assembly)],
        accounts=org.accounts,
        stacks=org.stacks,
        resolve=lambda name: list(org.public_ns),
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out and "PENDING" not in out
    results = org.run()
    assert {r.status for r in results} == {Status.PASS}
    counts = {check: len(rows(results, check)) for check in dict.fromkeys(r.check for r in results)}
    assert counts == {
        "all features": 1,
        "organisation id": 1,
        "management account": 1,
        "root id": 1,
        "account": 7,
        "access": 7,
        "trusted access": 6,
        "RAM sharing": 1,
        "CDK bootstrap": 12,  # every account in its region, five also in us-east-1
        # where the pipeline deploys and its home (not management or sandbox)
        "bootstrap trust": 9,
        "connection": 1,
        "DNS delegation": 1,
        "service-linked role": 7,  # Spot where a cluster runs, OpenSearch in staging and prod
        "EKS access principal": 9,
        "chat workspace": 1,
    }
    assert out.splitlines()[0].split() == [
        "CHECK",
        "WHERE",
        "RESULT",
        "DETAILS",
        "AND",
        "HOW",
        "TO",
        "FIX",
    ]
    assert out.splitlines()[-1] == f"{len(results)} passed, 0 pending, 0 failed"


def test_a_new_organisation_shows_what_the_platform_creates_as_pending(org):
    """Before the first run: trusted access and the parent zone come from the platform's own
    stacks, so they are PENDING, not failures; the rest is ready."""
    make_ready(org)
    organizations = org.session.client("organizations")
    for principal in checks.TRUSTED_SERVICES:
        organizations.disable_aws_service_access(ServicePrincipal=principal)
    org.stacks.clear()
    bootstrap_stacks = org.stacks  # CDKToolkit came from bootstrap, not from a pipeline run
    for account_id, region in org.needs.environments():
        bootstrap_stacks[(account_id, region, "CDKToolkit")] = StackInfo("CREATE_COMPLETE")
    route53 = org.client("shared-services", "route53")
    (zone,) = route53.list_hosted_zones()["HostedZones"]
    route53.delete_hosted_zone(Id=zone["Id"])
    results = org.run()
    waiting = [r for r in results if r.status is Status.PENDING]
    assert [(r.check, r.found) for r in waiting] == [
        *(("trusted access", f"{p} not enabled yet") for p in checks.TRUSTED_SERVICES),
        ("DNS delegation", f"no zone {ZONE} yet"),
    ]
    assert all("management/Organization (not deployed yet)" in r.fix for r in waiting[:-1])
    assert "Created by shared-services/Dns (not deployed yet)" in waiting[-1].fix
    assert "point the registrar at its name servers" in waiting[-1].fix
    assert exit_status(results) == 0


def test_a_chat_workspace_not_authorised_in_its_account_fails_with_where_to_do_it(org):
    """AWS Chatbot cannot create a channel configuration for a workspace nobody authorised in
    that account (an OAuth step in its console)."""
    make_ready(org)
    org.accounts.slack_workspaces = ("T99999999",)
    row = only(org.run(), "chat workspace")
    assert row.status is Status.FAIL
    assert row.where.startswith("prod (")
    assert row.found == f"Slack workspace {SLACK} is not authorised in this account"
    assert "Configure a chat client > Slack" in row.fix


TEAM, TENANT, OTHER_TENANT = (f"{n:08d}-0000-4000-8000-000000000000" for n in (1, 2, 3))


def test_a_teams_channel_needs_its_team_and_tenant_authorised():
    wanted = [ChatWorkspace("teams", TEAM, TENANT), ChatWorkspace("slack", SLACK)]
    ok = checks.check_chat_workspaces(
        chatbot_client([SLACK], [(TEAM, TENANT)]), wanted, where="dev"
    )
    assert [r.status for r in ok] == [Status.PASS, Status.PASS]
    other_tenant = checks.check_chat_workspaces(
        chatbot_client([SLACK], [(TEAM, OTHER_TENANT)]), wanted, where="dev"
    )
    assert [r.status for r in other_tenant] == [Status.PASS, Status.FAIL]
    assert other_tenant[1].found == (
        f"Microsoft Teams team {TEAM} (tenant {TENANT}) is not authorised in this account"
    )


def test_trusted_access_still_missing_after_the_organization_stack_deployed_fails(org):
    make_ready(org)
    org.session.client("organizations").disable_aws_service_access(
        ServicePrincipal="guardduty.amazonaws.com"
    )
    results = rows(org.run(), "trusted access")
    row = next(r for r in results if "guardduty" in r.found)
    assert row.status is Status.FAIL
    assert row.found == (
        "guardduty.amazonaws.com not enabled, although management/Organization is CREATE_COMPLETE"
    )
    assert "Deploy management/Organization again" in row.fix


def test_an_account_that_cannot_be_reached_fails_its_rows_and_says_why(org):
    """The access row says which role could not be assumed; the checks that needed the
    account say they were not checked, instead of stopping the run."""
    make_ready(org)
    dev = org.id("dev")
    org.accounts = MotoAccounts(org.session)
    org.accounts.connection_arn = org.config.pipeline.connection_arn
    org.accounts.sts = DenyingSts(org.accounts.sts, dev)
    results = org.run()
    access = only(results, "access", f"dev ({dev})")
    assert access.status is Status.FAIL
    assert f"cannot assume arn:aws:iam::{dev}:role/OrganizationAccountAccessRole" in access.found
    assert "AccessDenied" in access.found
    assert "--role-name" in access.fix
    bootstrap_row = only(results, "CDK bootstrap", f"dev ({dev}) eu-west-1")
    assert bootstrap_row.status is Status.FAIL
    assert bootstrap_row.found.startswith("not checked: cannot assume")
    assert only(results, "access", "management").status is Status.PASS
    assert exit_status(results) == 1


class DenyingSts:
    """STS that refuses to assume any role in one account."""

    def __init__(self, sts: Any, account_id: str) -> None:
        self.sts, self.account_id = sts, account_id

    def assume_role(self, *, RoleArn: str, **kwargs: Any) -> Any:
        if f"::{self.account_id}:" in RoleArn:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole"
            )
        return self.sts.assume_role(RoleArn=RoleArn, **kwargs)


def botocore_client(service: str) -> Any:
    return boto3.Session(botocore_session=BOTOCORE).client(service, region_name=REGION)


# --- the organisation -----------------------------------------------------------------------------


def test_an_organisation_without_all_features_fails(aws, sample_raw, tmp_path):
    org = make_org(aws, sample_raw, tmp_path, feature_set="CONSOLIDATED_BILLING")
    row = only(
        checks.check_organization(org.client("management", "organizations"), org.config),
        "all features",
    )
    assert row.status is Status.FAIL
    assert row.found.startswith("FeatureSet is CONSOLIDATED_BILLING")
    assert "aws organizations enable-all-features" in row.fix


def test_another_organisation_root_or_management_account_fails_with_the_real_values(org):
    raw = org.config.model_dump(mode="json", exclude_none=True)
    raw["organization"].update(id="o-aaaaaaaaaa", root_id="r-zzzz")
    raw["accounts"]["management"]["id"] = "999999999999"
    other = parse_config(raw)
    results = checks.check_organization(org.client("management", "organizations"), other)
    real = org.config.organization
    assert [(r.check, r.status) for r in results] == [
        ("all features", Status.PASS),
        ("organisation id", Status.FAIL),
        ("management account", Status.FAIL),
        ("root id", Status.FAIL),
    ]
    assert (
        results[1].found == f"the credentials' organisation is {real.id}, config says o-aaaaaaaaaa"
    )
    assert results[2].fix == f'Set accounts.management.id: "{org.id("management")}"'
    assert results[3].fix == f"Set organization.root_id: {real.root_id} in the config"


def test_credentials_outside_any_organisation_fail_with_how_to_run(aws, sample_config):
    row = only(
        checks.check_organization(aws.client("organizations"), sample_config), "organisation id"
    )
    assert row.status is Status.FAIL
    assert row.found == "the credentials' account belongs to no organisation"
    assert "--profile" in row.fix


def test_accounts_missing_closed_or_swapped_fail(org):
    organizations = org.client("management", "organizations")
    organizations.close_account(AccountId=org.id("sandbox"))
    raw = org.config.model_dump(mode="json", exclude_none=True)
    raw["accounts"]["dev"]["id"] = "999999999999"
    raw["accounts"]["staging"]["id"], raw["accounts"]["prod"]["id"] = (
        org.id("prod"),
        org.id("staging"),
    )
    for name in ("staging", "prod"):  # keep the other checks' references consistent
        raw["accounts"][name]["cluster"].pop("admin_role_arns")
        raw["accounts"][name]["cluster"].pop("viewer_role_arns")
    for name in ("dev", "prod"):  # operator roles and team owners name account ids too
        raw["accounts"][name].pop("access", None)
    raw.pop("teams", None)
    by_account = {
        r.where.split()[0]: r for r in checks.check_accounts(organizations, parse_config(raw))
    }
    assert by_account["security"].status is Status.PASS
    assert by_account["security"].found == "in the organisation, ACTIVE, named 'security'"
    assert by_account["dev"].found == (
        f"no account 999999999999 in the organisation; the account named 'dev' is {org.id('dev')}"
    )
    assert by_account["dev"].fix.startswith("Correct accounts.dev.id")
    assert by_account["sandbox"].status is Status.FAIL
    assert re.fullmatch(
        rf"{org.id('sandbox')} \('sandbox'\) is (SUSPENDED|PENDING_CLOSURE|CLOSED)",
        by_account["sandbox"].found,
    )
    assert by_account["staging"].found == (
        f"{org.id('prod')} is named 'prod', but the account named 'staging' is "
        f"{org.id('staging')}: ids swapped?"
    )


def test_account_names_are_compared_loosely_and_only_to_catch_swaps():
    assert checks._name_key("Shared Services") == checks._name_key("shared-services")
    assert checks._name_key("shared_services") == "shared-services"


# --- trusted access and RAM -----------------------------------------------------------------------


def test_trusted_access_without_a_platform_stack_to_enable_it_fails_with_the_command():
    (row,) = checks.check_trusted_access(
        set(), ["config.amazonaws.com"], creator_of=lambda p: None, stacks=FakeStacks()
    )
    assert row.status is Status.FAIL
    assert row.found == "config.amazonaws.com not enabled; no stack of the platform creates it"
    assert "enable-aws-service-access --service-principal config.amazonaws.com" in row.fix


ORG_STACK = Creator("management/Organization", "management-Organization", "111111111111", REGION)


@pytest.mark.parametrize(
    ("info", "status", "says"),
    [
        (None, Status.PENDING, "Created by management/Organization (not deployed yet)"),
        (StackInfo("REVIEW_IN_PROGRESS"), Status.PENDING, "(not deployed yet)"),
        (StackInfo("CREATE_IN_PROGRESS"), Status.PENDING, "(CREATE_IN_PROGRESS)"),
        (StackInfo("UPDATE_COMPLETE"), Status.FAIL, "Deploy management/Organization again"),
        (StackInfo("ROLLBACK_COMPLETE"), Status.FAIL, "delete a stack left in ROLLBACK_COMPLETE"),
    ],
)
def test_what_a_platform_stack_creates_is_pending_until_that_stack_is_deployed(info, status, says):
    stacks = FakeStacks(
        {(ORG_STACK.account_id, REGION, ORG_STACK.stack_name): info} if info else {}
    )
    (row,) = checks.check_trusted_access(
        set(), ["cloudtrail.amazonaws.com"], creator_of=lambda p: ORG_STACK, stacks=stacks
    )
    assert row.status is status
    assert says in row.fix


def test_ram_trusted_access_without_its_service_linked_role_fails(org):
    hub = Creator("shared-services/NetworkHub", "x", org.id("shared-services"), REGION)
    kwargs = dict(where="management", users=[hub], creator=None, stacks=FakeStacks())
    iam = org.client("management", "iam")
    (row,) = checks.check_ram_sharing({RAM}, iam, **kwargs)
    assert row.status is Status.FAIL
    assert row.found == (
        "ram.amazonaws.com has trusted access but AWSServiceRoleForResourceAccessManager does not "
        "exist (trusted access was enabled through Organizations, which creates no role): "
        "shared-services/NetworkHub cannot share with the organisation"
    )
    assert "aws ram enable-sharing-with-aws-organization" in row.fix
    (row,) = checks.check_ram_sharing(set(), iam, **kwargs)
    assert row.found == (
        "sharing with the organisation not enabled (shared-services/NetworkHub shares with it); "
        "no stack of the platform creates it"
    )
    assert checks.check_ram_sharing(set(), iam, **{**kwargs, "users": []}) == []
    (row,) = checks.check_ram_sharing(set(), iam, **{**kwargs, "creator": ORG_STACK})
    assert row.status is Status.PENDING


# --- bootstrap ------------------------------------------------------------------------------------

TOOLKIT = StackInfo("UPDATE_COMPLETE", {"Qualifier": CDK_QUALIFIER})


def put_version(ssm: Any, version: str, qualifier: str = CDK_QUALIFIER) -> None:
    ssm.put_parameter(Name=f"/cdk-bootstrap/{qualifier}/version", Value=version, Type="String")


@pytest.mark.parametrize(
    ("toolkit", "version", "found"),
    [
        (
            TOOLKIT,
            "27",
            f"CDKToolkit UPDATE_COMPLETE, qualifier {CDK_QUALIFIER}, version 27 (needs 6)",
        ),
        (None, "27", "no CDKToolkit stack: not bootstrapped"),
        (StackInfo("ROLLBACK_COMPLETE"), "27", "CDKToolkit is ROLLBACK_COMPLETE"),
        (
            StackInfo("CREATE_COMPLETE", {"Qualifier": "custom123"}),
            "27",
            f"CDKToolkit uses qualifier custom123; the app's is {CDK_QUALIFIER} (facts/cdk.py)",
        ),
        (TOOLKIT, "5", "bootstrap version 5; the assembly needs 6 or later"),
        (TOOLKIT, None, f"no SSM parameter /cdk-bootstrap/{CDK_QUALIFIER}/version"),
    ],
)
def test_bootstrap_needs_the_toolkit_the_qualifier_and_the_version(aws, toolkit, version, found):
    ssm = aws.client("ssm")
    if version is not None:
        put_version(ssm, version)
    row = checks.check_bootstrap(ssm, toolkit, where="dev", required=6)
    assert row.found == found
    assert row.status is (Status.PASS if found.startswith("CDKToolkit UPDATE") else Status.FAIL)
    if row.status is Status.FAIL:
        assert "make bootstrap" in row.fix


PIPELINE_ROLE = "arn:aws:iam::333333333333:role/exco-shared-services-pipeline"
BOOTSTRAP_PATH = "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"


def pinned_trust(*arns):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Principal": {"AWS": sorted({a.split(":")[4] for a in arns})},
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": list(arns)}},
                }
            ],
        }
    )


def test_bootstrap_roles_must_trust_exactly_the_deploy_path(aws):
    iam = aws.client("iam")
    account = "123456789012"
    expected = {"deploy": [BOOTSTRAP_PATH, PIPELINE_ROLE], "lookup": [BOOTSTRAP_PATH]}
    iam.create_role(
        RoleName=f"cdk-{CDK_QUALIFIER}-deploy-role-{account}-{REGION}",
        AssumeRolePolicyDocument=trust("333333333333"),  # CDK's default: the account root
    )
    iam.create_role(
        RoleName=f"cdk-{CDK_QUALIFIER}-lookup-role-{account}-{REGION}",
        AssumeRolePolicyDocument=pinned_trust(BOOTSTRAP_PATH, PIPELINE_ROLE),
    )
    kwargs = dict(where="dev", account_id=account, region=REGION, expected=expected)
    row = checks.check_bootstrap_trust(iam, **kwargs)
    assert row.status is Status.FAIL
    assert row.found == (
        f"cdk-{CDK_QUALIFIER}-deploy-role-{account}-{REGION} trusts account 333333333333 "
        f"unpinned; cdk-{CDK_QUALIFIER}-deploy-role-{account}-{REGION} does not trust "
        f"{BOOTSTRAP_PATH}, {PIPELINE_ROLE}; cdk-{CDK_QUALIFIER}-lookup-role-{account}-{REGION} "
        f"also trusts {PIPELINE_ROLE}"
    )
    assert "make bootstrap" in row.fix
    iam.update_assume_role_policy(
        RoleName=f"cdk-{CDK_QUALIFIER}-deploy-role-{account}-{REGION}",
        PolicyDocument=pinned_trust(BOOTSTRAP_PATH, PIPELINE_ROLE),
    )
    iam.update_assume_role_policy(
        RoleName=f"cdk-{CDK_QUALIFIER}-lookup-role-{account}-{REGION}",
        PolicyDocument=pinned_trust(BOOTSTRAP_PATH),
    )
    assert checks.check_bootstrap_trust(iam, **kwargs).status is Status.PASS
    row = checks.check_bootstrap_trust(iam, **{**kwargs, "region": "us-east-1"})
    assert row.found.startswith(f"no role cdk-{CDK_QUALIFIER}-deploy-role-{account}-us-east-1")


@pytest.mark.parametrize(
    ("principal", "accounts"),
    [
        ("arn:aws:iam::333333333333:root", {"333333333333"}),
        ("333333333333", {"333333333333"}),
        (
            ["arn:aws:iam::333333333333:role/pipeline", "arn:aws:iam::444444444444:root"],
            {"333333333333", "444444444444"},
        ),
    ],
)
def test_trust_policies_name_accounts_by_root_id_or_principal(principal, accounts):
    document = {
        "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    }
    assert checks.trusted_accounts(document) == accounts
    assert (
        checks.trusted_accounts({"Statement": [{**document["Statement"], "Effect": "Deny"}]})
        == set()
    )
    assert checks.trusted_accounts(json.dumps(document)) == accounts


# --- connection, delegation -----------------------------------------------------------------------

ARN = (
    "arn:aws:codeconnections:eu-west-1:333333333333:connection/00000000-0000-0000-0000-000000000000"
)


@pytest.mark.parametrize(
    ("status", "found", "fix"),
    [
        ("AVAILABLE", f"{ARN} AVAILABLE", ""),
        (
            "PENDING",
            "the connection is PENDING: its handshake with the Git host was never completed",
            "Update pending connection",
        ),
        ("ERROR", "the connection is ERROR", "Update pending connection"),
        (None, f"no connection {ARN}", "Create connection, then set pipeline.connection_arn"),
    ],
)
def test_the_pipeline_connection_must_be_available(status, found, fix):
    row = checks.check_connection(connection_client(ARN, status), where="shared-services", arn=ARN)
    assert row.found == found
    assert fix in row.fix
    assert row.status is (Status.PASS if status == "AVAILABLE" else Status.FAIL)


def test_connection_service_comes_from_the_arn():
    assert checks.connection_service(ARN) == "codeconnections"
    assert (
        checks.connection_service(ARN.replace("codeconnections", "codestar-connections"))
        == "codestar-connections"
    )


DNS_STACK = Creator("shared-services/Dns", "shared-services-Dns", "123456789012", REGION)
DNS_DEPLOYED = FakeStacks({("123456789012", REGION, "shared-services-Dns"): DEPLOYED})


def delegation(route53: Any, resolve, stacks=DNS_DEPLOYED) -> Result:
    return checks.check_delegation(
        route53,
        where="shared-services",
        zone_name=ZONE,
        creator=DNS_STACK,
        stacks=stacks,
        resolve=resolve,
    )


def test_the_parent_zone_must_be_delegated_to_the_zone_the_dns_stack_made(aws):
    route53 = aws.client("route53")
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="dns")
    servers = [s.upper() + "." for s in zone["DelegationSet"]["NameServers"]]
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    assert delegation(route53, lambda name: servers) == passed(
        "DNS delegation", "shared-services", f"{ZONE} is delegated to zone {zone_id}"
    )
    row = delegation(
        route53, lambda name: ["ns1.old-registrar.example", "ns2.old-registrar.example"]
    )
    assert row.status is Status.FAIL
    assert row.found == (
        f"{ZONE} is delegated to ns1.old-registrar.example, ns2.old-registrar.example, not to zone "
        f"{zone_id}"
    )
    expected = ", ".join(sorted(s.lower() for s in zone["DelegationSet"]["NameServers"]))
    assert row.fix.startswith(
        f"At the registrar of {ZONE} (or in its parent zone) set its name servers to {expected}"
    )
    row = delegation(route53, lambda name: [])
    assert row.found == f"{ZONE} has no public NS records (not registered, or no name servers set)"

    def unavailable(name):
        raise ResolverUnavailable("the DNS lookup failed: no nameservers answered")

    row = delegation(route53, unavailable)
    assert row.status is Status.FAIL
    assert "the DNS lookup failed: no nameservers answered" in row.found
    assert row.fix.startswith("Check that this machine reaches a DNS resolver")
    assert f"`dig +short NS {ZONE}` lists exactly {expected}" in row.fix


def test_no_parent_zone_is_pending_until_the_dns_stack_deploys_and_then_fails(aws):
    route53 = aws.client("route53")
    row = delegation(route53, lambda name: [], stacks=FakeStacks())
    assert row.status is Status.PENDING
    assert row.found == f"no zone {ZONE} yet"
    row = delegation(route53, lambda name: [])
    assert row.status is Status.FAIL
    assert (
        row.found
        == f"no public hosted zone {ZONE} in this account, although shared-services/Dns is deployed"
    )


def test_a_zone_made_by_hand_before_the_dns_stack_fails_and_so_do_two_zones(aws):
    route53 = aws.client("route53")
    route53.create_hosted_zone(Name=ZONE, CallerReference="by-hand")
    row = delegation(route53, lambda name: [], stacks=FakeStacks())
    assert row.status is Status.FAIL
    assert row.found.endswith(
        "and shared-services/Dns will create a second one with other name servers"
    )
    route53.create_hosted_zone(Name=ZONE, CallerReference="by-the-stack")
    route53.create_hosted_zone(
        Name=ZONE,
        CallerReference="private",
        VPC={"VPCRegion": REGION, "VPCId": "vpc-1"},
        HostedZoneConfig={"PrivateZone": True, "Comment": ""},
    )
    row = delegation(route53, lambda name: [])
    assert row.status is Status.FAIL
    assert row.found.startswith(f"2 public zones named {ZONE}")


# --- roles ----------------------------------------------------------------------------------------


def test_missing_service_linked_roles_fail_with_the_command_unless_a_stack_makes_them(aws):
    iam = aws.client("iam")
    kwargs = dict(where="prod", stacks=FakeStacks())
    roles = [checks.OPENSEARCH_ROLE, checks.SPOT_ROLE]
    service_role(iam, "AWSServiceRoleForAmazonElasticsearchService", "es.amazonaws.com")
    legacy, spot = checks.check_service_linked_roles(
        iam, roles, creator_of=lambda r: None, **kwargs
    )
    assert legacy == passed(
        "service-linked role", "prod", "AWSServiceRoleForAmazonElasticsearchService exists"
    )
    assert spot.status is Status.FAIL
    assert spot.found == (
        "no AWSServiceRoleForEC2Spot, needed by Spot instances Karpenter launches through the EC2 "
        "API (cluster); no stack of the platform creates it"
    )
    assert "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com" in spot.fix
    data = Creator("prod/Data", "prod-Data", "123456789012", REGION)
    _, spot = checks.check_service_linked_roles(iam, roles, creator_of=lambda r: data, **kwargs)
    assert spot.status is Status.PENDING
    assert spot.fix == "Created by prod/Data (not deployed yet); nothing to do before it deploys"


def test_which_accounts_need_which_service_linked_roles(sample_config):
    needed = {
        name: [r.name for r in checks.required_service_linked_roles(account)]
        for name, account in sample_config.accounts.items()
    }
    spot, search = "AWSServiceRoleForEC2Spot", "AWSServiceRoleForAmazonOpenSearchService"
    assert needed == {
        "management": [],
        "security": [],
        "shared-services": [spot],
        "dev": [spot],
        "staging": [search, spot],
        "prod": [search, spot],
        "sandbox": [spot],
    }


def test_access_entry_principals_must_exist(aws):
    iam = aws.client("iam")
    iam.create_role(RoleName="PlatformAdmin", AssumeRolePolicyDocument=trust("123456789012"))
    principals = {
        "arn:aws:iam::123456789012:role/PlatformAdmin": "accounts.dev.cluster.admin_role_arns",
        "arn:aws:iam::123456789012:role/teams/Developer": "accounts.dev.cluster.viewer_role_arns",
    }
    admin, viewer = checks.check_access_principals(lambda account: iam, principals, where="dev")
    assert admin.status is Status.PASS
    assert viewer.status is Status.FAIL
    assert viewer.found == (
        "no role Developer in 123456789012 (accounts.dev.cluster.viewer_role_arns); EKS refuses "
        "an access entry for a principal that does not exist"
    )
    assert viewer.fix == (
        "Create the role before the cluster stack deploys, or remove it from "
        "accounts.dev.cluster.viewer_role_arns"
    )


# --- CloudFormation through the Stubber -----------------------------------------------------------


def test_describe_stack_reads_status_parameters_and_outputs_or_none():
    cloudformation = botocore_client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "CDKToolkit",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Parameters": [{"ParameterKey": "Qualifier", "ParameterValue": "hnb659fds"}],
                    "Outputs": [{"OutputKey": "BootstrapVersion", "OutputValue": "27"}],
                }
            ]
        },
        {"StackName": "CDKToolkit"},
    )
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id Dns does not exist"
    )
    stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized")
    with stubber:
        assert describe_stack(cloudformation, "CDKToolkit") == StackInfo(
            "UPDATE_COMPLETE", {"Qualifier": "hnb659fds"}, {"BootstrapVersion": "27"}
        )
        assert describe_stack(cloudformation, "Dns") is None
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            describe_stack(cloudformation, "Dns")


def test_stack_phases():
    assert checks.phase(None) == "absent"
    assert checks.phase(StackInfo("REVIEW_IN_PROGRESS")) == "absent"
    assert checks.phase(StackInfo("UPDATE_ROLLBACK_COMPLETE")) == "deployed"
    assert checks.phase(StackInfo("UPDATE_IN_PROGRESS")) == "deploying"
    assert checks.phase(StackInfo("CREATE_FAILED")) == "broken"


# --- public DNS: the pipeline step's lookup ---------------------------------------------------


def test_the_system_resolver_normalises_the_lookup_and_says_when_it_failed():
    resolve = system_resolver(lambda name: ["ns-2.awsdns-02.com.", "NS-1.awsdns-01.org."])
    assert resolve(ZONE) == ["ns-1.awsdns-01.org", "ns-2.awsdns-02.com"]
    assert system_resolver(lambda name: [])(ZONE) == []

    def unreachable(name):
        raise LookupFailed("All nameservers failed to answer the query example.com. IN NS")

    with pytest.raises(ResolverUnavailable, match="the DNS lookup failed: All nameservers"):
        system_resolver(unreachable)(ZONE)


# --- what the real assembly needs -----------------------------------------------------------------


def test_the_platform_enables_the_trusted_access_the_preflight_checks():
    assert checks.TRUSTED_SERVICES == SECURITY_SERVICES


def test_the_synthesized_organisation_is_read_for_environments_and_creators(
    organisation, sample_config
):
    """Against the real synthesized app: the environments are those `make bootstrap`
    bootstraps, the organisation stack enables the trusted access, the hub's share needs RAM
    sharing, the Dns stack holds the parent zone."""
    needs = Needs.read(organisation.outdir)
    assert set(needs.environments()) == {
        (account.id, region)
        for name, account in sample_config.accounts.items()
        for region in sample_config.deployment_regions(name)
    }
    assert min(needs.environments().values()) >= 6
    management = sample_config.accounts["management"]
    for principal in checks.TRUSTED_SERVICES:
        creator = needs.trusted_access_creator(principal)
        assert creator == Creator(
            "management/Organization", "management-Organization", management.id, REGION
        )
    assert [c.path for c in needs.organisation_shares()] == ["shared-services/NetworkHub"]
    shared = sample_config.accounts["shared-services"].id
    assert needs.hosted_zone_creator(shared, "example.com").path == "shared-services/Dns"
    assert needs.hosted_zone_creator(shared, "other.example") is None
    # every account posts its alarms to the sample's Slack workspace
    assert needs.chat_workspaces() == {
        account.id: {ChatWorkspace("slack", SLACK)} for account in sample_config.accounts.values()
    }


def test_creators_are_found_by_what_the_templates_do(tmp_path):
    stacks = {
        "prod/Data": {
            "Slr": {
                "Type": "AWS::IAM::ServiceLinkedRole",
                "Properties": {"AWSServiceName": "opensearchservice.amazonaws.com"},
            }
        },
        "prod/Cluster": {
            "Spot": {
                "Type": "Custom::AWS",
                "Properties": {
                    "Create": json.dumps(
                        {
                            "service": "IAM",
                            "action": "createServiceLinkedRole",
                            "parameters": {"AWSServiceName": "spot.amazonaws.com"},
                        }
                    )
                },
            }
        },
        "management/Ram": {
            "Share": {
                "Type": "Custom::AWS",
                "Properties": {
                    "Create": '{"service":"RAM","action":"enableSharingWithAwsOrganization"}'
                },
            }
        },
    }
    artifacts = {}
    for path, resources in stacks.items():
        name = path.replace("/", "")
        account = "111111111111" if path.startswith("management") else "666666666666"
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{account}/{REGION}",
            "displayName": path,
            "properties": {"templateFile": f"{name}.json"},
        }
        (tmp_path / f"{name}.json").write_text(json.dumps({"Resources": resources}))
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    needs = Needs.read(tmp_path)
    assert (
        needs.service_linked_role_creator("666666666666", "opensearchservice.amazonaws.com").path
        == "prod/Data"
    )
    assert (
        needs.service_linked_role_creator("666666666666", "spot.amazonaws.com").stack_name
        == "prod-Cluster"
    )
    assert needs.service_linked_role_creator("111111111111", "spot.amazonaws.com") is None
    assert needs.ram_sharing_creator().path == "management/Ram"
    assert needs.environments() == {("111111111111", REGION): 0, ("666666666666", REGION): 0}


# --- the table and the command --------------------------------------------------------------------


def test_the_table_wraps_details_under_their_column_and_counts_results():
    long_fix = "Run `make bootstrap` " + "and read every word of this long instruction " * 3
    table = render(
        [
            passed("account", "dev (444444444444)", "in the organisation, ACTIVE, named 'dev'"),
            pending(
                "DNS delegation",
                "shared-services (333333333333)",
                "no zone yet",
                "Created by shared-services/Dns",
            ),
            failed(
                "CDK bootstrap", "prod (666666666666) us-east-1", "no CDKToolkit stack", long_fix
            ),
        ]
    ).splitlines()
    column = table[0].index("DETAILS AND HOW TO FIX")
    assert table[1].split()[:3] == ["account", "dev", "(444444444444)"]
    assert table[2][column:] == "no zone yet. Created by shared-services/Dns"
    assert table[3][column:].startswith("no CDKToolkit stack. Run `make bootstrap`")
    assert table[4].startswith(" " * column) and table[4][column] != " "
    assert table[-1] == "1 passed, 1 pending, 1 failed"
    assert max(len(line) - column for line in table[1:-1]) <= 80


def test_pending_is_not_a_failure():
    assert exit_status([passed("a", "b", "c"), pending("a", "b", "c", "d")]) == 0
    assert exit_status([failed("a", "b", "c", "d")]) == 1


def test_the_command_will_not_start_without_a_good_config_or_a_current_assembly(
    org, tmp_path, capsys
):
    bad = tmp_path / "bad.yaml"
    bad.write_text("organization: {}\n")
    assert main(["--config", str(bad), "--assembly", str(org.assembly)], accounts=org.accounts) == 2
    assert "organization.name: required key is missing" in capsys.readouterr().err
    assert (
        main(
            ["--config", str(org.config_file), "--assembly", str(tmp_path / "none")],
            accounts=org.accounts,
        )
        == 2
    )
    assert "run `make synth` first" in capsys.readouterr().err
    stale = write_assembly(
        tmp_path / "stale", parse_config(yaml.safe_load(SAMPLE_CONFIG.read_text()))
    )
    assert (
        main(["--config", str(org.config_file), "--assembly", str(stale)], accounts=org.accounts)
        == 2
    )
    assert "was not synthesized from" in capsys.readouterr().err


def test_the_command_without_credentials_says_so(tmp_path, monkeypatch, capsys, sample_config):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assembly = write_assembly(tmp_path / "cdk.out", sample_config)
    assert (
        main(["--assembly", str(assembly), "--config", str(SAMPLE_CONFIG), "--profile", "nobody"])
        == 2
    )
    assert "no usable AWS credentials" in capsys.readouterr().err
