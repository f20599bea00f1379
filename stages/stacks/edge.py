"""The home-region half of a workload account's edge: CloudFront, its load balancer, buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2

from config.model import EDGE_ORIGIN_ALB, Edge, edge_rule_priority
from config.model import EdgeBehavior as BehaviorConfig
from constructs_lib.edge.distribution import (
    EdgeBehavior,
    EdgeErrorPage,
    PlatformEdge,
    TeamRoute,
)
from constructs_lib.network.vpc import PlatformNetwork
from constructs_lib.shared.access_logs import AccessLogsBucket
from stages.naming import (
    data_bucket_name,
    edge_name,
    team_target_group_name,
)
from stages.parameters import publish
from stages.platform_stack import PlatformStack
from stages.stacks.edge_global import EdgeGlobalStack

if TYPE_CHECKING:
    from stages.platform_stage import PlatformStage


PRICE_CLASSES = {
    "100": cloudfront.PriceClass.PRICE_CLASS_100,
    "200": cloudfront.PriceClass.PRICE_CLASS_200,
    "all": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


class EdgeStack(PlatformStack):
    """The distribution, its internal load balancer and its buckets, next to the VPC.

    The load balancer sends to the cluster security group (read from the SSM parameter the
    cluster stack writes). The target group is named deterministically
    (`<prefix>-<account>-edge`) so the GitOps bridge can hand its name to a
    TargetGroupBinding before this stack has deployed; its ARN, the distribution id and the
    bucket names are published under `/<prefix>/<account>/edge/...`.
    """

    def __init__(
        self,
        scope: PlatformStage,
        id_: str,
        *,
        domain: str,
        edge: Edge,
        network: PlatformNetwork,
        protection: EdgeGlobalStack,
        allow_data_loss: bool,
        targets: ec2.ISecurityGroup,
    ) -> None:
        """
        :param targets: the network stack's workload-clients group, which the cluster's nodes
            (and the pods on them) carry: the load balancer sends to it.
        """
        config, name = scope.config, scope.node.id
        super().__init__(
            scope,
            id_,
            description=f"{config.organization.name} {scope.account_config.role} edge: "
            f"CloudFront for {domain}, internal load balancer, asset buckets",
            availability_zones=network.vpc.availability_zones,
            cross_region_references=True,
        )
        self.config, self.account_name = config, name
        pods = targets
        retention = Duration.days(edge.log_retention_days)
        access_logs = AccessLogsBucket(self, "AccessLogs", expire_after=retention)
        zone = protection.zone
        origin_certificate = acm.Certificate(
            self,
            "OriginCertificate",
            domain_name=domain,
            subject_alternative_names=[f"*.{domain}"],
            validation=acm.CertificateValidation.from_dns(zone),
        )
        self.edge = PlatformEdge(
            self,
            "Edge",
            vpc=network.vpc,
            subnets=network.private_subnets,
            targets=pods,
            zone=zone,
            hostnames=edge.hostnames or (domain,),
            viewer_certificate=protection.protection.certificate,
            origin_certificate=origin_certificate,
            origin_domain_name=f"origin.{domain}",
            web_acl_arn=protection.protection.web_acl_arn,
            behaviors=[_behavior(b) for b in edge.behaviors],
            default_behavior=_behavior(edge.default),
            buckets={b: data_bucket_name(config, name, f"edge-{b}") for b in edge.buckets},
            access_logs=access_logs,
            target_group_name=edge_name(config, name),
            target_port=edge.target_port,
            health_check_path=edge.health_check_path,
            error_pages=[
                EdgeErrorPage(
                    status=page.status,
                    page=page.page,
                    response_status=page.response_status or page.status,
                    ttl=Duration.seconds(page.ttl_seconds),
                )
                for page in edge.error_pages
            ],
            teams=[
                TeamRoute(
                    team=team,
                    paths=environment.public_paths,
                    priorities=tuple(
                        edge_rule_priority(team, i) for i in range(len(environment.public_paths))
                    ),
                    target_group_name=team_target_group_name(config, name, team),
                )
                for team, environment in config.teams_in(name).items()
                if environment.public_paths
            ],
            price_class=PRICE_CLASSES[edge.price_class],
            countries=edge.countries,
            log_retention=retention,
            deletion_protection=scope.termination_protection,
            allow_data_loss=allow_data_loss,
        )
        self.alarms.load_balancer("alb", self.edge.load_balancer)
        self._publish("distribution-id", self.edge.distribution.distribution_id)
        self._publish("distribution-domain", self.edge.distribution.distribution_domain_name)
        self._publish("target-group-arn", self.edge.target_group.target_group_arn)
        for team, group in self.edge.team_target_groups.items():
            self._publish(f"teams/{team}/target-group-arn", group.target_group_arn)
        for origin, bucket in self.edge.buckets.items():
            self._publish(f"buckets/{origin}", bucket.bucket_name)

    def _publish(self, path: str, value: str) -> None:
        publish(
            self,
            self.config,
            self.account_name,
            f"edge/{path}",
            value,
            description=f"Edge {path}, for applications and GitOps",
        )


def _behavior(behavior: BehaviorConfig) -> EdgeBehavior:
    alb = behavior.origin == EDGE_ORIGIN_ALB
    forward = behavior.forward or ("all" if alb else "none")
    return EdgeBehavior(
        path=behavior.path,
        origin=PlatformEdge.ALB if alb else behavior.origin,
        cached=behavior.cache == "optimized",
        forward_all=forward == "all",
    )
