"""DataBackup: the data stack's AWS Backup vault and daily plan, selecting resources by tag,
and BackupCopyVault: the vault in another account every plan copies into."""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, Tags
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.data.safety import data_key, removal_policy
from constructs_lib.shared.encryption import GRANTS_FOR_AWS_RESOURCES
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies

BACKUP_TAG = ("platform.io/backup", "daily")
"""Resources carrying this tag are in the plan (whatever stack or construct made them)."""

LOCK_GRACE_DAYS = 3
"""`ChangeableForDays` of every vault lock: the lock is in compliance mode and becomes
immutable (nobody, root included, can remove it or delete a recovery point early) this many
days after it is set; 3 is AWS's minimum
(https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html)."""

KEY_USE_FOR_COPIES = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
)
"""What the copy vault's account needs of a source key to copy its recovery points (plus
grants, which AWS Backup creates as an integrated service: only for AWS resources): RDS and
Aurora snapshots stay encrypted with the database's own key, so a cross-account copy needs
that key to be customer managed and shared with the destination account
(https://docs.aws.amazon.com/aws-backup/latest/devguide/create-cross-account-backup.html)."""


def compliance_lock(min_retention: Duration) -> backup.LockConfiguration:
    """Vault Lock in compliance mode (`changeable_for` set): immutable after the grace period."""
    return backup.LockConfiguration(
        min_retention=min_retention, changeable_for=Duration.days(LOCK_GRACE_DAYS)
    )


SERVICE_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


class DataBackup(Construct):
    """A CMK-encrypted vault and a daily plan (03:00 UTC, kept `retention_days`) that backs up
    every resource tagged `platform.io/backup: daily`; `protect()` tags one.

    - `vault_lock`: AWS Backup Vault Lock in **compliance** mode with `retention_days` as the
      minimum, immutable `LOCK_GRACE_DAYS` after it is set: no one in the account, its
      administrators and root included, can then delete or shorten a recovery point.
    - `copy_to_vault_arn`: each recovery point is also copied (kept `retention_days`) into
      that vault of another account (`copy_to_account`), which this account's administrators
      cannot reach; this vault's key, and every key `share_key()` is given (the databases'
      keys, which encrypt their snapshots), let that account use them for the copy.
    - Unless `allow_data_loss`, the vault's access policy denies deleting recovery points;
      the vault and its key are retained when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        retention_days: int,
        vault_lock: bool,
        copy_to_vault_arn: str | None = None,
        copy_to_account: str | None = None,
        allow_data_loss: bool = False,
    ) -> None:
        """
        :param name: the vault's and the plan's name (deterministic).
        :param vault_lock: lock the vault (compliance mode).
        :param copy_to_vault_arn: copy every recovery point there (default: no copy).
        :param copy_to_account: the account holding `copy_to_vault_arn`.
        :param allow_data_loss: sandbox's opt-in: vault and key deleted with the stack.
        """
        super().__init__(scope, id_)
        if retention_days < 1:
            raise ValueError(f"retention_days: at least 1; got {retention_days}")
        if (copy_to_vault_arn is None) != (copy_to_account is None):
            raise ValueError("copy_to_vault_arn and copy_to_account: give both or neither")
        if vault_lock and allow_data_loss:
            raise ValueError("vault_lock: a locked vault cannot lose data (allow_data_loss)")
        self.copy_to_account = copy_to_account
        retention = Duration.days(retention_days)
        self.key = data_key(
            self,
            "Key",
            description=f"Encrypts the recovery points of backup vault {name}",
            allow_data_loss=allow_data_loss,
        )
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=name,
            encryption_key=self.key,
            lock_configuration=compliance_lock(retention) if vault_lock else None,
            block_recovery_point_deletion=not allow_data_loss,
            removal_policy=removal_policy(allow_data_loss=allow_data_loss),
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=name,
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="daily",
                    schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                    start_window=Duration.hours(1),
                    completion_window=Duration.hours(8),
                    delete_after=retention,
                    copy_actions=(
                        [
                            backup.BackupPlanCopyActionProps(
                                destination_backup_vault=backup.BackupVault.from_backup_vault_arn(
                                    self, "CopyVault", copy_to_vault_arn
                                ),
                                delete_after=retention,
                            )
                        ]
                        if copy_to_vault_arn is not None
                        else None
                    ),
                )
            ],
        )
        self.share_key(self.key)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description=f"AWS Backup plan {name}: back up and restore the tagged resources",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(policy)
                for policy in SERVICE_POLICIES
            ],
        )
        acknowledge_aws_managed_policies(
            role.node.default_child,
            "AWS Backup's own service-role policies, maintained by AWS as it supports new "
            "resource types. They let AWS Backup back up and restore any supported resource "
            "of the account: the plan's selection, not this role, limits its jobs to "
            "resources carrying the backup tag.",
        )
        self.plan.add_selection(
            "Tagged",
            resources=[backup.BackupResource.from_tag(*BACKUP_TAG)],
            role=role,
            backup_selection_name="tagged",
        )

    def share_key(self, key: kms.Key) -> None:
        """Let the copy vault's account use `key` to copy the recovery points it encrypts."""
        if self.copy_to_account is None:
            return
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CopyRecoveryPointsToTheBackupAccount",
                principals=[iam.AccountPrincipal(self.copy_to_account)],
                actions=list(KEY_USE_FOR_COPIES),
                resources=["*"],
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BackupAccountGrantsForAWSResourcesOnly",
                principals=[iam.AccountPrincipal(self.copy_to_account)],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions=GRANTS_FOR_AWS_RESOURCES,
            )
        )

    def protect(self, resource: Construct) -> None:
        """Tag `resource` (and what it contains) so the plan backs it up, and acknowledge
        cdk-nag's backup-plan finding on its RDS instances (found with one `find_all` over the
        resource's own few constructs)."""
        Tags.of(resource).add(*BACKUP_TAG)
        for construct in resource.node.find_all():
            if (
                isinstance(construct, CfnResource)
                and construct.cfn_resource_type == "AWS::RDS::DBInstance"
            ):
                acknowledge_control(
                    construct,
                    "RDSInBackupPlan",
                    "In this stack's AWS Backup plan through its platform.io/backup tag (an "
                    "Aurora instance through its cluster's); cdk-nag recognises only "
                    "selections that list the database's ARN.",
                    packs=("NIST.800.53.R5", "HIPAA.Security"),
                )


class BackupCopyVault(Construct):
    """The vault the data accounts' plans copy into, in an account their administrators
    cannot reach: its own rotating CMK, an access policy that admits
    `backup:CopyIntoBackupVault` from this organisation's accounts only (`aws:PrincipalOrgID`)
    and denies deleting recovery points to everyone, and a compliance-mode Vault Lock with
    `min_retention_days` (the shortest retention of the plans that copy here). Retained on
    delete. Exposes `vault`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        organization_id: str,
        min_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        if min_retention_days < 1:
            raise ValueError(f"min_retention_days: at least 1; got {min_retention_days}")
        key = data_key(
            self,
            "Key",
            description=f"Encrypts the recovery points copied into backup vault {name}",
            allow_data_loss=False,
        )
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=name,
            encryption_key=key,
            lock_configuration=compliance_lock(Duration.days(min_retention_days)),
            block_recovery_point_deletion=True,
            removal_policy=removal_policy(allow_data_loss=False),
        )
        self.vault.add_to_access_policy(
            iam.PolicyStatement(
                sid="CopyFromThisOrganisationOnly",
                principals=[iam.AnyPrincipal()],
                actions=["backup:CopyIntoBackupVault"],
                resources=["*"],
                conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            )
        )
