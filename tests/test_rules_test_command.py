"""``csp-monitor rules test``: YAML rule tests pass, fail with field-level differences, and refuse to be vacuous."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT, CliResult

BURGLARY_RUN = (
    "{area: harborough, measure: domestic-burglary, from: 2012-04, values: "
    "[12, 13, 11, 14, 12, 13, 15, 12, 14, 13, 12, 12, 20, 21, 22, 19, 23, 20, 21, 22, 20, 21, 22, 22]}"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding a copy of the Harborough rules and figures."""
    shutil.copy(HARBOROUGH_RULES, tmp_path / "harborough.yaml")
    shutil.copy(HARBOROUGH_FIGURES, tmp_path / "figures.csv")
    return tmp_path


def write(folder: Path, text: str, name: str = "rules.test.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_shipped_harborough_tests_pass(cli: Callable[..., CliResult]) -> None:
    """The rule tests shipped beside the Harborough rules all pass, so the command exits 0."""
    result = cli("rules", "test", ROOT / "rules" / "harborough-2013-14.test.yaml")
    assert result.exit_code == 0, result.stdout
    assert "  FAIL" not in result.stdout
    assert result.stdout.count("  PASS  ") >= 5
    assert result.stdout.endswith(" failed.\n")


def test_failure_shows_field_level_differences(cli: Callable[..., CliResult], folder: Path) -> None:
    """A wrong expectation fails with 'measure field: expected X, got Y' at its line, and exit code 1."""
    path = write(folder, f"""
        rules: [harborough.yaml]
        tests:
          - name: burglary up two thirds is red
            as_of: 2014-03
            figures:
              - {BURGLARY_RUN}
            expect:
              - {{measure: domestic-burglary, status: amber, current: 250, change_pct: 65.4}}
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        str(path),
        "  FAIL  burglary up two thirds is red",
        f"        {path}:8:46: domestic-burglary status: expected amber, got red",
        f"        {path}:8:62: domestic-burglary current: expected 250, got 253",
        "",
        "1 test: 0 passed, 1 failed.",
    ]


@pytest.mark.parametrize(("written", "passes"), [("65.4", True), ("65.36", True), ("65", True),
                                                 ("65.3", False), ("65.4%", True), ("66", False)])
def test_numbers_compare_at_the_precision_written(cli: Callable[..., CliResult], folder: Path, written: str,
                                                  passes: bool) -> None:
    """change_pct 65.36 (unrounded 65.359) matches 65.4, 65.36 and 65 but not 65.3 or 66."""
    path = write(folder, f"""
        rules: [harborough.yaml]
        tests:
          - name: precision
            as_of: 2014-03
            figures:
              - {BURGLARY_RUN}
            expect:
              - {{measure: domestic-burglary, change_pct: {written}}}
        """)
    result = cli("rules", "test", path)
    assert (result.exit_code == 0) is passes, result.stdout


def test_a_test_without_expectations_fails(cli: Callable[..., CliResult], folder: Path) -> None:
    """A test that expects nothing could never fail, so it fails, pointing at the test."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: nothing checked
            as_of: 2014-03
            figures_file: figures.csv
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:3:5: this test has no expectations, so it could never fail: add expect: (results) "
            "or expect_alerts: (notifications)") in result.stdout


def test_an_expectation_that_checks_nothing_fails(cli: Callable[..., CliResult], folder: Path) -> None:
    """An expectation naming only a measure fails instead of passing vacuously."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: names a measure only
            as_of: 2014-03
            figures_file: figures.csv
            expect:
              - {measure: total-crime}
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert f"{path}:7:9: this expectation for 'total-crime' checks nothing" in result.stdout


def test_an_unknown_measure_fails_with_a_suggestion(cli: Callable[..., CliResult], folder: Path) -> None:
    """An expectation for a measure the rules lack fails at the measure, with a did-you-mean."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: misspelt
            as_of: 2014-03
            figures_file: figures.csv
            expect:
              - {measure: domestic-burglery, status: red}
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:7:19: the rules have no measure 'domestic-burglery' (did you mean 'domestic-burglary'?)"
            in result.stdout)


def test_an_expectation_with_no_result_fails(cli: Callable[..., CliResult], folder: Path) -> None:
    """An expectation for an area the rules do not judge fails, naming the areas they do judge."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: another district
            as_of: 2014-03
            figures_file: figures.csv
            expect:
              - {area: blaby, measure: total-crime, status: red}
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:7:16: there is no result for 'total-crime' in the area 'blaby': the rules judge harborough"
            in result.stdout)


def test_inline_figures_no_rule_reads_fail(cli: Callable[..., CliResult], folder: Path) -> None:
    """Inline figures for a measure no rule reads are a mistake in the test, not silently ignored."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: typo in the figures
            as_of: 2014-03
            figures:
              - {area: harborough, measure: domestic-burglery, period: 2014-03, value: 3}
            expect:
              - {measure: domestic-burglary, status: no_data}
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:6:37: no rule reads figures for the measure 'domestic-burglery', so these figures would be "
            "ignored (did you mean 'domestic-burglary'?)") in result.stdout


def test_every_test_is_run_and_counted(cli: Callable[..., CliResult], folder: Path) -> None:
    """A failing test does not stop the others: each gets its own PASS or FAIL line and the totals add up."""
    path = write(folder, """
        rules: [harborough.yaml]
        figures_file: figures.csv
        tests:
          - name: total crime is red
            as_of: 2014-03
            expect: [{measure: total-crime, status: red}]
          - name: total crime is green
            as_of: 2014-03
            expect: [{measure: total-crime, status: green}]
          - name: satisfaction is green
            as_of: 2014-03
            expect: [{measure: user-satisfaction, status: green, current: 88}]
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert "  PASS  total crime is red" in result.stdout
    assert "  FAIL  total crime is green" in result.stdout
    assert "  PASS  satisfaction is green" in result.stdout
    assert result.stdout.endswith("3 tests: 2 passed, 1 failed.\n")


def test_paths_are_relative_to_the_test_file(cli: Callable[..., CliResult], folder: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules and figures files named in a test file are found beside it, whatever the working folder."""
    path = write(folder, """
        rules: harborough.yaml
        tests:
          - name: from the file
            as_of: 2014-03
            figures_file: figures.csv
            expect: [{measure: domestic-burglary, current: 253}]
        """)
    monkeypatch.chdir(ROOT.parent)
    assert cli("rules", "test", path).exit_code == 0


def test_a_missing_rule_file_is_reported_at_its_line(cli: Callable[..., CliResult], folder: Path) -> None:
    """A rule file that does not exist is an error at the rules: line, and the command exits 1."""
    path = write(folder, """
        rules: [harborough-2014-15.yaml]
        tests:
          - name: anything
            as_of: 2014-03
            expect: [{measure: total-crime, status: red}]
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:1:9: the rule file 'harborough-2014-15.yaml' does not exist (looked for "
            f"{folder / 'harborough-2014-15.yaml'}): paths are relative to this test file") in result.stdout
    assert result.stdout.endswith("0 tests: 0 passed, 0 failed; 1 file with errors.\n")


def test_a_misspelt_key_in_a_test_file_is_located(cli: Callable[..., CliResult], folder: Path) -> None:
    """A typo in a test file's keys is reported at file:line:col with a suggestion, and nothing runs."""
    path = write(folder, """
        rules: [harborough.yaml]
        tests:
          - name: typo
            as_of: 2014-03
            expcet: [{measure: total-crime, status: red}]
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert f"{path}:5:5: unknown key 'expcet' (did you mean 'expect'?)" in result.stdout


@pytest.mark.parametrize("figures_file", ["figures.csv", "no-such-figures.csv"])
def test_duplicate_test_names_are_an_error(cli: Callable[..., CliResult], folder: Path, figures_file: str) -> None:
    """Two tests with one name would be indistinguishable in reports, so the file is in error; the repeat is
    reported in the same run as a figures file that is not there (it was once checked only after the rules and
    figures loaded)."""
    path = write(folder, f"""
        rules: [harborough.yaml]
        figures_file: {figures_file}
        tests:
          - name: same
            as_of: 2014-03
            expect: [{{measure: total-crime, status: red}}]
          - name: same
            as_of: 2014-02
            expect: [{{measure: total-crime, status: red}}]
        """)
    result = cli("rules", "test", path)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{path}:7:11: the test name 'same' is already used at line 4" in result.stdout
    assert (f"{path}:2:15: " in result.stdout) == (figures_file == "no-such-figures.csv")


def test_junit_xml_lists_every_test_and_failure(cli: Callable[..., CliResult], folder: Path) -> None:
    """--junit writes JUnit XML with one testcase per test and a failure element for each failing one."""
    path = write(folder, """
        rules: [harborough.yaml]
        figures_file: figures.csv
        tests:
          - name: red
            as_of: 2014-03
            expect: [{measure: total-crime, status: red}]
          - name: "green <&> wrong"
            as_of: 2014-03
            expect: [{measure: total-crime, status: green}]
        """)
    junit = folder / "report.xml"
    result = cli("rules", "test", path, "--junit", junit)
    assert result.exit_code == 1
    root = ElementTree.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    cases = root.findall("./testsuite/testcase")
    assert [case.get("name") for case in cases] == ["red", "green <&> wrong"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "total-crime status: expected green, got red"


def test_junit_records_a_broken_file_as_an_error(cli: Callable[..., CliResult], folder: Path) -> None:
    """A test file that cannot be read appears in the JUnit XML as an error, not as a pass."""
    path = write(folder, "rules: [harborough.yaml]\ntests:\n\t- name: tab\n")
    junit = folder / "report.xml"
    result = cli("rules", "test", path, "--junit", junit)
    assert result.exit_code == 1
    root = ElementTree.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    assert f"{path}:3:1: a tab is used for indentation" in result.stdout


ISSUE_MINIMUM = """\
rules: [harborough-2013-14.yaml]
tests:
  - name: burglary up two thirds is red
    as_of: 2014-03
    figures:
      - {area: harborough, measure: domestic-burglary, from: 2012-04, values: [12, 13, 11, 14, 12, 13, 15, 12, 14, 13, 12, 12, 20, 21, 22, 19, 23, 20, 21, 22, 20, 21, 22, 22]}
    expect:
      - {area: harborough, measure: domestic-burglary, status: red, current: 253, change_pct: 65.4}
    expect_alerts:
      - {alert: off-target, area: harborough, measure: domestic-burglary}
"""

OFF_TARGET = """
recipients:
  board: [csp-board@example.org, analyst@example.org]
alerts:
  - id: off-target
    when: {status: [red]}
    severity: high
    notify: [owner, board]
    message: "{{ result.summary }}"
"""


@pytest.fixture
def with_alerts(tmp_path: Path) -> Path:
    """The Harborough rules with the off-target alert in the same file, named as the issue names them."""
    (tmp_path / "harborough-2013-14.yaml").write_text(HARBOROUGH_RULES.read_text() + OFF_TARGET)
    return tmp_path


def test_the_issue_minimum_runs_as_written(cli: Callable[..., CliResult], with_alerts: Path) -> None:
    """The rule test given in the issue passes as written, results and alerts alike."""
    path = write(with_alerts, ISSUE_MINIMUM, "harborough-2013-14.test.yaml")
    result = cli("rules", "test", path)
    assert result.exit_code == 0, result.stdout
    assert "  PASS  burglary up two thirds is red\n" in result.stdout


def test_an_alert_due_but_not_listed_fails(cli: Callable[..., CliResult], with_alerts: Path) -> None:
    """expect_alerts lists every notification due: one left out fails the test, naming it and its recipients."""
    path = write(with_alerts, ISSUE_MINIMUM.replace("expect_alerts:\n      - {alert: off-target, area: harborough, "
                                                    "measure: domestic-burglary}", "expect_alerts: []"))
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:9:20: domestic-burglary: the alert 'off-target' is due but not listed in expect_alerts "
            "(it would go to acquisitive.crime@example.org, csp-board@example.org, analyst@example.org)"
            in result.stdout)


def test_an_expected_alert_that_is_not_due_fails(cli: Callable[..., CliResult], with_alerts: Path) -> None:
    """An alert expected for a measure that is green is reported as not due."""
    path = write(with_alerts, ISSUE_MINIMUM.replace("values: [12, 13, 11, 14, 12, 13, 15, 12, 14, 13, 12, 12, 20, "
                                                    "21, 22, 19, 23, 20, 21, 22, 20, 21, 22, 22]",
                                                    "values: [12, 13, 11, 14, 12, 13, 15, 12, 14, 13, 12, 12, 2, 2, "
                                                    "2, 2, 2, 2, 2, 2, 2, 2, 2, 2]")
                 .replace("status: red, current: 253, change_pct: 65.4", "status: green"))
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:10:9: domestic-burglary: expected the alert 'off-target', but it is not due"
            in result.stdout)


def test_recipients_and_message_are_compared(cli: Callable[..., CliResult], with_alerts: Path) -> None:
    """Wrong recipients or message words fail with what would really be sent."""
    path = write(with_alerts, ISSUE_MINIMUM.replace(
        "measure: domestic-burglary}\n", "measure: domestic-burglary, recipients: [board@example.org], "
        "message_contains: down}\n"))
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert ("domestic-burglary alert 'off-target' recipients: expected board@example.org, got "
            "acquisitive.crime@example.org, analyst@example.org, csp-board@example.org") in result.stdout
    assert "domestic-burglary alert 'off-target' message does not contain 'down': it is 'Domestic Burglary is up" \
        in result.stdout


def test_an_unknown_alert_id_fails_with_a_suggestion(cli: Callable[..., CliResult], with_alerts: Path) -> None:
    """Expecting an alert the rules do not define is a misconfigured test, with a did-you-mean."""
    path = write(with_alerts, ISSUE_MINIMUM.replace("alert: off-target", "alert: offtarget"))
    result = cli("rules", "test", path)
    assert result.exit_code == 1
    assert (f"{path}:10:17: the rules have no alert 'offtarget' (the alerts are off-target) (did you mean "
            "'off-target'?)") in result.stdout


def test_a_folder_runs_every_rule_test_file_in_it(cli: Callable[..., CliResult]) -> None:
    """Given a folder, rules test runs each *.test.yaml file in it."""
    result = cli("rules", "test", ROOT / "rules")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith(f"{ROOT / 'rules' / 'harborough-2013-14.test.yaml'}\n")


def test_a_folder_without_rule_tests_is_a_usage_error(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A folder holding no rule test file is refused rather than passing with nothing run."""
    result = cli("rules", "test", tmp_path)
    assert result.exit_code == 2
    assert f"there are no rule test files (*.test.yaml) in {tmp_path}" in result.stderr
