"""Deterministic names for anything another account (or a human) must find.

One function builds every such name from the organisation prefix, the environment and the
purpose, so that two accounts agree on a name without a CloudFormation export between them.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
S3_BUCKET_NAME_MAX = 63


def resource_name(prefix: str, environment: str, purpose: str, *qualifiers: str) -> str:
    """`{prefix}-{environment}-{purpose}[-{qualifier}...]`, lowercase, validated.

    Qualifiers (account id, region) make names unique where the namespace is global (S3).
    """
    name = "-".join((prefix, environment, purpose, *qualifiers))
    if not _NAME.match(name) or "--" in name:
        raise ValueError(f"resource name {name!r} must be lowercase letters, digits and '-'")
    return name


def bucket_name(prefix: str, environment: str, purpose: str, account_id: str, region: str) -> str:
    """A globally unique S3 bucket name, qualified by account and region."""
    name = resource_name(prefix, environment, purpose, account_id, region)
    if len(name) > S3_BUCKET_NAME_MAX:
        raise ValueError(f"bucket name {name!r} is longer than {S3_BUCKET_NAME_MAX} characters")
    return name
