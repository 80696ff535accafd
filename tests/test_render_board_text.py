"""Board-facing text: no developer warnings, whole sentences, a/an before numbers, safe CSV, whole-period titles."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor.evaluation.engine import evaluate
from csp_monitor.evaluation.wording import article
from csp_monitor.load.figures import load_figures
from csp_monitor.load.rules import load_rules, rules_from_text
from csp_monitor.models.figures import Figure, FigureSet
from csp_monitor.render.messages import render_report, render_summary_email
from csp_monitor.render.summary import build_summary
from csp_monitor.render.table import evaluation_title, render_csv
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult

RULES = """\
partnership: Test Partnership
area: town
year_starts: 2013-04
priorities:
  - id: crime
    title: Reduce crime
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {{change: {change}}}
"""


def _rows(rows: list[tuple[str, str, str, float]]) -> FigureSet:
    return FigureSet.from_figures([Figure(area=a, measure=m, period=p, value=v) for a, m, p, v in rows])


def _with_unread_measure() -> tuple[object, FigureSet, object]:
    """Harborough's rules and figures plus figures for a measure no rule reads (a warning for the rule author)."""
    rules = load_rules(HARBOROUGH_RULES)
    figures = FigureSet()  # a loaded set is frozen: a new one holds both
    figures.merge(load_figures(HARBOROUGH_FIGURES))
    figures.merge(_rows([("harborough", "parking-fines", f"2013-{m:02d}", 5.0) for m in range(4, 13)]))
    return rules, figures, evaluate(rules, figures, as_of="2014-03")


def test_the_report_and_summary_footers_carry_no_developer_warnings() -> None:
    """A warning meant for the rule author (figures no rule reads) stays out of the report and the summary email."""
    rules, figures, evaluation = _with_unread_measure()
    assert any("parking-fines" in w for w in evaluation.warnings)  # type: ignore[attr-defined]
    summary = build_summary(rules, figures, evaluation, charts=False)  # type: ignore[arg-type]
    email = render_summary_email(summary)
    for text in (render_report(summary), email.html, email.text):
        assert "parking-fines" not in text and "no rule reads it" not in text and "Note:" not in text
    assert "Green: the target is met." in email.text


def test_every_sentence_of_the_table_ends_with_a_full_stop() -> None:
    """Each measure's sentence in the report ends with a full stop, e.g. '... (p = 0.117).'"""
    rules = load_rules(HARBOROUGH_RULES)
    figures = load_figures(HARBOROUGH_FIGURES)
    summary = build_summary(rules, figures, evaluate(rules, figures, as_of="2014-03"), charts=False)
    sentences = [row.sentence for group in summary.groups for row in group.rows]
    assert len(sentences) == 10 and all(s.endswith(".") for s in sentences)
    assert ("Theft Of Motor Vehicle is up 42.1% (16 more than last year) against a target of a 10% reduction: "
            "red, but the rise is within normal variation (p = 0.117).") in sentences
    assert "(p = 0.117). A rise this large" in render_report(summary)


@pytest.mark.parametrize(("number", "word"), [
    ("8%", "an"), ("11%", "an"), ("18%", "an"), ("80%", "an"), ("85%", "an"), ("8.5%", "an"), ("800%", "an"),
    ("11,000", "an"), ("1%", "a"), ("13%", "a"), ("10%", "a"), ("110%", "a"), ("180%", "a"), ("0.5%", "a"),
    ("1800", "a"), ("100%", "a"),
])
def test_the_article_agrees_with_the_number_said_aloud(number: str, word: str) -> None:
    """'an 8%', 'an 11%', 'an 18%', 'an 80%'; 'a 13%', 'a 110%' (one hundred and ten), 'a 1800' (one thousand ...)."""
    assert article(number) == word


@pytest.mark.parametrize(("change", "phrase"), [
    ("-8%", "against a target of an 8% reduction"), ("-11%", "against a target of an 11% reduction"),
    ("-18%", "against a target of an 18% reduction"), ("-13%", "against a target of a 13% reduction"),
])
def test_results_say_an_8_percent_reduction(change: str, phrase: str) -> None:
    """The result's sentence agrees its article with the target's number."""
    rules = rules_from_text(RULES.format(change=change))
    figures = _rows([("town", "burglary", f"{y}-{m:02d}", 10.0)
                                   for y in (2012, 2013) for m in range(1, 13)]
                                  + [("town", "burglary", f"2014-{m:02d}", 9.0) for m in range(1, 4)])
    result = evaluate(rules, figures, as_of="2014-03").get("town", "burglary")
    assert result is not None and phrase in result.summary


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_writes_a_change_target_in_words_without_an_apostrophe() -> None:
    """'-13%' would need a protective apostrophe; '13% reduction' needs none and cannot run as a formula."""
    rules = load_rules(HARBOROUGH_RULES)
    figures = load_figures(HARBOROUGH_FIGURES)
    rows = {row["measure"]: row for row in _csv_rows(render_csv(evaluate(rules, figures, as_of="2014-03")))}
    assert rows["domestic-burglary"]["target"] == "13% reduction"
    assert rows["user-satisfaction"]["target"] == "at least 85%"
    assert rows["criminal-damage"]["target"] == ""
    assert not any(row["target"].startswith(("'", "=", "+", "-", "@")) for row in rows.values())


@pytest.mark.parametrize(("change", "better", "words"), [
    ("-5%", "lower", "5% reduction"), ("+5%", "higher", "5% increase"), ("+5%", "lower", "rise of no more than 5%"),
    ("-5%", "higher", "fall of no more than 5%"), ("0%", "lower", "no increase"),
])
def test_every_kind_of_change_target_reads_in_words(change: str, better: str, words: str) -> None:
    """Each change target, whichever way is better, is written in words in the CSV."""
    rules = rules_from_text(RULES.format(change=change).replace("better: lower", f"better: {better}"))
    figures = _rows([("town", "burglary", f"2013-{m:02d}", 10.0) for m in range(4, 13)])
    [row] = _csv_rows(render_csv(evaluate(rules, figures, as_of="2013-12")))
    assert row["target"] == words


def test_a_name_that_looks_like_a_formula_is_still_protected() -> None:
    """Where text starts with '=' the apostrophe is still written: only needless ones are gone."""
    rules = rules_from_text(RULES.format(change="-13%").replace("name: Burglary", "name: '=HYPERLINK(1)'"))
    figures = _rows([("town", "burglary", f"2013-{m:02d}", 10.0) for m in range(4, 13)])
    [row] = _csv_rows(render_csv(evaluate(rules, figures, as_of="2013-12")))
    assert row["name"] == "'=HYPERLINK(1)" and row["target"] == "13% reduction"


def test_the_xlsx_title_names_the_whole_period(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """The workbook's title gives both periods compared, not '2013/14 to 2014-03'."""
    from openpyxl import load_workbook

    out = tmp_path / "results.xlsx"
    done = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
               "--format", "xlsx", "--out", out)
    assert done.exit_code == 0, done.stderr
    title = load_workbook(out).active["A1"].value  # type: ignore[index]
    assert title == ("Harborough District Community Safety Partnership: April 2013 to March 2014 "
                     "(reporting year 2013/14), compared with April 2012 to March 2013")
    rules = load_rules(HARBOROUGH_RULES)
    assert evaluation_title(evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2013-09")).endswith(
        "April 2013 to September 2013 (reporting year 2013/14), compared with April 2012 to September 2012")


def test_an_alert_email_message_ends_with_a_full_stop() -> None:
    """The default alert message (the result's summary) reads as a sentence in the email."""
    from csp_monitor.models.decisions import Notification
    from csp_monitor.render.alerts import build_alert_email, render_alert_email

    rules = load_rules(HARBOROUGH_RULES)
    evaluation = evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    result = evaluation.get("harborough", "domestic-burglary")
    assert result is not None and not result.summary.endswith(".")
    notice = Notification(key="k", alert="off-target", kind="firing", area="harborough",
                          measure="domestic-burglary", period="2014-03", recipients=("a@example.org",),
                          message=result.summary)
    email = build_alert_email(rules, evaluation, "a@example.org", [notice])
    assert email.items[0].message == result.summary + "."
    assert result.summary + "." in render_alert_email(email).text
