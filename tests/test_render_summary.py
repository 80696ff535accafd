"""The risk summary's content: headline, exceptions first, the Figure 3 table by priority, charts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.figures import load_figures
from csp_monitor.load.rules import load_rules, rules_from_text
from csp_monitor.models.figures import FigureSet
from csp_monitor.periods import parse_month
from csp_monitor.render.messages import render_report, render_summary_email
from csp_monitor.render.summary import RiskSummary, build_summary, previous_evaluation
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

# Figure 3 of the seed, as DOMAIN.md works it through.
RED = {"total-crime", "domestic-burglary", "theft-of-motor-vehicle", "violence-with-injury"}
GREEN = {"theft-from-motor-vehicle", "user-satisfaction"}
MONITORED = {"commercial-burglary", "criminal-damage", "asb-incidents", "domestic-violence-with-injury"}


@pytest.fixture(scope="module")
def harborough() -> RiskSummary:
    """The Harborough summary for March 2014, without charts."""
    rules = load_rules(HARBOROUGH_RULES)
    figures = load_figures(HARBOROUGH_FIGURES)
    evaluation = evaluate(rules, figures, as_of="2014-03")
    return build_summary(rules, figures, evaluation, previous=previous_evaluation(rules, figures, evaluation),
                         charts=False)


@pytest.fixture(scope="module")
def charted() -> RiskSummary:
    """The Harborough summary for March 2014, with its charts drawn."""
    rules = load_rules(HARBOROUGH_RULES)
    figures = load_figures(HARBOROUGH_FIGURES)
    return build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03"))


def test_the_headline_counts_red_amber_green_as_figure_3_does(harborough: RiskSummary) -> None:
    """Four red, none amber, two green and four monitored, in numbers and in the sentence."""
    headline = harborough.headline
    assert (headline.red, headline.amber, headline.green, headline.monitored) == (
        len(RED), 0, len(GREEN), len(MONITORED))
    assert "4 red, 0 amber and 2 green" in headline.sentence
    assert "4 more are monitored" in headline.sentence


def test_red_measures_come_first_among_the_exceptions(harborough: RiskSummary) -> None:
    """Every red measure is an exception, red before anything else, green ones are not."""
    ids = [item.row.measure for item in harborough.exceptions]
    statuses = [item.row.status for item in harborough.exceptions]
    assert set(ids) >= RED
    assert not GREEN & set(ids)
    assert statuses == sorted(statuses, key=lambda s: {"red": 0, "amber": 1}.get(s, 2))


def test_the_table_lists_every_measure_once_grouped_by_priority_in_rule_order(harborough: RiskSummary) -> None:
    """The full table follows the rule file: priority by priority, each measure once."""
    rules = load_rules(HARBOROUGH_RULES)
    expected = [(priority.title, measure.id) for priority, measure in rules.measures()]
    assert [(group.title, row.measure) for group in harborough.groups for row in group.rows] == expected
    assert harborough.empty_priorities == ("To improve road safety",)


def test_the_figures_are_formatted_for_reading(harborough: RiskSummary) -> None:
    """Domestic burglary reads 253 against 153, +100, +65.4%, with its -13% target."""
    row = next(row for row in harborough.rows if row.measure == "domestic-burglary")
    assert (row.current, row.baseline, row.difference, row.change, row.target) == (
        "253", "153", "+100", "+65.4%", "-13%")


def _two_months(march_value: int) -> tuple[FigureSet, str]:
    rules = """\
partnership: Test CSP
area: town
priorities:
  - id: crime
    title: Reduce crime
    measures:
      - {id: burglary, name: Burglary, better: lower, target: {change: -10%}}
"""
    figures = FigureSet()
    for month in range(parse_month("2013-02"), parse_month("2013-04")):
        figures.add("town", "burglary", month, 50)
    figures.add("town", "burglary", parse_month("2014-02"), 40)
    figures.add("town", "burglary", parse_month("2014-03"), march_value)
    return figures, rules


def test_a_status_change_since_last_month_is_in_the_headline_and_the_exceptions() -> None:
    """A measure that was green in February and is red in March is named as a change, and picked out."""
    figures, text = _two_months(march_value=80)
    rules = rules_from_text(text)
    now = evaluate(rules, figures, as_of="2014-03")
    before = evaluate(rules, figures, as_of="2014-02")
    assert before.results[0].status == "green" and now.results[0].status == "red"
    summary = build_summary(rules, figures, now, previous=before, charts=False)
    assert summary.headline.changes == ("Burglary is now red; it was green in February 2014.",)
    assert summary.headline.changes_sentence == "1 measure changed status since February 2014."
    assert "worse than last month" in summary.exceptions[0].reasons


def test_without_an_earlier_month_the_headline_says_so() -> None:
    """With no previous evaluation the summary says there is nothing to compare with."""
    figures, text = _two_months(march_value=80)
    rules = rules_from_text(text)
    summary = build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03"), charts=False)
    assert summary.headline.changes_sentence == "There is no earlier month to compare with."


def test_each_exception_gets_a_trend_chart_with_alt_text_and_its_numbers(charted: RiskSummary) -> None:
    """Charts are drawn for exception measures only, each with alt text and a table of the same numbers."""
    summary = charted
    trends = {chart.measure: chart for chart in summary.charts if chart.kind == "trend"}
    assert set(trends) == {item.row.measure for item in summary.exceptions}
    burglary = trends["domestic-burglary"]
    assert burglary.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert burglary.rows == (("2012/13", "153", "-"), ("2013/14", "253", "+100"))
    assert "2012/13: 153; 2013/14: 253" in burglary.alt
    assert "target for 2013/14 is 133.1" in burglary.alt  # 153 x (1 - 13%)


def test_the_email_refers_to_each_chart_by_content_id_and_the_report_embeds_it(charted: RiskSummary) -> None:
    """The email's images are cid: links to its parts; the report's are data: URIs (no external resources)."""
    summary = charted
    email = render_summary_email(summary)
    assert {image.content_id for image in email.images} == {chart.content_id for chart in summary.charts}
    for image in email.images:
        assert f'src="cid:{image.content_id}"' in email.html
    report = render_report(summary)
    assert report.count('src="data:image/png;base64,') == len(summary.charts)
    assert "http://" not in report and "https://" not in report and "<script" not in report


def test_without_charts_the_tables_stay_and_no_image_is_referenced(harborough: RiskSummary) -> None:
    """charts: false keeps each chart's numbers as a table but refers to no image."""
    email = render_summary_email(harborough)
    assert harborough.charts and not email.images
    assert "<img" not in email.html
    assert "Reporting year" in email.html


def test_charts_use_no_pyplot_state() -> None:
    """Drawing the summary's charts never imports matplotlib.pyplot (no global figure state in the daemon)."""
    code = (
        "import sys\n"
        "from csp_monitor.load.rules import load_rules\n"
        "from csp_monitor.load.figures import load_figures\n"
        "from csp_monitor.evaluation.engine import evaluate\n"
        "from csp_monitor.render.summary import build_summary\n"
        f"rules = load_rules({str(HARBOROUGH_RULES)!r}); figures = load_figures({str(HARBOROUGH_FIGURES)!r})\n"
        "summary = build_summary(rules, figures, evaluate(rules, figures, as_of='2014-03'))\n"
        "assert summary.charts and all(c.png for c in summary.charts)\n"
        "print('matplotlib.pyplot' in sys.modules, 'matplotlib.figure' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_the_text_part_puts_each_exception_sentence_on_its_own_line(harborough: RiskSummary) -> None:
    """Regression: a heading line ending in a template tag swallowed its newline and ran into the sentence."""
    lines = render_summary_email(harborough).text.splitlines()
    heading = next(index for index, line in enumerate(lines) if line.startswith("* Domestic Burglary: RED"))
    assert lines[heading].endswith(("RED", ")"))
    assert lines[heading + 1].startswith("  Domestic Burglary is up 65.4%")
