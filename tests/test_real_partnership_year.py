"""A police analyst's partnership years on the real Leicestershire archive, checked against the csv module.

Melton and the Leicestershire districts, 2021/22 (a whole year) and 2022/23 (the archive ends in
October 2022, so seven months): the counts, the exact test, the control chart, the peer comparison and
the trend chart the board sees, each worked out here from the raw street rows, never from the library.
"""

from __future__ import annotations

import itertools
import statistics

import pytest

from csp_monitor import Evaluation, FigureSet, RuleSet, evaluate, load_figures, rules_from_text
from csp_monitor.importers import import_police_uk
from csp_monitor.render.chart_data import charts_for
from tests.police_uk_fixtures import LEICESTERSHIRE, LOOKUP, district_total, needs_shared

pytestmark = needs_shared

# Census 2021 usual resident population (ONS), rounded to the nearest 100.
POPULATIONS = {"blaby": 102900, "charnwood": 183900, "harborough": 97600, "hinckley-and-bosworth": 113600,
               "melton": 51800, "north-west-leicestershire": 104700, "oadby-and-wigston": 57700}
# How a board reads each district's name in the sentences (the ids above are the figures' slugs).
NAMES = {"blaby": "Blaby", "charnwood": "Charnwood", "harborough": "Harborough",
         "hinckley-and-bosworth": "Hinckley and Bosworth", "melton": "Melton",
         "north-west-leicestershire": "North West Leicestershire", "oadby-and-wigston": "Oadby and Wigston"}
SOURCES = {"total-crime": None, "burglary": "Burglary", "violent-crime": "Violence and sexual offences"}


def _rules(year: int) -> str:
    populations = ", ".join(f"{area}: {people}" for area, people in POPULATIONS.items())
    return f"""
partnership: Leicestershire districts
year_starts: {year}-04
tolerance: 5
statistics:
  spc: {{baseline_points: 12}}
  peers:
    populations: {{{populations}}}
    groups:
      leicestershire: [{", ".join(POPULATIONS)}]
priorities:
  - id: crime
    title: To reduce crime
    measures:
      - {{id: total-crime, name: Total crime (police.uk), better: lower, target: {{change: -5%}}}}
      - {{id: burglary, name: Burglary (police.uk), better: lower, target: {{change: -10%}}}}
      - {{id: violent-crime, name: Violence and sexual offences (police.uk), better: lower,
          target: {{change: -2%}}}}
"""


def _months(first: str, count: int) -> list[str]:
    year, month = map(int, first.split("-"))
    index = year * 12 + month - 1
    return [f"{(index + k) // 12:04d}-{(index + k) % 12 + 1:02d}" for k in range(count)]


def _count(area: str, measure: str, months: list[str]) -> int:
    return district_total(LEICESTERSHIRE, area, SOURCES[measure], months)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> FigureSet:
    """The whole Leicestershire archive imported per partnership with the ONS lookup."""
    out = tmp_path_factory.mktemp("real-year") / "figures.csv"
    import_police_uk(LEICESTERSHIRE, lookup=LOOKUP, out=out)
    return load_figures(out)


def _judged(figures: FigureSet, year: int, as_of: str) -> tuple[RuleSet, Evaluation]:
    rules = rules_from_text(_rules(year))
    return rules, evaluate(rules, figures, as_of=as_of)


def test_2021_22_counts_changes_and_exact_tests_match_the_street_rows(figures: FigureSet) -> None:
    """Every district's year to date, change and p-value equal the csv-module counts and scipy's binomtest."""
    from scipy.stats import binomtest

    _, evaluation = _judged(figures, 2021, "2022-03")
    for area in POPULATIONS:
        for measure in SOURCES:
            current = _count(area, measure, _months("2021-04", 12))
            baseline = _count(area, measure, _months("2020-04", 12))
            result = evaluation.get(area, measure)
            assert result is not None and result.significance is not None, (area, measure)
            assert (result.current, result.baseline) == (current, baseline), (area, measure)
            assert result.change_pct == pytest.approx((current - baseline) / baseline * 100, rel=1e-12)
            oracle = binomtest(current, current + baseline, 0.5).pvalue
            assert result.significance.p_value == pytest.approx(oracle, rel=1e-9, abs=1e-300), (area, measure)


def test_melton_total_crime_control_chart_matches_a_hand_worked_xmr(figures: FigureSet) -> None:
    """Limits fixed on December 2019 to November 2020 (screened AMR), and the shift and the month above
    the limit named, as worked out by hand from the monthly counts."""
    _, evaluation = _judged(figures, 2021, "2022-03")
    result = evaluation.get("melton", "total-crime")
    assert result is not None and result.spc is not None
    months = _months("2019-12", 28)
    values = [_count("melton", "total-crime", [month]) for month in months]
    base = values[:12]
    mean = sum(base) / 12
    ranges = [abs(b - a) for a, b in itertools.pairwise(base)]
    average = sum(ranges) / len(ranges)
    kept = [r for r in ranges if r < 3.267 * average]
    average = sum(kept) / len(kept)
    assert result.spc.mean == pytest.approx(mean, rel=1e-12)
    assert result.spc.upper_limit == pytest.approx(mean + 2.66 * average, rel=1e-12)
    assert result.spc.lower_limit == pytest.approx(mean - 2.66 * average, rel=1e-12)
    above = [month for month, value in zip(months, values, strict=True) if value > mean + 2.66 * average]
    shift_start = months.index("2021-09")
    assert all(value > mean for value in values[shift_start:])  # seven months above the mean
    assert above == ["2022-03"]
    flagged = {cause.period: cause.rule for cause in result.spc.special_causes}
    assert flagged == {**{month: "shift" for month in months[shift_start:-1]}, "2022-03": "outside_limits"}


def test_peer_rates_ranks_and_positions_match_the_populations(figures: FigureSet) -> None:
    """Rate per 1,000, group average, rank and position (one sample standard deviation) for burglary."""
    _, evaluation = _judged(figures, 2021, "2022-03")
    rates = {area: _count(area, "burglary", _months("2021-04", 12)) / people * 1000
             for area, people in POPULATIONS.items()}
    average = sum(rates.values()) / len(rates)
    spread = statistics.stdev(rates.values())
    positions = set()
    for area, rate in rates.items():
        result = evaluation.get(area, "burglary")
        assert result is not None and result.peers is not None
        assert result.peers.rate == pytest.approx(rate, rel=1e-12)
        assert result.peers.group_average == pytest.approx(average, rel=1e-12)
        assert result.peers.rank == 1 + sum(other < rate for other in rates.values())
        expected = "above" if rate > average + spread else "below" if rate < average - spread else "in_line"
        assert result.peers.position == expected, area
        assert result.peers.explanation.startswith(f"{NAMES[area]}'s rate for April 2021 to March 2022 is {rate:,.2f} ")
        positions.add(expected)
    assert positions == {"above", "in_line", "below"}  # not vacuous


def test_2022_23_is_judged_on_april_to_october_and_its_trend_chart_says_so(figures: FigureSet) -> None:
    """As of March 2023 the archive holds April-October 2022: the result compares those seven months, and
    the trend chart's bars are each year's April-October total under the target drawn from the same months
    (it drew whole April-March years under a seven-month target, and left 2022/23 out as incomplete)."""
    rules, evaluation = _judged(figures, 2022, "2023-03")
    result = evaluation.get("melton", "total-crime")
    assert result is not None and result.partial and len(result.compared_months) == 7
    current = _count("melton", "total-crime", _months("2022-04", 7))
    baseline = _count("melton", "total-crime", _months("2021-04", 7))
    assert (result.current, result.baseline) == (current, baseline)
    (trend,) = [chart for chart in charts_for(rules, figures, evaluation, [result]) if chart.kind == "trend"]
    assert trend.title == "Total crime (police.uk): April to October total by reporting year"
    assert trend.spec.labels == ("2019/20", "2020/21", "2021/22", "2022/23")
    assert trend.spec.values == (None, _count("melton", "total-crime", _months("2020-04", 7)), baseline, current)
    assert trend.spec.reference == pytest.approx(baseline * 0.95, rel=1e-12)
    # The projection scales April-October by last year's whole year over its April-October, and says so
    # (it said "by this point last year", which as of March reads as April to March).
    full_year = _count("melton", "total-crime", _months("2021-04", 12))
    assert result.projection is not None
    assert result.projection.value == pytest.approx(current * full_year / baseline, rel=1e-12)
    share = f"{baseline / full_year * 100:.1f}%"
    assert f"last year the same months held {share} of the year's total" in result.projection.explanation

