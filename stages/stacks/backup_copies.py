"""The security account's vault that every data account's backup plan copies into."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs_lib.data.backup import BackupCopyVault
from stages.naming import backup_copy_vault_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class BackupCopiesStack(PlatformStack):
    """A compliance-locked vault outside every workload account, so a workload account's
    administrator cannot delete the last copy of its data. Deployed with the security
    account, before any data stack that copies into it."""

    def __init__(self, scope: PlatformStage, id_: str, *, min_retention_days: int) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} backup copies: the locked vault every "
            "data account copies its recovery points into",
        )
        self.copies = BackupCopyVault(
            self,
            "Copies",
            name=backup_copy_vault_name(config),
            organization_id=config.organization.id,
            min_retention_days=min_retention_days,
        )
        self.alarms.backup_failures(self.copies.vault)
