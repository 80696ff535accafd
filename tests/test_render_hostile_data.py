"""Hostile data in rule files and figures is shown as text: never run as HTML or as a template."""

from __future__ import annotations

import re

import pytest

from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.rules import rules_from_text
from csp_monitor.models.figures import FigureSet
from csp_monitor.periods import parse_month
from csp_monitor.render.messages import RenderedEmail, render_report, render_summary_email
from csp_monitor.render.summary import build_summary

RULES = """\
partnership: "Test <b>CSP</b> & Co"
area: town
priorities:
  - id: crime
    title: "{{ 7*7 }} priority"
    owner: lead@example.org
    measures:
      - id: burglary
        name: "<script>alert('pwned')</script>"
        description: "{{ 7*7 }} and {% for x in range(3) %}loop{% endfor %}"
        better: lower
        target: {change: -10%}
"""


def _figures() -> FigureSet:
    """Two full reporting years, the second worse: a red measure with a trend chart."""
    figures = FigureSet()
    for offset in range(12):
        figures.add("town", "burglary", parse_month("2012-04") + offset, 10)
        figures.add("town", "burglary", parse_month("2013-04") + offset, 15)
    return figures


@pytest.fixture(scope="module")
def email() -> RenderedEmail:
    """The summary email of a rule set whose names are HTML and Jinja2 syntax."""
    rules = rules_from_text(RULES)
    figures = _figures()
    return render_summary_email(build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03")))


def test_html_in_a_name_is_escaped_in_the_html_part(email: RenderedEmail) -> None:
    """A measure named <script> appears escaped, never as a tag."""
    assert "<script" not in email.html
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in email.html
    assert "<b>CSP</b>" not in email.html and "Test &lt;b&gt;CSP&lt;/b&gt; &amp; Co" in email.html


def test_template_syntax_in_data_is_shown_not_run(email: RenderedEmail) -> None:
    """'{{ 7*7 }}' in a title stays '{{ 7*7 }}', in both parts; it never becomes 49."""
    assert "{{ 7*7 }} priority" in email.text
    assert "{{ 7*7 }} priority" in email.html
    assert "49 priority" not in email.text + email.html


def test_the_text_part_shows_names_as_written(email: RenderedEmail) -> None:
    """The plain-text part is not HTML: names are shown exactly, without entities."""
    assert "<script>alert('pwned')</script>" in email.text
    assert "&lt;" not in email.text


def test_the_alt_text_of_a_chart_is_escaped_too(email: RenderedEmail) -> None:
    """Alt text carries the measure's name inside an attribute, escaped."""
    alts = re.findall(r'alt="([^"]*)"', email.html)
    assert alts and all("&lt;script&gt;alert" in alt for alt in alts)


def test_the_report_escapes_the_same_way() -> None:
    """The standalone report escapes names and has no script of its own."""
    rules = rules_from_text(RULES)
    figures = _figures()
    report = render_report(build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03"), charts=False))
    assert "<script" not in report
    assert "{{ 7*7 }} priority" in report
