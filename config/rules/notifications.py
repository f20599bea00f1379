"""Notifications: every channel an account names exists."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.problem import PartialConfig, Problem


def monitoring_channels_exist(config: PartialConfig) -> Iterator[Problem]:
    if config.notifications_invalid:
        return  # its own problems are reported
    notifications = config.notifications
    known = sorted(notifications.channels) if notifications is not None else []
    for name, account in config.accounts.items():
        channel = account.monitoring.channel
        if channel is None or channel in known:
            continue
        yield Problem(
            f"accounts.{name}.monitoring.channel",
            f"no channel of that name in notifications.channels ({', '.join(known)})"
            if known
            else "no `notifications` section defines channels",
            channel,
        )
