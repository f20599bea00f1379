"""Facts of the CDK bootstrap that the guardrails, the stages and the bootstrap tool share."""

from __future__ import annotations

CDK_QUALIFIER = "hnb659fds"
"""The CDK bootstrap qualifier (the default), which names the bootstrap roles."""
