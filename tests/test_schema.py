"""JSON Schemas: draft-07, generated from the models, accepting what leads write and refusing typos."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError

from csp_monitor.authoring.schema import DRAFT_07, available_schemas, schema_for, schema_text
from tests.conftest import HARBOROUGH_RULES, ROOT, CliResult

SCHEMA_FOLDER = ROOT / "docs" / "schema"
LATER_KEYWORDS = {"$defs", "prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
                  "unevaluatedItems", "$anchor", "$dynamicRef", "$dynamicAnchor", "minContains", "maxContains"}


def generated(name: str) -> dict[str, Any]:
    for spec, model in available_schemas():
        if spec.name == name:
            return schema_for(spec, model)
    raise AssertionError(f"no schema {name}")


@pytest.fixture(scope="module")
def rules_validator() -> Draft7Validator:
    """A draft-07 validator for the rules schema."""
    return Draft7Validator(generated("rules"))


def errors(validator: Draft7Validator, text: str) -> list[str]:
    return [error.message for error in validator.iter_errors(yaml.safe_load(text))]


def messages(found: list[ValidationError]) -> Iterator[str]:
    """Every message, including those of the branches of an anyOf."""
    for error in found:
        yield error.message
        yield from messages(list(error.context or []))


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for owner_name, owner in [("(file)", schema), *schema.get("definitions", {}).items()]:
        for name, prop in owner.get("properties", {}).items():
            yield f"{owner_name}.{name}", prop


@pytest.mark.parametrize("name", [spec.name for spec, _ in available_schemas()])
def test_every_schema_is_valid_draft_07(name: str) -> None:
    """Each schema declares draft-07, passes the draft-07 meta-schema and uses no later keyword."""
    schema = generated(name)
    assert schema["$schema"] == DRAFT_07
    Draft7Validator.check_schema(schema)
    used = {key for key, _ in walk(schema)}
    assert not used & LATER_KEYWORDS
    for key, value in walk(schema):
        if key == "$ref":
            assert value.startswith("#/definitions/")
            assert value.removeprefix("#/definitions/") in schema["definitions"]


@pytest.mark.parametrize("name", [spec.name for spec, _ in available_schemas() if spec.mode == "validation"])
def test_every_field_has_a_description_and_examples(name: str) -> None:
    """Every key a lead can write shows a description and an example in the editor."""
    missing = [where for where, prop in properties(generated(name))
               if not prop.get("description") or not prop.get("examples")]
    assert missing == []


@pytest.mark.parametrize("name", [spec.name for spec, _ in available_schemas()])
def test_no_description_is_hidden_beside_a_ref(name: str) -> None:
    """draft-07 ignores keys beside $ref, so a described reference is wrapped in allOf."""
    for key, value in walk(generated(name)):
        if isinstance(value, dict) and "$ref" in value:
            assert set(value) == {"$ref"}, key


def test_committed_schemas_are_up_to_date() -> None:
    """docs/schema/ holds exactly what the models generate (run `csp-monitor schema --write docs/schema`)."""
    expected = {spec.file_name: schema_text(schema_for(spec, model)) for spec, model in available_schemas()}
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_FOLDER.glob("*.schema.json")}
    assert sorted(committed) == sorted(expected)
    for name, text in expected.items():
        assert committed[name] == text, f"{name} is stale: run csp-monitor schema --write docs/schema"


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_files_match_their_modeline_schema(path: Path) -> None:
    """Every shipped YAML file names a schema that exists, and the file (typed YAML) validates against it."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if path.name.endswith(".test.yaml"):
        assert first == "# yaml-language-server: $schema=../docs/schema/rule-tests.schema.json"
    else:
        assert first == "# yaml-language-server: $schema=../docs/schema/rules.schema.json"
    schema_path = (path.parent / first.split("$schema=")[1]).resolve()
    validator = Draft7Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    assert [error.message for error in validator.iter_errors(yaml.safe_load(path.read_text()))] == []


@pytest.mark.parametrize("snippet", [
    "tolerance: 5",
    "tolerance: 2.5",
    "tolerance: '5%'",
    "year_starts: 2013-04",
    "year_starts: 2014-4",
    "area: harborough",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, target: {change: -13%}}]}]",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, target: {change: '-13'}}]}]",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, target: {change: -13}}]}]",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: higher, target: {at_least: 85}}]}]",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: higher, target: {at_least: 85%}}]}]",
    "priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, sensitive: true, unit: rate}]}]",
    "priorities: [{id: p, title: P, owner: 'Jo Bloggs <jo@example.org>', measures: []}]",
    "recipients: {board: [csp-board@example.org]}",
    "alerts: [{id: off-target, when: {status: red}, notify: [owner]}]",
    "alerts: [{id: rising, when: {change_pct: {above: 20}}, for: 2, repeat: 3, notify: [owner]}]",
])
def test_schema_accepts_what_leads_write(rules_validator: Draft7Validator, snippet: str) -> None:
    """Numbers, '-13%' text, YYYY-MM months and booleans are accepted as editors type them."""
    assert errors(rules_validator, snippet) == []


@pytest.mark.parametrize(("snippet", "message"), [
    ("prioritys: []", "Additional properties are not allowed ('prioritys' was unexpected)"),
    ("tolerence: 5", "Additional properties are not allowed ('tolerence' was unexpected)"),
    ("priorities: [{id: p, title: P, measures: [{id: m, name: M, beter: lower}]}]",
     "Additional properties are not allowed ('beter' was unexpected)"),
    ("priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, target: {chnage: -13%}}]}]",
     "Additional properties are not allowed ('chnage' was unexpected)"),
    ("priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lower, target: {change: -13%, at_most: 5}}]}]",
     "{'change': '-13%', 'at_most': 5} has too many properties"),
    ("priorities: [{id: p, title: P, measures: [{id: m, name: M, better: lowr}]}]",
     "'lowr' is not one of ['lower', 'higher']"),
    ("priorities: [{id: Domestic Burglary, title: P}]",
     "'Domestic Burglary' does not match '^[a-z0-9]+(?:-[a-z0-9]+)*$'"),
    ("tolerance: -1", "-1 is less than the minimum of 0"),
    ("year_starts: April", "'April' does not match '^\\\\s*\\\\d{4}-\\\\d{1,2}\\\\s*$'"),
    ("priorities: [{id: p, title: P, measures: [{id: m, name: M}]}]", "'better' is a required property"),
    ("alerts: [{id: a, when: {status: red}, notfy: [owner]}]",
     "Additional properties are not allowed ('notfy' was unexpected)"),
])
def test_schema_rejects_misspelt_keys_and_values(rules_validator: Draft7Validator, snippet: str,
                                                 message: str) -> None:
    """A misspelt key, an unknown value or a second target kind is underlined by the editor."""
    found = list(rules_validator.iter_errors(yaml.safe_load(snippet)))
    assert found
    assert message in list(messages(found))


def test_rule_test_schema_accepts_the_issue_minimum() -> None:
    """The rule-test schema accepts the minimal rule test of the issue, typed as an editor reads it."""
    text = (ROOT / "rules" / "harborough-2013-14.test.yaml").read_text()
    assert list(Draft7Validator(generated("rule-tests")).iter_errors(yaml.safe_load(text))) == []


def test_schema_command_prints_the_rules_schema(cli: Callable[..., CliResult]) -> None:
    """`csp-monitor schema` prints the rules schema as JSON."""
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == generated("rules")


def test_schema_command_writes_every_schema(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """`csp-monitor schema --write DIR` writes each schema file and names it."""
    result = cli("schema", "--write", tmp_path / "schema")
    assert result.exit_code == 0
    names = sorted(path.name for path in (tmp_path / "schema").iterdir())
    assert names == sorted(spec.file_name for spec, _ in available_schemas())
    assert result.stdout.count("wrote ") == len(names)


def test_schema_command_refuses_an_unknown_name(cli: Callable[..., CliResult]) -> None:
    """An unknown schema name is a usage error listing the names there are."""
    result = cli("schema", "rulez")
    assert result.exit_code == 2
    assert "'rulez' is not a schema: choose from rules" in result.stderr


def test_harborough_rules_validate_with_the_schema_file() -> None:
    """The committed rules schema accepts the Harborough rule file read as typed YAML."""
    schema = json.loads((SCHEMA_FOLDER / "rules.schema.json").read_text())
    assert list(Draft7Validator(schema).iter_errors(yaml.safe_load(HARBOROUGH_RULES.read_text()))) == []


def test_the_example_configuration_matches_the_config_schema() -> None:
    """The Harborough configuration names the config schema in its first line and validates against it."""
    path = ROOT / "examples" / "harborough" / "csp-monitor.yaml"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../docs/schema/config.schema.json"
    schema = json.loads((path.parent / first.split("$schema=")[1]).read_text(encoding="utf-8"))
    assert list(Draft7Validator(schema).iter_errors(yaml.safe_load(path.read_text()))) == []


@pytest.mark.parametrize("snippet", [
    "rules: rules.yaml\nfigures: figures.csv\nstate: csp-monitor.db",
    "rules: [a.yaml, b.yaml]\nfigures: [figures/*.csv]\nstate: csp-monitor.db\nsummary: {to: board}",
    "rules: a.yaml\nfigures: f.csv\nstate: s.db\ndelivery: {retry: {first_delay: 30}}",
])
def test_config_schema_accepts_one_value_or_a_list(snippet: str) -> None:
    """Keys that take a list also take a single value in the config schema, as the loader does."""
    validator = Draft7Validator(generated("config"))
    assert [e.message for e in validator.iter_errors(yaml.safe_load(snippet))] == []
