"""Run rule tests: evaluate each test's figures and compare with what it expects.

A test fails with a field-level difference (``domestic-burglary status:
expected amber, got red``), located at the expectation in the test file. A
test that could never fail is a failure too: one with no expectations, an
expectation for a measure the rules do not have, or one for a result the
evaluation does not produce.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from csp_monitor.authoring.alert_preview import DueNotification
from csp_monitor.authoring.rule_test_file import (
    AlertExpectation,
    ResultExpectation,
    RuleTest,
    RuleTestFile,
)
from csp_monitor.errors import CspMonitorError, InputError, Problem, RulesError
from csp_monitor.load.validation import closest, validate_located
from csp_monitor.load.yaml_source import Located, Positions, YamlProblems, read_yaml_file
from csp_monitor.models.figures import FigureSet, normalise_name
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet
from csp_monitor.periods import format_month

__all__ = [
    "RuleTestFileReport",
    "RuleTestOutcome",
    "RuleTestSuite",
    "format_reports",
    "load_rule_test_file",
    "run_rule_test_file",
    "run_rule_tests",
]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class RuleTestOutcome:
    """The outcome of one test: passed when it has no failures."""

    file: str
    name: str
    line: int | None
    failures: tuple[Problem, ...] = ()
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures


@dataclass(frozen=True)
class RuleTestFileReport:
    """Every test of one file, or the problems that stopped the file from running."""

    file: str
    outcomes: tuple[RuleTestOutcome, ...] = ()
    errors: tuple[Problem, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether the file ran and every test in it passed."""
        return not self.errors and all(outcome.passed for outcome in self.outcomes)


@dataclass
class _Context:
    """What a file's tests share: the file, its positions, the rules and loaded figures files."""

    file: str
    folder: Path
    positions: Positions
    model: RuleTestFile
    rules: RuleSet
    shared_figures: FigureSet
    figures_cache: dict[str, FigureSet] = field(default_factory=dict)


def load_rule_test_file(path: str | Path) -> tuple[RuleTestFile, Located]:
    """Read and validate a rule test file; raise :class:`RulesError` with every problem."""
    name = str(path)
    try:
        located = read_yaml_file(path)
    except YamlProblems as exc:
        raise RulesError(exc.problems) from None
    if located.data is None:
        raise RulesError([Problem("this rule test file is empty: it needs rules: and tests:", file=name,
                                  line=1, column=1)])
    if not isinstance(located.data, dict):
        raise RulesError([Problem(
            "a rule test file must be a mapping with the keys rules: and tests:, not a list or a value",
            file=name, line=1, column=1)])
    model, problems = validate_located(RuleTestFile, located)
    if model is None:
        raise RulesError(problems)
    return model, located


def run_rule_tests(paths: Iterable[str | Path]) -> list[RuleTestFileReport]:
    """Run every test of every file; a file that cannot be read is reported, not raised."""
    return [run_rule_test_file(path) for path in paths]


def run_rule_test_file(path: str | Path) -> RuleTestFileReport:
    """Run every test of one rule test file."""
    return RuleTestSuite.load(path).run_all()


class RuleTestSuite:
    """One rule test file, loaded with its rules and shared figures, ready to run test by test."""

    def __init__(self, file: str, context: _Context | None, errors: Sequence[Problem]) -> None:
        self.file = file
        self._context = context
        self.errors: tuple[Problem, ...] = tuple(errors)

    @classmethod
    def load(cls, path: str | Path) -> RuleTestSuite:
        """Read the test file, its rules and its shared figures; problems end up in ``errors``."""
        name = str(path)
        try:
            model, located = load_rule_test_file(path)
        except InputError as exc:
            return cls(name, None, exc.problems)
        folder = Path(path).parent
        problems: list[Problem] = []
        rules = _load_rules(model, located.positions, folder, problems)
        shared = FigureSet()
        cache: dict[str, FigureSet] = {}
        if model.figures_file:
            shared = _figures_files(model.figures_file, ("figures_file",), located.positions, folder, cache,
                                    problems)
        names = [test.name for test in model.tests]
        for index, test in enumerate(model.tests):
            if test.name in names[:index]:
                first_line, _ = located.positions.locate(("tests", names.index(test.name), "name"))
                problems.append(located.positions.problem(
                    ("tests", index, "name"),
                    f"the test name '{test.name}' is already used at line {first_line}: give each test its own name"))
        if problems or rules is None:
            return cls(name, None, problems)
        return cls(name, _Context(name, folder, located.positions, model, rules, shared, cache), problems)

    @property
    def names(self) -> list[str]:
        """The tests' names, in file order (none when the file could not be loaded)."""
        return [test.name for test in self._context.model.tests] if self._context else []

    def line(self, index: int) -> int | None:
        """The line the test starts on."""
        return self._context.positions.locate(("tests", index))[0] if self._context else None

    def run(self, index: int) -> RuleTestOutcome:
        """Run one test."""
        assert self._context is not None, "a suite with errors has no tests to run"
        test = self._context.model.tests[index]
        started = time.perf_counter()
        failures = _run_test(self._context, index, test)
        return RuleTestOutcome(self.file, test.name, self.line(index), tuple(failures),
                               time.perf_counter() - started)

    def run_all(self) -> RuleTestFileReport:
        """Run every test; file-level problems are reported beside the outcomes."""
        outcomes = tuple(self.run(index) for index in range(len(self.names)))
        return RuleTestFileReport(self.file, outcomes, self.errors)


def _relative(folder: Path, text: str) -> str:
    """A path written in the test file, relative to the file's folder, tidied for messages."""
    return os.path.normpath(folder / text) if not os.path.isabs(text) else text


def _load_rules(model: RuleTestFile, positions: Positions, folder: Path, problems: list[Problem]) -> RuleSet | None:
    from csp_monitor.load.rules import load_rules

    paths = [_relative(folder, text) for text in model.rules]
    for index, path in enumerate(paths):
        if not os.path.isfile(path):
            problems.append(positions.problem(
                ("rules", index) if len(model.rules) > 1 or _written_as_list(positions) else ("rules",),
                f"the rule file '{model.rules[index]}' does not exist (looked for {path}): paths are relative "
                "to this test file"))
    if problems:
        return None
    try:
        return load_rules(paths)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _written_as_list(positions: Positions) -> bool:
    return ("rules", 0) in positions.values


def _figures_files(texts: Sequence[str], where: Path_, positions: Positions, folder: Path,
                   cache: dict[str, FigureSet], problems: list[Problem]) -> FigureSet:
    from csp_monitor.load.figures import load_figures

    result = FigureSet()
    as_list = (*where, 0) in positions.values
    for index, text in enumerate(texts):
        path = _relative(folder, text)
        at = (*where, index) if as_list else where
        if path not in cache:
            if not os.path.isfile(path):
                problems.append(positions.problem(
                    at, f"the figures file '{text}' does not exist (looked for {path}): paths are relative to "
                    "this test file"))
                continue
            try:
                cache[path] = load_figures(path)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
        try:
            result.merge(cache[path])
        except ValueError as exc:
            problems.append(positions.problem(at, f"{exc} in the figures files: keep one"))
    return result


def _run_test(context: _Context, index: int, test: RuleTest) -> list[Problem]:
    positions = context.positions
    where: Path_ = ("tests", index)
    failures: list[Problem] = []
    if not test.expect and test.expect_alerts is None:
        failures.append(positions.problem(
            where, "this test has no expectations, so it could never fail: add expect: (results) or "
            "expect_alerts: (notifications)"))
        return failures
    figures = FigureSet()
    try:
        figures.merge(context.shared_figures)
    except ValueError as exc:  # pragma: no cover - the shared set was built without duplicates
        failures.append(positions.problem(where, str(exc)))
    if test.figures_file:
        figures_files = _figures_files(test.figures_file, (*where, "figures_file"), positions, context.folder,
                                       context.figures_cache, failures)
        _merge(figures, figures_files, positions, (*where, "figures_file"), failures)
    if test.figures:
        inline = _inline_figures(context, index, test, failures)
        _merge(figures, inline, positions, (*where, "figures"), failures)
    if failures:
        return failures

    from csp_monitor.evaluation.engine import evaluate

    try:
        evaluation = evaluate(context.rules, figures, as_of=test.as_of)
    except CspMonitorError as exc:
        return [positions.problem((*where, "as_of"), f"the rules could not be evaluated: {exc.message}")]
    for e_index, expectation in enumerate(test.expect or []):
        failures.extend(_check_result(context, evaluation, (*where, "expect", e_index), expectation))
    if test.expect_alerts is not None:
        failures.extend(_check_alerts(context, evaluation, (*where, "expect_alerts"), test.expect_alerts))
    return failures


def _merge(into: FigureSet, other: FigureSet, positions: Positions, where: Path_, failures: list[Problem]) -> None:
    try:
        into.merge(other)
    except ValueError as exc:
        failures.append(positions.problem(where, f"{exc}: the figures here repeat a figure given elsewhere in "
                                                 "this test; keep one"))


def _inline_figures(context: _Context, index: int, test: RuleTest, failures: list[Problem]) -> FigureSet:
    """The test's own figures, checked against the rules they are meant for."""
    positions = context.positions
    rules = context.rules
    wanted = sorted({measure.figures_measure for _, measure in rules.measures()})
    result = FigureSet()
    first: dict[tuple[str, str, int], int] = {}
    for f_index, entry in enumerate(test.figures or []):
        where: Path_ = ("tests", index, "figures", f_index)
        area, measure = normalise_name(entry.area), normalise_name(entry.measure)
        if measure not in wanted:
            hint = closest(measure, wanted)
            failures.append(positions.problem(
                (*where, "measure"),
                f"no rule reads figures for the measure '{measure}', so these figures would be ignored",
                suggestion=hint))
            continue
        if rules.area is not None and area != rules.area:
            failures.append(positions.problem(
                (*where, "area"),
                f"the rules are for the area '{rules.area}', so figures for '{area}' would be ignored"))
            continue
        for month, value in entry.months():
            if value is None:
                continue
            key = (area, measure, month)
            if key in first:
                line, _ = positions.locate(("tests", index, "figures", first[key]))
                failures.append(positions.problem(
                    where, f"{area} {measure} {format_month(month)} is given twice (first at line {line}): keep one"))
                continue
            first[key] = f_index
            result.add(area, measure, month, value)
    return result


def _resolve_area(context: _Context, evaluation: Evaluation, given: str | None, where: Path_
                  ) -> tuple[str | None, Problem | None]:
    if given is not None:
        return given, None
    if context.rules.area is not None:
        return context.rules.area, None
    areas = sorted({result.area for result in evaluation.results})
    if len(areas) == 1:
        return areas[0], None
    listed = ", ".join(areas) if areas else "no area at all"
    return None, context.positions.problem(
        where, f"say which area this is about (area: ...): the results cover {listed}")


def _label(evaluation: Evaluation, area: str, measure: str) -> str:
    if len({result.area for result in evaluation.results}) > 1:
        return f"{area} {measure}"
    return measure


def _check_result(context: _Context, evaluation: Evaluation, where: Path_,
                  expectation: ResultExpectation) -> list[Problem]:
    positions = context.positions
    checks = expectation.checks()
    if not checks:
        return [positions.problem(
            where, f"this expectation for '{expectation.measure}' checks nothing: add status:, current:, "
            "change_pct: or another result field")]
    if context.rules.measure(expectation.measure) is None:
        ids = [measure.id for _, measure in context.rules.measures()]
        return [positions.problem(
            (*where, "measure"), f"the rules have no measure '{expectation.measure}'",
            suggestion=closest(expectation.measure, ids))]
    area, problem = _resolve_area(context, evaluation, expectation.area, where)
    if problem is not None or area is None:
        return [problem] if problem is not None else []
    result = evaluation.get(area, expectation.measure)
    if result is None:
        judged = sorted({r.area for r in evaluation.results})
        return [positions.problem(
            (*where, "area") if expectation.area is not None else where,
            f"there is no result for '{expectation.measure}' in the area '{area}': the rules judge "
            + (", ".join(judged) if judged else "no area, because no figures name one"),
            suggestion=closest(area, judged))]
    label = _label(evaluation, area, expectation.measure)
    failures = []
    for name in checks:
        expected = getattr(expectation, name)
        message = _difference(name, expected, result)
        if message is not None:
            failures.append(positions.problem((*where, name), f"{label} {message}"))
    return failures


def _difference(name: str, expected: Any, result: MeasureResult) -> str | None:
    """``status: expected amber, got red``, or None when the field is as expected."""
    if name == "summary_contains":
        if expected in result.summary:
            return None
        return f"summary does not contain '{expected}': it is '{result.summary}'"
    if name == "summary":
        if expected == result.summary:
            return None
        return f"summary: expected '{expected}', got '{result.summary}'"
    actual = getattr(result, name)
    if isinstance(expected, Decimal):
        places = max(0, -int(expected.as_tuple().exponent))
        if actual is None:
            return f"{name}: expected {expected}, got no value"
        shown = f"{round(float(actual), places):.{places}f}"
        if abs(round(float(actual), places) - float(expected)) < 10 ** -(places + 6):
            return None
        if shown == f"{float(expected):.{places}f}" or shown == f"{-float(expected):.{places}f}":
            shown = repr(float(actual))
        return f"{name}: expected {expected}, got {shown}"
    if expected == actual:
        return None
    return f"{name}: expected {expected}, got {actual}"


def _check_alerts(context: _Context, evaluation: Evaluation, where: Path_,
                  expected: Sequence[AlertExpectation]) -> list[Problem]:
    from csp_monitor.authoring import alert_preview

    positions = context.positions
    if not alert_preview.alerts_available():
        return [positions.problem(where, "expect_alerts needs alert rules, which this csp-monitor cannot "
                                         "evaluate")]
    known = alert_preview.alert_ids(context.rules)
    failures = []
    for index, expectation in enumerate(expected):
        if expectation.alert not in known:
            listed = ", ".join(known) if known else "none: add an alerts: section to a rule file"
            failures.append(positions.problem(
                (*where, index, "alert"), f"the rules have no alert '{expectation.alert}' (the alerts are {listed})",
                suggestion=closest(expectation.alert, known)))
        if context.rules.measure(expectation.measure) is None:
            ids = [measure.id for _, measure in context.rules.measures()]
            failures.append(positions.problem(
                (*where, index, "measure"), f"the rules have no measure '{expectation.measure}'",
                suggestion=closest(expectation.measure, ids)))
    if failures:
        return failures
    due = alert_preview.notifications_due(context.rules, evaluation)
    return _match_alerts(context, evaluation, where, expected, due)


def _match_alerts(context: _Context, evaluation: Evaluation, where: Path_, expected: Sequence[AlertExpectation],
                  due: Sequence[DueNotification]) -> list[Problem]:
    positions = context.positions
    failures: list[Problem] = []
    remaining = list(due)
    for index, expectation in enumerate(expected):
        at = (*where, index)
        area, problem = _resolve_area(context, evaluation, expectation.area, at)
        if problem is not None or area is None:
            failures.extend([problem] if problem is not None else [])
            continue
        match = next((n for n in remaining if n.alert == expectation.alert and n.area == area
                      and n.measure == expectation.measure), None)
        label = _label(evaluation, area, expectation.measure)
        if match is None:
            failures.append(positions.problem(
                at, f"{label}: expected the alert '{expectation.alert}', but it is not due"))
            continue
        remaining.remove(match)
        if expectation.kind is not None and expectation.kind != match.kind:
            failures.append(positions.problem(
                (*at, "kind"), f"{label} alert '{expectation.alert}' kind: expected {expectation.kind}, "
                f"got {match.kind}"))
        if expectation.recipients is not None and sorted(expectation.recipients) != sorted(match.recipients):
            failures.append(positions.problem(
                (*at, "recipients"), f"{label} alert '{expectation.alert}' recipients: expected "
                f"{', '.join(sorted(expectation.recipients)) or 'none'}, got {', '.join(sorted(match.recipients)) or 'none'}"))
        if expectation.message_contains is not None and expectation.message_contains not in match.message:
            failures.append(positions.problem(
                (*at, "message_contains"), f"{label} alert '{expectation.alert}' message does not contain "
                f"'{expectation.message_contains}': it is '{match.message}'"))
    for notification in remaining:
        label = _label(evaluation, notification.area, notification.measure)
        failures.append(positions.problem(
            where, f"{label}: the alert '{notification.alert}' is due but not listed in expect_alerts "
            f"(it would go to {', '.join(notification.recipients) or 'nobody'})"))
    return failures


def format_reports(reports: Sequence[RuleTestFileReport]) -> str:
    """The reports as text: a PASS / FAIL line per test, each failure located, then totals."""
    lines: list[str] = []
    passed = failed = broken = 0
    for report in reports:
        lines.append(report.file)
        for outcome in report.outcomes:
            if outcome.passed:
                passed += 1
                lines.append(f"  PASS  {outcome.name}")
            else:
                failed += 1
                lines.append(f"  FAIL  {outcome.name}")
                lines.extend(f"        {failure}" for failure in outcome.failures)
        if report.errors:
            broken += 1
            lines.append("  ERROR the file is not a working rule test file:")
            lines.extend(f"        {problem}" for problem in report.errors)
    total = passed + failed
    summary = f"{total} test{'s' if total != 1 else ''}: {passed} passed, {failed} failed"
    if broken:
        summary += f"; {broken} file{'s' if broken != 1 else ''} with errors"
    lines.append("")
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"
