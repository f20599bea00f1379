"""`make prices`: refresh the instance-hour prices of tools/prices.json from the AWS Price
List API (needs credentials; `pricing:GetProducts` only).

    python -m tools.prices [--prices tools/prices.json]

Updates every EC2, RDS, ElastiCache, OpenSearch and MSK size already in the table, for every
region in it, and the table's `as_of` date. Fixed fees (NAT, endpoints, EKS, KMS, ...) change
rarely and stay hand-edited. A size the API does not return keeps its old price and is
listed on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tools.cost import PRICES

PRICING_REGION = "us-east-1"
"""The Price List API answers from us-east-1 (and two others) for every region."""


def _filters(**fields: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


QUERIES = {
    "ec2_instance_hour": lambda size, region: (
        "AmazonEC2",
        _filters(
            instanceType=size,
            regionCode=region,
            operatingSystem="Linux",
            tenancy="Shared",
            preInstalledSw="NA",
            capacitystatus="Used",
        ),
    ),
    "rds_instance_hour": lambda size, region: (
        "AmazonRDS",
        _filters(
            instanceType=size.split(":")[1],
            regionCode=region,
            databaseEngine=(
                "Aurora PostgreSQL" if size.startswith("aurora-postgresql") else "PostgreSQL"
            ),
            deploymentOption="Single-AZ",
        ),
    ),
    "elasticache_node_hour": lambda size, region: (
        "AmazonElastiCache",
        _filters(instanceType=size, regionCode=region, cacheEngine="Redis"),
    ),
    "opensearch_instance_hour": lambda size, region: (
        "AmazonES",
        _filters(instanceType=size, regionCode=region),
    ),
    "msk_broker_hour": lambda size, region: (
        "AmazonMSK",
        _filters(computeFamily=size, regionCode=region),
    ),
}
"""Table section -> (service code, filters) for one size in one region."""


def on_demand_hourly(price_list: Sequence[str]) -> float | None:
    """The hourly on-demand USD price in a GetProducts answer (None if it has none)."""
    for item in price_list:
        product = json.loads(item)
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                if dimension.get("unit") in ("Hrs", "Hours"):
                    usd = float(dimension["pricePerUnit"]["USD"])
                    if usd > 0:
                        return usd
    return None


def refresh(table: dict[str, Any], client: Any, *, today: date) -> list[str]:
    """Update `table` in place from `client` (a boto3 `pricing` client); the sizes not found."""
    missing = []
    for region, prices in table["regions"].items():
        for section, query in QUERIES.items():
            for size in prices.get(section, {}):
                service, filters = query(size, region)
                answer = client.get_products(ServiceCode=service, Filters=filters, MaxResults=10)
                usd = on_demand_hourly(answer.get("PriceList", []))
                if usd is None:
                    missing.append(f"{region} {section} {size}")
                else:
                    prices[section][size] = round(usd, 4)
    table["as_of"] = today.isoformat()
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--prices", type=Path, default=PRICES)
    args = parser.parse_args(argv)
    import boto3  # only here: nothing else in the project calls AWS

    table = json.loads(args.prices.read_text(encoding="utf-8"))
    missing = refresh(
        table, boto3.client("pricing", region_name=PRICING_REGION), today=date.today()
    )
    args.prices.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    for entry in missing:
        print(f"not found, kept: {entry}", file=sys.stderr)
    print(f"refreshed {args.prices} ({len(missing)} sizes not found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
