"""JSON Schemas for csp-monitor's YAML files, generated from the pydantic models.

Editors (VS Code with the YAML extension, JetBrains, Neovim through
yaml-language-server) read a schema named in a file's first line,
``# yaml-language-server: $schema=...``, to autocomplete keys and underline
typos as a lead types. They expect JSON Schema draft-07, while pydantic emits
draft 2020-12, so the generated schema is rewritten: ``$defs`` becomes
``definitions``, ``$ref`` siblings move under ``allOf`` (draft-07 ignores
them), ``prefixItems`` becomes an ``items`` list, and no 2020-only keyword
survives.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from csp_monitor.models.results import RESULTS_SCHEMA_VERSION, SPC_SERIES_FIELDS

__all__ = [
    "DRAFT_07",
    "SCHEMAS",
    "SchemaSpec",
    "available_schemas",
    "draft07",
    "schema_for",
    "schema_text",
    "write_schemas",
]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

_BASE_ID = "https://example.org/csp-monitor/schema/"

# Keywords of draft 2019-09 / 2020-12 that draft-07 does not know.
_LATER_KEYWORDS = frozenset({
    "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
    "$vocabulary", "prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedItems",
    "unevaluatedProperties", "minContains", "maxContains", "contentSchema",
})


@dataclass(frozen=True)
class SchemaSpec:
    """One schema: the file name it is written to, the model and what the files are."""

    name: str
    model: str
    title: str
    description: str
    mode: Literal["validation", "serialization"] = "validation"
    """validation for files people write; serialization for output csp-monitor writes (results)."""
    version: int | None = None
    """For output: the ``schema_version`` every document carries (bumped when a field is removed or changes)."""

    @property
    def file_name(self) -> str:
        """``rules.schema.json``."""
        return f"{self.name}.schema.json"

    def load_model(self) -> type[Any] | None:
        """The pydantic model, or None when its module is not part of this install yet."""
        module_name, attribute = self.model.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                return None
            raise
        model = getattr(module, attribute, None)
        return model if isinstance(model, type) else None


SCHEMAS: tuple[SchemaSpec, ...] = (
    SchemaSpec(
        "rules", "csp_monitor.models.rules:RuleFile", "csp-monitor rule file",
        "A Community Safety Partnership's priorities, measures, targets and tolerances "
        "(and alert rules and recipients)."),
    SchemaSpec(
        "rule-tests", "csp_monitor.authoring.rule_test_file:RuleTestFile", "csp-monitor rule test file",
        "Unit tests for rule files: figures, an as-of month and the expected results and alerts."),
    SchemaSpec(
        "config", "csp_monitor.models.config:MonitorConfig", "csp-monitor configuration",
        "The monitor's configuration: rule and figure sources, the state store, schedules and delivery."),
    SchemaSpec(
        "results", "csp_monitor.models.results:Evaluation", "csp-monitor evaluation results",
        "What `csp-monitor evaluate --format json` prints and `Evaluation.model_dump(mode=\"json\")` gives, "
        "with its schema_version.", mode="serialization", version=RESULTS_SCHEMA_VERSION),
)
"""Every schema csp-monitor publishes; a model that is not installed is skipped."""


def available_schemas() -> list[tuple[SchemaSpec, type[Any]]]:
    """The schemas whose models exist in this install, in publishing order."""
    found = []
    for spec in SCHEMAS:
        model = spec.load_model()
        if model is not None:
            found.append((spec, model))
    return found


def schema_for(spec: SchemaSpec, model: type[Any]) -> dict[str, Any]:
    """The draft-07 schema of one model, with a title, description and ``$id``."""
    raw = model.model_json_schema(mode=spec.mode, ref_template="#/definitions/{model}")
    schema = draft07(raw)
    if spec.version is not None:
        schema["properties"] = {"schema_version": {
            "const": spec.version, "type": "integer",
            "description": "The version of this schema: it changes when a field is removed, renamed or changes "
                           "meaning; new fields may appear without a change."}, **schema.get("properties", {})}
        schema["required"] = ["schema_version", *schema.get("required", [])]
    if spec.name == "results":
        _series_on_request(schema["definitions"]["SpcResult"])
    head = {
        "$schema": DRAFT_07,
        "$id": _BASE_ID + spec.file_name,
        "title": spec.title,
        "description": spec.description,
    }
    schema.pop("title", None)
    schema.pop("description", None)
    return {**head, **schema}


def _series_on_request(spc: dict[str, Any]) -> None:
    """An SPC chart's monthly series is written only with ``--include series``: not required, and said so."""
    spc["required"] = [name for name in spc.get("required", []) if name not in SPC_SERIES_FIELDS]
    for name in sorted(SPC_SERIES_FIELDS):
        field = spc["properties"][name]
        field["description"] = (f"{field.get('description', '').rstrip('.')}. In `evaluate --format json` only "
                                "with `--include series`.").lstrip(". ")


def draft07(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a pydantic (2020-12) schema so draft-07 validators and editors read it the same way."""
    result: dict[str, Any] = _convert(schema)
    if "$defs" in schema:
        result.pop("$defs", None)
        result["definitions"] = {name: _convert(value) for name, value in schema["$defs"].items()}
    leftover = sorted(set(_keywords(result)) & _LATER_KEYWORDS)
    if leftover:  # pragma: no cover - a model change that needs a new rewrite rule
        raise ValueError(f"the schema still uses keywords draft-07 does not know: {', '.join(leftover)}")
    return result


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key in {"properties", "definitions", "patternProperties"} and isinstance(value, dict):
            out[key] = {name: _convert(child) for name, child in value.items()}
        elif key == "prefixItems":
            out["items"] = _convert(value)
            if node.get("items") is False or "maxItems" in node:
                out["additionalItems"] = False
        elif key == "items" and "prefixItems" in node:
            if value is not False:
                out["additionalItems"] = _convert(value)
        elif key == "description" and isinstance(value, str):
            out[key] = value.replace("``", "`")
        else:
            out[key] = _convert(value)
    if "$ref" in out and len(out) > 1:
        # draft-07 ignores everything beside a $ref: keep the reference under allOf.
        reference = {"$ref": out.pop("$ref")}
        out = {"allOf": [reference], **out}
    return out


def _keywords(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _keywords(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in {"properties", "definitions", "patternProperties"} and isinstance(value, dict):
                for child in value.values():
                    yield from _keywords(child)
            else:
                yield key
                yield from _keywords(value)


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as stable, diff-friendly JSON text (ends with a newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every available schema into ``folder`` (each file atomically); return the paths."""
    from csp_monitor.files import write_text_atomically

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, model in available_schemas():
        path = target / spec.file_name
        write_text_atomically(path, schema_text(schema_for(spec, model)))
        written.append(path)
    return written
