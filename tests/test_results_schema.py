"""The results schema: versioned, shipped, and what `evaluate --format json` prints conforms to it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from jsonschema import Draft7Validator

from csp_monitor import evaluate, load_figures, load_rules
from csp_monitor.models.results import RESULTS_SCHEMA_VERSION
from csp_monitor.render.table import _SERIES_FIELDS
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT, CliResult

COMMITTED = ROOT / "docs" / "schema" / "results.schema.json"


def test_schema_results_prints_a_versioned_draft_07_schema(cli: Callable[..., CliResult]) -> None:
    """`csp-monitor schema results` prints the committed schema, whose schema_version is a required constant."""
    result = cli("schema", "results")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == json.loads(COMMITTED.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == RESULTS_SCHEMA_VERSION
    assert "schema_version" in schema["required"] and schema["additionalProperties"] is False


@pytest.mark.parametrize("include", [(), ("--include", "series")])
def test_evaluate_json_carries_the_version_and_conforms(cli: Callable[..., CliResult], include: tuple[str, ...]) -> None:
    """evaluate --format json starts with schema_version and validates against the results schema, series or not."""
    result = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
                 "--format", "json", *include)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert next(iter(document)) == "schema_version" and document["schema_version"] == RESULTS_SCHEMA_VERSION
    errors = list(Draft7Validator(json.loads(COMMITTED.read_text(encoding="utf-8"))).iter_errors(document))
    assert errors == []
    evaluation = evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    assert {key: value for key, value in document.items() if key != "schema_version"} == \
        evaluation.model_dump(mode="json", exclude=None if include else _SERIES_FIELDS)


def test_the_schema_refuses_a_document_of_another_version() -> None:
    """A results document with another schema_version (or none) does not validate: readers can tell."""
    evaluation = evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    validator = Draft7Validator(json.loads(COMMITTED.read_text(encoding="utf-8")))
    document = evaluation.model_dump(mode="json")
    assert not validator.is_valid(document)
    assert validator.is_valid({"schema_version": RESULTS_SCHEMA_VERSION, **document})
    assert not validator.is_valid({"schema_version": RESULTS_SCHEMA_VERSION + 1, **document})
