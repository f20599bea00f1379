"""Every stack's resources by logical id and type, recorded for the sample organisation.

CloudFormation identifies a resource by its logical id: a changed id (or type) deletes the old
resource and creates a new one: a new database, a new cluster, an empty bucket. This test holds
the synthesized organisation to the committed record (`tests/__snapshots__/`), so that a
refactor, an upgrade of aws-cdk-lib or a renamed construct cannot replace a resource silently.

Changing the record is a deliberate, reviewed act: `make snapshot` rewrites it, and the diff of
`tests/__snapshots__/test_logical_ids/` in the pull request shows every resource that
appears, disappears or changes type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import Organisation

RECORD = (
    Path(__file__).parent
    / "__snapshots__"
    / "test_logical_ids"
    / "test_no_recorded_resource_is_replaced_or_deleted.json"
)


def resource_record(organisation: Organisation) -> dict[str, dict[str, str]]:
    """`stage/stack` -> logical id -> resource type, for every stack of the assembly."""
    record: dict[str, dict[str, str]] = {}
    for stack in organisation.all_stacks():
        key = f"{stack.stage}/{stack.id}" if stack.stage else stack.id
        record[key] = {
            logical_id: resource["Type"] for logical_id, resource in sorted(stack.resources.items())
        }
    return dict(sorted(record.items()))


def replaced(recorded: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    """Recorded resources that are gone or have another type now: each would be replaced or
    deleted by the next deploy."""
    problems = []
    for stack, resources in recorded.items():
        current = now.get(stack)
        if current is None:
            count = f"{len(resources)} resource{'s' if len(resources) != 1 else ''}"
            problems.append(f"{stack}: the whole stack is gone ({count})")
            continue
        for logical_id, resource_type in resources.items():
            if logical_id not in current:
                problems.append(f"{stack}/{logical_id} ({resource_type}) is gone")
            elif current[logical_id] != resource_type:
                problems.append(
                    f"{stack}/{logical_id} changed type {resource_type} -> {current[logical_id]}"
                )
    return problems


@pytest.fixture
def snapshot_json(snapshot: Any) -> Any:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_no_recorded_resource_is_replaced_or_deleted(
    organisation, snapshot_json, pytestconfig
) -> None:
    """The sample organisation keeps every recorded resource under its logical id and type,
    and records every new one (`make snapshot` rewrites the record after review)."""
    now = resource_record(organisation)
    if RECORD.exists() and not pytestconfig.getoption("--snapshot-update"):
        problems = replaced(json.loads(RECORD.read_text()), now)
        assert not problems, (
            "the next deploy would replace or delete these recorded resources:\n  "
            + "\n  ".join(problems)
            + "\nIf that is intended (sandbox, or no data to lose), run `make snapshot` and say "
            "why in the commit."
        )
    assert now == snapshot_json


def test_the_check_names_a_renamed_and_a_retyped_resource() -> None:
    recorded = {
        "dev/Data": {"PostgresCluster1A2B": "AWS::RDS::DBCluster", "Key9": "AWS::KMS::Key"},
        "prod/Edge": {"Cdn": "AWS::CloudFront::Distribution"},
    }
    now = {"dev/Data": {"PostgresClusterRenamed": "AWS::RDS::DBCluster", "Key9": "AWS::KMS::Alias"}}
    assert replaced(recorded, now) == [
        "dev/Data/PostgresCluster1A2B (AWS::RDS::DBCluster) is gone",
        "dev/Data/Key9 changed type AWS::KMS::Key -> AWS::KMS::Alias",
        "prod/Edge: the whole stack is gone (1 resource)",
    ]
