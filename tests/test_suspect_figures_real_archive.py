"""Issue 11 on the real Leicestershire archive: March 2020's fault no longer makes a red "real rise" or an alert."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor import FigureSet, evaluate, load_figures, rules_from_text
from csp_monitor.authoring.backtest import backtest
from csp_monitor.authoring.backtest_report import render_backtest_table
from csp_monitor.importers import import_police_uk
from tests.conftest import CliResult
from tests.police_uk_fixtures import (
    LEICESTERSHIRE,
    LOOKUP,
    TOTAL_AND_VIOLENCE_MEASURES,
    district_total,
)

# The issue's rule set: a calendar year, so last year's January-March holds March 2020's fault.
RULES = """\
partnership: Harborough District Community Safety Partnership
area: harborough
year_starts: 2021-01
tolerance: 5
statistics:
  spc: {baseline_points: 100, screen_outliers: false}   # limits from every month, unscreened, as in the issue
priorities:
  - id: overall-crime
    title: To reduce overall crime
    owner: community.safety@example.org
    measures:
""" + TOTAL_AND_VIOLENCE_MEASURES + """\
alerts:
  - id: off-target
    when: {status: red}
    severity: high
    notify: [owner]
"""

_CACHE: dict[str, Path] = {}


@pytest.fixture
def figures_file(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive imported once by `import_police_uk` (skips when ../shared is absent)."""
    if "file" not in _CACHE:
        out = tmp_path_factory.mktemp("leicestershire") / "figures.csv"
        import_police_uk(LEICESTERSHIRE, lookup=LOOKUP, out=out)
        _CACHE["file"] = out
    return _CACHE["file"]


def _harborough(kind: str | None, months: list[str]) -> int:
    """Harborough's crimes of one type (None: every crime but ASB) in ``months``, counted with the csv module."""
    return district_total(LEICESTERSHIRE, "harborough", kind, months)


def _unmarked(figures: FigureSet) -> FigureSet:
    """The same figures with every suspect mark removed: what csp-monitor judged before the fix."""
    plain = FigureSet()
    for key in figures.series_keys():
        for month, value in figures.series(*key).items():
            plain.add(*key, month, value)
    return plain


def test_violence_as_of_march_2021_is_flagged_not_a_real_rise(figures_file: Path) -> None:
    """The issue's +55.4% red 'real rise': still red, but suspect on last year's 2020-03 and not tested."""
    figures = load_figures(figures_file)
    evaluation = evaluate(rules_from_text(RULES), figures, as_of="2021-03")
    result = evaluation.get("harborough", "violence-policeuk")
    assert result is not None
    current = _harborough("Violence and sexual offences", ["2021-01", "2021-02", "2021-03"])
    baseline = _harborough("Violence and sexual offences", ["2020-01", "2020-02", "2020-03"])
    assert (result.current, result.baseline) == (current, baseline)
    assert round((current - baseline) / baseline * 100, 1) == 55.4  # the figure
    assert result.status == "red"
    assert result.suspect is not None and result.suspect.baseline_months == ("2020-03",)
    assert result.suspect.sides == ("baseline",)
    assert result.significance is None and result.not_tested == "suspect_figures"
    before = evaluate(rules_from_text(RULES), _unmarked(figures), as_of="2021-03").get("harborough", "violence-policeuk")
    assert before is not None and before.significance is not None
    assert before.significance.verdict == "significant_increase"  # what the fault used to be called


def test_evaluate_command_marks_the_row_and_explains_the_mark(figures_file: Path, tmp_path: Path,
                                                              cli: Callable[..., CliResult]) -> None:
    """`csp-monitor evaluate --as-of 2021-03`: the violence row says suspect and not tested; no 'real rise'."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    table = cli("evaluate", rules, "--figures", figures_file, "--as-of", "2021-03")
    assert table.exit_code == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if line.startswith("Violence"))
    assert "55.4" in row and "RED" in row
    assert "not tested: suspect figures" in row and "suspect: last year 2020-03" in row
    assert "real rise" not in table.stdout
    assert "2 red, 0 amber, 0 green, 0 monitored, 0 without data; 2 on suspect figures" in table.stdout
    data = json.loads(cli("evaluate", rules, "--figures", figures_file, "--as-of", "2021-03",
                          "--format", "json").stdout)
    violence = next(r for r in data["results"] if r["measure"] == "violence-policeuk")
    assert violence["suspect"]["baseline_months"] == ["2020-03"] and violence["significance"] is None


def test_backtest_marks_the_months_and_sends_nothing(figures_file: Path) -> None:
    """Backtest Jan-Mar 2021: G G R? for violence and no alert; with fire_on_suspect the alert fires in March."""
    figures = load_figures(figures_file)
    run = backtest(rules_from_text(RULES), figures, "2021-01", "2021-03")
    row = next(line for line in render_backtest_table(run).splitlines() if line.startswith("Violence"))
    assert row.split()[-3:] == ["G", "G", "R?"]
    assert [n for month in run.months for n in month.notifications] == []
    opted = RULES.replace("    severity: high\n", "    severity: high\n    fire_on_suspect: true\n")
    run = backtest(rules_from_text(opted), figures, "2021-01", "2021-03")
    assert {(month.evaluation.as_of, n.kind) for month in run.months for n in month.notifications} == {
        ("2021-03", "firing")}


def test_preview_makes_no_alert_email(figures_file: Path, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """`csp-monitor preview --as-of 2021-03` renders the summary only: no 'NEW ALERT' for the fault."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "csp-monitor.yaml").write_text(
        f"rules: [rules.yaml]\nfigures: [{figures_file}]\nstate: state.db\n"
        "delivery: {from: 'CSP monitor <monitor@example.org>', folder: outbox/}\n"
        "summary: {to: [board@example.org]}\n", encoding="utf-8")
    result = cli("preview", "--config", tmp_path / "csp-monitor.yaml", "--as-of", "2021-03",
                 "--out", tmp_path / "preview")
    assert result.exit_code == 0, result.stderr
    kinds = [line.split(" ", 1)[0] for line in result.stdout.splitlines() if line.strip()]
    assert kinds == ["summary"]
    eml = next((tmp_path / "preview").glob("*.eml")).read_text(encoding="utf-8", errors="replace")
    assert "badge-suspect" in eml.replace("=\n", "")


def test_decide_records_no_alert(figures_file: Path, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """`csp-monitor decide --as-of 2021-03` against a fresh store: no notice due, no alert pending or firing."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    store = tmp_path / "state.db"
    decided = cli("decide", rules, "--figures", figures_file, "--as-of", "2021-03", "--state", store)
    assert decided.exit_code == 0, decided.stderr
    assert "No notices due" in decided.stdout
    listed = cli("alerts", "--state", store)
    assert listed.exit_code == 0 and "No alert is firing, pending or silenced." in listed.stdout


def test_spc_limits_leave_march_2020_out_and_see_march_2022(figures_file: Path) -> None:
    """Total crime as of 2022-03: limits 474.7 (not 519.2) and March 2022's 481 above them, as the issue says."""
    figures = load_figures(figures_file)
    result = evaluate(rules_from_text(RULES), figures, as_of="2022-03").get("harborough", "total-crime-policeuk")
    assert result is not None and result.spc is not None
    assert result.spc.excluded == ("2020-03",)
    assert round(result.spc.upper_limit, 1) == 474.7
    assert result.spc.values[-1] == _harborough(None, ["2022-03"]) == 481
    assert result.spc.rule == "outside_limits" and result.spc.variation == "special_cause_concern"
    before = evaluate(rules_from_text(RULES), _unmarked(figures), as_of="2022-03").get("harborough", "total-crime-policeuk")
    assert before is not None and before.spc is not None
    assert round(before.spc.upper_limit, 1) == 519.2 and before.spc.rule != "outside_limits"


def test_as_of_past_the_data_compares_only_the_months_present(figures_file: Path, tmp_path: Path,
                                                              cli: Callable[..., CliResult]) -> None:
    """Financial year 2022/23 as of 2023-03 (data end 2022-10): 7 of 12 months, compared with April-October 2021."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("year_starts: 2021-01", "year_starts: 2022-04"), encoding="utf-8")
    table = cli("evaluate", rules, "--figures", figures_file, "--as-of", "2023-03")
    assert table.exit_code == 0, table.stderr
    heading = table.stdout.splitlines()[1]
    assert heading == ("Year to date 2022-04 to 2023-03 (2022/23): figures for 7 of 12 months this year and 12 of 12 "
                       "last year (2021-04 to 2022-03), so only 2022-04 to 2022-10 are compared with the same 7 "
                       "months a year earlier (2021-04 to 2021-10)")
    assert "compared with 2021-04 to 2022-03" not in table.stdout
    assert "; 2 on part of the year" in table.stdout
    row = next(line for line in table.stdout.splitlines() if line.startswith("Total crime"))
    assert row.endswith("7/12 months")
    data = json.loads(cli("evaluate", rules, "--figures", figures_file, "--as-of", "2023-03",
                          "--format", "json").stdout)
    total = next(r for r in data["results"] if r["measure"] == "total-crime-policeuk")
    april_to_october = [f"2021-{m:02d}" for m in range(4, 11)]
    assert total["baseline"] == _harborough(None, april_to_october)
    assert (total["partial"], len(total["compared_months"]), total["baseline_months_present"]) == (True, 7, 12)
