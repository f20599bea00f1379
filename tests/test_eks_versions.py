"""The EKS version guard: calendar and kubectl-layer table agree, versions EKS no longer
creates are refused with their date, extended support warns."""

from __future__ import annotations

import re
import tomllib
from datetime import date

import pytest

from config import ConfigError, config_warnings, parse_config
from config.eks_calendar import ADDON_VERSIONS, EKS_CALENDAR, accepted_versions
from config.model import ADDONS
from facts.kubernetes import KUBECTL_LAYERS
from tests.conftest import ROOT
from tests.test_config import broken

TODAY = date(2026, 11, 23)
VERSION = "accounts.dev.cluster.kubernetes_version"


def problems(raw, today=TODAY) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, today=today)
    return [str(p) for p in caught.value.problems]


def test_every_layer_is_pinned_and_every_accepted_version_has_one():
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for layer in KUBECTL_LAYERS.values():
        assert any(dep.startswith(f"{layer.package}==") for dep in pinned), layer.package
    assert set(accepted_versions(TODAY)) <= set(KUBECTL_LAYERS)
    assert accepted_versions(TODAY) == ["1.33", "1.34", "1.35", "1.36"]


def test_1_29_is_refused_with_its_end_of_support_date(sample_raw):
    assert problems(broken(sample_raw, (VERSION, "1.29"))) == [
        f"{VERSION}: Amazon EKS ended support for 1.29 on 23 Mar 2026 and no longer creates "
        "it; use one of 1.33, 1.34, 1.35, 1.36 (got '1.29')"
    ]


def test_1_30_is_refused(sample_raw):
    (problem,) = problems(broken(sample_raw, (VERSION, "1.30")))
    assert "ended support for 1.30 on 23 Jul 2026" in problem


def test_a_version_ends_on_its_date(sample_raw):
    raw = broken(sample_raw, (VERSION, "1.31"))
    (before,) = problems(raw, today=date(2026, 11, 25))
    assert "no kubectl layer is packaged for 1.31" in before
    (after,) = problems(raw, today=date(2026, 11, 26))
    assert "ended support for 1.31 on 26 Nov 2026" in after


def test_unknown_version_is_refused(sample_raw):
    assert problems(broken(sample_raw, (VERSION, "1.37"))) == [
        f"{VERSION}: not a version Amazon EKS offers; use one of 1.33, 1.34, 1.35, 1.36 "
        "(got '1.37')"
    ]


def test_extended_support_warns_but_is_accepted(sample_raw):
    config = parse_config(broken(sample_raw, (VERSION, "1.33")), today=TODAY)
    assert [str(w) for w in config_warnings(config, today=TODAY)] == [
        f"{VERSION}: 1.33 left standard support on 1 Jul 2026: Amazon EKS charges the "
        "extended-support rate per cluster hour until 1 Jul 2027; plan the upgrade (got '1.33')"
    ]


def test_sample_config_is_in_standard_support(sample_config):
    assert config_warnings(sample_config, today=TODAY) == []
    assert {a.cluster.kubernetes_version for a in sample_config.accounts.values() if a.cluster} == {
        "1.35"
    }


@pytest.mark.parametrize(
    ("release", "day", "status"),
    [
        ("1.34", date(2026, 12, 1), "standard"),
        ("1.34", date(2026, 12, 2), "extended"),
        ("1.34", date(2027, 12, 1), "ended"),
        ("1.36", date(2030, 1, 1), "standard"),
    ],
)
def test_release_status_follows_the_calendar(release, day, status):
    assert EKS_CALENDAR[release].status(day) == status


def test_node_group_sizes_and_architecture(sample_raw):
    nodes = "accounts.dev.cluster.system_nodes"
    raw = broken(
        sample_raw,
        (f"{nodes}.min_size", 5),
        (f"{nodes}.max_size", 3),
        (f"{nodes}.instance_types", ["m7g.large", "m7i.large"]),
    )
    assert set(problems(raw)) == {
        f"{nodes}.min_size: larger than max_size (3) (got 5)",
        f"{nodes}.instance_types.1: does not run an ARM (Graviton) AMI "
        "(AL2023_ARM_64_STANDARD) (got 'm7i.large')",
    }
    raw = broken(
        sample_raw,
        (f"{nodes}.desired_size", 20),
        (f"{nodes}.ami_type", "AL2023_x86_64_STANDARD"),
        (f"{nodes}.instance_types", ["m7i.large"]),
    )
    assert problems(raw) == [
        f"{nodes}.desired_size: must be between min_size (2) and max_size (3) (got 20)"
    ]


def test_cluster_needs_a_vpc_and_public_access_is_never_open_to_all(sample_raw):
    raw = broken(
        sample_raw,
        ("accounts.management.cluster", {"kubernetes_version": "1.35"}),
        ("accounts.sandbox.cluster.endpoint_public_access_cidrs", ["0.0.0.0/0"]),
    )
    assert set(problems(raw)) == {
        "accounts.management.cluster: not allowed for a management account (it has no VPC)",
        "accounts.sandbox.cluster.endpoint_public_access_cidrs: '0.0.0.0/0' opens the API "
        "server to the whole internet (got ['0.0.0.0/0'])",
    }


ADDONS_PATH = "accounts.dev.cluster.addon_versions"


def test_every_add_on_of_every_cluster_is_pinned(organisation):
    """No add-on follows EKS's moving default: each `AWS::EKS::Addon` names its version, the
    calendar's for the cluster's Kubernetes version."""
    for stage, stacks in organisation.stacks.items():
        if "Cluster" not in stacks:
            continue
        (cluster,) = stacks["Cluster"].of_type("AWS::EKS::Cluster").values()
        version = cluster["Properties"]["Version"]
        addons = {
            a["Properties"]["AddonName"]: a["Properties"].get("AddonVersion")
            for a in stacks["Cluster"].of_type("AWS::EKS::Addon").values()
        }
        assert addons == ADDON_VERSIONS[version], stage


def test_the_table_pins_each_add_on_for_its_own_kubernetes_version():
    """kube-proxy is built per Kubernetes minor; every accepted version pins what it can."""
    for version in accepted_versions(TODAY):
        table = ADDON_VERSIONS[version]
        assert table["kube-proxy"].startswith(f"v{version}."), version
        assert set(table) <= set(ADDONS)
        for addon, pin in table.items():
            assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", pin), (version, addon)


def test_a_version_without_a_verified_pin_asks_for_one(sample_raw):
    """1.36's vpc-cni, EBS driver and Pod Identity agent have no AWS-published version here:
    the config must pin them, and is told how to find them."""
    found = problems(broken(sample_raw, (VERSION, "1.36")))
    assert [p.split(":")[0] for p in found] == [
        f"{ADDONS_PATH}.vpc-cni",
        f"{ADDONS_PATH}.eks-pod-identity-agent",
        f"{ADDONS_PATH}.aws-ebs-csi-driver",
        f"{ADDONS_PATH}.amazon-cloudwatch-observability",
        "accounts.dev.cluster.node_pools",  # and no Karpenter AMI release is pinned for 1.36
    ]
    assert (
        "aws eks describe-addon-versions --kubernetes-version 1.36 --addon-name vpc-cni"
        in (found[0])
    )
    pinned = broken(
        sample_raw,
        (VERSION, "1.36"),
        (
            "accounts.dev.cluster.addon_versions",
            {
                "vpc-cni": "v1.22.3-eksbuild.1",
                "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
                "aws-ebs-csi-driver": "v1.63.1-eksbuild.1",
                "amazon-cloudwatch-observability": "v5.3.1-eksbuild.1",
            },
        ),
        ("accounts.dev.cluster.node_pools", {}),  # until the calendar pins 1.36's AMI
    )
    parse_config(pinned, today=TODAY)
