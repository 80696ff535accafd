"""A pytest plugin: rule test files (``*.test.yaml``) collected and run as pytest tests.

Council tools can run their partnership's rule tests in their own test suite:
add ``pytest_plugins = ["csp_monitor.authoring.pytest_plugin"]`` to the
top-level ``conftest.py`` (or run ``pytest -p csp_monitor.authoring.pytest_plugin``),
and every ``*.test.yaml`` file pytest finds becomes one test per rule test, failing
with the same located, field-level messages as ``csp-monitor rules test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csp_monitor.authoring.rule_tests import RuleTestOutcome, RuleTestSuite
from csp_monitor.errors import Problem

__all__ = ["RuleTestFailed", "RuleTestItem", "RuleTestYamlFile", "pytest_collect_file"]

SUFFIXES = (".test.yaml", ".test.yml")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ``*.test.yaml`` files as rule test files."""
    if file_path.name.endswith(SUFFIXES):
        collected: pytest.Collector = RuleTestYamlFile.from_parent(parent, path=file_path)
        return collected
    return None


class RuleTestFailed(Exception):
    """A rule test failed, or its file could not be run; carries the located problems."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


class RuleTestYamlFile(pytest.File):
    """A rule test file: one pytest item per rule test (or one failing item when it cannot run)."""

    def collect(self) -> Iterator[pytest.Item]:
        suite = RuleTestSuite.load(self.path)
        for index, name in enumerate(suite.names):
            yield RuleTestItem.from_parent(self, name=name, suite=suite, index=index)
        if suite.errors:
            yield RuleTestItem.from_parent(self, name="(the test file itself)", suite=suite, index=None)


class RuleTestItem(pytest.Item):
    """One rule test."""

    def __init__(self, *, suite: RuleTestSuite, index: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.index = index

    def runtest(self) -> None:
        if self.index is None:
            raise RuleTestFailed(self.suite.errors)
        outcome: RuleTestOutcome = self.suite.run(self.index)
        if not outcome.passed:
            raise RuleTestFailed(outcome.failures)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RuleTestFailed):
            return "\n".join(str(problem) for problem in excinfo.value.problems)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.suite.line(self.index) if self.index is not None else None
        return self.path, (line - 1) if line else None, f"rule test: {self.name}"
