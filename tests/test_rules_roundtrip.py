"""Round trips: any valid rule file, written out as YAML, reads back as the same model, and the schema accepts it.

The core tests round-trip targets and measures; these cover every key a rule
file can hold (owners, descriptions, units, sources, recipients and alerts,
whose ``for`` key is a Python keyword), dumped by alias as a person would write
them.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from pydantic import ValidationError

from csp_monitor.authoring.schema import available_schemas, schema_for
from csp_monitor.load.validation import validate_located
from csp_monitor.load.yaml_source import parse_yaml
from csp_monitor.models.rules import RuleFile

ids = st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
texts = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P", "S"], exclude_characters="\r\x85\u2028\u2029"),
                min_size=1, max_size=25).filter(lambda t: t.strip() != "")
emails = st.builds(lambda user, domain: f"{user}@{domain}.org", ids, ids)
numbers = st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2)))
TEMPLATES = ["{{ result.summary }}", "{{ result.name }} is {{ result.status }} in {{ area }}",
             "{{ alert.id }}: {{ kind }} for {{ period }}"]


@st.composite
def measures(draw: st.DrawFn, measure_id: str) -> dict[str, Any]:
    better = draw(st.sampled_from(["lower", "higher"]))
    unit = draw(st.sampled_from(["count", "percent", "rate", "number"]))
    measure: dict[str, Any] = {"id": measure_id, "name": draw(texts), "better": better, "unit": unit,
                               "aggregate": draw(st.sampled_from(["sum", "latest", "mean"]))}
    kind = draw(st.sampled_from([None, "change", "at_least", "at_most"]))
    if kind == "change":
        value = draw(st.floats(-99, 300, allow_nan=False).map(lambda v: round(v, 1)))
        measure["target"] = {"change": f"{value:+g}%"}
    elif kind is not None:
        measure["target"] = {kind: draw(numbers)}
    for key, strategy in (("tolerance", numbers), ("owner", emails), ("description", texts), ("source", ids),
                          ("sensitive", st.booleans())):
        if draw(st.booleans()):
            measure[key] = draw(strategy)
    return measure


@st.composite
def rule_files(draw: st.DrawFn) -> dict[str, Any]:
    measure_ids = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
    priority_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    priorities: list[dict[str, Any]] = [{"id": pid, "title": draw(texts), "measures": []} for pid in priority_ids]
    for measure_id in measure_ids:
        priorities[draw(st.integers(0, len(priorities) - 1))]["measures"].append(draw(measures(measure_id)))
    for priority in priorities:
        if draw(st.booleans()):
            priority["owner"] = draw(emails)
        if draw(st.booleans()):
            priority["tolerance"] = draw(numbers)
    data: dict[str, Any] = {"partnership": draw(texts), "priorities": priorities}
    if draw(st.booleans()):
        data["area"] = draw(ids)
    if draw(st.booleans()):
        data["year_starts"] = draw(st.sampled_from(["2013-04", "2020-01", "2024-10"]))
    if draw(st.booleans()):
        data["tolerance"] = draw(numbers)
    lists = draw(st.lists(ids, max_size=2, unique=True))
    data["recipients"] = {name: draw(st.lists(emails, min_size=1, max_size=2, unique=True)) for name in lists}
    alerts = []
    for alert_id in draw(st.lists(ids, max_size=2, unique=True)):
        alert: dict[str, Any] = {
            "id": alert_id,
            "when": {"status": draw(st.lists(st.sampled_from(["green", "amber", "red", "no_data"]), min_size=1,
                                             max_size=2, unique=True))},
            "notify": draw(st.lists(st.sampled_from(["owner", *lists]), min_size=1, unique=True)),
            "severity": draw(st.sampled_from(["low", "medium", "high"])),
            "for": draw(st.integers(1, 3)),
        }
        if draw(st.booleans()):
            alert["repeat"] = draw(st.integers(1, 6))
        if draw(st.booleans()):
            alert["message"] = draw(st.sampled_from(TEMPLATES))
        if draw(st.booleans()):
            alert["scope"] = {"measures": draw(st.lists(st.sampled_from(measure_ids), min_size=1, unique=True))}
        alerts.append(alert)
    data["alerts"] = alerts
    return data


def valid_model(data: dict[str, Any]) -> RuleFile:
    """The model of generated data, skipping the few combinations the rules rightly refuse."""
    try:
        return RuleFile.model_validate(data)
    except ValidationError:
        assume(False)
        raise  # pragma: no cover


def written(model: RuleFile) -> str:
    """The model as a person would write it: keys by their YAML names, nothing left empty."""
    return yaml.safe_dump(model.model_dump(mode="json", exclude_none=True, by_alias=True), sort_keys=False,
                          allow_unicode=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_files())
def test_rule_file_model_yaml_model_is_the_same_model(data: dict[str, Any]) -> None:
    """RuleFile -> YAML -> the loader gives back an equal RuleFile, alerts and recipients included."""
    model = valid_model(data)
    text = written(model)
    again, problems = validate_located(RuleFile, parse_yaml(text, "rules.yaml"))
    assert problems == []
    assert again == model


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    """A draft-07 validator for the rules schema."""
    spec, model = next((spec, model) for spec, model in available_schemas() if spec.name == "rules")
    return Draft7Validator(schema_for(spec, model))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rule_files())
def test_the_schema_accepts_every_valid_rule_file(validator: Draft7Validator, data: dict[str, Any]) -> None:
    """Whatever the models accept, written as YAML and read as an editor types it, the schema accepts too."""
    text = written(valid_model(data))
    assert [error.message for error in validator.iter_errors(yaml.safe_load(text))] == []
