"""CloudWatch Logs retention: config's days -> CDK's enum (the table is `facts.aws`)."""

from __future__ import annotations

from types import MappingProxyType

from aws_cdk import aws_logs as logs

from facts.aws import CLOUDWATCH_RETENTION

RETENTION_DAYS = MappingProxyType(
    {days: getattr(logs.RetentionDays, name) for days, name in CLOUDWATCH_RETENTION.items()}
)
"""Config's retention days -> CDK enum."""
