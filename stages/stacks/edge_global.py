"""The us-east-1 half of a workload account's edge: DNS zone, certificate, web ACL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53

from config.model import Edge
from constructs_lib.data.safety import removal_policy
from constructs_lib.edge.protection import EdgeProtection
from facts.aws import EDGE_REGION
from policies.acknowledgements import acknowledge_control
from stages.naming import dns_delegation_role_arn, edge_name
from stages.platform_stack import PlatformStack
from stages.retention import RETENTION_DAYS

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


class EdgeGlobalStack(PlatformStack):
    """The account's public DNS zone, and the distribution's certificate and web ACL, in
    us-east-1 (the only region CloudFront takes the last two from), with the web ACL's alarm
    (WAF publishes a CLOUDFRONT web ACL's metrics there too).

    The zone is the environment's: ExternalDNS, cert-manager and the edge's records live in
    it. It is retained when the stack goes (a new zone would get new name servers and break
    the parent's delegation), except in a sandbox that allows data loss.
    """

    def __init__(
        self, scope: PlatformStage, id_: str, *, domain: str, edge: Edge, allow_data_loss: bool
    ) -> None:
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} edge, "
            f"{EDGE_REGION} part: DNS zone {domain}, viewer certificate, WAF",
            region=EDGE_REGION,
            cross_region_references=True,
        )
        self.zone = route53.PublicHostedZone(
            self,
            "Zone",
            zone_name=domain,
            comment=f"{config.organization.name} {scope.account_config.role} environment",
        )
        self.zone.apply_removal_policy(removal_policy(allow_data_loss=allow_data_loss))
        if config.dns is not None:
            # NS records in the parent zone (shared-services), written through the role that
            # may change only this subzone's delegation.
            delegation = route53.CrossAccountZoneDelegationRecord(
                self,
                "Delegation",
                delegated_zone=self.zone,
                parent_hosted_zone_name=config.dns.parent_zone,
                delegation_role=iam.Role.from_role_arn(
                    self, "DelegationRole", dns_delegation_role_arn(config, name), mutable=False
                ),
                removal_policy=removal_policy(allow_data_loss=allow_data_loss),
            )
            # The record's provider (a raw role and function) is a singleton of the stack.
            self.raw_resource_scopes.append(
                self.node.find_child("Custom::CrossAccountZoneDelegationCustomResourceProvider")
            )
            for policy in delegation.node.find_all():
                if isinstance(policy, iam.CfnPolicy):
                    acknowledge_control(
                        policy,
                        "IAMNoInlinePolicy",
                        "CDK's own delegation handler role: its one statement lets the "
                        "handler assume the shared-services delegation role, and CDK keeps it "
                        "in step with the handler.",
                    )
        self.protection = EdgeProtection(
            self,
            "Protection",
            zone=self.zone,
            domain_name=domain,
            web_acl_name=edge_name(config, name),
            rate_limit=edge.rate_limit,
            log_retention=RETENTION_DAYS[edge.log_retention_days],
        )
        self.alarms.web_acl("waf", self.protection.web_acl)
