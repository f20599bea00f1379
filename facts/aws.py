"""AWS's own limits and fixed places that the config validates and the constructs obey."""

from __future__ import annotations

from types import MappingProxyType

S3_BUCKET_NAME_MAX = 63
"""S3's limit on any bucket name."""
CACHE_NAME_MAX = 40
"""ElastiCache's limit on a replication group or serverless cache name."""
SEARCH_NAME_MAX = 28
"""OpenSearch Service's limit on a domain name."""
TARGET_GROUP_NAME_MAX = 32
"""Elastic Load Balancing's limit on a target group name."""
ALB_PATH_PATTERN_MAX = 128
"""Characters of one ALB listener-rule path condition value."""
ALB_RULE_WILDCARDS_MAX = 5
"""Wildcards (`*`, `?`) across one ALB listener rule's condition values
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html)."""

EDGE_REGION = "us-east-1"
"""Where CloudFront's viewer certificates and web ACLs must be."""

CLOUDWATCH_RETENTION = MappingProxyType(
    {
        1: "ONE_DAY",
        3: "THREE_DAYS",
        5: "FIVE_DAYS",
        7: "ONE_WEEK",
        14: "TWO_WEEKS",
        30: "ONE_MONTH",
        60: "TWO_MONTHS",
        90: "THREE_MONTHS",
        120: "FOUR_MONTHS",
        150: "FIVE_MONTHS",
        180: "SIX_MONTHS",
        365: "ONE_YEAR",
        400: "THIRTEEN_MONTHS",
        545: "EIGHTEEN_MONTHS",
        731: "TWO_YEARS",
        1096: "THREE_YEARS",
        1827: "FIVE_YEARS",
        2192: "SIX_YEARS",
        2557: "SEVEN_YEARS",
        2922: "EIGHT_YEARS",
        3288: "NINE_YEARS",
        3653: "TEN_YEARS",
    }
)
"""The retention periods CloudWatch Logs accepts, in days -> the name of CDK's
`aws_logs.RetentionDays` member for it."""

CHATBOT_API_REGIONS = ("us-east-2", "us-west-2", "ap-southeast-1", "eu-west-1")
"""Where AWS Chatbot's API answers (its configuration data is stored in each of them; the
console is us-east-2 only): https://docs.aws.amazon.com/cli/latest/reference/chatbot/index.html"""

PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
"""The AWS-owned Session document that forwards a local port to a host the instance reaches
(parameters `host`, `portNumber`, `localPortNumber`)."""

TARGET_PORTS = {"eks": 443, "postgres": 5432, "cache": 6379}
"""The ports operators forward to: the Kubernetes API, PostgreSQL, Valkey/Redis."""
