"""The statistics in every result: significance, projection, SPC and peers, set in the rules."""

from __future__ import annotations

import pytest

from csp_monitor import (
    Evaluation,
    Figure,
    FigureSet,
    RulesError,
    evaluate,
    load_figures,
    load_rules,
    rules_from_text,
)
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

# Figure 3 of the Harborough annual review: the exact test's p-value, as published.
FIGURE_3_P_VALUES = {
    "total-crime": "0.957",
    "domestic-burglary": "7.9e-07",
    "commercial-burglary": "1.000",
    "theft-from-motor-vehicle": "0.044",
    "theft-of-motor-vehicle": "0.117",
    "violence-with-injury": "0.515",
    "domestic-violence-with-injury": "0.478",
    "criminal-damage": "0.010",
    "asb-incidents": "0.027",
}


@pytest.fixture(scope="module")
def harborough() -> Evaluation:
    """The bundled Harborough example evaluated as of March 2014."""
    return evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of="2014-03")


def _result(evaluation: Evaluation, measure: str, area: str = "harborough"):  # type: ignore[no-untyped-def]
    result = evaluation.get(area, measure)
    assert result is not None
    return result


@pytest.mark.parametrize(("measure", "published"), FIGURE_3_P_VALUES.items())
def test_harborough_p_values_match_figure_3(
    harborough: Evaluation, measure: str, published: str
) -> None:
    """Evaluating the bundled example as of 2014-03 gives every p-value of Figure 3."""
    significance = _result(harborough, measure).significance
    assert significance is not None
    shown = f"{significance.p_value:.1e}" if "e" in published else f"{significance.p_value:.3f}"
    assert shown == published


def test_significance_only_for_counts_summed(harborough: Evaluation) -> None:
    """User satisfaction (a percentage, latest month) gets no significance test and no projection."""
    result = _result(harborough, "user-satisfaction")
    assert result.significance is None
    assert result.projection is None
    assert result.spc is not None


def test_summary_says_a_red_rise_is_within_normal_variation(harborough: Evaluation) -> None:
    """Theft of motor vehicles: red, but the rise is within normal variation (p = 0.117)."""
    assert _result(harborough, "theft-of-motor-vehicle").summary == (
        "Theft Of Motor Vehicle is up 42.1% (16 more than last year) against a target of a 10% "
        "reduction: red, but the rise is within normal variation (p = 0.117)"
    )


def test_summary_says_a_real_rise_is_significant(harborough: Evaluation) -> None:
    """Domestic burglary: red, and the rise is statistically significant."""
    assert _result(harborough, "domestic-burglary").summary.endswith(
        ": red, and the rise is statistically significant (p < 0.001)"
    )


def test_summary_of_a_significant_green_fall(harborough: Evaluation) -> None:
    """Theft from motor vehicles: green, and the fall is statistically significant (p = 0.044)."""
    assert _result(harborough, "theft-from-motor-vehicle").summary.endswith(
        ": green, and the fall is statistically significant (p = 0.044)"
    )


def test_summary_of_a_monitored_measure(harborough: Evaluation) -> None:
    """A monitored measure gets the clause too, after 'no target'."""
    assert _result(harborough, "commercial-burglary").summary.endswith(
        ": no target, and the fall is within normal variation (p = 1.0)"
    )


def test_spc_covers_every_observed_month(harborough: Evaluation) -> None:
    """The control chart runs over the 24 months April 2012 to March 2014, with firm limits."""
    spc = _result(harborough, "total-crime").spc
    assert spc is not None
    assert spc.periods[0] == "2012-04" and spc.periods[-1] == "2014-03"
    assert len(spc.periods) == 24
    assert spc.trial_limits is False


def test_projection_of_a_complete_year_is_the_year(harborough: Evaluation) -> None:
    """As of March the year is complete: the projection is the total and keeps the status."""
    result = _result(harborough, "domestic-burglary")
    assert result.projection is not None
    assert result.projection.value == 253
    assert result.projection.status == result.status


def test_mid_year_projection_is_seasonal() -> None:
    """Mid-year, the projection scales the year to date by last year's shape."""
    evaluation = evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of="2013-09")
    result = _result(evaluation, "total-crime")
    assert result.projection is not None
    assert result.projection.method == "seasonal"
    assert result.current is not None and result.baseline is not None
    assert result.projection.value == pytest.approx(result.current * 2773 / result.baseline)


RULES = """
partnership: Test CSP
area: town
year_starts: 2013-04
tolerance: 5
{statistics}
priorities:
  - id: crime
    title: Reduce crime
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {{change: -10%}}
{burglary_statistics}
      - id: incidents
        name: Incidents
        better: lower
        target: {{at_most: 600}}
      - id: satisfaction
        name: Satisfaction
        better: higher
        unit: percent
        aggregate: latest
        target: {{at_least: 85}}
"""


def _rules(statistics: str = "", burglary_statistics: str = ""):  # type: ignore[no-untyped-def]
    return rules_from_text(
        RULES.format(statistics=statistics, burglary_statistics=burglary_statistics)
    )


def _monthly(area: str, measure: str, first: str, values: list[float | None]) -> list[Figure]:
    year, month = (int(part) for part in first.split("-"))
    figures = []
    for offset, value in enumerate(values):
        index = year * 12 + month - 1 + offset
        if value is not None:
            figures.append(
                Figure(
                    area=area,
                    measure=measure,
                    period=f"{index // 12}-{index % 12 + 1:02d}",
                    value=value,
                )
            )
    return figures


def _figures(*groups: list[Figure]) -> FigureSet:
    return FigureSet.from_figures([figure for group in groups for figure in group])


BURGLARY = _monthly("town", "burglary", "2012-04", [30] * 12 + [27] * 12)  # 360 -> 324: -10%


def test_confidence_is_set_in_the_rules() -> None:
    """At 99% a p-value of 0.044 is no longer significant, and the sentence says 99%."""
    tfmv = _monthly("town", "burglary", "2012-04", [28] * 11 + [27] + [24] * 11 + [20])
    result = evaluate(_rules("statistics: {confidence: 99%}"), _figures(tfmv), as_of="2014-03").get(
        "town", "burglary"
    )
    assert result is not None and result.significance is not None
    assert result.significance.confidence == 0.99
    assert result.significance.p_value == pytest.approx(0.044, abs=5e-4)
    assert result.significance.verdict == "no_significant_change"
    assert "not significant at 99%" in result.significance.explanation


def test_a_measure_can_turn_a_statistic_off() -> None:
    """A measure's own statistics block overrides the rule set's, key by key."""
    rules = _rules(
        "statistics: {spc: {baseline_points: 12}}",
        "        statistics: {significance: false, spc: {screen_outliers: true}}",
    )
    result = evaluate(rules, _figures(BURGLARY), as_of="2014-03").get("town", "burglary")
    assert result is not None
    assert result.significance is None
    assert "normal variation" not in result.summary
    settings = rules.statistics_for(rules.priorities[0].measures[0]).spc
    assert (settings.baseline_points, settings.screen_outliers) == (12, True)


def test_statistics_can_be_turned_off() -> None:
    """significance: false, projection: false and spc: {enabled: false} leave the results plain."""
    rules = _rules("statistics: {significance: false, projection: false, spc: {enabled: false}}")
    result = evaluate(rules, _figures(BURGLARY), as_of="2014-03").get("town", "burglary")
    assert result is not None
    assert (result.significance, result.projection, result.spc, result.peers) == (
        None,
        None,
        None,
        None,
    )


def test_green_now_but_heading_for_red() -> None:
    """An annual cap met so far (300 of 600 by September) but on course for 720 is projected red."""
    incidents = _monthly("town", "incidents", "2013-04", [50] * 6)
    result = evaluate(_rules(), _figures(incidents), as_of="2013-09").get("town", "incidents")
    assert result is not None and result.projection is not None
    assert result.status == "green"
    assert result.projection.method == "linear"
    assert result.projection.value == pytest.approx(600)
    assert result.projection.status == "green"
    heavier = _monthly("town", "incidents", "2013-04", [60] * 6)
    result = evaluate(_rules(), _figures(heavier), as_of="2013-09").get("town", "incidents")
    assert result is not None and result.projection is not None
    assert result.status == "green"
    assert result.projection.value == pytest.approx(720)
    assert result.projection.status == "red"


def test_seasonal_projection_against_a_level_target() -> None:
    """Last year's quiet first half (200 of 600) makes this year's 240 project to 720: red."""
    incidents = _monthly("town", "incidents", "2012-04", [200 / 6] * 6 + [400 / 6] * 6 + [40] * 6)
    result = evaluate(_rules(), _figures(incidents), as_of="2013-09").get("town", "incidents")
    assert result is not None and result.projection is not None
    assert result.projection.method == "seasonal"
    assert result.projection.value == pytest.approx(720)
    assert result.projection.status == "red"


def test_a_missing_month_is_left_out_of_the_chart() -> None:
    """SPC uses the months observed: a missing month is neither a zero nor filled in."""
    figures = [f for f in BURGLARY if f.period != "2013-06"]
    result = evaluate(_rules(), _figures(figures), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.spc is not None
    assert "2013-06" not in result.spc.periods
    assert len(result.spc.periods) == 23


def test_no_significance_without_a_full_baseline() -> None:
    """With a baseline month missing there is no comparison, so no test."""
    figures = [f for f in BURGLARY if f.period != "2012-06"]
    result = evaluate(_rules(), _figures(figures), as_of="2014-03").get("town", "burglary")
    assert result is not None
    assert result.significance is None


def test_rebase_month_starts_a_new_chart() -> None:
    """spc.rebase_at gives the months from the rebase their own limits."""
    rules = _rules("statistics: {spc: {rebase_at: [2013-04]}}")
    result = evaluate(rules, _figures(BURGLARY), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.spc is not None
    assert [(g.first_period, g.mean) for g in result.spc.groups] == [
        ("2012-04", 30),
        ("2013-04", 27),
    ]
    assert result.spc.special_causes == ()


def test_rebase_in_a_missing_month_starts_at_the_next_month() -> None:
    """When the rebase month has no figure, the new group starts with the next month observed."""
    rules = _rules("statistics: {spc: {rebase_at: [2013-04]}}")
    figures = [f for f in BURGLARY if f.period != "2013-04"]
    result = evaluate(rules, _figures(figures), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.spc is not None
    assert result.spc.groups[1].first_period == "2013-05"


def test_spc_assurance_against_a_change_target() -> None:
    """A -10% target on last year's 29.6 a month is a monthly level of 26.6: hit and miss."""
    noisy = _monthly(
        "town", "burglary", "2012-04", [30, 26, 33, 29, 31, 27, 34, 28, 30, 26, 32, 29] * 2
    )
    result = evaluate(_rules(), _figures(noisy), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.spc is not None
    assert result.spc.assurance == "hit_and_miss"
    assert "The target of 26.6 is between the limits" in result.spc.explanation


def test_spc_assurance_against_a_level_target() -> None:
    """Satisfaction steady around 90% with a target of at least 85% passes consistently."""
    satisfaction = _monthly("town", "satisfaction", "2012-04", [90, 91, 90, 89, 90, 91] * 4)
    result = evaluate(_rules(), _figures(satisfaction), as_of="2014-03").get("town", "satisfaction")
    assert result is not None and result.spc is not None
    assert result.spc.assurance == "consistently_passing"


PEERS = """statistics:
  peers:
    method: {method}
    populations: {{town: 50000, village: 20000, city: 200000, hamlet: 10000}}
    groups:
      shire: [town, village, city, hamlet]"""


def _peer_figures(hamlet_gap: bool = False) -> FigureSet:
    yearly = {"town": 500, "village": 150, "city": 2600, "hamlet": 90}
    figures = []
    for area, total in yearly.items():
        values: list[float | None] = [total / 12] * 24
        if hamlet_gap and area == "hamlet":
            values[20] = None
        figures += _monthly(area, "burglary", "2012-04", values)
    return _figures(figures)


def test_peers_compare_the_area_with_its_group() -> None:
    """Rates per 1,000 for the year to date: town 10.0 against 7.5, 13.0 and 9.0 (average 9.875)."""
    result = evaluate(_rules(PEERS.format(method="sd")), _peer_figures(), as_of="2014-03").get(
        "town", "burglary"
    )
    assert result is not None and result.peers is not None
    assert result.peers.rate == pytest.approx(10.0)
    assert result.peers.group_average == pytest.approx(9.875)
    assert result.peers.rank == 3
    assert result.peers.position == "in_line"
    assert set(result.peers.rates) == {"town", "village", "city", "hamlet"}


def test_peers_by_funnel() -> None:
    """The funnel method is chosen in the rules."""
    rules = _rules(PEERS.format(method="funnel"))
    result = evaluate(rules, _peer_figures(), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.peers is not None
    assert result.peers.method == "funnel"


def test_a_member_missing_a_month_is_left_out_of_the_group() -> None:
    """A peer without the whole year to date is not compared (its count would be too low)."""
    rules = _rules(PEERS.format(method="sd"))
    result = evaluate(rules, _peer_figures(hamlet_gap=True), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.peers is not None
    assert "hamlet" not in result.peers.rates
    assert result.peers.group_size == 3


def test_every_area_of_a_national_run_gets_its_comparison() -> None:
    """Without an area in the rules, every area of the group is compared with the others."""
    text = RULES.format(statistics=PEERS.format(method="sd"), burglary_statistics="").replace(
        "area: town\n", ""
    )
    evaluation = evaluate(rules_from_text(text), _peer_figures(), as_of="2014-03")
    ranks = {
        r.area: r.peers.rank for r in evaluation.results if r.measure == "burglary" and r.peers
    }
    assert ranks == {"village": 1, "hamlet": 2, "town": 3, "city": 4}


def test_peers_only_for_counts_summed() -> None:
    """A percentage has no rate per 1,000 people, so no peer comparison."""
    satisfaction = _monthly("town", "satisfaction", "2013-04", [90] * 12)
    rules = _rules(PEERS.format(method="sd"))
    result = evaluate(rules, _figures(satisfaction), as_of="2014-03").get("town", "satisfaction")
    assert result is not None and result.peers is None


@pytest.mark.parametrize(
    ("statistics", "message"),
    [
        (
            "statistics: {confidence: 150%}",
            "<rules>:6:26: 'confidence' must be a level between 50% and 100%",
        ),
        (
            "statistics: {spc: {trend_points: 2}}",
            "<rules>:6:34: 'trend_points' must be at least 3",
        ),
        (  # NHSRplotthedots: fix_after_n_points must be at least 12
            "statistics: {spc: {baseline_points: 6}}",
            "<rules>:6:37: 'baseline_points' must be at least 12",
        ),
        (
            "statistics:\n  peers:\n    populations: {town: 5}\n    groups: {shire: [town, city]}",
            "<rules>:9:21: the peer group 'shire' has no population for city",
        ),
        (
            "statistics:\n  peers:\n    populations: {a: 1, b: 1, c: 1}\n    groups: {one: [a, b], two: [b, c]}",
            "'b' is in the peer groups 'one' and 'two'",
        ),
        (
            "statistics: {spc: {rebase_at: [2013-13]}}",
            "'2013-13' is not a month",
        ),
        (
            "statistics: {sigificance: false}",
            "unknown key 'sigificance' (did you mean 'significance'?)",
        ),
    ],
)
def test_mistakes_in_the_statistics_block_are_located(statistics: str, message: str) -> None:
    """Every mistake in a statistics block comes back as file:line:col with a plain message."""
    with pytest.raises(RulesError) as caught:
        _rules(statistics)
    assert message in str(caught.value)


def test_the_documented_statistics_block_loads_as_described() -> None:
    """The example rule file of docs/statistics.md loads, and the measure's block overrides key by key."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "docs" / "statistics.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    rules = rules_from_text(block.group(1))
    measure = rules.priorities[0].measures[0]
    settings = rules.statistics_for(measure)
    assert settings.confidence == 0.99
    assert settings.spc.baseline_points == 12 and settings.spc.rebase_at == ("2015-04",)
    assert settings.peers is not None
    assert settings.peers.method == "funnel"
    assert settings.peers.groups == {"rural-districts": ("harborough", "blaby", "melton", "rutland")}


def test_evaluation_leaves_the_garbage_collector_as_it_found_it() -> None:
    """The collector paused for speed during evaluation is restored, enabled or not."""
    import gc

    rules = _rules()
    assert gc.isenabled()
    evaluate(rules, _figures(BURGLARY), as_of="2014-03")
    assert gc.isenabled()
    gc.disable()
    try:
        evaluate(rules, _figures(BURGLARY), as_of="2014-03")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_count_chart_never_has_a_limit_below_zero() -> None:
    """Burglary (a count) swinging 0 to 9 has an unclamped lower limit below 0, reported as 0; screening is on."""
    swings = _monthly("town", "burglary", "2013-04", [0, 9, 1, 8, 0, 9, 2, 7, 0, 9, 1, 8])
    result = evaluate(_rules(), _figures(swings), as_of="2014-03").get("town", "burglary")
    assert result is not None and result.spc is not None
    assert result.spc.settings.screen_outliers is True and result.spc.settings.lowest == 0
    # mean 54 / 12 = 4.5 and AMR 84 / 11 = 7.6364: mean - 2.66 AMR = -15.81, given as 0.
    assert result.spc.average_moving_range == pytest.approx(84 / 11)
    assert result.spc.lower_limit == 0.0 and result.spc.near_lower == 0.0
    assert result.spc.upper_limit == pytest.approx(4.5 + 2.66 * 84 / 11)
