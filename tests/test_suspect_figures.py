"""Suspect figures change the verdict: flagged in the result, untested, no alert, left out of SPC limits."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import operator
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor import Figure, FigureSet, evaluate, rules_from_text
from csp_monitor.alerts.conditions import condition_holds
from csp_monitor.authoring.backtest import backtest
from csp_monitor.authoring.backtest_report import render_backtest_json, render_backtest_table
from csp_monitor.models.alerts import Condition
from csp_monitor.render.messages import render_report, render_summary_email
from csp_monitor.render.summary import build_summary
from csp_monitor.render.table import evaluation_rows, render_csv, render_json, render_table
from csp_monitor.render.xlsx_table import write_xlsx_table
from csp_monitor.statistics import SpcSettings, analyse_spc_columns
from tests.conftest import CliResult
from tests.town_fixtures import monthly

RULES = """
partnership: Test CSP
area: town
year_starts: 2021-01
tolerance: 5
priorities:
  - id: crime
    title: Reduce crime
    owner: lead@example.org
    measures:
      - id: violence
        name: Violence
        better: lower
        target: {change: -2%}
      - id: satisfaction
        name: Satisfaction
        better: higher
        unit: percent
        aggregate: latest
        target: {at_least: 85}
alerts:
  - id: red
    when: {status: red}
    severity: high
    notify: [owner]
"""

# Two years of a steady count, with March 2020 lost to a data fault (4 instead of about 130).
STEADY: list[float] = [130, 128, 4, 131, 129, 127, 133, 130, 126, 132, 129, 131,
          124, 125, 124, 126, 128, 130, 129, 127, 125, 131, 128, 130]
FAULT = "town violence 2020-03: 4 against a usual 118-152: likely a data fault"


def _figures(values: list[float], *, measure: str = "violence", suspect: dict[int, str] | None = None) -> list[Figure]:
    return monthly(measure, "2020-01", values, suspect=suspect)


def town(*, suspect: bool = True, satisfaction_suspect: bool = False) -> FigureSet:
    """Violence Jan 2020 - Dec 2021 (March 2020 suspect unless told) and monthly satisfaction."""
    figures = _figures(STEADY, suspect={2: FAULT} if suspect else None)
    figures += _figures([88.0] * 24, measure="satisfaction",
                        suspect={2: "survey sample of 3"} if satisfaction_suspect else None)
    return FigureSet.from_figures(figures)


def test_a_suspect_baseline_month_is_named_with_its_side_and_blocks_the_test() -> None:
    """Last year's suspect March: the result keeps its red status but names the side and month and is not tested."""
    result = evaluate(rules_from_text(RULES), town(), as_of="2021-03").get("town", "violence")
    assert result is not None
    assert (result.current, result.baseline) == (124 + 125 + 124, 130 + 128 + 4)
    assert result.status == "red"
    assert result.suspect is not None
    assert result.suspect.sides == ("baseline",)
    assert result.suspect.baseline_months == ("2020-03",)
    assert result.suspect.current_months == ()
    assert result.suspect.reasons == (FAULT,)
    assert result.significance is None and result.not_tested == "suspect_figures"
    assert "last year's figure for 2020-03 is suspect" in result.summary
    assert "statistically significant" not in result.summary


def test_without_the_mark_the_same_figures_are_a_significant_rise() -> None:
    """The counterfactual: unmarked, March 2020's fault reads as a real rise, which is what the mark prevents."""
    result = evaluate(rules_from_text(RULES), town(suspect=False), as_of="2021-03").get("town", "violence")
    assert result is not None and result.suspect is None and result.not_tested is None
    assert result.significance is not None and result.significance.verdict == "significant_increase"


def test_a_suspect_month_this_year_is_named_as_the_current_side() -> None:
    """A suspect month in this year's months is reported on the current side."""
    figures = FigureSet.from_figures(_figures(STEADY, suspect={13: "short month"}))
    result = evaluate(rules_from_text(RULES), figures, as_of="2021-03").get("town", "violence")
    assert result is not None and result.suspect is not None
    assert (result.suspect.sides, result.suspect.current_months) == (("current",), ("2021-02",))


def test_a_suspect_month_outside_the_compared_months_leaves_the_result_alone() -> None:
    """As of February 2021 the comparison is Jan-Feb against Jan-Feb: a suspect March 2020 is not part of it."""
    result = evaluate(rules_from_text(RULES), town(), as_of="2021-02").get("town", "violence")
    assert result is not None
    assert result.suspect is None and result.not_tested is None and result.significance is not None


def test_latest_measures_are_suspect_only_through_the_two_months_compared() -> None:
    """aggregate: latest compares one month with one month: only those two can make it suspect."""
    rules = rules_from_text(RULES)
    evaluation = evaluate(rules, town(satisfaction_suspect=True), as_of="2021-04")
    satisfaction = evaluation.get("town", "satisfaction")
    assert satisfaction is not None and satisfaction.suspect is None
    evaluation = evaluate(rules, town(satisfaction_suspect=True), as_of="2021-03")
    satisfaction = evaluation.get("town", "satisfaction")
    assert satisfaction is not None and satisfaction.suspect is not None
    assert satisfaction.suspect.sides == ("baseline",) and satisfaction.suspect.baseline_months == ("2020-03",)


def test_alert_conditions_cannot_tell_on_suspect_figures_unless_the_rule_opts_in() -> None:
    """A red result on suspect figures: the condition says 'cannot tell', or True with fire_on_suspect."""
    result = evaluate(rules_from_text(RULES), town(), as_of="2021-03").get("town", "violence")
    assert result is not None
    condition = Condition(status=["red"])
    assert condition_holds(condition, result, None) is None
    assert condition_holds(condition, result, None, fire_on_suspect=True) is True


def test_backtest_sends_no_alert_on_suspect_figures_and_marks_the_grid() -> None:
    """Backtest Jan-Apr 2021: red from March on suspect figures, marked R?, and no alert goes out."""
    run = backtest(rules_from_text(RULES), town(), "2021-01", "2021-04")
    statuses = [month.evaluation.get("town", "violence").status for month in run.months]  # type: ignore[union-attr]
    assert statuses == ["green", "green", "red", "red"]
    assert all(not month.notifications for month in run.months)
    table = render_backtest_table(run)
    violence = next(line for line in table.splitlines() if line.startswith("Violence"))
    assert violence.split()[1:] == ["G", "G", "R?", "R?"]
    assert "? suspect figures" in table
    months = json.loads(render_backtest_json(run))["months"]
    assert months[2]["results"][0]["suspect"]["baseline_months"] == ["2020-03"]
    assert months[1]["results"][0]["suspect"] is None


def test_fire_on_suspect_lets_the_alert_fire() -> None:
    """With fire_on_suspect: true the same backtest sends the red alert in March."""
    text = RULES.replace("    severity: high\n", "    severity: high\n    fire_on_suspect: true\n")
    run = backtest(rules_from_text(text), town(), "2021-01", "2021-04")
    fired = [(month.evaluation.as_of, notice.kind) for month in run.months for notice in month.notifications]
    assert fired == [("2021-03", "firing")]


@pytest.mark.parametrize(("marked", "told"), [
    (True, [("2021-01", "firing")]),
    (False, [("2021-01", "firing"), ("2021-03", "resolved")]),
])
def test_suspect_figures_do_not_resolve_a_firing_alert(marked: bool, told: list[tuple[str, str]]) -> None:
    """A red alert fired in January is not told 'back on track' by a March that is green only through a fault."""
    values: list[float] = [100, 100, 400] + [100] * 9 + [150, 150, 100] + [100] * 9
    figures = FigureSet.from_figures(_figures(values, suspect={2: "double-counted month"} if marked else None))
    run = backtest(rules_from_text(RULES), figures, "2021-01", "2021-04")
    march = run.months[2].evaluation.get("town", "violence")
    assert march is not None and march.status == "green"
    assert [(month.evaluation.as_of, n.kind) for month in run.months for n in month.notifications] == told


def test_every_text_output_shows_the_suspect_side_and_months(tmp_path: Path) -> None:
    """Table (column and note), JSON, CSV and the spreadsheet each name the suspect side and month."""
    evaluation = evaluate(rules_from_text(RULES), town(), as_of="2021-03")
    table = render_table(evaluation)
    row = next(line for line in table.splitlines() if line.startswith("Violence"))
    assert "not tested: suspect figures" in row and "suspect: last year 2020-03" in row
    assert "; 1 on suspect figures" in table
    assert "Figures 'suspect':" in table and "fire_on_suspect: true" in table
    data = json.loads(render_json(evaluation))
    violence = next(r for r in data["results"] if r["measure"] == "violence")
    assert violence["suspect"]["sides"] == ["baseline"] and violence["not_tested"] == "suspect_figures"
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(render_csv(evaluation)))}
    assert rows["violence"]["suspect"] == "suspect: last year 2020-03"
    assert rows["satisfaction"]["suspect"] == ""
    import openpyxl

    sheet = openpyxl.load_workbook(write_xlsx_table(evaluation_rows(evaluation), tmp_path / "t.xlsx")).active
    values = list(sheet.iter_rows(values_only=True))
    column = values[0].index("Figures")  # no title given: the header is the first row
    assert [row[column] for row in values[1:]] == ["suspect: last year 2020-03", None]


def test_the_summary_email_and_report_carry_a_suspect_badge() -> None:
    """The email's both parts and the HTML report mark the suspect result and explain the mark."""
    rules, figures = rules_from_text(RULES), town()
    evaluation = evaluate(rules, figures, as_of="2021-03")
    summary = build_summary(rules, figures, evaluation, charts=False)
    row = next(r for r in summary.rows if r.measure == "violence")
    assert row.suspect == "last year's figure for 2020-03"
    assert summary.headline.suspect == 1
    item = next(i for i in summary.exceptions if i.row.measure == "violence")
    assert "suspect figures" in item.reasons
    message = render_summary_email(summary)
    assert message.html.count("badge-suspect") >= 2
    text = message.text
    report = render_report(summary)
    assert report.count('class="badge badge-suspect"') == 2  # the exception and the table row
    assert "Suspect figures: the result rests on figures flagged" in report
    # The note says what the table says: an alert rule can opt in (it once said "raises no alert" alone).
    assert "raises no alert unless the alert rule says fire_on_suspect: true" in report
    assert "SUSPECT FIGURES: last year&#39;s figure for 2020-03" not in report  # escaped, not raw
    assert "[SUSPECT FIGURES: last year's figure for 2020-03]" in text


def test_the_trend_chart_marks_the_suspect_year() -> None:
    """The exception's trend chart hatches last year's bar and says so in its table and alt text."""
    rules, figures = rules_from_text(RULES), town()
    evaluation = evaluate(rules, figures, as_of="2021-03")
    summary = build_summary(rules, figures, evaluation, charts=False)
    trend = next(c for c in summary.charts if c.kind == "trend" and c.measure == "violence")
    assert trend.spec.suspect == (True, False)
    assert trend.rows[0][1] == "262 (suspect figures)"
    assert "Hatched bars rest on suspect figures" in trend.alt


# ---- SPC: suspect points are left out of the limits and the rules, but drawn ----

def _xmr(values: Sequence[float]) -> tuple[float, float]:
    """Mean and upper limit of an XmR chart by hand: mean + 2.66 x mean moving range."""
    mean = math.fsum(values) / len(values)
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    return mean, mean + 2.66 * math.fsum(ranges) / len(ranges)


PLAIN = SpcSettings(baseline_points=None, screen_outliers=False)
"""Limits from every point, unscreened: the chart _xmr works out by hand."""


def test_spc_leaves_a_suspect_month_out_of_its_limits() -> None:
    """The fault's 4 neither widens the limits nor counts as a signal; it is still on the chart, marked."""
    labels = [f"{2020 + i // 12}-{i % 12 + 1:02d}" for i in range(len(STEADY))]
    chart = analyse_spc_columns(labels, STEADY, better="lower", exclude={"2020-03"}, settings=PLAIN)
    assert chart is not None
    kept = [v for i, v in enumerate(STEADY) if i != 2]
    mean, upper = _xmr(kept)
    assert chart.mean == pytest.approx(mean) and chart.upper_limit == pytest.approx(upper)
    assert chart.periods == tuple(labels) and chart.excluded == ("2020-03",)
    assert chart.rules[2] is None and chart.variations[2] == "common_cause"
    assert [p.period for p in chart.points() if p.excluded] == ["2020-03"]
    assert "2020-03 is marked suspect" in chart.explanation
    whole = analyse_spc_columns(labels, STEADY, better="lower", settings=PLAIN)
    assert whole is not None and whole.upper_limit > chart.upper_limit + 20  # the fault widened them
    assert whole.rules[2] == "outside_limits"


def test_spc_does_not_judge_a_suspect_latest_month() -> None:
    """When the latest month is the suspect one, its verdict is common cause and the explanation says why."""
    labels = [f"2020-{m:02d}" for m in range(1, 13)]
    values = [130.0, 128, 131, 129, 127, 133, 130, 126, 132, 129, 131, 3]
    chart = analyse_spc_columns(labels, values, better="lower", exclude={"2020-12"})
    assert chart is not None
    assert (chart.rule, chart.variation) == (None, "common_cause")
    assert chart.explanation.startswith("The latest month (2020-12: 3) is not judged.")


def test_spc_rebasing_at_a_suspect_month_starts_the_group_at_the_next_month() -> None:
    """A rebase month that is suspect starts the new group's limits at the next month kept."""
    labels = [f"2020-{m:02d}" for m in range(1, 13)]
    values = [10.0, 11, 12, 10, 11, 40, 30, 31, 29, 30, 32, 31]
    chart = analyse_spc_columns(labels, values, exclude={"2020-06"}, settings=PLAIN.model_copy(update={"rebase_at": ("2020-06",)}))
    assert chart is not None
    assert [(g.first_period, g.points, g.baseline_points) for g in chart.groups] == [
        ("2020-01", 6, 5), ("2020-07", 6, 6)]
    assert chart.mean == pytest.approx(sum(values[6:]) / 6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=4, max_size=40), st.data())
def test_excluding_a_point_gives_the_limits_of_the_series_without_it(values: list[int], data: st.DataObject) -> None:
    """For any series, the limits with a point excluded equal those of the series with the point removed."""
    labels = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(len(values))]
    drop = data.draw(st.sets(st.integers(0, len(values) - 1), max_size=len(values) - 2))
    chart = analyse_spc_columns(labels, values, exclude={labels[i] for i in drop})
    kept = [i for i in range(len(values)) if i not in drop]
    alone = analyse_spc_columns([labels[i] for i in kept], [values[i] for i in kept])
    assert chart is not None and alone is not None
    assert (chart.mean, chart.lower_limit, chart.upper_limit) == (alone.mean, alone.lower_limit, alone.upper_limit)
    assert [chart.rules[i] for i in kept] == list(alone.rules)
    assert all(chart.rules[i] is None for i in drop)
    assert sum(map(operator.attrgetter("points"), chart.groups)) == len(values)


def test_the_engine_excludes_suspect_months_from_the_chart() -> None:
    """The result's control chart leaves the suspect March 2020 out of its limits."""
    result = evaluate(rules_from_text(RULES), town(), as_of="2021-12").get("town", "violence")
    assert result is not None and result.spc is not None
    assert result.spc.excluded == ("2020-03",)
    kept = [i for i in range(len(STEADY)) if i != 2]
    alone = analyse_spc_columns([result.spc.periods[i] for i in kept], [STEADY[i] for i in kept],
                                settings=result.spc.settings)
    assert alone is not None
    assert (result.spc.mean, result.spc.upper_limit) == (alone.mean, alone.upper_limit)
    whole = analyse_spc_columns(result.spc.periods, STEADY, settings=result.spc.settings)
    assert whole is not None and whole.upper_limit != alone.upper_limit


def test_evaluate_command_shows_the_mark(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """`csp-monitor evaluate` on a figures file with a suspect column marks the result and exits 0."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    figures = tmp_path / "figures.csv"
    lines = ["area,measure,period,value,flag,reason"]
    for figure in town():
        flag = "suspect" if figure.suspect else ""
        lines.append(f"{figure.area},{figure.measure},{figure.period},{figure.value:g},{flag},{figure.suspect or ''}")
    figures.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("evaluate", rules, "--figures", figures, "--as-of", "2021-03")
    assert result.exit_code == 0, result.stderr
    assert "suspect: last year 2020-03" in result.stdout


def test_rules_explain_says_when_an_alert_fires_on_suspect_figures() -> None:
    """`rules explain` tells a reader that an alert with fire_on_suspect fires even on suspect figures."""
    from csp_monitor.authoring.explain import explain_alert

    plain = rules_from_text(RULES)
    opted = rules_from_text(RULES.replace("    severity: high\n", "    severity: high\n    fire_on_suspect: true\n"))
    assert "suspect" not in explain_alert(plain, plain.alerts[0])
    assert "it fires even on suspect figures (likely data faults)" in explain_alert(opted, opted.alerts[0])
