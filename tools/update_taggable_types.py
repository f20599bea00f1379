"""Regenerate policies/platform/taggable_types.txt from cfn-lint's CloudFormation schemas.

    python -m tools.update_taggable_types

Run after upgrading cfn-lint; tests/test_platform_pack.py fails while the file is stale.
"""

from __future__ import annotations

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from policies.platform.cost_allocation_tags import TAGGABLE_TYPES_FILE

REGION = "us-east-1"


def taggable_types_from_schemas() -> list[str]:
    types = PROVIDER_SCHEMA_MANAGER.get_resource_types(REGION)
    return sorted(
        t
        for t in types
        if "Tags"
        in PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, t).schema.get("properties", {})
    )


if __name__ == "__main__":
    TAGGABLE_TYPES_FILE.write_text("\n".join(taggable_types_from_schemas()) + "\n")
    print(f"wrote {TAGGABLE_TYPES_FILE}")
