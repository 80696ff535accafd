"""The pytest plugin: council tools run rule tests in their own pytest suites, with the same messages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from csp_monitor.authoring.rule_tests import run_rule_tests
from tests.conftest import HARBOROUGH_RULES, ROOT

PASSING_AND_FAILING = """\
rules: [harborough.yaml]
tests:
  - name: burglary up two thirds is red
    as_of: 2014-03
    figures:
      - {area: harborough, measure: domestic-burglary, period: 2013-03, value: 12}
      - {area: harborough, measure: domestic-burglary, period: 2014-03, value: 20}
    expect: [{measure: domestic-burglary, status: red}]
  - name: wrongly expects green
    as_of: 2014-03
    figures:
      - {area: harborough, measure: domestic-burglary, period: 2013-03, value: 12}
      - {area: harborough, measure: domestic-burglary, period: 2014-03, value: 20}
    expect: [{measure: domestic-burglary, status: green}]
"""


def council_project(tmp_path: Path, test_text: str) -> Path:
    """A council tool's project: the plugin enabled in its conftest, a rule file and a rule test file."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["csp_monitor.testing"]\n')
    shutil.copy(HARBOROUGH_RULES, tmp_path / "harborough.yaml")
    (tmp_path / "harborough.test.yaml").write_text(test_text)
    return tmp_path


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_each_rule_test_is_a_pytest_test(tmp_path: Path) -> None:
    """Each rule test is its own pytest item with the CLI's located messages; a broken file is a failing item."""
    folder = council_project(tmp_path, PASSING_AND_FAILING)
    (folder / "broken.test.yaml").write_text("rules: [harborough.yaml]\ntests:\n  - name: x\n    as_of: 2014-03\n"
                                             "    expcet: []\n")
    run = pytest_in(folder)
    assert run.returncode == 1, run.stdout
    assert "2 failed, 1 passed" in run.stdout
    assert "harborough.test.yaml:14:51: domestic-burglary status: expected green, got red" in run.stdout
    assert "broken.test.yaml:5:5: unknown key 'expcet' (did you mean 'expect'?)" in run.stdout


def test_the_shipped_rules_folder_collects_its_rule_tests() -> None:
    """`pytest rules/` in this repository collects one item per test of the shipped Harborough test file."""
    run = pytest_in(ROOT, "--collect-only", "rules/")
    tests = (ROOT / "rules" / "harborough-2013-14.test.yaml").read_text().count("\n  - name: ")
    assert f"{tests} tests collected" in run.stdout, run.stdout


def test_run_rule_tests_is_usable_as_a_library(tmp_path: Path) -> None:
    """run_rule_tests returns one report per file, with each test's outcome and located failures."""
    folder = council_project(tmp_path, PASSING_AND_FAILING)
    [report] = run_rule_tests([folder / "harborough.test.yaml"])
    assert [outcome.passed for outcome in report.outcomes] == [True, False]
    assert [str(p) for p in report.outcomes[1].failures] == [
        f"{folder / 'harborough.test.yaml'}:14:51: domestic-burglary status: expected green, got red"]
    assert not report.passed


def test_csp_monitor_testing_is_the_public_door(tmp_path: Path) -> None:
    """assert_rule_tests_pass passes quietly on passing tests and fails with the located report otherwise."""
    from csp_monitor.testing import assert_rule_tests_pass

    folder = council_project(tmp_path, PASSING_AND_FAILING.split("  - name: wrongly")[0])
    assert len(assert_rule_tests_pass([folder / "harborough.test.yaml"])) == 1
    (folder / "harborough.test.yaml").write_text(PASSING_AND_FAILING)
    try:
        assert_rule_tests_pass([folder / "harborough.test.yaml"])
    except AssertionError as exc:
        assert "harborough.test.yaml:14:51: domestic-burglary status: expected green, got red" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a failing rule test passed")
