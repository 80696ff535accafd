"""Rule test reports as JUnit XML, the format CI systems (GitLab, Jenkins, GitHub) display."""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.etree import ElementTree

from csp_monitor.authoring.rule_tests import RuleTestFileReport

__all__ = ["junit_xml"]


# Everything XML 1.0 cannot hold, even escaped: control characters (but tab and
# newline), lone surrogates, and the non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    """The text with each character XML 1.0 cannot hold replaced by U+FFFD, so the report stays well-formed."""
    return _NOT_XML.sub("\ufffd", value)


def junit_xml(reports: Sequence[RuleTestFileReport]) -> str:
    """One ``<testsuite>`` per test file and one ``<testcase>`` per test; file errors are ``<error>``."""
    root = ElementTree.Element("testsuites", name="csp-monitor rules test")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for report in reports:
        failures = sum(1 for outcome in report.outcomes if not outcome.passed)
        errors = 1 if report.errors else 0
        tests = len(report.outcomes) + errors
        suite = ElementTree.SubElement(
            root, "testsuite", name=_text(report.file), tests=str(tests), failures=str(failures),
            errors=str(errors), skipped="0",
            time=f"{sum(outcome.seconds for outcome in report.outcomes):.3f}")
        for outcome in report.outcomes:
            case = ElementTree.SubElement(suite, "testcase", name=_text(outcome.name), classname=_text(report.file),
                                          time=f"{outcome.seconds:.3f}")
            if outcome.line is not None:
                case.set("file", _text(report.file))
                case.set("line", str(outcome.line))
            if not outcome.passed:
                first = outcome.failures[0].message
                failure = ElementTree.SubElement(case, "failure", message=_text(first), type="RuleTestFailure")
                failure.text = _text("\n".join(str(problem) for problem in outcome.failures))
        if report.errors:
            case = ElementTree.SubElement(suite, "testcase", name="(loading the test file)",
                                          classname=_text(report.file), time="0.000")
            error = ElementTree.SubElement(case, "error", message=_text(report.errors[0].message),
                                           type="RulesError")
            error.text = _text("\n".join(str(problem) for problem in report.errors))
        totals["tests"] += tests
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
