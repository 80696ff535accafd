"""JSON figures files are read as JSON: tabs allowed, tens of megabytes accepted, mistakes placed exactly."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor.errors import FiguresError
from csp_monitor.load.figures import figures_from_entries, load_figures
from csp_monitor.load.yaml_source import Located, Positions, parse_yaml
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult
from tests.security.limits import run_limited


def _harborough_entries() -> list[dict[str, object]]:
    with HARBOROUGH_FIGURES.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [{"area": row["area"], "measure": row["measure"], "period": row["period"],
                 "value": float(row["value"])} for row in rows if row["value"]]


def _national(count: int) -> list[dict[str, object]]:
    """``count`` single-month entries for other areas (250 areas x 20 measures from April 2000)."""
    entries: list[dict[str, object]] = []
    month = 0
    while len(entries) < count:
        period = f"{2000 + (3 + month) // 12}-{(3 + month) % 12 + 1:02d}"
        for area in range(250):
            for measure in range(20):
                entries.append({"area": f"area-{area}", "measure": f"measure-{measure}", "period": period,
                                "value": (area * 7 + measure * 13 + month) % 500})
        month += 1
    return entries[:count]


def test_forty_five_thousand_tab_indented_figures_load(tmp_path: Path) -> None:
    """A tab-indented JSON file of 45,000 figures loads whole (the YAML reader refused it before)."""
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({"figures": _national(45_000)}, indent="\t"), encoding="utf-8")
    figures = load_figures(path)
    assert len(figures) == 45_000
    assert figures.series("area-3", "measure-4")[2000 * 12 + 3] == float((3 * 7 + 4 * 13) % 500)


def test_an_eighteen_megabyte_json_file_is_evaluated_within_the_limits(
        tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """A 20 MB JSON figures file (225,000 figures) is evaluated under 300 MB, as the same figures in CSV are."""
    path = tmp_path / "national.json"
    path.write_text(json.dumps(_harborough_entries() + _national(224_760), indent="\t"), encoding="utf-8")
    assert path.stat().st_size > 18_000_000
    result = run_limited("evaluate", HARBOROUGH_RULES, "--figures", path, "--as-of", "2014-03", "--format", "csv",
                         cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    expected = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
                   "--format", "csv")
    assert result.stdout == expected.stdout


def _problems(path: Path) -> list[str]:
    with pytest.raises(FiguresError) as caught:
        load_figures(path)
    return [str(problem) for problem in caught.value.problems]


def test_a_mistake_deep_in_a_large_file_is_placed_at_its_line_and_column(tmp_path: Path) -> None:
    """A negative value in entry 30,000 of a tab-indented file is reported at that value's line and column."""
    entries = _national(40_000)
    entries[30_000]["value"] = -4
    path = tmp_path / "figures.json"
    text = json.dumps(entries, indent="\t")
    path.write_text(text, encoding="utf-8")
    brace = text.rfind("{", 0, text.index('"value": -4'))
    line = text.count("\n", 0, brace) + 1
    column = brace - text.rfind("\n", 0, brace)
    # A bad value is reported at its entry's opening brace, as the YAML reader did.
    assert _problems(path) == [
        f"{path}:{line}:{column}: the value -4 is negative: figures are counts, rates or percentages"]
    assert line > 180_000


def test_a_key_given_twice_in_json_is_refused_at_the_second(tmp_path: Path) -> None:
    """A JSON entry giving 'value' twice is refused at the second, not silently given the last."""
    path = tmp_path / "figures.json"
    path.write_text('[\n\t{"area": "h", "measure": "m", "period": "2014-03",\n\t "value": 1, "value": 2}\n]\n',
                    encoding="utf-8")
    assert _problems(path) == [
        f"{path}:3:15: 'value' is given twice in the same place (first at line 3, column 3): remove one of them"]


@pytest.mark.parametrize("word", ["NaN", "Infinity", "true", "1e400"])
def test_json_words_and_overflowing_numbers_are_not_figures(tmp_path: Path, word: str) -> None:
    """NaN, Infinity, true and 1e400 in a run of values are refused as not numbers."""
    path = tmp_path / "figures.json"
    path.write_text(f'[{{"area": "h", "measure": "m", "from": "2014-01", "values": [1, {word}]}}]',
                    encoding="utf-8")
    found = _problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}:1:2: the value '") and "is not a number" in found[0]


def test_a_two_megabyte_yaml_flow_list_is_refused_within_the_limits(tmp_path: Path) -> None:
    """A 2 MB rule file of one flow list ([1,1,...]) is refused at its 25,001st entry, not composed whole."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("[" + "1," * 1_000_000 + "]\n", encoding="utf-8")
    result = run_limited("rules", "check", rules, cwd=tmp_path)
    # The list itself is the first node; its 25,000th item (at column 50,000) is the 25,001st.
    result.assert_refused(r"^rules\.yaml:1:50000: this file has more than 25,000 entries")


_NAMES = st.sampled_from(["harborough", "Harborough", "blaby", "Oadby & Wigston", "  ", "total-crime"])
_MONTHS = st.sampled_from(["2013-04", "2013-12", "2014-03", "2014-13", "April 2013"])
_VALUES = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6), st.none(), st.sampled_from([-1, True, 2**1100]))
_ENTRIES = st.lists(st.one_of(
    st.fixed_dictionaries({"area": _NAMES, "measure": _NAMES, "period": _MONTHS, "value": _VALUES}),
    st.fixed_dictionaries({"area": _NAMES, "measure": _NAMES, "from": _MONTHS,
                           "values": st.lists(_VALUES, max_size=14)})), max_size=12)


@settings(max_examples=300, deadline=None)
@given(entries=_ENTRIES)
def test_json_numbers_give_the_same_figures_and_verdict_as_the_same_file_read_as_text(entries: list[Any]) -> None:
    """Entries read as JSON (plain ones checked directly) load exactly as the models read the same entries as text."""
    text = json.dumps(entries)
    direct = figures_from_entries(Located(json.loads(text), Positions("f.json")))
    # The YAML reader gives every scalar as text, so every entry goes through the models.
    modelled = figures_from_entries(parse_yaml(text, "f.json"))
    assert bool(direct[1]) == bool(modelled[1])
    if not direct[1]:
        assert {(f.area, f.measure, f.period, f.value) for f in direct[0]} == {
            (f.area, f.measure, f.period, f.value) for f in modelled[0]}


def test_a_blank_measure_in_json_is_refused_at_its_key(tmp_path: Path) -> None:
    """A measure of spaces (no name once slugged) is refused at its value, not loaded to crash later."""
    path = tmp_path / "figures.json"
    path.write_text('[\n  {"area": "h", "measure": "  ", "period": "2014-03", "value": 1}\n]\n', encoding="utf-8")
    assert _problems(path) == [f"{path}:2:28: the measure is empty"]
