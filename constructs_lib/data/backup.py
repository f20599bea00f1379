"""DataBackup: the data stack's AWS Backup vault and daily plan, selecting resources by tag."""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, Tags
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.data.safety import data_key, removal_policy
from policies.acknowledgements import acknowledge_control
from policies.wildcards import acknowledge_aws_managed_policies

BACKUP_TAG = ("platform.io/backup", "daily")
"""Resources carrying this tag are in the plan (whatever stack or construct made them)."""

SERVICE_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


class DataBackup(Construct):
    """A CMK-encrypted vault and a daily plan (03:00 UTC, kept `retention_days`) that backs up
    every resource tagged `platform.io/backup: daily`; `protect()` tags one.

    - `vault_lock`: AWS Backup Vault Lock in governance mode with `retention_days` as the
      minimum, so recovery points cannot be deleted or shortened early.
    - Otherwise, unless `allow_data_loss`, the vault's access policy denies deleting recovery
      points; the vault and its key are retained when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        retention_days: int,
        vault_lock: bool,
        allow_data_loss: bool = False,
    ) -> None:
        """
        :param name: the vault's and the plan's name (deterministic).
        :param vault_lock: lock the vault (prod).
        :param allow_data_loss: sandbox's opt-in: vault and key deleted with the stack.
        """
        super().__init__(scope, id_)
        if retention_days < 1:
            raise ValueError(f"retention_days: at least 1; got {retention_days}")
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
            lock_configuration=(
                backup.LockConfiguration(min_retention=retention) if vault_lock else None
            ),
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
                )
            ],
        )
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
            "resource types; the plan reaches only resources carrying the backup tag.",
        )
        self.plan.add_selection(
            "Tagged",
            resources=[backup.BackupResource.from_tag(*BACKUP_TAG)],
            role=role,
            backup_selection_name="tagged",
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
