"""The organisation's public parent zone, and the delegation of each environment's subzone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from constructs import Construct

from policies.wildcards import acknowledge_wildcards


@dataclass(frozen=True)
class Delegation:
    """A subzone held by another account, which writes its own NS records here."""

    zone_name: str
    account_id: str
    role_name: str


class ParentZone(Construct):
    """A public hosted zone (retained when removed) and, per delegation, a role that only that
    subzone's account may assume and that may only upsert or delete the NS records of that
    one subzone (Route 53's record-name and record-type conditions).

    Exposes `zone` and `roles` (subzone name -> role).
    """

    def __init__(
        self, scope: Construct, id_: str, *, zone_name: str, delegations: Sequence[Delegation]
    ) -> None:
        super().__init__(scope, id_)
        for delegation in delegations:
            if not delegation.zone_name.endswith(f".{zone_name}"):
                raise ValueError(
                    f"delegations: {delegation.zone_name!r} is not below {zone_name!r}"
                )
        self.zone = route53.PublicHostedZone(
            self, "Zone", zone_name=zone_name, comment="The organisation's parent zone"
        )
        self.zone.apply_removal_policy(RemovalPolicy.RETAIN)
        self.roles: dict[str, iam.Role] = {}
        for delegation in delegations:
            role = iam.Role(
                self,
                f"Delegation-{delegation.zone_name}",
                role_name=delegation.role_name,
                description=f"Lets {delegation.account_id} delegate {delegation.zone_name} here",
                assumed_by=iam.AccountPrincipal(delegation.account_id),
            )
            policy = iam.ManagedPolicy(
                self,
                f"DelegationPolicy-{delegation.zone_name}",
                description=f"NS records of {delegation.zone_name} only",
                roles=[role],
                statements=[
                    iam.PolicyStatement(
                        sid="ThisSubzoneNsRecordsOnly",
                        actions=["route53:ChangeResourceRecordSets"],
                        resources=[self.zone.hosted_zone_arn],
                        conditions={
                            "ForAllValues:StringEquals": {
                                "route53:ChangeResourceRecordSetsRecordTypes": ["NS"],
                                "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
                                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                                    delegation.zone_name
                                ],
                            }
                        },
                    ),
                    iam.PolicyStatement(
                        sid="FindTheParentZone",
                        actions=["route53:ListHostedZonesByName"],
                        resources=["*"],
                    ),
                ],
            )
            acknowledge_wildcards(
                policy,
                {
                    "FindTheParentZone": "ListHostedZonesByName has no resource-level "
                    "permissions; it only finds the parent zone's id by name."
                },
            )
            self.roles[delegation.zone_name] = role
