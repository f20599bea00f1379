"""The edge: a workload domain's CDN needs the domain, a cluster to send to, us-east-1, and
names that fit AWS's limits."""

from __future__ import annotations

from collections.abc import Iterator

from config.model import Account
from config.rules.problem import PartialConfig, Problem
from facts.aws import EDGE_REGION, S3_BUCKET_NAME_MAX, TARGET_GROUP_NAME_MAX


def edge_where_it_belongs(config: PartialConfig) -> Iterator[Problem]:
    """The edge fronts a workload cluster under the account's own domain, from certificates
    and a web ACL in us-east-1. (What one edge section checks on its own, origins and error
    pages, `config.model.Edge` checks.)"""
    for name, account in config.accounts.items():
        path = f"accounts.{name}.edge"
        if account.edge is not None and account.domain is None:
            yield Problem(path, f"needs accounts.{name}.domain: the zone the CDN serves")
            continue
        if account.edge_settings is None:
            continue
        if account.cluster is None:
            yield Problem(
                f"accounts.{name}.domain",
                "a workload domain gets an edge whose load balancer sends to the cluster's "
                f"pods; configure accounts.{name}.cluster too",
            )
        org = config.organization
        if org is not None and EDGE_REGION not in org.allowed_regions:
            yield Problem(
                "organization.allowed_regions",
                f"must include {EDGE_REGION}: accounts.{name} has an edge, whose certificate "
                "and WAF live there",
                list(org.allowed_regions),
            )
        yield from _edge_names(config, name, account, path)


def _edge_names(config: PartialConfig, name: str, account: Account, path: str) -> Iterator[Problem]:
    """Hostnames the certificate covers; AWS names that fit their services' limits."""
    domain, edge = account.domain, account.edge_settings
    assert domain is not None and edge is not None
    for index, hostname in enumerate(edge.hostnames):
        if hostname != domain and hostname.partition(".")[2] != domain:
            yield Problem(
                f"{path}.hostnames.{index}",
                f"must be {domain} or one label below it (the certificate covers {domain} "
                f"and *.{domain})",
                hostname,
            )
    if config.organization is None:
        return
    stem = f"{config.organization.prefix}-{name}"
    if len(f"{stem}-edge") > TARGET_GROUP_NAME_MAX:
        yield Problem(
            f"accounts.{name}",
            f"the edge target group's name {stem + '-edge'!r} is longer than "
            f"{TARGET_GROUP_NAME_MAX} characters; shorten the account name or "
            "organization.prefix",
        )
    data_buckets = set(account.data.buckets) if account.data else set()
    for bucket in edge.buckets:
        full_name = f"{stem}-edge-{bucket}-{account.id}-{account.region}"
        if len(full_name) > S3_BUCKET_NAME_MAX:
            yield Problem(
                f"{path}.buckets",
                f"its AWS name {full_name!r} is longer than {S3_BUCKET_NAME_MAX} characters",
                bucket,
            )
        if f"edge-{bucket}" in data_buckets:
            yield Problem(
                f"accounts.{name}.data.buckets.edge-{bucket}",
                f"its AWS name is taken by the edge bucket {bucket!r}; rename one of them",
            )
