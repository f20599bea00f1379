"""The first-run DNS step: the pipeline stops, naming the name servers to set at the registrar,
until the registrar delegates the parent zone (instead of certificates waiting 72 hours)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from runtime.dns_delegation import check, main, public_name_servers
from tests.helpers import fake_aws_credentials


@pytest.fixture
def route53(monkeypatch):
    fake_aws_credentials(monkeypatch, "us-east-1")
    with mock_aws():
        client = boto3.client("route53")
        client.create_hosted_zone(Name="example.com", CallerReference="platform")
        yield client


def assigned(route53) -> list[str]:
    (zone,) = route53.list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"]
    return route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]


def test_a_delegated_zone_passes(route53) -> None:
    servers = [f"{name.upper()}." for name in assigned(route53)]  # case and dots differ
    assert check(route53, "example.com", resolve=lambda zone: servers) == []


def test_an_undelegated_zone_names_the_name_servers_to_set(route53) -> None:
    old = ["ns1.registrar-parking.example.net."]
    [problem] = check(route53, "example.com", resolve=lambda zone: old)
    assert problem.startswith(
        "example.com: the registrar does not delegate to Route 53 yet (the public DNS answers "
        "ns1.registrar-parking.example.net). Set the domain's name servers at the registrar to: "
    )
    for server in assigned(route53):
        assert server.rstrip(".") in problem
    assert problem.endswith("then retry this stage.")


def test_a_missing_zone_says_which_stack_makes_it(route53) -> None:
    assert check(route53, "example.org", resolve=lambda zone: []) == [
        "example.org: no public hosted zone in this account; deploy shared-services/Dns first"
    ]


def test_the_step_exits_non_zero_until_delegated(route53, monkeypatch, capsys) -> None:
    monkeypatch.setattr("runtime.dns_delegation.public_name_servers", lambda zone: [])
    assert main(["--zone", "example.com"]) == 1
    assert "NOT DELEGATED: example.com" in capsys.readouterr().err


def test_public_answers_come_from_the_dns_resolver(monkeypatch) -> None:
    import dns.resolver

    class Record:
        def __init__(self, target: str) -> None:
            self.target = target

    monkeypatch.setattr(dns.resolver, "resolve", lambda zone, kind: [Record("ns-1.awsdns-01.org.")])
    assert public_name_servers("example.com") == ["ns-1.awsdns-01.org."]

    def nxdomain(zone, kind):
        raise dns.resolver.NXDOMAIN()

    monkeypatch.setattr(dns.resolver, "resolve", nxdomain)
    assert public_name_servers("example.com") == []


def test_a_lookup_that_cannot_be_had_says_so_to_preflight_and_fails_the_step(monkeypatch):
    """The preflight reports an unreachable DNS as such; the pipeline step counts it as not
    delegated (it fails, and a retry asks again)."""
    import dns.exception
    import dns.resolver

    from runtime.dns_delegation import LookupFailed, lookup_name_servers

    def timeout(zone, kind):
        raise dns.exception.Timeout()

    monkeypatch.setattr(dns.resolver, "resolve", timeout)
    with pytest.raises(LookupFailed):
        lookup_name_servers("example.com")
    assert public_name_servers("example.com") == []
