"""make config-docs: the configuration reference and the JSON Schema come from the model's
docstrings, are committed current, and the schema accepts the sample and refuses what the
model refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config import ConfigError, parse_config
from tests.conftest import ROOT, SAMPLE_CONFIG
from tests.test_config import broken
from tools import config_docs


@pytest.fixture(scope="module")
def generated() -> dict[Any, str]:
    return config_docs.generated()


@pytest.mark.parametrize("relative", [config_docs.REFERENCE, config_docs.SCHEMA], ids=str)
def test_the_committed_file_is_what_the_model_generates(generated, relative):
    committed = (ROOT / relative).read_text(encoding="utf-8")
    assert committed == generated[relative], f"{relative} is stale: run make config-docs"


def test_the_sample_file_points_editors_at_the_schema():
    first_line = SAMPLE_CONFIG.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=./platform.schema.json"
    assert (SAMPLE_CONFIG.parent / "platform.schema.json").is_file()


def test_the_reference_says_which_role_and_engine_has_which_key(generated):
    reference = generated[config_docs.REFERENCE]
    assert "| key | management | security | shared-services | dev, staging, prod, sandbox |" in (
        reference
    )
    assert "| `log_archive` | — | optional | — | — |" in reference
    assert "| `network` | — | — | required | required |" in reference
    assert "| `multi_az` | — | — | optional |" in reference
    assert "## `accounts.<name>.data.postgres`\n\nOnly in **dev, staging, prod and sandbox**" in (
        reference
    )


def test_every_section_and_key_is_documented():
    """The generator refuses a model or a key without a docstring (the reference would have
    an empty row), so every one in config/model.py has one."""
    for section in config_docs.sections():
        for key in section.rows():
            for holder in key.holders:
                assert config_docs._field_docstring(holder, key.name)


class _Undocumented:
    size: int


def test_an_undocumented_key_stops_the_generator():
    with pytest.raises(ValueError, match=r"_Undocumented\.size has no docstring"):
        config_docs._field_docstring(_Undocumented, "size")  # type: ignore[arg-type]


# --- the schema -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip(
        "jsonschema",
        reason="jsonschema is not installed (cfn-lint 1.x no longer brings it): add it to the "
        "dev dependencies",
    )
    schema = json.loads((ROOT / config_docs.SCHEMA).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_sample_config_matches_the_schema(validator, sample_raw):
    assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(sample_raw)] == []


@pytest.mark.parametrize(
    ("edits", "where", "words"),
    [
        (
            [("accounts.management.network", {"cidr": "10.99.0.0/16"})],
            "$.accounts.management",
            "'network' was unexpected",
        ),
        ([("accounts.dev.role", "qa")], "$.accounts.dev.role", "'qa' is not one of"),
        (
            [("accounts.shared-services.network", ...)],
            "$.accounts['shared-services']",
            "'network' is a required property",
        ),
        (
            [("accounts.sandbox.data.postgres.readers", 1)],
            "$.accounts.sandbox.data.postgres",
            "'readers' was unexpected",
        ),
        (
            [("accounts.dev.data.postgres.version", 16.6)],
            "$.accounts.dev.data.postgres.version",
            "16.6 is not of type 'string'",
        ),
        (
            [("accounts.dev.cluster.system_nodes.min_size", 0)],
            "$.accounts.dev.cluster.system_nodes.min_size",
            "less than the minimum of 1",
        ),
        (
            [("accounts.dev.network.flow_logs_retention_days", 45)],
            "$.accounts.dev.network.flow_logs_retention_days",
            "45 is not one of",
        ),
        (
            [("pipeline.waves.0.aproval", True)],
            "$.pipeline.waves[0]",
            "'aproval' was unexpected",
        ),
    ],
)
def test_the_schema_refuses_a_broken_document_where_it_is_broken(
    validator, sample_raw, edits, where, words
):
    from jsonschema.exceptions import best_match

    document = broken(sample_raw, *edits)
    error = best_match(validator.iter_errors(document))
    assert error is not None, "the schema accepted a document the model refuses"
    assert (error.json_path, words in error.message) == (where, True), error.message
    with pytest.raises(ConfigError):
        parse_config(document)
