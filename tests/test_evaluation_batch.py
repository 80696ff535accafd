"""The engine's fast path (csp_monitor.evaluation.batch) judges exactly as the per-series reference path does."""

from __future__ import annotations

import random

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from csp_monitor import FigureSet, evaluate, rules_from_text
from csp_monitor.evaluation.coverage import nothing_to_judge
from csp_monitor.evaluation.engine import _suspects, evaluate_measure
from csp_monitor.evaluation.statistics import peer_comparisons
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet
from csp_monitor.periods import format_month, parse_month
from csp_monitor.statistics import (
    PeerComparison,
    PeerSettings,
    Projection,
    Significance,
    SpcSettings,
    analyse_spc_columns,
    compare_group,
    project_year_end,
    significance_of_change,
)
from csp_monitor.statistics.spc import analyse_spc_prevalidated

AREAS = ["north", "south", "east", "west"]
FIRST = 2012 * 12  # January 2012


def _reference(rules: RuleSet, figures: FigureSet, evaluation: Evaluation) -> list[MeasureResult]:
    """Every result as evaluate_measure gives it, one series at a time (the engine before the fast path)."""
    month, year_start = parse_month(evaluation.as_of), parse_month(evaluation.year_start)
    statistics = {measure.id: rules.statistics_for(measure) for _, measure in rules.measures()}
    areas = sorted({result.area for result in evaluation.results})
    peers = peer_comparisons(rules, figures, statistics, areas, month, year_start)
    return [
        evaluate_measure(rules, priority, measure, area, figures.series(area, measure.figures_measure), month,
                         year_start, suspects=_suspects(figures, area, measure.figures_measure),
                         statistics=statistics[measure.id], peers=peers.get((area, measure.id)))
        for area in areas for priority, measure in rules.measures()
    ]


def _assert_same(fast: tuple[MeasureResult, ...], reference: list[MeasureResult]) -> None:
    assert len(fast) == len(reference)
    for got, want in zip(fast, reference, strict=True):
        assert got == want
        assert got.model_dump_json() == want.model_dump_json()
        assert got.model_fields_set == want.model_fields_set
        for name in ("significance", "projection", "spc", "target"):
            part, expected = getattr(got, name), getattr(want, name)
            assert (part is None) == (expected is None)
            if part is not None:
                assert part.model_fields_set == expected.model_fields_set
                assert part.model_dump_json() == expected.model_dump_json()


@st.composite
def rule_sets(draw: st.DrawFn) -> dict[str, object]:
    measures = []
    for number in range(draw(st.integers(1, 4))):
        measure: dict[str, object] = {
            "id": f"m{number}",
            "name": f"Measure {number}",
            "better": draw(st.sampled_from(["lower", "higher"])),
            "aggregate": draw(st.sampled_from(["sum", "sum", "mean", "latest"])),
            "unit": draw(st.sampled_from(["count", "count", "percent", "rate", "number"])),
        }
        kind = draw(st.sampled_from(["change", "at_least", "at_most", None]))
        if kind == "change":
            # A signed change (+5%, -5%): the rules refuse an unsigned rise on a lower-is-better measure.
            measure["target"] = {"change": f"{draw(st.integers(-30, 30)):+d}%"}
        elif kind is not None:
            measure["target"] = {kind: draw(st.integers(0, 100))}  # percent targets stop at 100
        if draw(st.booleans()):
            measure["tolerance"] = draw(st.integers(0, 10))
        if draw(st.booleans()):
            measure["statistics"] = {"significance": draw(st.booleans()), "projection": draw(st.booleans()),
                                     "spc": {"enabled": draw(st.booleans())}}
        if draw(st.integers(0, 3)) == 0:
            measure["owner"] = f"lead{number}@example.org"
        if draw(st.integers(0, 3)) == 0:
            measure["sensitive"] = True
        if number and draw(st.integers(0, 3)) == 0:
            measure["source"] = "m0"  # read another measure's figures
        measures.append(measure)
    spc: dict[str, object] = {"screen_outliers": draw(st.booleans())}
    if draw(st.booleans()):
        spc["baseline_points"] = draw(st.integers(12, 18))  # rule files fix limits on 12 months or more
    if draw(st.booleans()):
        spc["trend_points"] = draw(st.integers(3, 8))
        spc["shift_points"] = draw(st.integers(2, 8))
    if draw(st.integers(0, 4)) == 0:
        spc["rebase_at"] = [draw(st.sampled_from(["2013-01", "2013-07", "2014-02"]))]
    statistics: dict[str, object] = {"confidence": draw(st.sampled_from(["90%", "95%", "99%"])), "spc": spc}
    if draw(st.booleans()):
        statistics["peers"] = {"method": draw(st.sampled_from(["sd", "funnel"])),
                               "populations": {area: 50_000 + 10_000 * i for i, area in enumerate(AREAS)},
                               "groups": {"all": AREAS[: draw(st.integers(2, 4))]}}
    # Two priorities when there are measures enough: the second with its own owner and tolerance.
    split = draw(st.integers(1, len(measures)))
    priorities: list[dict[str, object]] = [{"id": "first", "title": "First", "measures": measures[:split]}]
    if measures[split:]:
        priorities.append({"id": "second", "title": "Second", "owner": "second@example.org",
                           "tolerance": draw(st.integers(0, 8)), "measures": measures[split:]})
    rules: dict[str, object] = {"partnership": "Property", "tolerance": draw(st.sampled_from([None, 2, 5])),
                                "statistics": statistics, "priorities": priorities}
    if draw(st.integers(0, 4)) == 0:
        rules["area"] = draw(st.sampled_from(AREAS))  # rules for one area only
    return rules


def _value(rnd: random.Random) -> float:
    kind = rnd.randrange(4)
    if kind == 0:
        return rnd.uniform(0, 1000)  # a rate or a percentage: not a whole number
    if kind == 1:
        return rnd.randint(0, 5)  # added as an int, as the API allows: the reference path takes these
    return float(rnd.randint(0, 400))  # a count, as the loaders give it


def _figures(measure_ids: list[str], rnd: random.Random) -> FigureSet:
    figures = FigureSet()
    for area in AREAS[: rnd.randint(1, 4)]:
        for measure in measure_ids:
            months = rnd.randint(0, 36)
            gaps = {rnd.randrange(36) for _ in range(rnd.randint(0, 4))} if rnd.random() < 0.5 else set()
            ints = rnd.random() < 0.1
            for offset in range(months):
                if offset not in gaps:
                    value = _value(rnd)
                    figures.add(area, measure, FIRST + offset, value if ints or type(value) is float else float(value))
            if months and rnd.random() < 0.15:
                figures.mark_suspect(area, measure, FIRST + rnd.randrange(months), "a data fault")
    return figures


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_the_fast_path_gives_the_reference_results(data: st.DataObject) -> None:
    """On random rules and figures every result equals, field for field and in JSON, the per-series path's."""
    rules = rules_from_text(yaml.safe_dump(data.draw(rule_sets()), sort_keys=False))
    figures = _figures([measure.id for _, measure in rules.measures()], data.draw(st.randoms(use_true_random=False)))
    latest = figures.latest_month()
    if latest is None:
        return
    # Rules for an area the figures do not have are refused before judging (nothing to judge).
    assume(nothing_to_judge(rules, figures, [rules.area] if rules.area else []) is None)
    as_of = data.draw(st.integers(FIRST, latest))
    evaluation = evaluate(rules, figures, as_of=format_month(as_of))
    _assert_same(evaluation.results, _reference(rules, figures, evaluation))


def test_the_national_benchmark_set_gives_the_reference_results() -> None:
    """A national-shaped run (every statistic on, whole-number floats as a CSV gives) matches the reference."""
    lines = ["partnership: National", "tolerance: 5", "statistics:", "  confidence: 95%",
             "  spc: {baseline_points: 12, screen_outliers: true}", "  peers:", "    method: sd",
             "    populations: {" + ", ".join(f"a{i}: {50_000 + 997 * i}" for i in range(12)) + "}",
             "    groups: {g1: [a0, a1, a2, a3, a4, a5], g2: [a6, a7, a8, a9, a10, a11]}",
             "priorities:", "  - id: all", "    title: All", "    measures:"]
    for m in range(6):
        target = "{change: -5%}" if m % 2 == 0 else "{at_most: 500}"
        lines += [f"    - id: measure-{m}", f"      name: Measure {m}", "      better: lower", f"      target: {target}"]
    rules = rules_from_text("\n".join(lines) + "\n")
    figures = FigureSet()
    state = 2014
    for area in range(12):
        for m in range(6):
            for offset in range(40):
                state = (state * 1103515245 + 12345) % 2**31  # a fixed pseudo-random walk, no hidden seed
                figures.add(f"a{area}", f"measure-{m}", FIRST + offset, float(state % (50 + 40 * m)))
    evaluation = evaluate(rules, figures)
    reference = _reference(rules, figures, evaluation)
    assert {result.spc is not None and result.significance is not None for result in reference} == {True}
    _assert_same(evaluation.results, reference)


def test_the_fast_chart_refuses_a_rebase() -> None:
    """analyse_spc_prevalidated draws one group only: asked to rebase, it says so rather than ignore it."""
    with pytest.raises(ValueError, match="rebase"):
        analyse_spc_prevalidated(("2014-01", "2014-02", "2014-03"), (1.0, 2.0, 3.0),
                                 settings=SpcSettings(rebase_at=(1,)), better="lower", target=None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=0, max_size=30),
       st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), st.sampled_from([None, "lower", "higher"]),
       st.builds(SpcSettings, baseline_points=st.one_of(st.none(), st.integers(2, 12)),
                 screen_outliers=st.booleans(), trend_points=st.integers(3, 8), shift_points=st.integers(2, 8),
                 minimum_points=st.integers(2, 4), lowest=st.sampled_from([None, 0.0])))
def test_the_fast_chart_equals_the_checked_chart(numbers: list[float], target: float | None, better: str | None,
                                                 chart: SpcSettings) -> None:
    """analyse_spc_prevalidated gives what analyse_spc_columns gives for the same good series."""
    labels = tuple(f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(len(numbers)))
    fast = analyse_spc_prevalidated(labels, tuple(numbers), settings=chart, better=better,  # type: ignore[arg-type]
                                    target=target)
    checked = analyse_spc_columns(labels, numbers, settings=chart, better=better, target=target)  # type: ignore[arg-type]
    assert fast == checked
    if checked is not None:
        assert fast is not None
        assert fast.model_dump_json() == checked.model_dump_json()
        assert fast.model_fields_set == checked.model_fields_set
        assert fast.groups[0].model_fields_set == checked.groups[0].model_fields_set


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e7, allow_nan=False) | st.integers(0, 10**6), st.integers(1, 12),
       st.none() | st.floats(0, 1e7, allow_nan=False), st.none() | st.floats(0, 1e7, allow_nan=False))
def test_a_projection_is_the_model_validation_would_make(current: float, months: int, baseline: float | None,
                                                        full_year: float | None) -> None:
    """project_year_end's unvalidated result equals, in JSON and fields set, the validated model of its fields."""
    projected = project_year_end(current, months, baseline=baseline, baseline_full_year=full_year)
    validated = Projection(**projected.__dict__)
    assert projected == validated
    assert projected.model_dump_json() == validated.model_dump_json()
    assert projected.model_fields_set == validated.model_fields_set


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(AREAS), st.tuples(st.floats(0, 1e5, allow_nan=False) | st.integers(0, 10**5),
                                                          st.floats(1, 1e6, allow_nan=False) | st.integers(1, 10**6)),
                       min_size=2, max_size=4),
       st.builds(PeerSettings, method=st.sampled_from(["sd", "funnel"]), standard_deviations=st.floats(0.5, 3),
                 per=st.sampled_from([1000, 100_000])))
def test_a_peer_comparison_is_the_model_validation_would_make(group: dict[str, tuple[float, float]],
                                                             peer_settings: PeerSettings) -> None:
    """compare_group's unvalidated results equal, in JSON and fields set, the validated models of their fields."""
    for comparison in compare_group(group, peer_settings).values():
        validated = PeerComparison(**comparison.__dict__)
        assert comparison == validated
        assert comparison.model_dump_json() == validated.model_dump_json()
        assert comparison.model_fields_set == validated.model_fields_set


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 20_000), st.integers(0, 20_000), st.sampled_from([0.9, 0.95, 0.99, 0.998]),
       st.sampled_from([1.0, 2.0, 0.5]))
def test_a_significance_is_the_model_validation_would_make(current: int, baseline: int, confidence: float,
                                                          exposure: float) -> None:
    """significance_of_change's unvalidated result equals, in JSON and fields set, the validated model of its fields."""
    tested = significance_of_change(current, baseline, confidence=confidence, current_exposure=exposure)
    validated = Significance(**tested.__dict__)
    assert tested == validated
    assert tested.model_dump_json() == validated.model_dump_json()
    assert tested.model_fields_set == validated.model_fields_set


def test_copying_one_unvalidated_result_leaves_the_others_fields_set_alone() -> None:
    """Results built unvalidated share their set of field names, yet model_copy of one changes no other's."""
    first = significance_of_change(30, 20)
    second = significance_of_change(40, 20)
    assert first.model_fields_set == second.model_fields_set
    copied = first.model_copy(update={"p_value": 0.5})
    assert copied.p_value == 0.5
    assert first.model_fields_set == set(Significance.model_fields)
    assert second.model_fields_set == set(Significance.model_fields)
    chart = analyse_spc_prevalidated(("2013-01", "2013-02", "2013-03"), (1.0, 2.0, 3.0),
                                     settings=SpcSettings(), better="lower", target=None)
    assert chart is not None
    assert "excluded" not in chart.model_fields_set
    assert "excluded" in chart.model_copy(update={"excluded": ("2013-01",)}).model_fields_set
    again = analyse_spc_prevalidated(("2013-01", "2013-02", "2013-03"), (1.0, 2.0, 3.0),
                                     settings=SpcSettings(), better="lower", target=None)
    assert again is not None and "excluded" not in again.model_fields_set
