"""The organisation's public parent zone and its delegations, in shared-services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.model import Dns
from constructs_lib.network.dns import Delegation, ParentZone
from stages.naming import dns_delegation_role_name
from stages.platform_stack import PlatformStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class DnsStack(PlatformStack):
    """The parent zone, and a delegation role per account with a `domain`."""

    def __init__(self, scope: PlatformStage, id_: str, *, dns: Dns) -> None:
        config = scope.config
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} public parent zone "
            f"{dns.parent_zone} and its delegations",
        )
        ParentZone(
            self,
            "ParentZone",
            zone_name=dns.parent_zone,
            delegations=[
                Delegation(
                    zone_name=account.domain,
                    account_id=account.id,
                    role_name=dns_delegation_role_name(config, name),
                )
                for name, account in config.accounts.items()
                if account.domain is not None
            ],
        )
