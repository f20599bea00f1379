"""The notifications config: every channel named exists, a channel delivers somewhere,
thresholds and paging follow the account's role unless it says otherwise."""

from __future__ import annotations

from tests.test_config import broken, problems_of


def test_an_account_naming_an_unknown_channel_is_refused(sample_raw):
    assert problems_of(
        broken(sample_raw, ("accounts.dev.monitoring", {"channel": "dev-alerts"}))
    ) == [
        "accounts.dev.monitoring.channel: no channel of that name in notifications.channels "
        "(on-call, platform-alerts, platform-prod, security-findings) (got 'dev-alerts')"
    ]


def test_a_channel_name_the_section_refers_to_must_exist(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("notifications.security", "secops")))
    assert problem.startswith("notifications: ")
    assert "security: no channel named 'secops' in `channels`" in problem


def test_a_channel_must_deliver_somewhere(sample_raw):
    (problem,) = problems_of(broken(sample_raw, ("notifications.channels.on-call", {})))
    assert problem.startswith("notifications.channels.on-call: ")
    assert "a channel needs `slack`, `teams` or `emails`" in problem


def test_channels_without_a_notifications_section_are_refused(sample_raw):
    raw = broken(
        sample_raw,
        ("notifications", ...),
        ("accounts.prod.monitoring", {"channel": "platform-prod"}),
    )
    assert problems_of(raw) == [
        "accounts.prod.monitoring.channel: no `notifications` section defines channels "
        "(got 'platform-prod')"
    ]


def test_prod_pages_and_is_strictest_by_default(sample_config):
    prod, dev = sample_config.accounts["prod"], sample_config.accounts["dev"]
    assert prod.pages() and not dev.pages()
    assert prod.thresholds().cpu_percent < dev.thresholds().cpu_percent
    assert prod.thresholds().error_rate_percent < dev.thresholds().error_rate_percent
