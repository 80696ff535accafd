"""The public API under hostile arguments, shared stores and attempts to change its results.

Wrong kinds and hostile values are CspMonitorErrors with short plain messages and leave the store as it was;
a StateStore may be shared by threads; every container reachable from a result refuses changes; every
public result reads back equal from its own JSON.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor import (
    ArgumentError,
    CspMonitorError,
    Decision,
    Evaluation,
    Figure,
    FigureSet,
    HistoryEntry,
    MessagePlan,
    MonitorConfig,
    Problem,
    RuleSet,
    SendReport,
    config_from_data,
    evaluate,
    evaluate_and_decide,
    import_police_uk,
    load_config,
    load_figures,
    load_rules,
    open_store,
    plan_messages,
    render_report,
    rules_from_data,
    rules_from_text,
    rules_from_texts,
    send_once,
)
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT

NOW = datetime(2014, 4, 10, 7, tzinfo=UTC)
HUGE = "x" * 10_000_000
RULES = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
FIGURES = load_figures(HARBOROUGH_FIGURES)
EVALUATION = evaluate(RULES, FIGURES, as_of="2014-03")
CONFIG = load_config(ROOT / "examples" / "harborough" / "csp-monitor.yaml")

STORE = open_store(Path(tempfile.mkdtemp()) / "state.db")
LATER = datetime(2014, 5, 1, tzinfo=UTC)
CITY_OF_LONDON = ROOT / "tests" / "data" / "police-uk" / "city-of-london-street-excerpt-2017-01_2017-06.zip"

CALLS: dict[str, Callable[[Any], object]] = {
    "load_rules": load_rules,
    "load_figures": load_figures,
    "load_config": load_config,
    "import_police_uk": import_police_uk,
    "open_store": open_store,
    "rules_from_text": rules_from_text,
    "rules_from_texts": rules_from_texts,
    "rules_from_data": rules_from_data,
    "config_from_data(data)": lambda value: config_from_data(value, base=ROOT),
    "config_from_data(base)": lambda value: config_from_data({}, base=value),
    "evaluate(rules)": lambda value: evaluate(value, FIGURES, as_of="2014-03"),
    "evaluate(figures)": lambda value: evaluate(RULES, value, as_of="2014-03"),
    "evaluate(as_of)": lambda value: evaluate(RULES, FIGURES, as_of=value),
    "evaluate(areas)": lambda value: evaluate(RULES, FIGURES, as_of="2014-03", areas=value),
    "evaluate_and_decide(store)": lambda value: evaluate_and_decide(value, RULES, FIGURES, now=NOW),
    "render_report(evaluation)": lambda value: render_report(RULES, FIGURES, value, charts=False),
    "plan_messages(config)": lambda value: plan_messages(value, as_of="2014-03", now=NOW),
    "send_once(config)": lambda value: send_once(value, as_of="2014-03", now=NOW),
    "send_once(figures)": lambda value: send_once(CONFIG, as_of="2014-03", now=NOW, figures=value,
                                                  dry_run=Path(tempfile.mkdtemp()) / "preview"),
    "FigureSet.from_figures": FigureSet.from_figures,
    "rules_from_data(source)": lambda value: rules_from_data({}, source=value),
    "import_police_uk(lookup)": lambda value: import_police_uk(CITY_OF_LONDON, lookup=value),
    "import_police_uk(out)": lambda value: import_police_uk(CITY_OF_LONDON, area_by="force", out=value),
    "import_police_uk(area_by)": lambda value: import_police_uk(CITY_OF_LONDON, area_by=value),
    "StateStore.history(limit)": lambda value: STORE.history(limit=value),
    "StateStore.notifications(period)": lambda value: STORE.notifications(period=value),
    "StateStore.silences(now)": lambda value: STORE.silences(now=value),
    "StateStore.add_silence(until)": lambda value: STORE.add_silence(until=value, author="a", reason="r", now=NOW,
                                                                     alert="off-target"),
    "StateStore.add_silence(now)": lambda value: STORE.add_silence(until=LATER, author="a", reason="r", now=value,
                                                                   alert="off-target"),
    "StateStore.add_silence(author)": lambda value: STORE.add_silence(until=LATER, author=value, reason="r",
                                                                      now=NOW, alert="off-target"),
    "StateStore.add_silence(alert)": lambda value: STORE.add_silence(until=LATER, author="a", reason="r", now=NOW,
                                                                     alert=value),
    "StateStore.expire_silence(silence_id)": lambda value: STORE.expire_silence(value, by="a", now=NOW),
    "Figure(period)": lambda value: Figure(area="harborough", measure="burglary", period=value, value=1),
    "Figure(value)": lambda value: Figure(area="harborough", measure="burglary", period="2014-03", value=value),
}

HOSTILE: dict[str, object] = {
    "None": None, "a float month": 2014.03, "NaN": float("nan"), "bytes": b"rules.yaml",
    "a folder": Path("/"), "a naive datetime": datetime(2014, 4, 10), "an int": 7, "a set": {"harborough"},
}


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_wrong_kind_or_hostile_value_is_a_csp_monitor_error(call: Callable[[Any], object], value: object) -> None:
    """Every public call given None, a float, NaN, bytes, a folder, a naive datetime... fails as a CspMonitorError."""
    try:
        call(value)
    except CspMonitorError as error:
        assert str(error) and "Traceback" not in str(error)
    # Some are values the call may take (a folder of figures, a date as as_of); what matters is no other error.


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_ten_megabyte_string_gives_a_short_message(call: Callable[[Any], object]) -> None:
    """A 10 MB string is refused with a message that quotes a few characters of it, not all ten million."""
    with pytest.raises(CspMonitorError) as caught:
        call(HUGE)
    assert len(str(caught.value)) < 1000, str(caught.value)[:300]


def test_wrong_kinds_are_named_with_where_the_right_one_comes_from(tmp_path: Path) -> None:
    """Regression: a str for rules, a list for figures, a path for the store were AttributeErrors deep inside."""
    with pytest.raises(ArgumentError, match=r"rules must be a RuleSet \(from load_rules or rules_from_data\)"):
        evaluate("rules/harborough-2013-14.yaml", FIGURES)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="figures must be a FigureSet"):
        evaluate(RULES, [Figure(area="a", measure="m", period="2014-03", value=1)])  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"store must be a StateStore \(from open_store\)"):
        evaluate_and_decide(tmp_path / "state.db", RULES, FIGURES, now=NOW)  # type: ignore[arg-type]
    assert not (tmp_path / "state.db").exists()
    with pytest.raises(ArgumentError, match=r"text must be the rule file's text \(a str\), not PosixPath"):
        rules_from_text(HARBOROUGH_RULES)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="figures must be a list"):
        FigureSet.from_figures("harborough,burglary,2014-03,1")  # type: ignore[arg-type]


def test_generators_are_read_once_and_work(tmp_path: Path) -> None:
    """Paths, areas and figures given as generators are each read once, as lists would be."""
    def paths() -> Iterator[Path]:
        yield from (HARBOROUGH_RULES, HARBOROUGH_ALERTS)

    assert load_rules(paths()) == RULES
    areas = (name for name in ["Harborough"])
    assert evaluate(RULES, FIGURES, as_of="2014-03", areas=areas) == EVALUATION
    assert FigureSet.from_figures(figure for figure in FIGURES) == FIGURES


def test_a_refused_call_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    """A naive now, a bad month or rules of the wrong kind change nothing in the store: no evaluation, no history."""
    with open_store(tmp_path / "state.db") as store:
        for arguments in ({"now": datetime(2014, 4, 10), "as_of": "2014-03"},
                          {"now": NOW, "as_of": "2014-13"}, {"now": NOW, "as_of": 2014.03}):
            with pytest.raises(ArgumentError):
                evaluate_and_decide(store, RULES, FIGURES, **arguments)
        with pytest.raises(ArgumentError):
            evaluate_and_decide(store, "rules.yaml", FIGURES, now=NOW)  # type: ignore[arg-type]
        for bad in ({"until": datetime(2014, 5, 1)}, {"until": "2014-05-01"}, {"author": None}):
            with pytest.raises(ArgumentError):
                store.add_silence(**{"until": LATER, "author": "a", "reason": "r", "now": NOW, "alert": "x", **bad})
        assert store.evaluation_count() == 0 and store.history(limit=None) == []
        assert store.silences(now=NOW, include_ended=True) == []


def test_threads_sharing_one_store_notify_once(tmp_path: Path) -> None:
    """Four threads deciding the same month on one StateStore: each call is one transaction, one notifies."""
    counts: list[int] = []
    errors: list[BaseException] = []
    with open_store(tmp_path / "state.db") as store:
        def decide() -> None:
            try:
                for _ in range(3):
                    counts.append(len(evaluate_and_decide(store, RULES, FIGURES, as_of="2014-03",
                                                          now=NOW).notifications))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=decide) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(counts)[:-1] == [0] * 11 and counts and max(counts) > 0
        assert len(store.notifications()) == max(counts)
        assert store.evaluation_count() == 12 * len(EVALUATION.results)  # one row per result per call


def _mutable_containers(value: object, path: str, found: list[str], seen: set[int]) -> None:
    """Every list, dict, set or changeable mapping or model reachable from ``value``."""
    if id(value) in seen or isinstance(value, str | bytes | int | float | bool | datetime | Path | type(None)):
        return
    seen.add(id(value))
    if isinstance(value, pydantic.BaseModel):
        with pytest.raises((pydantic.ValidationError, AttributeError, TypeError)):
            setattr(value, next(iter(type(value).model_fields)), None)
        for name in type(value).model_fields:
            _mutable_containers(getattr(value, name), f"{path}.{name}", found, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
            setattr(value, dataclasses.fields(value)[0].name, None)
        for field in dataclasses.fields(value):
            _mutable_containers(getattr(value, field.name), f"{path}.{field.name}", found, seen)
    elif isinstance(value, tuple | frozenset):
        for index, item in enumerate(value):
            _mutable_containers(item, f"{path}[{index}]", found, seen)
    elif isinstance(value, list | set | bytearray):
        found.append(f"{path}: {type(value).__name__}")
    elif hasattr(value, "items"):
        try:
            value["changed"] = 1  # type: ignore[index]
            found.append(f"{path}: {type(value).__name__} can be changed")
        except TypeError:
            pass
        for key, item in value.items():
            _mutable_containers(item, f"{path}[{key!r}]", found, seen)


def _results(tmp_path: Path) -> dict[str, object]:
    with open_store(tmp_path / "state.db") as store:
        decision = evaluate_and_decide(store, RULES, FIGURES, as_of="2014-03", now=NOW)
        store.add_silence(until=datetime(2014, 5, 1, tzinfo=UTC), author="analyst", reason="known", now=NOW,
                          alert="slipping")
        history = tuple(store.history(limit=None))
    config = CONFIG.model_copy(update={"state": str(tmp_path / "preview.db")})
    return {"evaluation": EVALUATION, "decision": decision, "history": history, "rules": RULES, "config": config,
            "plan": plan_messages(config, as_of="2014-03", now=NOW),
            "report": send_once(config, as_of="2014-03", now=NOW, dry_run=tmp_path / "preview")}


def test_nothing_reachable_from_a_result_can_be_changed(tmp_path: Path) -> None:
    """Regression: history entries without deliveries held a plain dict, and FigureSet.series() let a frozen set change."""
    found: list[str] = []
    for name, result in _results(tmp_path).items():
        _mutable_containers(result, name, found, set())
    assert found == []
    series = FIGURES.series("harborough", "domestic-burglary")
    with pytest.raises(TypeError):
        series[24170] = 0.0  # type: ignore[index]
    assert HistoryEntry(at=NOW, event="changed", alert="a", area="b", measure="c", detail="d").delivery == {}
    with pytest.raises(TypeError):
        HistoryEntry(at=NOW, event="changed", alert="a", area="b", measure="c", detail="d").delivery["x"] = "y"  # type: ignore[index]


def test_every_public_result_reads_back_equal_from_its_json(tmp_path: Path) -> None:
    """Regression: RuleSet and MonitorConfig read back from their own JSON were unequal (their file positions)."""
    results = _results(tmp_path)
    kinds: dict[str, type[Any]] = {"evaluation": Evaluation, "decision": Decision, "rules": RuleSet,
                                   "config": MonitorConfig, "plan": MessagePlan, "report": SendReport}
    for name, kind in kinds.items():
        result = results[name]
        assert kind.model_validate_json(result.model_dump_json()) == result, name  # type: ignore[attr-defined]
        assert kind.model_validate(result.model_dump(mode="json")) == result, name  # type: ignore[attr-defined]
    for entry in results["history"]:  # type: ignore[attr-defined]
        assert HistoryEntry.model_validate_json(entry.model_dump_json()) == entry
    for result in EVALUATION.results:
        assert type(result).model_validate_json(result.model_dump_json()) == result


_TEXT = st.text(st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=60, deadline=None)
@given(message=_TEXT, file=_TEXT, line=st.none() | st.integers(1, 10**6), column=st.none() | st.integers(1, 999),
       path=st.lists(_TEXT | st.integers(0, 99), max_size=4).map(tuple), suggestion=st.none() | _TEXT)
def test_problems_read_back_equal_from_their_json(message: str, file: str, line: int | None, column: int | None,
                                                   path: tuple[str | int, ...], suggestion: str | None) -> None:
    """Any Problem survives model_dump_json -> model_validate_json unchanged."""
    problem = Problem(message, file=file, line=line, column=column, path=path, suggestion=suggestion)
    assert Problem.model_validate_json(problem.model_dump_json()) == problem


@settings(max_examples=60, deadline=None)
@given(figures=st.lists(st.tuples(st.sampled_from(["harborough", "blaby"]), st.sampled_from(["burglary", "theft"]),
                                  st.integers(2010 * 12, 2030 * 12),
                                  st.floats(0, 1e9, allow_nan=False, allow_infinity=False)),
                        max_size=30, unique_by=lambda row: row[:3]))
def test_figure_sets_built_from_figures_equal_their_rebuilt_copy(figures: list[tuple[str, str, int, float]]) -> None:
    """FigureSet.from_figures of a set's own figures is equal to it, and each Figure reads back from its JSON."""
    built = FigureSet.from_figures(
        Figure(area=area, measure=measure, period=f"{month // 12:04d}-{month % 12 + 1:02d}", value=value)
        for area, measure, month, value in figures)
    assert FigureSet.from_figures(built) == built
    for figure in built:
        assert Figure.model_validate_json(figure.model_dump_json()) == figure
