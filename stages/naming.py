"""Deterministic names for anything another account (or a human) must find.

One function builds every such name from the organisation prefix, the environment and the
purpose, so that two accounts agree on a name without a CloudFormation export between them.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from constructs_lib.operations.notification import ChatChannel
from facts.aws import S3_BUCKET_NAME_MAX, TARGET_GROUP_NAME_MAX
from facts.cdk import CDK_QUALIFIER

if TYPE_CHECKING:
    from config import PlatformConfig
    from config.model import Channel

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")


def resource_name(prefix: str, environment: str, purpose: str, *qualifiers: str) -> str:
    """`{prefix}-{environment}-{purpose}[-{qualifier}...]`, lowercase, validated.

    Qualifiers (account id, region) make names unique where the namespace is global (S3).
    """
    name = "-".join((prefix, environment, purpose, *qualifiers))
    if not _NAME.match(name) or "--" in name:
        raise ValueError(f"resource name {name!r} must be lowercase letters, digits and '-'")
    return name


def bucket_name(prefix: str, environment: str, purpose: str, account_id: str, region: str) -> str:
    """A globally unique S3 bucket name, qualified by account and region."""
    name = resource_name(prefix, environment, purpose, account_id, region)
    if len(name) > S3_BUCKET_NAME_MAX:
        raise ValueError(f"bucket name {name!r} is longer than {S3_BUCKET_NAME_MAX} characters")
    return name


HEALTH_CHECK = "health-check"
"""The read-only role the pipeline's health gate assumes in a gated account."""
PIPELINE_HEALTH_CHECK = "pipeline-health-check"
"""The pipeline's health-gate role in shared-services: the only caller of the above."""
ARGOCD_HUB = "argocd-hub"
"""The hub's Argo CD role (shared-services), which every spoke trusts."""
ARGOCD_REGISTRATIONS = "argocd-registrations"
"""The hub's registration reader (shared-services): External Secrets assumes it to read the
spokes' registration secrets, which admit it alone."""
ARGOCD_SPOKE = "argocd-spoke"
NETWORK_HUB_READER = "network-hub-reader"
"""The role in shared-services that attaching accounts' CloudFormation assumes to read the
Transit Gateway's id."""
SECURITY_SETUP = "services-setup"
"""The security account's setup function (and its role): GuardDuty's and Security Hub's
organisation-wide settings, which the baseline SCP lets no one else change."""
NETWORK_HUB_STACK = "NetworkHub"
"""The shared-services stack holding the Transit Gateway (its stack name is
`<shared-services>-NetworkHub`)."""


def cfn_exec_role_arn(config: PlatformConfig, account_name: str) -> str:
    """The CDK bootstrap's CloudFormation execution role of an account."""
    account = config.accounts[account_name]
    return (
        f"arn:aws:iam::{account.id}:role/cdk-{CDK_QUALIFIER}-cfn-exec-role-"
        f"{account.id}-{account.region}"
    )


"""The role in a spoke account that the hub's Argo CD assumes to deploy there."""


def role_name(config: PlatformConfig, account_name: str, purpose: str) -> str:
    """The IAM role `purpose` (one of the constants above) has in `account_name`."""
    return resource_name(config.organization.prefix, account_name, purpose)


def role_arn(config: PlatformConfig, account_name: str, purpose: str) -> str:
    """Its ARN, which another account can use before the role exists."""
    account_id = config.accounts[account_name].id
    return f"arn:aws:iam::{account_id}:role/{role_name(config, account_name, purpose)}"


def function_arn(config: PlatformConfig, account_name: str, purpose: str) -> str:
    """The ARN of the Lambda function named `role_name(config, account_name, purpose)` in the
    account's home region."""
    account = config.accounts[account_name]
    name = role_name(config, account_name, purpose)
    return f"arn:aws:lambda:{account.region}:{account.id}:function:{name}"


def shared_services(config: PlatformConfig) -> str:
    """The name of the shared-services account (the pipeline's and the hub's home)."""
    return config.account_with_role("shared-services")[0]


def cluster_name(config: PlatformConfig, account_name: str) -> str:
    """The EKS cluster of `account_name` (Argo CD, Karpenter and ExternalDNS refer to it)."""
    return f"{config.organization.prefix}-{account_name}"


def secrets_prefix(config: PlatformConfig, account_name: str) -> str:
    """The Secrets Manager path an environment's applications keep their secrets under."""
    return f"{config.organization.prefix}/{account_name}/"


def registration_secret_name(config: PlatformConfig, account_name: str) -> str:
    return f"{config.organization.prefix}/{account_name}/argocd-registration"


def registration_secret_arn(config: PlatformConfig, account_name: str) -> str:
    """Without Secrets Manager's random suffix (the hub's policy adds `-*`)."""
    account = config.accounts[account_name]
    return (
        f"arn:aws:secretsmanager:{account.region}:{account.id}:secret:"
        f"{registration_secret_name(config, account_name)}"
    )


def parameter_name(config: PlatformConfig, account_name: str, *path: str) -> str:
    """An SSM parameter another stack of the account (or an application) reads at deploy
    time, instead of a CloudFormation export that would pin the producer."""
    return "/" + "/".join((config.organization.prefix, account_name, *path))


def data_name(config: PlatformConfig, account_name: str, purpose: str) -> str:
    """A data resource of `account_name`: postgres, search, kafka, backups or a cache."""
    return resource_name(config.organization.prefix, account_name, purpose)


BACKUP_COPIES = "backup-copies"
"""Purpose of the security account's vault every data account's backup plan copies into."""


def backup_copy_vault_account(config: PlatformConfig) -> str:
    """The account holding the copies of every backup: the security account, which no
    workload administrator reaches and which already keeps the organisation's evidence."""
    name, _ = config.account_with_role("security")
    return name


def backup_copy_vault_name(config: PlatformConfig) -> str:
    return data_name(config, backup_copy_vault_account(config), BACKUP_COPIES)


def backup_copy_vault_arn(config: PlatformConfig) -> str:
    account = config.accounts[backup_copy_vault_account(config)]
    return (
        f"arn:aws:backup:{account.region}:{account.id}:backup-vault:"
        f"{backup_copy_vault_name(config)}"
    )


def data_bucket_name(config: PlatformConfig, account_name: str, purpose: str) -> str:
    account = config.accounts[account_name]
    return bucket_name(
        config.organization.prefix, account_name, purpose, account.id, account.region
    )


CLUSTER_SECURITY_GROUP = ("cluster", "security-group-id")
"""Parameter path of the cluster security group: EKS puts nodes and Fargate pods in it, so
the data stack admits it to databases and caches."""


PROMETHEUS_ENDPOINT = ("prometheus", "endpoint")
"""Parameter path of the cluster's Amazon Managed Service for Prometheus endpoint (ends in `/`;
queries under `api/v1/query`, remote write at `api/v1/remote_write`)."""

ACCESS_INSTANCE_ID = ("access", "instance-id")
"""Parameter path of the operator access instance's id, which `make tunnel` reads."""


def operator_access_policy_name(config: PlatformConfig, account_name: str) -> str:
    """The managed policy attached to the operator roles of `account_name`."""
    return resource_name(config.organization.prefix, account_name, "operator-access")


def edge_name(config: PlatformConfig, account_name: str) -> str:
    """The edge's target group, VPC origin and web ACL (a TargetGroupBinding finds the target
    group by this name; config.rules keeps it within the 32 characters ELB allows)."""
    return resource_name(config.organization.prefix, account_name, "edge")


def team_target_group_name(config: PlatformConfig, account_name: str, team: str) -> str:
    """The edge target group of `team` in `account_name` (its TargetGroupBinding finds it by
    this name): `<prefix>-<account>-team-<team>`, or, past the 32 characters ELB allows, its
    first 23 characters and 8 hex digits of its SHA-256 (deterministic, unique in practice)."""
    name = resource_name(config.organization.prefix, account_name, "team", team)
    if len(name) <= TARGET_GROUP_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: TARGET_GROUP_NAME_MAX - 9].rstrip('-')}-{digest}"


def dns_delegation_role_name(config: PlatformConfig, account_name: str) -> str:
    """The shared-services role through which `account_name` delegates its subzone."""
    return resource_name(config.organization.prefix, shared_services(config), "dns", account_name)


def dns_delegation_role_arn(config: PlatformConfig, account_name: str) -> str:
    shared = config.accounts[shared_services(config)]
    return f"arn:aws:iam::{shared.id}:role/{dns_delegation_role_name(config, account_name)}"


def log_archive_bucket_name(config: PlatformConfig) -> str:
    """The object-locked archive's name, which the organisation trail writes to."""
    name, account = config.account_with_role("security")
    return bucket_name(config.organization.prefix, name, "log-archive", account.id, account.region)


def config_bucket_name(config: PlatformConfig) -> str:
    """The bucket every account's AWS Config delivery channel writes to, beside the archive in
    the security account: Config refuses an object-locked bucket, so never the archive."""
    name, account = config.account_with_role("security")
    return bucket_name(
        config.organization.prefix, name, "config-delivery", account.id, account.region
    )


def alarm_topic_name(config: PlatformConfig, account_name: str) -> str:
    """The account's alarm topic, the same name in each of its regions
    (`stacks/baseline.py`): every stack's alarms publish to it by name."""
    return resource_name(config.organization.prefix, account_name, "alarms")


def alarm_channels(config: PlatformConfig, account_name: str) -> dict[str, Channel]:
    """The channels the account's alarms go to: its own (or the default) and, where it
    pages, the paging channel; none without `notifications`."""
    notifications = config.notifications
    if notifications is None:
        return {}
    account = config.accounts[account_name]
    names = [account.monitoring.channel or notifications.default_channel]
    if account.pages() and notifications.page is not None:
        names.append(notifications.page)
    return {name: notifications.channels[name] for name in dict.fromkeys(names)}


def chat_channels(config: PlatformConfig, account_name: str) -> dict[str, ChatChannel]:
    """The chat channels (Slack, Teams) among the account's alarm channels."""
    return _chat(alarm_channels(config, account_name))


def pipeline_chat_channels(config: PlatformConfig) -> dict[str, ChatChannel]:
    """The pipeline's chat channel (`notifications.pipeline`, default the default channel),
    if it is a chat channel; none without `notifications`."""
    notifications = config.notifications
    if notifications is None:
        return {}
    name = notifications.pipeline or notifications.default_channel
    return _chat({name: notifications.channels[name]})


def _chat(channels: dict[str, Channel]) -> dict[str, ChatChannel]:
    return {
        name: ChatChannel(
            slack_workspace_id=c.slack.workspace_id if c.slack else None,
            slack_channel_id=c.slack.channel_id if c.slack else None,
            teams_tenant_id=c.teams.tenant_id if c.teams else None,
            teams_team_id=c.teams.team_id if c.teams else None,
            teams_channel_id=c.teams.channel_id if c.teams else None,
        )
        for name, c in channels.items()
        if c.slack or c.teams
    }


def security_findings_topic_name(config: PlatformConfig) -> str:
    """The security account's topic of the organisation's security findings and sign-in
    alarms (`stacks/audit.py`), in its home region."""
    return f"{config.organization.prefix}-security-findings"


def security_channels(config: PlatformConfig) -> dict[str, Channel]:
    """The security team's channel (`notifications.security`, default the default channel);
    none without `notifications`."""
    notifications = config.notifications
    if notifications is None:
        return {}
    name = notifications.security or notifications.default_channel
    return {name: notifications.channels[name]}


def security_chat_channels(config: PlatformConfig) -> dict[str, ChatChannel]:
    """The chat channels (Slack, Teams) among the security channels."""
    return _chat(security_channels(config))


def team_role_name(config: PlatformConfig, account_name: str, team: str) -> str:
    """The Pod Identity role of a team's pods in `account_name` (service account
    `team_service_account(team)` in each of its namespaces): exactly the team's data."""
    return resource_name(config.organization.prefix, account_name, "team", team)


def team_secrets_role_name(config: PlatformConfig, account_name: str, team: str) -> str:
    """The role the team's `SecretStore` (External Secrets) assumes: its secrets path only."""
    return resource_name(config.organization.prefix, account_name, "secrets", team)


def team_role_arn(
    config: PlatformConfig, account_name: str, team: str, *, secrets: bool = False
) -> str:
    """Either role's ARN, known before the role exists (the GitOps tree names it)."""
    name = (team_secrets_role_name if secrets else team_role_name)(config, account_name, team)
    return f"arn:aws:iam::{config.accounts[account_name].id}:role/{name}"


def team_service_account(team: str) -> str:
    """The Kubernetes service account, in each of the team's namespaces, bound to its role."""
    return team


def team_secrets_path(config: PlatformConfig, account_name: str, team: str) -> str:
    """The Secrets Manager path of a team's secrets in `account_name` (under the
    environment's `secrets_prefix`)."""
    return f"{secrets_prefix(config, account_name)}teams/{team}/"


def team_database_user(team: str) -> str:
    """The team's PostgreSQL user (and schema): its name with `-` as `_`."""
    return team.replace("-", "_")


def team_cache_user(team: str) -> str:
    """The team's ElastiCache user id and name (equal, as IAM authentication requires); one
    user per account, in the user group of each cache the team may use."""
    return f"team-{team}"
