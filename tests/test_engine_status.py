"""The engine's binding semantics: year to date, baseline, RAG with tolerance, direction, missing data."""

from __future__ import annotations

import pytest

from csp_monitor import FigureSet, evaluate, rules_from_text
from tests.town_fixtures import monthly

RULES = """
partnership: Test CSP
area: town
year_starts: 2013-04
tolerance: 5
priorities:
  - id: crime
    title: Reduce crime
    owner: lead@example.org
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {change: -10%}
      - id: reports
        name: Hate crime reports
        better: higher
        target: {change: +10%}
        tolerance: 3
      - id: satisfaction
        name: Satisfaction
        better: higher
        unit: percent
        aggregate: latest
        target: {at_least: 85}
        tolerance: 2
      - id: response
        name: Response minutes
        better: lower
        aggregate: mean
        target: {at_most: 20}
      - id: damage
        name: Criminal damage
        better: lower
"""


def figures(measure: str, baseline: list[float | None], current: list[float | None]) -> FigureSet:
    """Monthly figures from April 2012: ``baseline`` months then ``current`` months."""
    values = [*baseline, *([None] * (12 - len(baseline))), *current]
    return FigureSet.from_figures(monthly(measure, "2012-04", values))


def result(measure: str, baseline: list[float | None], current: list[float | None], as_of: str = "2014-03"):  # type: ignore[no-untyped-def]
    evaluation = evaluate(rules_from_text(RULES), figures(measure, baseline, current), as_of=as_of)
    found = evaluation.get("town", measure)
    assert found is not None
    return found


@pytest.mark.parametrize(("current", "status"), [
    (90, "green"),   # -10.0%: exactly on target is green
    (89, "green"),
    (91, "amber"),   # -9%: missed by 1 point, within the 5-point tolerance
    (95, "amber"),   # -5%: missed by exactly the tolerance
    (96, "red"),     # -4%: missed by 6 points
    (120, "red"),
])
def test_change_target_lower_is_better(current: int, status: str) -> None:
    """A -10% target: green at or below -10%, amber up to 5 points worse, red beyond."""
    r = result("burglary", [100] + [0] * 11, [current] + [0] * 11)
    assert r.status == status


@pytest.mark.parametrize(("current", "status"), [(110, "green"), (108, "amber"), (107, "amber"), (106, "red")])
def test_change_target_higher_is_better_mirrors(current: int, status: str) -> None:
    """A +10% target where higher is better: green at or above +10%, amber within 3 points (its own tolerance)."""
    r = result("reports", [100] + [0] * 11, [current] + [0] * 11)
    assert r.status == status


@pytest.mark.parametrize(("latest", "status"), [(85, "green"), (84, "amber"), (83, "amber"), (82.9, "red")])
def test_at_least_uses_the_measures_own_units(latest: float, status: str) -> None:
    """at_least 85 with tolerance 2: amber down to 83, red below."""
    r = result("satisfaction", [80] * 12, [70] * 11 + [latest])
    assert r.current == latest
    assert r.status == status


def test_latest_takes_the_as_of_month_and_the_same_month_last_year() -> None:
    """aggregate: latest compares the as-of month with the same month a year earlier."""
    r = result("satisfaction", [80] * 11 + [81], [90] * 11 + [88])
    assert (r.current, r.baseline, r.difference) == (88, 81, 7)


def test_mean_of_months_present() -> None:
    """aggregate: mean averages the months that have figures, and at_most judges it."""
    r = result("response", [30] * 12, [18, 22, None, 20] + [None] * 8, as_of="2013-07")
    assert r.current == 20
    assert r.status == "green"
    assert r.missing_months == ("2013-06",)


def test_no_tolerance_means_no_amber() -> None:
    """Without any tolerance a missed target is red, never amber."""
    text = RULES.replace("tolerance: 5\n", "")
    evaluation = evaluate(rules_from_text(text), figures("burglary", [100] + [0] * 11, [91] + [0] * 11), as_of="2014-03")
    assert evaluation.results[0].status == "red"


def test_nearest_tolerance_wins() -> None:
    """A measure's tolerance overrides its priority's, which overrides the file's."""
    text = RULES.replace("    owner: lead@example.org\n", "    owner: lead@example.org\n    tolerance: 1\n")
    rules = rules_from_text(text)
    priority, measure = rules.measure("burglary")  # type: ignore[misc]
    assert rules.tolerance_for(priority, measure) == 1
    priority, measure = rules.measure("reports")  # type: ignore[misc]
    assert rules.tolerance_for(priority, measure) == 3


def test_year_to_date_runs_from_april_to_as_of() -> None:
    """As of 2013-06 the year to date is April-June 2013 against April-June 2012."""
    r = result("burglary", [10, 20, 30, 1000] + [0] * 8, [5, 5, 5, 1000] + [0] * 8, as_of="2013-06")
    assert (r.current, r.baseline) == (15, 60)
    assert (r.period_start, r.period_end, r.baseline_start, r.baseline_end) == ("2013-04", "2013-06", "2012-04", "2012-06")


@pytest.mark.parametrize(("measure", "current", "status", "words"), [
    ("burglary", 3, "red", "but any rise from none misses a reduction target: red"),
    ("burglary", 0, "green", "but none again meets the target: green"),
    ("reports", 3, "green", "but any figure meets a target set against none: green"),
    ("reports", 0, "green", "but any figure meets a target set against none: green"),
])
def test_zero_baseline_gives_no_percentage_but_a_change_target_is_still_judged(
        measure: str, current: int, status: str, words: str) -> None:
    """Regression: with none last year the % change is null, and a change target was "no data" although the
    figures were there (domestic burglary up from 0 to 24 against a 13% reduction showed "no data", so no
    off-target alert went). Any change of none is none: where lower is better, a rise from none is red and
    none again is green; where higher is better, any figure meets it. The year end is judged the same way."""
    r = result(measure, [0] * 12, [current] + [0] * 11)
    assert r.change_pct is None
    assert r.difference == current
    assert r.status == status
    assert f"; with none last year a percentage change cannot be worked out, {words}" in r.summary
    assert r.projection is not None and r.projection.status == status


def test_a_missing_last_year_is_still_no_data() -> None:
    """No figures at all last year (not zeros): nothing to compare, so a change target stays no data."""
    r = result("burglary", [None] * 12, [3] + [0] * 11)
    assert r.baseline is None and r.status == "no_data"


def test_missing_baseline_month_is_not_a_zero() -> None:
    """A missing baseline month makes the baseline unusable rather than counting it as zero."""
    r = result("burglary", [10, None, 10] + [10] * 9, [10] * 12)
    assert r.baseline is None
    assert r.status == "no_data"
    assert r.missing_baseline_months == ("2012-05",)
    assert "2012-05" in r.summary


def test_no_current_figures_is_no_data_even_without_a_target() -> None:
    """A monitored measure with no figures this year is no_data, not no_target."""
    r = result("damage", [10] * 12, [])
    assert r.status == "no_data"
    assert r.current is None


def test_monitored_measure_is_no_target() -> None:
    """A measure without a target is reported as monitored (no_target)."""
    r = result("damage", [10] * 12, [9] * 12)
    assert r.status == "no_target"
    assert r.direction == "improving"


@pytest.mark.parametrize(("measure", "baseline", "current", "direction"), [
    ("burglary", 100, 90, "improving"),
    ("burglary", 100, 110, "worsening"),
    ("burglary", 100, 100, "no_change"),
    ("reports", 100, 110, "improving"),
    ("reports", 100, 90, "worsening"),
])
def test_direction_follows_better(measure: str, baseline: int, current: int, direction: str) -> None:
    """Direction comes from the sign of the difference and which way is better."""
    assert result(measure, [baseline] + [0] * 11, [current] + [0] * 11).direction == direction


def test_as_of_defaults_to_the_latest_month_with_figures() -> None:
    """Without an as-of month the latest month with figures is used."""
    evaluation = evaluate(rules_from_text(RULES), figures("burglary", [1] * 12, [1, 1, 1]))
    assert evaluation.as_of == "2013-06"


def test_unknown_measures_in_figures_are_a_warning() -> None:
    """Figures for a measure no rule reads are ignored with a warning that suggests the nearest id."""
    data = FigureSet.from_figures([*figures("burglary", [1] * 12, [1] * 12), *figures("burglarly", [1] * 12, [1] * 12)])
    evaluation = evaluate(rules_from_text(RULES), data, as_of="2014-03")
    assert any("'burglarly' are ignored" in w and "'burglary'" in w for w in evaluation.warnings)


def test_as_of_outside_the_rules_year_is_a_warning() -> None:
    """Evaluating 2013/14 rules in 2014/15 warns that the targets may not apply."""
    evaluation = evaluate(rules_from_text(RULES), figures("burglary", [1] * 12, [1] * 12), as_of="2014-04")
    assert any("2013/14" in w and "2014/15" in w for w in evaluation.warnings)


def test_evaluation_is_independent_of_input_order() -> None:
    """The same figures given in a different order give identical results."""
    forward = list(figures("burglary", [3, 5, 8] * 4, [2, 9, 4] * 4))
    a = evaluate(rules_from_text(RULES), FigureSet.from_figures(forward), as_of="2014-03")
    b = evaluate(rules_from_text(RULES), FigureSet.from_figures(reversed(forward)), as_of="2014-03")
    assert a == b
