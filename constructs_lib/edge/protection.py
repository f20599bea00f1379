"""EdgeProtection: what protects a distribution, built in us-east-1 (CloudFront accepts
viewer certificates and WAF web ACLs from there only): the certificate and the web ACL."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from constructs_lib.shared.encryption import log_group_key
from facts.aws import EDGE_REGION

WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF logs only to log groups whose name starts with this."""
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)
"""AWS managed rule groups every web ACL runs, in priority order (the rate rule runs first)."""


class EdgeProtection(Construct):
    """The viewer certificate and the web ACL of one distribution; build it in us-east-1.

    - The certificate covers `domain_name` and `*.domain_name`, validated by DNS records in
      `zone` that ACM creates and keeps (renewal needs no one).
    - The web ACL (scope CLOUDFRONT) blocks a client IP above `rate_limit` requests in five
      minutes, then runs the AWS managed rule groups in `MANAGED_RULE_GROUPS`. Every request is
      logged to a KMS-encrypted CloudWatch log group, with the Authorization and Cookie
      headers redacted.

    Exposes `certificate` and `web_acl_arn`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        zone: route53.IHostedZone,
        domain_name: str,
        web_acl_name: str,
        rate_limit: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        """
        :param web_acl_name: also names the metrics and, prefixed by `aws-waf-logs-`, the log
            group.
        :param rate_limit: requests per client IP in any five minutes; at least 100.
        """
        super().__init__(scope, id_)
        region = Stack.of(self).region
        if region != EDGE_REGION:
            raise ValueError(
                f"scope: CloudFront takes certificates and web ACLs from {EDGE_REGION} only; "
                f"this stack is in {region!r}"
            )
        if rate_limit < 100:
            raise ValueError(f"rate_limit: WAF counts at least 100 requests; got {rate_limit}")
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=domain_name,
            subject_alternative_names=[f"*.{domain_name}"],
            validation=acm.CertificateValidation.from_dns(zone),
        )
        rules = [_rate_rule(rate_limit, web_acl_name)] + [
            _managed_rule(group, priority, web_acl_name)
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=web_acl_name,
            scope="CLOUDFRONT",
            description=f"Protects the {domain_name} distribution",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(web_acl_name),
            rules=rules,
        )
        self.web_acl_arn = self.web_acl.attr_arn
        key = log_group_key(self, "LogKey", description=f"Encrypts WAF logs of {domain_name}")
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=WAF_LOG_GROUP_PREFIX + web_acl_name,
            encryption_key=key,
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[self.log_group.log_group_arn],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in ("authorization", "cookie")
            ],
        )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _rate_rule(limit: int, acl_name: str) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name="RateLimitPerIp",
        priority=0,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=limit, evaluation_window_sec=300
            )
        ),
        visibility_config=_visibility(f"{acl_name}-rate"),
    )


def _managed_rule(group: str, priority: int, acl_name: str) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=group,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=group
            )
        ),
        visibility_config=_visibility(f"{acl_name}-{group}"),
    )
