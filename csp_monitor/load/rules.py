"""Load rule files into a :class:`RuleSet`, reporting every mistake at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from csp_monitor.arguments import check_paths
from csp_monitor.errors import ArgumentError, Problem, RulesError, shown_value
from csp_monitor.files import read_regular
from csp_monitor.load.alert_rules import check_alert_rules
from csp_monitor.load.rule_slips import rule_slips
from csp_monitor.load.validation import repeated_ids, validate_located
from csp_monitor.load.yaml_source import (
    MAX_YAML_BYTES,
    Located,
    Positions,
    YamlProblems,
    parse_yaml,
    read_yaml_file,
)
from csp_monitor.models.rules import RuleFile, RuleSet

__all__ = ["LoadedRuleFile", "load_rule_files", "load_rules", "rules_from_data", "rules_from_text", "rules_from_texts"]

_SET_LEVEL = ("partnership", "area", "area_name", "year_starts", "tolerance", "statistics")


@dataclass(frozen=True)
class LoadedRuleFile:
    """One validated rule file with the positions of its keys (for later checks)."""

    name: str
    model: RuleFile
    source: Located
    raw: bytes
    warnings: tuple[Problem, ...] = ()
    """Slips that load but may not say what was meant (a fraction as a change, an outdented key), located."""


def load_rule_files(paths: Iterable[str | Path]) -> list[LoadedRuleFile]:
    """Read and validate each file; raise :class:`RulesError` with every problem."""
    loaded: list[LoadedRuleFile] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for path in paths:
        name = str(path)
        try:
            located = read_yaml_file(path)
            raw = read_regular(path, MAX_YAML_BYTES)  # (for the rules' hash: the same file, read once more)
        except YamlProblems as exc:
            problems.extend(exc.problems)
            if exc.mended is not None:  # the syntax slips mended: say what else is wrong, in the same run
                try:
                    mended_raw = read_regular(path, MAX_YAML_BYTES)
                except OSError:
                    continue
                _validate(name, exc.mended, mended_raw, problems, warnings)
            continue
        except OSError as exc:  # changed since it was parsed
            problems.append(Problem(f"cannot be read: {exc.strerror or exc}", file=name))
            continue
        file = _validate(name, located, raw, problems, warnings)
        if file is not None:
            loaded.append(file)
    if problems:
        raise RulesError([*problems, *warnings])  # the warnings too: every slip is shown in one run
    return loaded


def _validate(name: str, located: Located, raw: bytes, problems: list[Problem],
              warnings: list[Problem]) -> LoadedRuleFile | None:
    found_warnings = list(located.warnings)
    if isinstance(located.data, dict):
        found_warnings.extend(rule_slips(located, raw.decode("utf-8-sig", errors="replace")))
    found_warnings.sort(key=Problem.sort_key)
    warnings.extend(found_warnings)
    if located.data is None:
        problems.append(Problem(
            "this rule file is empty: start it with 'partnership:' and 'priorities:' (csp-monitor rules new "
            "writes a commented example)", file=name, line=1, column=1))
        return None
    if not isinstance(located.data, dict):
        line, column = located.positions.values.get((), (1, 1))
        problems.append(Problem(
            "a rule file must be a mapping of keys such as partnership: and priorities:, not a list or a value",
            file=name, line=line, column=column))
        return None
    if "tests" in located.data and "rules" in located.data:
        line, column = located.positions.keys[("tests",)]
        problems.append(Problem(
            "this is a rule test file (it has rules: and tests:), not a rule file: run it with "
            "'csp-monitor rules test'", file=name, line=line, column=column))
        return None
    model, found = validate_located(RuleFile, located)
    problems.extend(found)
    if model is None:
        # combine() checks ids only in files that validate: say about repeated ids now, in the same run.
        problems.extend(_repeated_ids(located))
        return None
    return LoadedRuleFile(name=name, model=model, source=located, raw=raw, warnings=tuple(found_warnings))


def rules_from_text(text: str, name: str = "<rules>") -> RuleSet:
    """Parse and combine one rule file given as text (for tests and other tools)."""
    if not isinstance(text, str):
        raise ArgumentError(f"text must be the rule file's text (a str), not {type(text).__name__}", argument="text")
    if not isinstance(name, str):
        raise ArgumentError(f"name must be a str, not {type(name).__name__}", argument="name")
    problems: list[Problem] = []
    warnings: list[Problem] = []
    try:
        located = parse_yaml(text, name)
    except YamlProblems as exc:
        if exc.mended is not None:
            _validate(name, exc.mended, text.encode("utf-8"), problems, warnings)
        raise RulesError([*exc.problems, *problems, *warnings]) from None
    file = _validate(name, located, text.encode("utf-8"), problems, warnings)
    if problems or file is None:
        raise RulesError([*problems, *warnings])
    return combine([file])


def rules_from_texts(texts: Mapping[str, str]) -> RuleSet:
    """Parse and combine several rule files given as ``{name: text}`` (rules, alerts, shared defaults).

    Exactly what :func:`load_rules` does with files of those names and contents:
    the same checks, every problem at once, located as ``name:line:col``.
    """
    if isinstance(texts, str) or not isinstance(texts, Mapping):
        raise ArgumentError("texts must be a mapping of file name to rule text, e.g. {'rules.yaml': text}",
                            argument="texts")
    if not texts:
        raise RulesError([Problem("no rule texts were given")])
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files: list[LoadedRuleFile] = []
    for name, text in texts.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise ArgumentError(f"texts: {name!r} must name a rule text (str), not {type(text).__name__}",
                                argument="texts")
        try:
            located = parse_yaml(text, name)
        except YamlProblems as exc:
            problems.extend(exc.problems)
            if exc.mended is not None:  # as load_rules: what else is wrong, in the same run
                _validate(name, exc.mended, text.encode("utf-8"), problems, warnings)
            continue
        file = _validate(name, located, text.encode("utf-8"), problems, warnings)
        if file is not None:
            files.append(file)
    if problems:
        raise RulesError([*problems, *warnings])
    return combine(files)


def rules_from_data(data: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, source: str = "<rules>") -> RuleSet:
    """Build a :class:`RuleSet` from Python data shaped like a rule file (or a list of them).

    The data gets exactly the checks a rule file gets (``RuleSet.model_validate``
    skips them: ids, sign of change targets, alert rules, conflicts between
    files): numbers, booleans and dates are read as a rule file's text would be,
    and every problem is reported at once, located by ``source`` and its key
    path, e.g. ``<rules>: priorities[0].measures[1].better: ...``. Several
    mappings combine as several files would; they are named ``source[0]``,
    ``source[1]``...
    """
    if not isinstance(source, str):
        raise ArgumentError(f"source must be a name (a str), not {type(source).__name__}", argument="source")
    source = shown_value(source, most=200)
    if isinstance(data, Mapping):
        parts: list[tuple[str, Any]] = [(source, data)]
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        parts = [(f"{source}[{index}]", item) for index, item in enumerate(data)]
    else:
        raise ArgumentError(f"data must be a mapping shaped like a rule file (or a list of them), not "
                            f"{type(data).__name__}", argument="data")
    if not parts:
        raise RulesError([Problem("no rule data was given", file=source)])
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files: list[LoadedRuleFile] = []
    for name, item in parts:
        plain = as_read(item, (), name, problems)
        raw = json.dumps(plain, sort_keys=True, ensure_ascii=False).encode("utf-8")
        file = _validate(name, Located(plain, Positions(file=name)), raw, problems, warnings)
        if file is not None:
            files.append(file)
    if problems:
        raise RulesError([*problems, *warnings])
    return combine(files)


def as_read(value: Any, path: tuple[str | int, ...], name: str, problems: list[Problem], *,
            what: str = "a rule file") -> Any:
    """``value`` as the strict YAML reader gives a file's contents: every scalar but null as text (Python data
    then gets exactly a file's checks); anything else is a problem at its key path."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): as_read(item, (*path, str(key)), name, problems, what=what) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [as_read(item, (*path, index), name, problems, what=what) for index, item in enumerate(value)]
    problems.append(Problem(f"{what} cannot hold a {type(value).__name__} ({shown_value(repr(value))}): give text, "
                            "a number, true/false, a list or a mapping", file=name, path=path))
    return None


def load_rules(paths: str | Path | Sequence[str | Path]) -> RuleSet:
    """Load one or more rule files into one :class:`RuleSet`.

    Set-level settings (partnership, area, area_name, year_starts, tolerance, statistics) may be given
    in any of the files, but not differently in two of them; priorities and
    measures are collected from every file and their ids must be unique.
    """
    paths = check_paths(paths)
    if not paths:
        raise RulesError([Problem("no rule files were given")])
    return combine(load_rule_files(paths))


def combine(files: Sequence[LoadedRuleFile]) -> RuleSet:
    """Combine validated rule files, reporting conflicts and duplicate ids."""
    problems: list[Problem] = []
    settings: dict[str, tuple[Any, LoadedRuleFile]] = {}
    for file in files:
        for key in _SET_LEVEL:
            value = getattr(file.model, key)
            if value is None:
                continue
            if key in settings and settings[key][0] != value:
                first_value, first_file = settings[key]
                line, _ = first_file.source.positions.locate((key,), key=True)
                problems.append(file.source.positions.problem(
                    (key,),
                    f"'{key}' is {_show(value)} here but {_show(first_value)} in {first_file.name} "
                    f"(line {line}): the files of one rule set must agree, so give it once",
                    key=True))
            else:
                settings.setdefault(key, (value, file))
    seen_priorities: dict[str, tuple[LoadedRuleFile, int]] = {}
    seen_measures: dict[str, tuple[LoadedRuleFile, tuple[Any, ...]]] = {}
    for file in files:
        for p_index, priority in enumerate(file.model.priorities):
            where = ("priorities", p_index, "id")
            if priority.id in seen_priorities:
                other, other_index = seen_priorities[priority.id]
                line, _ = other.source.positions.locate(("priorities", other_index, "id"))
                problems.append(file.source.positions.problem(
                    where, f"the priority id '{priority.id}' is already used {_at(other, file, line)}: "
                    "ids must be unique"))
            else:
                seen_priorities[priority.id] = (file, p_index)
            for m_index, measure in enumerate(priority.measures):
                m_where = ("priorities", p_index, "measures", m_index, "id")
                if measure.id in seen_measures:
                    other, other_where = seen_measures[measure.id]
                    line, _ = other.source.positions.locate(other_where)
                    problems.append(file.source.positions.problem(
                        m_where, f"the measure id '{measure.id}' is already used {_at(other, file, line)}: "
                        "ids must be unique"))
                else:
                    seen_measures[measure.id] = (file, m_where)
    problems.extend(_duplicate_alert_names(files))
    if "area_name" in settings and "area" not in settings:
        file = settings["area_name"][1]
        problems.append(file.source.positions.problem(
            ("area_name",), "'area_name' names the area the rules are for, but no file gives 'area': add "
            "'area:' with the area's id as the figures write it, or name peer areas under peers: names:",
            key=True))
    if "partnership" not in settings and files:
        problems.append(Problem(
            "no file names the partnership: add a line such as 'partnership: Harborough District Community "
            "Safety Partnership'", file=files[0].name, line=1, column=1))
    if problems:
        raise RulesError([*problems, *(warning for file in files for warning in file.warnings)])
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.raw)
        digest.update(b"\x00")
    rule_set = RuleSet(
        partnership=settings["partnership"][0],
        area=settings.get("area", (None,))[0],
        area_name=settings.get("area_name", (None,))[0],
        year_starts=settings.get("year_starts", (None,))[0],
        tolerance=settings.get("tolerance", (None,))[0],
        statistics=settings.get("statistics", (None,))[0],
        priorities=[priority for file in files for priority in file.model.priorities],
        recipients={name: emails for file in files for name, emails in file.model.recipients.items()},
        alerts=[alert for file in files for alert in file.model.alerts],
        files=tuple(file.name for file in files),
        warnings=tuple(str(warning) for file in files for warning in file.warnings),
        content_hash=digest.hexdigest(),
    )
    rule_set._places = _places(files)  # the loader is where positions are known
    problems.extend(check_alert_rules(rule_set, files))
    if problems:
        raise RulesError([*problems, *(warning for file in files for warning in file.warnings)])
    return rule_set


def _places(files: Sequence[LoadedRuleFile]) -> dict[str, tuple[str, int | None, int | None, tuple[str | int, ...]]]:
    """Where the files set the area, and where their first measure is (else their priorities, else line 1)."""
    places: dict[str, tuple[str, int | None, int | None, tuple[str | int, ...]]] = {}
    for file in files:
        if file.model.area is not None:
            line, column = file.source.positions.locate(("area",))
            places["area"] = (file.name, line, column, ("area",))
            break
    for file in files:
        for p_index, priority in enumerate(file.model.priorities):
            for m_index, measure in enumerate(priority.measures):
                path: tuple[str | int, ...] = ("priorities", p_index, "measures", m_index,
                                               "source" if measure.source is not None else "id")
                line, column = file.source.positions.locate(path)
                places["measures"] = (file.name, line, column, path)
                return places
    for file in files:
        if ("priorities",) in file.source.positions.keys:
            line, column = file.source.positions.locate(("priorities",), key=True)
            places["measures"] = (file.name, line, column, ("priorities",))
            return places
    if files:
        located = files[0].source.positions.values or files[0].source.positions.keys
        places["measures"] = (files[0].name, 1 if located else None, 1 if located else None, ())
    return places


def _repeated_ids(located: Located) -> list[Problem]:
    """Priority, measure and alert ids used twice in one file's raw data (one that did not validate)."""
    data = located.data if isinstance(located.data, dict) else {}
    found = data.get("priorities")
    priorities: list[Any] = found if isinstance(found, list) else []
    measures = [(("priorities", index, "measures"), item.get("measures")) for index, item in enumerate(priorities)
                if isinstance(item, dict)]
    return [*repeated_ids(located, "priority", [(("priorities",), priorities)]),
            *repeated_ids(located, "measure", measures),
            *repeated_ids(located, "alert", [(("alerts",), data.get("alerts"))])]


def _duplicate_alert_names(files: Sequence[LoadedRuleFile]) -> list[Problem]:
    """Alert ids and recipients list names used twice, within or across files."""
    problems: list[Problem] = []
    seen_lists: dict[str, LoadedRuleFile] = {}
    seen_alerts: dict[str, tuple[LoadedRuleFile, int]] = {}
    for file in files:
        for name in file.model.recipients:
            if name in seen_lists:
                other = seen_lists[name]
                line, _ = other.source.positions.locate(("recipients", name), key=True)
                problems.append(file.source.positions.problem(
                    ("recipients", name), f"the recipients list '{name}' is already defined in {other.name} at "
                    f"line {line}: names must be unique", key=True))
            else:
                seen_lists[name] = file
        for index, alert in enumerate(file.model.alerts):
            if alert.id in seen_alerts:
                other, other_index = seen_alerts[alert.id]
                line, _ = other.source.positions.locate(("alerts", other_index, "id"))
                problems.append(file.source.positions.problem(
                    ("alerts", index, "id"), f"the alert id '{alert.id}' is already used in {other.name} at "
                    f"line {line}: ids must be unique"))
            else:
                seen_alerts[alert.id] = (file, index)
    return problems


def _at(other: LoadedRuleFile, file: LoadedRuleFile, line: int | None) -> str:
    """``at line 12`` in the same file, ``in a.yaml at line 12`` in another."""
    return f"at line {line}" if other.name == file.name else f"in {other.name} at line {line}"


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"'{value}'" if isinstance(value, str) else str(value)
