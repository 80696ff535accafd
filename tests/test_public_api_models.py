"""Public models: one error tree, JSON round trips, and a FigureSet that compares and prints usefully."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csp_monitor import (
    CspMonitorError,
    Decision,
    Figure,
    FiguresError,
    FigureSet,
    Problem,
    SendReport,
    evaluate_and_decide,
    load_config,
    load_figures,
    load_rules,
    open_store,
    send_once,
)
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT


def test_a_figure_with_a_bad_month_or_value_is_a_figures_error() -> None:
    """Figure(...) with a malformed period and a negative value raises one FiguresError with both problems."""
    with pytest.raises(FiguresError) as caught:
        Figure(area="Harborough", measure="burglary", period="2014-13", value=-1)
    assert isinstance(caught.value, CspMonitorError)
    assert [(problem.path, problem.message) for problem in caught.value.problems] == [
        (("period",), "'2014-13' is not a month: the month must be 01 to 12"),
        (("value",), "Input should be greater than or equal to 0"),
    ]
    assert str(caught.value).splitlines()[0] == "<figure>:period: '2014-13' is not a month: the month must be 01 to 12"


@pytest.mark.parametrize(("value", "message"), [
    (True, "the value True is not a number"),
    (1e300, "the value 1e+300 is too large: figures must be at most 1,000,000,000,000"),
    (10**13, "the value 1e+13 is too large: figures must be at most 1,000,000,000,000"),
])
def test_a_figure_built_in_python_gets_the_loaders_value_checks(value: object, message: str) -> None:
    """Regression: Figure(value=True) was 1.0 and Figure(value=1e300) was taken, where a figures file refuses
    both; the model now checks what the loader checks, so a council tool's figures meet the same bounds."""
    with pytest.raises(FiguresError) as caught:
        Figure(area="harborough", measure="burglary", period="2014-03", value=value)
    assert [(problem.path, problem.message) for problem in caught.value.problems] == [(("value",), message)]
    assert Figure(area="harborough", measure="burglary", period="2014-03", value=10**12).value == 1e12


def test_duplicate_figures_are_a_figures_error_listing_each() -> None:
    """FigureSet.from_figures reports every duplicate at its position, as a FiguresError."""
    one = Figure(area="harborough", measure="burglary", period="2014-03", value=1)
    other = Figure(area="harborough", measure="theft", period="2014-03", value=2)
    with pytest.raises(FiguresError) as caught:
        FigureSet.from_figures([one, other, one, other])
    assert [(problem.path, problem.message) for problem in caught.value.problems] == [
        ((2,), "harborough burglary 2014-03 is given twice: keep one"),
        ((3,), "harborough theft 2014-03 is given twice: keep one"),
    ]


def test_figure_sets_are_equal_by_value_and_not_hashable() -> None:
    """A loaded set equals the set rebuilt from its own figures; changing one value makes them differ."""
    loaded = load_figures(HARBOROUGH_FIGURES)
    figures = list(loaded)
    assert FigureSet.from_figures(figures) == loaded
    changed = [figures[0].model_copy(update={"value": figures[0].value + 1}), *figures[1:]]
    assert FigureSet.from_figures(changed) != loaded
    assert loaded != figures  # a list of figures is not a set
    with pytest.raises(TypeError):
        hash(loaded)


def test_figure_set_repr_says_what_it_holds() -> None:
    """repr(FigureSet) gives the count, areas, measures and months instead of an object address."""
    assert repr(load_figures(HARBOROUGH_FIGURES)) == (
        "<FigureSet: 240 figures, 1 area (harborough), 10 measures (asb-incidents, commercial-burglary, "
        "criminal-damage, +7 more), 2012-04 to 2014-03, 0 suspect>")
    assert repr(FigureSet()) == "<FigureSet: 0 figures, 0 areas (), 0 measures (), 0 suspect>"


def test_a_decision_round_trips_through_json_with_its_warnings(tmp_path: Path) -> None:
    """Decision.model_validate_json(decision.model_dump_json()) gives the same decision, warnings included."""
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    with open_store(tmp_path / "state.db") as store:
        decision = evaluate_and_decide(store, rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03",
                                       now=datetime(2014, 4, 10, 7, tzinfo=UTC))
    with_warning = decision.model_copy(update={"warnings": ("figures for 'x' are ignored",)})
    for original in (decision, with_warning):
        assert Decision.model_validate_json(original.model_dump_json()) == original
    assert json.loads(with_warning.model_dump_json())["warnings"] == ["figures for 'x' are ignored"]
    assert decision.notifications


def test_a_send_report_serialises_like_the_models(tmp_path: Path) -> None:
    """SendReport has model_dump(mode="json") and model_dump_json, and reads back equal (message bytes as base64)."""
    # Its own state store: the example's own (left by a demo run) has March's summary sent already.
    config = load_config(ROOT / "examples" / "harborough" / "csp-monitor.yaml").model_copy(
        update={"state": str(tmp_path / "state.db")})
    report = send_once(config, as_of="2014-03", dry_run=tmp_path / "preview")
    dumped = report.model_dump(mode="json")
    assert json.loads(json.dumps(dumped)) == dumped  # only JSON types
    assert dumped["as_of"] == "2014-03" and dumped["dry_run"] == str(tmp_path / "preview")
    assert len(dumped["queued"]) == len(report.queued) > 0
    assert SendReport.model_validate_json(report.model_dump_json()) == report
    assert SendReport.model_validate(dumped) == report


def test_a_problem_serialises_like_the_models() -> None:
    """Problem dumps to a dict of JSON types and reads back equal; an input error's problems dump the same way."""
    problem = Problem("unknown key 'tolerence'", file="rules.yaml", line=3, column=1, path=("tolerence",),
                      suggestion="'tolerance'")
    assert problem.model_dump(mode="json") == {
        "message": "unknown key 'tolerence'", "file": "rules.yaml", "line": 3, "column": 1, "path": ["tolerence"],
        "suggestion": "'tolerance'", "severity": "error"}
    assert Problem.model_validate_json(problem.model_dump_json()) == problem
    with pytest.raises(FiguresError) as caught:
        Figure(area="a", measure="m", period="March", value=1)
    assert [p.model_dump(mode="json")["path"] for p in caught.value.problems] == [["period"]]


def _mutable_parts(annotation: object) -> bool:
    import typing

    origin = typing.get_origin(annotation)
    if annotation in (list, dict, set) or origin in (list, dict, set):
        return True
    return any(_mutable_parts(argument) for argument in typing.get_args(annotation))


def test_every_exported_model_is_deeply_immutable() -> None:
    """Every public pydantic model is frozen and holds tuples and read-only mappings, never lists, dicts or sets."""
    import pydantic

    import csp_monitor

    checked = []
    for name in csp_monitor.__all__:
        model = getattr(csp_monitor, name)
        if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
            assert model.model_config.get("frozen"), name
            mutable = [field for field, info in model.model_fields.items() if _mutable_parts(info.annotation)]
            assert mutable == [], f"{name}: {mutable}"
            checked.append(name)
    assert {"RuleSet", "Evaluation", "Decision", "MonitorConfig", "PeerComparison"} <= set(checked)


def test_rules_cannot_be_changed_in_place() -> None:
    """A loaded rule set's lists are tuples and its recipients refuse changes; copies and pickles still work."""
    import copy
    import pickle

    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    assert isinstance(rules.priorities, tuple) and isinstance(rules.alerts[0].notify, tuple)
    with pytest.raises(TypeError, match="cannot be changed"):
        rules.recipients["board"] = ("someone@example.org",)  # type: ignore[index]
    with pytest.raises(TypeError):
        rules.recipients.update({"x": ("a@example.org",)})  # type: ignore[attr-defined]
    assert rules.recipients["board"] == ("csp-board@example.org", "analyst@example.org")
    assert copy.deepcopy(rules) == rules and pickle.loads(pickle.dumps(rules)) == rules
    assert json.loads(rules.model_dump_json())["recipients"] == {"board": ["csp-board@example.org",
                                                                           "analyst@example.org"]}


def test_loaded_and_built_figure_sets_refuse_changes() -> None:
    """load_figures and FigureSet.from_figures give frozen sets: add, revise, merge and mark_suspect raise TypeError."""
    loaded = load_figures(HARBOROUGH_FIGURES)
    built = FigureSet.from_figures([Figure(area="harborough", measure="burglary", period="2014-03", value=1)])
    before = list(loaded)
    for figures in (loaded, built):
        assert figures.frozen
        with pytest.raises(TypeError, match="cannot be changed"):
            figures.add("harborough", "burglary", 24170, 1.0)
        with pytest.raises(TypeError):
            figures.revise("harborough", "burglary", 24170, 2.0)
        with pytest.raises(TypeError):
            figures.merge(FigureSet())
        with pytest.raises(TypeError):
            figures.mark_suspect("harborough", "burglary", 24170, "why")
    assert list(loaded) == before
