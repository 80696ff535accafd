"""Gaps are visible: a year to date with missing months says how many it compares, and with which."""

from __future__ import annotations

import csv
import io

from csp_monitor import FigureSet, evaluate, rules_from_text
from csp_monitor.render.messages import render_report
from csp_monitor.render.summary import build_summary
from csp_monitor.render.table import render_csv, render_table
from tests.town_fixtures import monthly

RULES = """
partnership: Test CSP
area: town
year_starts: 2021-04
priorities:
  - id: crime
    title: Reduce crime
    owner: lead@example.org
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {change: -10%}
      - id: response
        name: Response minutes
        better: lower
        aggregate: mean
        target: {change: -5%}
"""


def town(burglary: list[float], response: list[float]) -> FigureSet:
    """Monthly figures from April 2020, one list per measure (as many months as given)."""
    return FigureSet.from_figures(monthly("burglary", "2020-04", burglary) + monthly("response", "2020-04", response))


# A full year 2020/21 and April-October 2021: the data ends seven months into 2021/22.
BURGLARY = [20.0] * 12 + [15.0] * 7
RESPONSE = [10.0] * 7 + [30.0] * 5 + [10.0] * 7


def test_as_of_past_the_data_compares_only_the_months_present() -> None:
    """As of March 2022 with figures to October 2021: 7 of 12 months, compared with April-October 2020."""
    result = evaluate(rules_from_text(RULES), town(BURGLARY, RESPONSE), as_of="2022-03").get("town", "burglary")
    assert result is not None
    assert (result.months_present, result.months_expected, result.baseline_months_present) == (7, 12, 12)
    assert result.partial is True
    assert result.compared_months == tuple(f"2021-{m:02d}" for m in range(4, 11))
    assert (result.current, result.baseline) == (7 * 15, 7 * 20)
    assert "only the 7 of 12 months with figures in both years (2021-04 to 2021-10) are compared" in result.summary


def test_a_mean_is_compared_with_the_same_months_last_year_not_the_whole_year() -> None:
    """A mean of April-October is compared with April-October last year (10), not the whole year's 18.3."""
    result = evaluate(rules_from_text(RULES), town(BURGLARY, RESPONSE), as_of="2022-03").get("town", "response")
    assert result is not None
    assert (result.current, result.baseline, result.change_pct) == (10, 10, 0)
    assert result.partial and result.compared_months == tuple(f"2021-{m:02d}" for m in range(4, 11))


def test_a_whole_year_is_not_partial() -> None:
    """With every month on both sides the result is not partial and the heading is the plain one."""
    full = town(BURGLARY[:12] + [15.0] * 12, RESPONSE[:12] + [10.0] * 12)
    evaluation = evaluate(rules_from_text(RULES), full, as_of="2022-03")
    assert [r.partial for r in evaluation.results] == [False, False]
    assert [len(r.compared_months) for r in evaluation.results] == [12, 12]
    lines = render_table(evaluation).splitlines()
    assert lines[1] == "Year to date 2021-04 to 2022-03 (2021/22), compared with 2020-04 to 2021-03"
    assert lines[3].startswith("Measure") and not lines[3].endswith("Figures")  # the column only when needed
    assert "on part of the year" not in "\n".join(lines)


def test_the_table_heading_and_counts_say_the_year_is_partial() -> None:
    """The heading gives months present per side and the months compared; each row and the counts say partial."""
    evaluation = evaluate(rules_from_text(RULES), town(BURGLARY, RESPONSE), as_of="2022-03")
    table = render_table(evaluation)
    lines = table.splitlines()
    assert lines[1] == ("Year to date 2021-04 to 2022-03 (2021/22): figures for 7 of 12 months this year and 12 of 12 "
                        "last year (2020-04 to 2021-03), so only 2021-04 to 2021-10 are compared with the same 7 "
                        "months a year earlier (2020-04 to 2020-10)")
    assert next(line for line in lines if line.startswith("Burglary")).endswith("7/12 months")
    assert "0 without data; 2 on part of the year" in table
    assert "only the n months with figures in both years are compared" in table
    rows = list(csv.DictReader(io.StringIO(render_csv(evaluation))))
    assert [(r["months_compared"], r["months_expected"], r["partial"]) for r in rows] == [("7", "12", "True")] * 2


def test_the_summary_and_report_never_claim_the_whole_year() -> None:
    """The summary's baseline label is the months compared, with a sentence saying so, and rows are marked."""
    rules, figures = rules_from_text(RULES), town(BURGLARY, RESPONSE)
    evaluation = evaluate(rules, figures, as_of="2022-03")
    summary = build_summary(rules, figures, evaluation, charts=False)
    assert summary.baseline_label == "April 2020 to October 2020"
    assert summary.coverage_sentence == (
        "Figures cover 7 of 12 months of the year to date and 12 of 12 of the year before, so only April 2021 "
        "to October 2021 are compared, with April 2020 to October 2020.")
    assert [row.coverage for row in summary.rows] == ["7 of 12 months", "7 of 12 months"]
    assert summary.headline.partial == 2
    report = render_report(summary)
    assert report.count('class="badge badge-partial"') == 3  # both table rows and the red response's exception
    assert ("The year to date, April 2021 to October 2021, compared with the same months of the year before, "
            "April 2020 to October 2020.") in report  # it said "April 2021 to March 2022" beside April-October


def test_a_missing_month_last_year_still_leaves_a_sum_without_comparison() -> None:
    """A sum whose last-year month is missing is not compared at all (no data), rather than over fewer months."""
    gappy = [20.0] * 5 + [None] + [20.0] * 6
    figures = FigureSet.from_figures(monthly("burglary", "2020-04", gappy + [15.0] * 12))
    result = evaluate(rules_from_text(RULES), figures, as_of="2022-03").get("town", "burglary")
    assert result is not None
    assert result.status == "no_data" and result.baseline is None and not result.partial
    assert result.compared_months == () and result.missing_baseline_months == ("2020-09",)


def test_a_mean_with_a_month_missing_last_year_says_it_is_left_out() -> None:
    """A mean whose last-year month is missing compares the rest, marked partial, and says what was left out."""
    last_year: list[float | None] = [10.0] * 5 + [None] + [10.0] * 6
    figures = FigureSet.from_figures(monthly("response", "2020-04", last_year + [12.0] * 12))
    result = evaluate(rules_from_text(RULES), figures, as_of="2022-03").get("town", "response")
    assert result is not None
    assert (result.current, result.baseline, result.partial, len(result.compared_months)) == (12, 10, True, 11)
    assert "last year's figures for 2020-09 are missing, so last year's average leaves them out" in result.summary
    assert "no comparison" not in result.summary


def test_the_trend_chart_of_a_partial_year_adds_up_the_months_compared() -> None:
    """Figures to October: each year's bar is its April-October total, so the target line (90% of last
    April-October's 140) sits among bars of the same months, not under whole years."""
    from csp_monitor.render.chart_data import charts_for

    rules, figures = rules_from_text(RULES), town(BURGLARY, RESPONSE)
    evaluation = evaluate(rules, figures, as_of="2022-03")
    result = evaluation.get("town", "burglary")
    assert result is not None and result.partial
    (trend,) = [chart for chart in charts_for(rules, figures, evaluation, [result]) if chart.kind == "trend"]
    assert trend.title == "Burglary: April to October total by reporting year"
    assert trend.spec.labels == ("2020/21", "2021/22")
    assert trend.spec.values == (7 * 20, 7 * 15)
    assert trend.spec.reference is not None and round(trend.spec.reference, 6) == 0.9 * 7 * 20
    assert "2021/22: 105" in trend.alt and "The target for 2021/22 is 126." in trend.alt


def test_the_trend_chart_of_a_whole_year_is_unchanged() -> None:
    """With every month present the bars are April-March totals, as before."""
    from csp_monitor.render.chart_data import charts_for

    full = [20.0] * 12 + [15.0] * 12
    rules, figures = rules_from_text(RULES), town(full, [10.0] * 24)
    evaluation = evaluate(rules, figures, as_of="2022-03")
    result = evaluation.get("town", "burglary")
    assert result is not None and not result.partial
    (trend,) = [chart for chart in charts_for(rules, figures, evaluation, [result]) if chart.kind == "trend"]
    assert trend.title == "Burglary: April to March total by reporting year"
    assert trend.spec.values == (240, 180)


def test_the_spreadsheet_title_of_a_partial_year_names_the_months_compared() -> None:
    """The xlsx title says April-October on both sides and how many months, not the whole year to date."""
    from csp_monitor.render.table import evaluation_title

    evaluation = evaluate(rules_from_text(RULES), town(BURGLARY, RESPONSE), as_of="2022-03")
    assert evaluation_title(evaluation) == (
        "Test CSP: April 2021 to October 2021 (reporting year 2021/22, 7 of 12 months with figures), "
        "compared with April 2020 to October 2020")  # it said "April 2021 to March 2022 ... April 2020 to March 2021"


def test_the_summary_says_when_there_are_no_new_figures_since_last_month() -> None:
    """As of March 2022 with figures to October 2021, the headline says nothing new has come in rather than
    "No measure changed status since February 2022", which suggests the figures were looked at again."""
    from csp_monitor.render.summary import previous_evaluation

    rules, figures = rules_from_text(RULES), town(BURGLARY, RESPONSE)
    evaluation = evaluate(rules, figures, as_of="2022-03")
    previous = previous_evaluation(rules, figures, evaluation)
    summary = build_summary(rules, figures, evaluation, previous=previous, charts=False)
    assert summary.headline.changes_sentence == (
        "There are no new figures since October 2021, so nothing has changed since February 2022.")
    current = evaluate(rules, figures, as_of="2021-11")
    summary = build_summary(rules, figures, current, previous=previous_evaluation(rules, figures, current),
                            charts=False)
    assert summary.headline.changes_sentence == "No measure changed status since October 2021."
