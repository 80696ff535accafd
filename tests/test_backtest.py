"""``csp-monitor backtest``: month-by-month statuses and the alerts that would have gone out, to whom."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult

RULES = """\
partnership: Test CSP
area: testshire
year_starts: 2013-04
tolerance: 5
recipients:
  board: [board@example.org]
priorities:
  - id: acquisitive
    title: Acquisitive crime
    owner: lead@example.org
    measures:
      - {id: domestic-burglary, name: Domestic Burglary, better: lower, target: {change: -13%}}
alerts:
  - {id: off-target, when: {status: red}, notify: [owner, board]}
  - {id: slipping, when: {status: amber}, for: 2, notify: [owner]}
"""

# Ten burglaries a month last year; this year 8, 10, 9, 12, 6, 5: year to date -20%, -10%, -10%, -2.5%,
# -10% and -16.7% against a -13% target with a 5-point amber band: G, A, A, R, A, G.
THIS_YEAR = [8, 10, 9, 12, 6, 5]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with the test rules and two years of figures."""
    (tmp_path / "rules.yaml").write_text(RULES)
    rows = ["area,measure,period,value"]
    rows += [f"testshire,domestic-burglary,{2012 + (m > 12)}-{(m - 1) % 12 + 1:02d},10" for m in range(4, 16)]
    rows += [f"testshire,domestic-burglary,2013-{m:02d},{v}" for m, v in zip(range(4, 10), THIS_YEAR, strict=True)]
    (tmp_path / "figures.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def run(cli: Callable[..., CliResult], folder: Path, *extra: str) -> CliResult:
    return cli("backtest", folder / "rules.yaml", "--figures", folder / "figures.csv", "--from", "2013-04",
               "--to", "2013-09", *extra)


def test_statuses_month_by_month(cli: Callable[..., CliResult], folder: Path) -> None:
    """Each month is judged on its own year to date, so the grid shows G A A R A G."""
    result = run(cli, folder)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "Test CSP: backtest 2013-04 to 2013-09",
        "R red, A amber, G green, - monitored, . no data",
        "",
        "                  2013",
        "Measure           Apr May Jun Jul Aug Sep",
        "Domestic Burglary G   A   A   R   A   G",
    ]


def test_alerts_carry_their_memory_from_month_to_month(cli: Callable[..., CliResult], folder: Path) -> None:
    """'for: 2' fires in the second amber month, not the first; red tells the owner and the board."""
    pytest.importorskip("csp_monitor.alerts.decide")
    result = run(cli, folder)
    notices = [line.strip() for line in result.stdout.splitlines() if line.startswith("  2013-")]
    assert notices[0] == "2013-06  slipping firing: Domestic Burglary -> lead@example.org"
    assert notices[1] == "2013-07  off-target firing: Domestic Burglary -> lead@example.org, board@example.org"
    assert not any(line.startswith("2013-05") for line in notices)


def test_json_gives_every_month(cli: Callable[..., CliResult], folder: Path) -> None:
    """--format json lists each month's results and notifications."""
    data = json.loads(run(cli, folder, "--format", "json").stdout)
    assert [month["as_of"] for month in data["months"]] == [f"2013-0{m}" for m in range(4, 10)]
    assert [month["results"][0]["status"] for month in data["months"]] == [
        "green", "amber", "amber", "red", "amber", "green"]
    assert data["months"][3]["results"][0]["current"] == 39


def test_nothing_is_written(cli: Callable[..., CliResult], folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backtest creates no state store, outbox or any other file."""
    monkeypatch.chdir(folder)
    before = sorted(path.name for path in folder.iterdir())
    assert run(cli, folder).exit_code == 0
    assert sorted(path.name for path in folder.iterdir()) == before


def test_harborough_year_has_a_row_per_measure(cli: Callable[..., CliResult]) -> None:
    """The Harborough year shows every measure for every month, monitored ones as '-'."""
    result = cli("backtest", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--from", "2013-04",
                 "--to", "2014-03")
    rows = {line[:30].strip(): line[30:].split() for line in result.stdout.splitlines()[5:15]}
    assert rows["Domestic Burglary"] == ["R"] * 12
    assert rows["Criminal Damage"] == ["-"] * 12
    assert rows["User Satisfaction"] == ["G"] * 12
    assert "No alerts were decided: the rules have no alert rules." in result.stdout


@pytest.mark.parametrize(("first", "last", "code", "message"), [
    ("2014-03", "2013-04", 1, "<arguments>: --to 2013-04 is before --from 2014-03"),
    ("1990-01", "2013-04", 1, "months is more than a backtest needs"),
    ("April", "2013-04", 2, "'April' is not a month"),
])
def test_bad_ranges_are_refused(cli: Callable[..., CliResult], folder: Path, first: str, last: str, code: int,
                                message: str) -> None:
    """A range that ends before it starts, spans decades or is not made of months is refused plainly."""
    result = cli("backtest", folder / "rules.yaml", "--figures", folder / "figures.csv", "--from", first,
                 "--to", last)
    assert result.exit_code == code
    assert message in result.stderr


def test_months_without_figures_and_another_reporting_year_are_warned_once(tmp_path: Path) -> None:
    """backtest (a process of its own) over months past the figures says they have no figures and could alert no
    one, and names the other reporting year once for the range, not once per month."""
    from tests.security.bounded_cli import run_cli

    run = run_cli("backtest", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--from", "2014-01", "--to",
                  "2014-06")
    assert run.exit_code == 0, run.output
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: there are no figures for 3 months (2014-04 to 2014-06) of the backtest: the figures for the "
        "rules' measures run from 2012-04 to 2014-03; those months show no data and could alert no one",
        "warning: the rules are for the reporting year 2013/14, but 2014-04 to 2014-06 fall in 2014/15: check the "
        "targets still apply"]


def test_months_past_the_figures_late_in_a_year_are_marked_partial_not_called_no_data(tmp_path: Path) -> None:
    """Figures end in December 2013: January to March 2014 are still judged on April-December, so the grid
    marks them "*" and the warning says they repeat that comparison (it said they "show no data" beside an R);
    April 2014, a new year with no figures, shows no data."""
    from tests.security.bounded_cli import run_cli

    figures = tmp_path / "figures.csv"
    lines = HARBOROUGH_FIGURES.read_text(encoding="utf-8").splitlines()
    figures.write_text("\n".join(line for line in lines if ",2014-" not in line) + "\n", encoding="utf-8")
    run = run_cli("backtest", HARBOROUGH_RULES, "--figures", figures, "--from", "2013-11", "--to", "2014-04")
    assert run.exit_code == 0, run.output
    assert ("warning: there are no figures for 4 months (2014-01 to 2014-04) of the backtest: the figures for the "
            "rules' measures run from 2012-04 to 2013-12; 2014-01 to 2014-03 repeat the comparison of the "
            "year's earlier months (marked * in the grid: only the months with figures are compared); 2014-04 "
            "shows no data and could alert no one") in run.stderr
    burglary = next(line for line in run.stdout.splitlines() if line.startswith("Domestic Burglary"))
    assert burglary.split()[2:] == ["R", "R", "R*", "R*", "R*", "."]
    assert "* part of the year: months are missing, so only the months with figures are compared" in run.stdout
