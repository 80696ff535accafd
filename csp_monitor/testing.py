"""Helpers for council tools that test their own csp-monitor rules (and code that uses csp-monitor).

Rule tests in your own pytest suite, either collected as tests::

    # conftest.py at the top of your project
    pytest_plugins = ["csp_monitor.testing"]      # every *.test.yaml becomes tests

or called from a test of your own::

    from csp_monitor.testing import assert_rule_tests_pass

    def test_our_rules():
        assert_rule_tests_pass(["rules/harborough-2013-14.test.yaml"])

Failures read exactly as ``csp-monitor rules test`` prints them: located,
field by field (``domestic-burglary status: expected amber, got red``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from csp_monitor.authoring.rule_tests import (
    RuleTestFileReport,
    RuleTestOutcome,
    format_reports,
    run_rule_tests,
)

__all__ = [
    "RuleTestFileReport",
    "RuleTestOutcome",
    "assert_rule_tests_pass",
    "run_rule_tests",
]

with contextlib.suppress(ImportError):  # the pytest hook, when pytest is there to call it
    from csp_monitor.authoring.pytest_plugin import pytest_collect_file  # noqa: F401


def assert_rule_tests_pass(paths: Iterable[str | Path]) -> list[RuleTestFileReport]:
    """Run the rule test files; raise AssertionError with the full report unless every test passes."""
    reports = run_rule_tests(paths)
    if not reports:
        raise AssertionError("no rule test files were given")
    if not all(report.passed for report in reports):
        raise AssertionError("rule tests failed:\n" + format_reports(reports))
    return reports
