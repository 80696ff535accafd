"""Sensitive measures: counts below 5 are never shown, anywhere, and the email is marked sensitive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csp_monitor.delivery.message import SENSITIVITY, build_message, serialise
from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.rules import rules_from_text
from csp_monitor.models.figures import FigureSet
from csp_monitor.periods import parse_month
from csp_monitor.render.messages import (
    SENSITIVE_PREFIX,
    RenderedEmail,
    render_report,
    render_summary_email,
)
from csp_monitor.render.summary import RiskSummary, build_summary

RULES = """\
partnership: Test CSP
area: town
priorities:
  - id: vulnerable
    title: Support vulnerable people
    measures:
      - id: hate-crime
        name: Hate Crime Reports
        better: higher
        sensitive: true
        target: {change: +10%}
      - {id: burglary, name: Burglary, better: lower}
"""

# Hate crime: 4 reports this year (fewer than 5), 9 last year. Burglary is not sensitive.
THIS_YEAR = [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]
LAST_YEAR = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1]


@pytest.fixture(scope="module")
def summary() -> RiskSummary:
    """A summary with one sensitive measure whose count this year is 4."""
    rules = rules_from_text(RULES)
    figures = FigureSet()
    for offset, (now, before) in enumerate(zip(THIS_YEAR, LAST_YEAR, strict=True)):
        figures.add("town", "hate-crime", parse_month("2013-04") + offset, now)
        figures.add("town", "hate-crime", parse_month("2012-04") + offset, before)
        figures.add("town", "burglary", parse_month("2013-04") + offset, 3)
        figures.add("town", "burglary", parse_month("2012-04") + offset, 2)
    evaluation = evaluate(rules, figures, as_of="2014-03")
    assert evaluation.get("town", "hate-crime").current == 4  # type: ignore[union-attr]
    return build_summary(rules, figures, evaluation)


def test_a_small_count_is_shown_as_fewer_than_5(summary: RiskSummary) -> None:
    """The sensitive row shows 'fewer than 5' and withholds the difference and change that would give it away."""
    row = next(row for row in summary.rows if row.measure == "hate-crime")
    assert (row.current, row.baseline, row.difference, row.change) == ("fewer than 5", "9", "not shown", "not shown")
    assert row.suppressed and "fewer than 5" in row.sentence
    assert "4" not in row.sentence


def test_statistics_sentences_do_not_quote_a_small_count(summary: RiskSummary) -> None:
    """The SPC and projection sentences, which quote values, are reworded or withheld for sensitive measures."""
    row = next(row for row in summary.rows if row.measure == "hate-crime")
    assert row.spc is not None and not any(ch.isdigit() for ch in row.spc)
    assert row.projection is None


def test_other_measures_are_not_suppressed(summary: RiskSummary) -> None:
    """A count below 5 of a measure not marked sensitive is shown as it is."""
    row = next(row for row in summary.rows if row.measure == "burglary")
    assert not row.suppressed and row.current == "36"


def test_charts_neither_draw_nor_list_a_small_count(summary: RiskSummary) -> None:
    """The trend and SPC charts leave the small values out of the drawing, the alt text and the table."""
    charts = [chart for chart in summary.charts if chart.measure == "hate-crime"]
    assert {chart.kind for chart in charts} >= {"trend"}
    for chart in charts:
        assert chart.spec.values.count(None) >= 1
        assert all(value is None or value >= 5 for value in chart.spec.values)
        for line in chart.rows:
            assert not any(cell in {"0", "1", "2", "3", "4"} for cell in line[1:]), line
    trend = next(chart for chart in charts if chart.kind == "trend")
    assert trend.rows[-1][1] == "fewer than 5"
    assert "2013/14: fewer than 5" in trend.alt


def test_the_email_is_marked_sensitive_and_never_shows_the_count(summary: RiskSummary) -> None:
    """Subject prefix, Sensitivity header, a banner, and no raw count in either part."""
    rendered = render_summary_email(summary)
    assert rendered.sensitive and rendered.subject.startswith(f"{SENSITIVE_PREFIX} ")
    message = build_message(rendered, sender="csp@example.org", recipients=["board@example.org"], key="k",
                            date=datetime(2014, 4, 10, tzinfo=UTC))
    assert message["Sensitivity"] == SENSITIVITY
    assert "OFFICIAL-SENSITIVE" in rendered.text and "OFFICIAL-SENSITIVE" in rendered.html
    result_sentence = "Hate Crime Reports is down 55.6%"
    for part in (rendered.text, rendered.html, render_report(summary)):
        assert "fewer than 5" in part
        assert result_sentence not in part
    assert b"Sensitivity: Company-Confidential" in serialise(message)


def test_an_email_without_sensitive_measures_is_not_marked() -> None:
    """No prefix and no Sensitivity header when nothing sensitive is included."""
    rendered = RenderedEmail(kind="summary", subject="Risk summary", text="t", html="<p>h</p>", sensitive=False)
    message = build_message(rendered, sender="csp@example.org", recipients=["board@example.org"], key="k",
                            date=datetime(2014, 4, 10, tzinfo=UTC))
    assert message["Sensitivity"] is None and not str(message["Subject"]).startswith(SENSITIVE_PREFIX)
