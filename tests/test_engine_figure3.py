"""Golden test: the bundled Harborough example reproduces Figure 3 of the 2013/14 review."""

from __future__ import annotations

import json

import pytest

from csp_monitor import evaluate, load_figures, load_rules
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

# Figure 3, "Harborough District CSP Performance against targets", 1 April 2013 - 31 March 2014:
# measure: (target, current position, YTD difference, YTD % change); the status follows from them.
FIGURE_3 = {
    "total-crime": ("-5%", 2778, 5, 0.2, "red"),
    "domestic-burglary": ("-13%", 253, 100, 65.4, "red"),
    "commercial-burglary": (None, 106, -1, -0.9, "no_target"),
    "theft-from-motor-vehicle": ("-14%", 284, -51, -15.2, "green"),
    "theft-of-motor-vehicle": ("-10%", 54, 16, 42.1, "red"),
    "violence-with-injury": ("-2%", 176, 13, 8.0, "red"),
    "domestic-violence-with-injury": (None, 68, 9, 15.3, "no_target"),
    "criminal-damage": (None, 412, -78, -15.9, "no_target"),
    "asb-incidents": (None, 1159, -110, -8.7, "no_target"),
}


@pytest.fixture(scope="module")
def evaluation():  # type: ignore[no-untyped-def]
    return evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of="2014-03")


@pytest.mark.parametrize("measure", sorted(FIGURE_3))
def test_figure_3_row(evaluation, measure: str) -> None:  # type: ignore[no-untyped-def]
    """Each Figure 3 row's current position, difference and % change (1 dp) and status are reproduced."""
    target, current, difference, change, status = FIGURE_3[measure]
    result = evaluation.get("harborough", measure)
    assert result is not None
    assert result.current == current
    assert result.difference == difference
    assert round(result.change_pct, 1) == change
    assert (result.target.text if result.target else None) == target
    assert result.status == status


def test_user_satisfaction_is_three_points_over_target(evaluation) -> None:  # type: ignore[no-untyped-def]
    """User satisfaction is 88% against a target of at least 85%: "3% over target", green."""
    result = evaluation.get("harborough", "user-satisfaction")
    assert result.current == 88
    assert result.status == "green"
    assert "3 points above a target of at least 85%" in result.summary


def test_domestic_burglary_summary_sentence(evaluation) -> None:  # type: ignore[no-untyped-def]
    """The summary sentence reads as the issue specifies."""
    result = evaluation.get("harborough", "domestic-burglary")
    assert result.summary == (
        "Domestic Burglary is up 65.4% (100 more than last year) against a target of a 13% reduction: red, "
        "and the rise is statistically significant (p < 0.001)"
    )


def test_every_measure_of_the_rules_has_one_result(evaluation) -> None:  # type: ignore[no-untyped-def]
    """One result per measure, in rule order, for the one area the rules name."""
    measures = [m.id for _, m in load_rules(HARBOROUGH_RULES).measures()]
    assert [r.measure for r in evaluation.results] == measures
    assert {r.area for r in evaluation.results} == {"harborough"}
    assert evaluation.reporting_year == "2013/14"


def test_cli_json_matches_figure_3(cli) -> None:  # type: ignore[no-untyped-def]
    """`csp-monitor evaluate --format json` prints the Figure 3 figures and statuses."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03", "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["as_of"] == "2014-03"
    rows = {r["measure"]: r for r in data["results"]}
    for measure, (_, current, difference, change, status) in FIGURE_3.items():
        row = rows[measure]
        assert (row["current"], row["difference"], round(row["change_pct"], 1), row["status"]) == (
            current, difference, change, status)
        for key in ("area", "name", "priority", "baseline", "target", "direction", "summary"):
            assert key in row


def test_cli_table_groups_by_priority(cli) -> None:  # type: ignore[no-untyped-def]
    """The table shows each priority heading before its measures, with RAG words."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES)
    assert out.exit_code == 0, out.stderr
    text = out.stdout
    assert text.index("[To reduce serious acquisitive crime]") < text.index("Domestic Burglary")
    assert "4 red, 0 amber, 2 green, 4 monitored, 0 without data" in text
    assert "\x1b[" not in text  # not a terminal: no colour codes


def test_cli_csv_has_one_row_per_measure(cli) -> None:  # type: ignore[no-untyped-def]
    """CSV output has a header and one row per measure."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--format", "csv")
    assert out.exit_code == 0
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("area,priority,measure,name,target,current")
    assert len(lines) == 1 + len(FIGURE_3) + 1


def test_cli_table_separates_real_change_from_chance(cli) -> None:  # type: ignore[no-untyped-def]
    """The table marks domestic burglary's rise as real and theft of motor vehicles' as chance."""
    out = cli("evaluate", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    lines = {line.split("  ")[0]: line for line in out.stdout.splitlines()}
    assert "real rise (p<0.001)" in lines["Domestic Burglary"]
    assert "chance (p=0.117)" in lines["Theft Of Motor Vehicle"]
    assert "real fall (p=0.044)" in lines["Theft From Motor Vehicle"]
