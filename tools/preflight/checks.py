"""The preflight's checks: small functions over boto3 clients (and what the assembly and
config say), each returning rows of the table.

A check's result is PASS, PENDING or FAIL (see `report.Status`). PENDING is reserved for a
prerequisite that a stack of the platform creates itself and that has not been deployed yet:
before the first run that is expected. Once that stack is deployed the prerequisite must be
there, so the same finding becomes a FAIL.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from config import Account, PlatformConfig
from facts.cdk import CDK_QUALIFIER
from tools.preflight.access import StackInfo, Stacks
from tools.preflight.dns import Resolver, ResolverUnavailable, normalise
from tools.preflight.needs import RAM, ChatWorkspace, Creator
from tools.preflight.report import Result, failed, passed, pending

ORGANISATION = "organisation"

TRUSTED_SERVICES = (
    "cloudtrail.amazonaws.com",
    "guardduty.amazonaws.com",
    "securityhub.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "access-analyzer.amazonaws.com",
)
"""Services the platform integrates with the organisation (the security account is their
delegated administrator); `management/Organization` enables them (a test keeps the two lists
equal). RAM's sharing with the organisation is checked on its own: it is not just trusted
access."""

RAM_ROLE = "AWSServiceRoleForResourceAccessManager"
RAM_DOC = (
    "https://docs.aws.amazon.com/ram/latest/APIReference/API_EnableSharingWithAwsOrganization.html"
)

TOOLKIT_STACK = "CDKToolkit"
BOOTSTRAP_FIX = (
    "Run `make bootstrap` (it prints the `cdk bootstrap` command of every account; "
    'ARGS="--execute" runs them); bootstrapping again upgrades a CDKToolkit stack in place'
)


@dataclass(frozen=True)
class ServiceLinkedRole:
    """A service-linked role CloudFormation does not create by itself when it should."""

    name: str
    service: str
    needed_for: str
    doc: str
    also: tuple[str, ...] = ()
    """Older names that serve the same purpose."""


OPENSEARCH_ROLE = ServiceLinkedRole(
    "AWSServiceRoleForAmazonOpenSearchService",
    "opensearchservice.amazonaws.com",
    "the OpenSearch domain in the VPC (data.search); CloudFormation fails without it",
    "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr-aos.html",
    also=("AWSServiceRoleForAmazonElasticsearchService",),
)
SPOT_ROLE = ServiceLinkedRole(
    "AWSServiceRoleForEC2Spot",
    "spot.amazonaws.com",
    "Spot instances Karpenter launches through the EC2 API (cluster)",
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html",
)


def required_service_linked_roles(account: Account) -> list[ServiceLinkedRole]:
    """OpenSearch's where the account has `data.search`; EC2 Spot's where it has a cluster
    (Karpenter may launch Spot capacity, and the API does not create the role)."""
    roles = []
    if account.data is not None and account.data.search is not None:
        roles.append(OPENSEARCH_ROLE)
    if account.cluster is not None:
        roles.append(SPOT_ROLE)
    return roles


# --- stack phases and the PENDING rule -------------------------------------------------------

DEPLOYED = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
Phase = Literal["absent", "deploying", "deployed", "broken"]


def phase(info: StackInfo | None) -> Phase:
    """absent: no stack, or only a change set never executed (REVIEW_IN_PROGRESS, which is
    how a pipeline's prepare step leaves a new stack); deploying: an operation in progress;
    deployed: a complete state; broken: a failed create or delete."""
    if info is None or info.status == "REVIEW_IN_PROGRESS":
        return "absent"
    if info.status in DEPLOYED:
        return "deployed"
    if info.status.endswith("_IN_PROGRESS"):
        return "deploying"
    return "broken"


def not_in_place(
    check: str,
    where: str,
    what: str,
    *,
    creator: Creator | None,
    stacks: Stacks,
    fix: str,
) -> Result:
    """The row for a missing prerequisite: PENDING while `creator` (the platform's stack that
    creates it) is not deployed, FAIL once it is or when no stack creates it."""
    if creator is None:
        return failed(check, where, f"{what}; no stack of the platform creates it", fix)
    info = stacks.describe(creator.account_id, creator.region, creator.stack_name)
    state = phase(info)
    if state in ("absent", "deploying"):
        doing = "not deployed yet" if info is None or state == "absent" else info.status
        return pending(
            check,
            where,
            f"{what} yet",
            f"Created by {creator.path} ({doing}); nothing to do before it deploys",
        )
    assert info is not None
    if state == "deployed":
        return failed(check, where, f"{what}, although {creator.path} is {info.status}", fix)
    return failed(
        check,
        where,
        f"{what}; {creator.path} is {info.status}",
        "Read the stack's events, fix the cause and deploy it again (delete a stack left in "
        f"ROLLBACK_COMPLETE first); or by hand: {fix}",
    )


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _role(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        if _error_code(error) == "NoSuchEntity":
            return None
        raise


# --- the organisation ------------------------------------------------------------------------


def check_organization(organizations: Any, config: PlatformConfig) -> list[Result]:
    """All features, and the organisation, root and management account config names."""
    try:
        org = organizations.describe_organization()["Organization"]
    except ClientError as error:
        if _error_code(error) != "AWSOrganizationsNotInUseException":
            raise
        return [
            failed(
                "organisation id",
                ORGANISATION,
                "the credentials' account belongs to no organisation",
                "Run with the management account's credentials (--profile); a new organisation: "
                "`aws organizations create-organization --feature-set ALL`",
            )
        ]
    results = []
    if org["FeatureSet"] == "ALL":
        results.append(passed("all features", ORGANISATION, "FeatureSet ALL"))
    else:
        results.append(
            failed(
                "all features",
                ORGANISATION,
                f"FeatureSet is {org['FeatureSet']}: SCPs, tag policies, trusted access and "
                "delegated administrators need all features",
                "In the management account run `aws organizations enable-all-features`, then "
                "accept the handshake in every member account "
                "(https://docs.aws.amazon.com/organizations/latest/userguide/"
                "orgs_manage_org_support-all-features.html)",
            )
        )
    wanted = config.organization.id
    if org["Id"] == wanted:
        results.append(passed("organisation id", ORGANISATION, org["Id"]))
    else:
        results.append(
            failed(
                "organisation id",
                ORGANISATION,
                f"the credentials' organisation is {org['Id']}, config says {wanted}",
                f"Set organization.id: {org['Id']} in the config, or run with credentials of "
                f"organisation {wanted}",
            )
        )
    name, management = config.account_with_role("management")
    if org["MasterAccountId"] == management.id:
        results.append(passed("management account", ORGANISATION, f"{name} ({management.id})"))
    else:
        results.append(
            failed(
                "management account",
                ORGANISATION,
                f"the management account is {org['MasterAccountId']}, config gives {name} "
                f"the id {management.id}",
                f'Set accounts.{name}.id: "{org["MasterAccountId"]}"',
            )
        )
    roots = [root["Id"] for root in organizations.list_roots()["Roots"]]
    if config.organization.root_id in roots:
        results.append(passed("root id", ORGANISATION, config.organization.root_id))
    else:
        results.append(
            failed(
                "root id",
                ORGANISATION,
                f"the organisation's root is {', '.join(roots)}, config says "
                f"{config.organization.root_id}",
                f"Set organization.root_id: {roots[0] if roots else '<r-...>'} in the config",
            )
        )
    return results


def _name_key(name: str) -> str:
    return "-".join(name.lower().replace("_", " ").split())


def check_accounts(organizations: Any, config: PlatformConfig) -> list[Result]:
    """Every configured account is in the organisation with its id, and ACTIVE.

    Config keys accounts by a short name (`prod`) and holds no display name, so names are not
    required to match. But if an account of the organisation is *named* like a config key
    (case, spaces and underscores aside: "Shared Services" ~ `shared-services`) and has
    another id than config gives that key, ids were probably swapped: that fails.
    """
    listed = {
        account["Id"]: account
        for page in organizations.get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
    }
    by_name = {_name_key(account["Name"]): account for account in listed.values()}
    results = []
    for name, account in config.accounts.items():
        where = f"{name} ({account.id})"
        found = listed.get(account.id)
        namesake = by_name.get(_name_key(name))
        if found is None:
            hint = (
                f"; the account named {namesake['Name']!r} is {namesake['Id']}" if namesake else ""
            )
            results.append(
                failed(
                    "account",
                    where,
                    f"no account {account.id} in the organisation{hint}",
                    f"Correct accounts.{name}.id, or create or invite the account "
                    "(`aws organizations list-accounts` lists them)",
                )
            )
            continue
        state = found.get("State") or found.get("Status")
        if state != "ACTIVE":
            results.append(
                failed(
                    "account",
                    where,
                    f"{account.id} ({found['Name']!r}) is {state}",
                    "Deploy to an ACTIVE account: reopen it (a closed account can be "
                    "reopened through AWS Support within 90 days) or configure another",
                )
            )
        elif namesake is not None and namesake["Id"] != account.id:
            results.append(
                failed(
                    "account",
                    where,
                    f"{account.id} is named {found['Name']!r}, but the account named "
                    f"{namesake['Name']!r} is {namesake['Id']}: ids swapped?",
                    f"Check accounts.{name}.id against `aws organizations list-accounts`",
                )
            )
        else:
            results.append(
                passed("account", where, f"in the organisation, {state}, named {found['Name']!r}")
            )
    return results


def enabled_services(organizations: Any) -> set[str]:
    """The service principals with trusted access to the organisation."""
    return {
        service["ServicePrincipal"]
        for page in organizations.get_paginator(
            "list_aws_service_access_for_organization"
        ).paginate()
        for service in page["EnabledServicePrincipals"]
    }


def check_trusted_access(
    enabled: set[str],
    principals: Sequence[str],
    *,
    creator_of: Callable[[str], Creator | None],
    stacks: Stacks,
) -> list[Result]:
    results = []
    for principal in principals:
        if principal in enabled:
            results.append(passed("trusted access", ORGANISATION, f"{principal} enabled"))
            continue
        creator = creator_of(principal)
        fix = (
            f"Deploy {creator.path} again: its OrganizationSetup custom resource enables it "
            "(its function's log says why it did not)"
            if creator
            else "In the management account enable the service's organisation integration in "
            "its console (which also initialises it) or `aws organizations "
            f"enable-aws-service-access --service-principal {principal}`"
        )
        results.append(
            not_in_place(
                "trusted access",
                ORGANISATION,
                f"{principal} not enabled",
                creator=creator,
                stacks=stacks,
                fix=fix,
            )
        )
    return results


def check_ram_sharing(
    enabled: set[str],
    iam: Any,
    *,
    where: str,
    users: Sequence[Creator],
    creator: Creator | None,
    stacks: Stacks,
) -> list[Result]:
    """RAM sharing with the organisation, needed by stacks that share with it or an OU.

    There is no getter for the setting. `EnableSharingWithAwsOrganization` (management
    account) gives `ram.amazonaws.com` trusted access and creates the service-linked role
    AWSServiceRoleForResourceAccessManager; enabling trusted access through Organizations
    instead creates no role, and sharing with the organisation then does not work. So both
    are checked.
    """
    if not users:
        return []
    who = ", ".join(user.path for user in users)
    role = _role(iam, RAM_ROLE)
    fix = (
        "In the management account run `aws ram enable-sharing-with-aws-organization` (RAM's "
        f"own call creates {RAM_ROLE}; {RAM_DOC})"
    )
    if RAM in enabled and role is not None:
        return [
            passed(
                "RAM sharing",
                where,
                f"{RAM} has trusted access and {RAM_ROLE} exists (needed by {who})",
            )
        ]
    if RAM in enabled:
        return [
            failed(
                "RAM sharing",
                where,
                f"{RAM} has trusted access but {RAM_ROLE} does not exist (trusted access was "
                f"enabled through Organizations, which creates no role): {who} cannot share "
                "with the organisation",
                fix,
            )
        ]
    return [
        not_in_place(
            "RAM sharing",
            where,
            f"sharing with the organisation not enabled ({who} shares with it)",
            creator=creator,
            stacks=stacks,
            fix=fix,
        )
    ]


# --- CDK bootstrap ---------------------------------------------------------------------------


def check_bootstrap(
    ssm: Any,
    toolkit: StackInfo | None,
    *,
    where: str,
    required: int,
    qualifier: str = CDK_QUALIFIER,
) -> Result:
    """A CDKToolkit stack with the app's qualifier, whose version (the SSM parameter
    `/cdk-bootstrap/<qualifier>/version`, which deployments check) is at least what the
    assembly's stacks require."""
    check = "CDK bootstrap"
    if toolkit is None:
        return failed(check, where, f"no {TOOLKIT_STACK} stack: not bootstrapped", BOOTSTRAP_FIX)
    if phase(toolkit) != "deployed":
        return failed(check, where, f"{TOOLKIT_STACK} is {toolkit.status}", BOOTSTRAP_FIX)
    used = toolkit.parameters.get("Qualifier", qualifier)
    if used != qualifier:
        return failed(
            check,
            where,
            f"{TOOLKIT_STACK} uses qualifier {used}; the app's is {qualifier} (facts/cdk.py)",
            BOOTSTRAP_FIX,
        )
    parameter = f"/cdk-bootstrap/{qualifier}/version"
    try:
        version = int(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except ClientError as error:
        if _error_code(error) != "ParameterNotFound":
            raise
        return failed(check, where, f"no SSM parameter {parameter}", BOOTSTRAP_FIX)
    if version < required:
        return failed(
            check,
            where,
            f"bootstrap version {version}; the assembly needs {required} or later",
            BOOTSTRAP_FIX,
        )
    return passed(
        check,
        where,
        f"{TOOLKIT_STACK} {toolkit.status}, qualifier {qualifier}, version {version} "
        f"(needs {required})",
    )


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusted_accounts(document: Any) -> set[str]:
    """Accounts whose principals an IAM trust policy lets assume the role (`Allow`
    `sts:AssumeRole` to the account root, its bare id, or a principal ARN in it)."""
    accounts = set()
    for statement in _statements(document):
        actions = _as_list(statement.get("Action", []))
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & set(
            actions
        ):
            continue
        principal = statement.get("Principal", {})
        values = _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
        for value in map(str, values):
            if value.isdigit():
                accounts.add(value)
            elif value.startswith("arn:") and value.count(":") >= 5:
                accounts.add(value.split(":")[4])
    return accounts


def pinned_principals(document: Any) -> tuple[set[str], set[str]]:
    """What a trust policy lets assume the role: principal ARNs pinned by an `ArnEquals`
    (or `ArnLike`) condition on `aws:PrincipalArn`, and accounts trusted without one."""
    pinned: set[str] = set()
    unpinned: set[str] = set()
    for statement in _statements(document):
        actions = set(_as_list(statement.get("Action", [])))
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & actions:
            continue
        principal = statement.get("Principal", {})
        if not isinstance(principal, dict) or "AWS" not in principal:
            continue
        condition = statement.get("Condition", {})
        arns = [
            arn
            for operator in ("ArnEquals", "ArnLike")
            for arn in _as_list(condition.get(operator, {}).get("aws:PrincipalArn", []))
        ]
        if arns:
            pinned |= set(arns)
        else:
            unpinned |= trusted_accounts({"Statement": [statement]})
    return pinned, unpinned


def check_bootstrap_trust(
    iam: Any,
    *,
    where: str,
    account_id: str,
    region: str,
    expected: Mapping[str, Sequence[str]],
    qualifier: str = CDK_QUALIFIER,
) -> Result:
    """The bootstrap roles trust exactly the principals the deploy path names
    (`config.deploy_path`): the pipeline's roles and the bootstrap path, pinned by ARN."""
    check = "bootstrap trust"
    names = {kind: f"cdk-{qualifier}-{kind}-role-{account_id}-{region}" for kind in expected}
    found = {kind: role for kind, name in names.items() if (role := _role(iam, name)) is not None}
    missing = [names[kind] for kind in expected if kind not in found]
    if missing:
        return failed(check, where, f"no role {', '.join(missing)}", BOOTSTRAP_FIX)
    problems = []
    for kind, role in found.items():
        pinned, unpinned = pinned_principals(role["AssumeRolePolicyDocument"])
        if unpinned:
            problems.append(f"{names[kind]} trusts account {', '.join(sorted(unpinned))} unpinned")
        if lacking := sorted(set(expected[kind]) - pinned):
            problems.append(f"{names[kind]} does not trust {', '.join(lacking)}")
        if extra := sorted(pinned - set(expected[kind])):
            problems.append(f"{names[kind]} also trusts {', '.join(extra)}")
    if problems:
        return failed(
            check,
            where,
            "; ".join(problems),
            f"{BOOTSTRAP_FIX}: its template pins each role's trust to the pipeline's roles",
        )
    return passed(
        check,
        where,
        f"the {', '.join(expected)} roles trust only the pipeline's roles and the bootstrap path",
    )


# --- the pipeline's connection and the parent zone -------------------------------------------


def connection_service(arn: str) -> str:
    """The boto3 service of a connection ARN: codeconnections or codestar-connections."""
    return arn.split(":")[2]


def check_connection(client: Any, *, where: str, arn: str) -> Result:
    """The pipeline's CodeConnections connection is AVAILABLE (a new one is PENDING until
    someone completes the handshake with the Git host in the console)."""
    check = "connection"
    console = "In the console of the connection's account: Developer Tools > Settings > Connections"
    try:
        status = client.get_connection(ConnectionArn=arn)["Connection"]["ConnectionStatus"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        return failed(
            check,
            where,
            f"no connection {arn}",
            f"{console} > Create connection, then set pipeline.connection_arn to its ARN",
        )
    if status == "AVAILABLE":
        return passed(check, where, f"{arn} AVAILABLE")
    if status == "PENDING":
        return failed(
            check,
            where,
            "the connection is PENDING: its handshake with the Git host was never completed",
            f"{console} > choose it > Update pending connection, and authorise the app for the "
            "repository in pipeline.repository",
        )
    return failed(
        check,
        where,
        f"the connection is {status}",
        f"{console} > choose it > Update pending connection (or create a new one and update "
        "pipeline.connection_arn)",
    )


def check_delegation(
    route53: Any,
    *,
    where: str,
    zone_name: str,
    creator: Creator | None,
    stacks: Stacks,
    resolve: Resolver,
) -> Result:
    """The parent zone's public NS records (what the registrar delegates to) are the name
    servers of the platform's hosted zone of that name."""
    check = "DNS delegation"
    zone_name = normalise(zone_name)
    zones = [
        zone
        for zone in route53.list_hosted_zones_by_name(DNSName=zone_name)["HostedZones"]
        if normalise(zone["Name"]) == zone_name and not zone.get("Config", {}).get("PrivateZone")
    ]
    ids = ", ".join(zone["Id"].rsplit("/", 1)[-1] for zone in zones)
    info = (
        stacks.describe(creator.account_id, creator.region, creator.stack_name) if creator else None
    )
    state = phase(info) if creator else "deployed"
    if creator is not None and state in ("absent", "deploying"):
        if zones:
            return failed(
                check,
                where,
                f"a public zone {zone_name} already exists ({ids}), and {creator.path} will "
                "create a second one with other name servers",
                "Delete the existing zone (copy any records you still need first); after "
                f"{creator.path} deploys, point the registrar at the new zone",
            )
        return pending(
            check,
            where,
            f"no zone {zone_name} yet",
            f"Created by {creator.path} (not deployed yet); once it is, point the registrar "
            "at its name servers before the first workload wave (docs/first-deployment.md)",
        )
    if creator is not None and state == "broken":
        assert info is not None
        return failed(
            check,
            where,
            f"{creator.path} is {info.status}",
            "Read the stack's events, fix the cause and deploy it again",
        )
    if not zones:
        return failed(
            check,
            where,
            f"no public hosted zone {zone_name} in this account"
            + (f", although {creator.path} is deployed" if creator else ""),
            f"Deploy {creator.path} again" if creator else f"Create the public zone {zone_name}",
        )
    if len(zones) > 1:
        return failed(
            check,
            where,
            f"{len(zones)} public zones named {zone_name} ({ids}); the registrar delegates to one",
            "Delete every one but the zone the platform's stack created (its Resources tab "
            "names it)",
        )
    (zone,) = zones
    zone_id = zone["Id"].rsplit("/", 1)[-1]
    servers = sorted(
        normalise(server)
        for server in route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]
    )
    fix = (
        f"At the registrar of {zone_name} (or in its parent zone) set its name servers to "
        f"{', '.join(servers)}; resolvers may return the old ones until their TTL passes"
    )
    try:
        public = sorted(normalise(server) for server in resolve(zone_name))
    except ResolverUnavailable as error:
        return failed(
            check,
            where,
            f"could not look up the public NS records of {zone_name}: {error}",
            f"Check that this machine reaches a DNS resolver and run again, or check by hand "
            f"that `dig +short NS {zone_name}` lists exactly {', '.join(servers)}",
        )
    if public == servers:
        return passed(check, where, f"{zone_name} is delegated to zone {zone_id}")
    if not public:
        return failed(
            check,
            where,
            f"{zone_name} has no public NS records (not registered, or no name servers set)",
            fix,
        )
    return failed(
        check,
        where,
        f"{zone_name} is delegated to {', '.join(public)}, not to zone {zone_id}",
        fix,
    )


# --- roles -----------------------------------------------------------------------------------


def check_service_linked_roles(
    iam: Any,
    roles: Iterable[ServiceLinkedRole],
    *,
    where: str,
    creator_of: Callable[[ServiceLinkedRole], Creator | None],
    stacks: Stacks,
) -> list[Result]:
    results = []
    for role in roles:
        present = next(
            (name for name in (role.name, *role.also) if _role(iam, name) is not None), None
        )
        if present is not None:
            results.append(passed("service-linked role", where, f"{present} exists"))
            continue
        results.append(
            not_in_place(
                "service-linked role",
                where,
                f"no {role.name}, needed by {role.needed_for}",
                creator=creator_of(role),
                stacks=stacks,
                fix=f"In this account run `aws iam create-service-linked-role "
                f"--aws-service-name {role.service}` ({role.doc})",
            )
        )
    return results


def check_access_principals(
    iam_for: Callable[[str], Any], principals: Mapping[str, str], *, where: str
) -> list[Result]:
    """Every role named in a cluster's access entries exists: EKS refuses an access entry
    for a principal that does not (`InvalidParameterException ... invalid principal`).

    `principals`: role ARN -> the config path that names it; `iam_for(account_id)` gives the
    IAM client of the account the role is in.
    """
    results = []
    for arn, path in principals.items():
        account_id, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
        role = _role(iam_for(account_id), name)
        if role is not None:
            results.append(passed("EKS access principal", where, f"{arn} exists"))
        else:
            results.append(
                failed(
                    "EKS access principal",
                    where,
                    f"no role {name} in {account_id} ({path}); EKS refuses an access entry for "
                    "a principal that does not exist",
                    f"Create the role before the cluster stack deploys, or remove it from {path}",
                )
            )
    return results


CHATBOT_CONSOLE = (
    "In the AWS Chatbot console of that account (https://console.aws.amazon.com/chatbot/)"
)


def check_chat_workspaces(
    chatbot: Any, workspaces: Iterable[ChatWorkspace], *, where: str
) -> list[Result]:
    """Each chat workspace the account's Chatbot configurations post to is authorised in the
    account: a Slack workspace or a Microsoft Teams team is authorised once per account, by a
    person in the console (OAuth with the chat service), and CloudFormation cannot create a
    channel configuration before it is (https://docs.aws.amazon.com/chatbot/latest/adminguide/slack-setup.html)."""
    check = "chat workspace"
    wanted = sorted(workspaces)
    slack: set[str] | None = None
    teams: set[tuple[str, str]] | None = None
    rows = []
    for workspace in wanted:
        if workspace.kind == "slack":
            if slack is None:
                slack = {
                    w["SlackTeamId"]
                    for page in chatbot.get_paginator("describe_slack_workspaces").paginate()
                    for w in page["SlackWorkspaces"]
                }
            known = workspace.id in slack
            what = f"Slack workspace {workspace.id}"
            fix = f"{CHATBOT_CONSOLE}: Configure a chat client > Slack, and sign in to it"
        else:
            if teams is None:
                teams = {
                    (t["TeamId"], t["TenantId"])
                    for page in chatbot.get_paginator(
                        "list_microsoft_teams_configured_teams"
                    ).paginate()
                    for t in page["ConfiguredTeams"]
                }
            known = (workspace.id, workspace.tenant) in teams
            what = f"Microsoft Teams team {workspace.id} (tenant {workspace.tenant})"
            fix = (
                f"{CHATBOT_CONSOLE}: Configure a chat client > Microsoft Teams, with a link to "
                "a channel of that team"
            )
        rows.append(
            passed(check, where, f"{what} authorised")
            if known
            else failed(check, where, f"{what} is not authorised in this account", fix)
        )
    return rows
