"""The security (audit and log archive) account."""

from __future__ import annotations

from stages.platform_stage import PlatformStage
from stages.stacks.audit import AuditStack
from stages.stacks.backup_copies import BackupCopiesStack
from stages.stacks.log_archive import LogArchiveStack


class SecurityStage(PlatformStage):
    """The organisation's log archive, and the audit services the security account runs for
    the whole organisation as their delegated administrator."""

    def build(self) -> None:
        self.log_archive_stack = LogArchiveStack(self, "LogArchive")
        self.log_archive = self.log_archive_stack.log_archive
        self.audit_stack = AuditStack(self, "Audit", log_archive=self.log_archive)
        self.audit_stack.add_stack_dependency(self.log_archive_stack, "writes to the archive")
        for region, baseline in self.baseline_stacks.items():
            if region == self.account_config.region:
                continue  # no recorder at home: Audit has it
            baseline.add_stack_dependency(
                self.log_archive_stack, "AWS Config delivers to the archive's Config bucket"
            )
        copied = [
            data.backup.retention_days
            for account in self.config.accounts.values()
            if account.role != "sandbox" and (data := account.data) is not None
        ]
        self.backup_copies_stack = (
            BackupCopiesStack(self, "BackupCopies", min_retention_days=min(copied))
            if copied
            else None
        )
