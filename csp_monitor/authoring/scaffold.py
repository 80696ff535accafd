"""A new rule file for a partnership, commented so a lead can fill it in without a manual.

The file is built from a few answers (the partnership, its area, the first
month of the reporting year, the amber band and an owner), checked by the
same loader as every rule file before it is shown or written, and starts with
the modeline that lets an editor check it against the JSON Schema as it is
typed.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from csp_monitor.errors import Problem, RulesError
from csp_monitor.models.rules import EmailAddress
from csp_monitor.names import slug
from csp_monitor.periods import format_month, month_name, parse_month

__all__ = ["NewRuleFile", "scaffold_rule_file"]


@dataclass(frozen=True)
class NewRuleFile:
    """The answers a new rule file is built from."""

    partnership: str
    area: str | None = None
    year_starts: str = "2025-04"
    tolerance: float = 5.0
    owner: str | None = None
    schema: str = "../docs/schema/rules.schema.json"
    file_name: str = "rules.yaml"


def _text(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML), so any name is written safely."""
    return json.dumps(value, ensure_ascii=False)


def _commented(line: str, comment: str) -> str:
    """``line`` with ``# comment`` lined up in one column."""
    return f"{line.ljust(_COMMENT_COLUMN - 1)} # {comment}\n" if len(line) < _COMMENT_COLUMN - 1 else \
        f"{line}  # {comment}\n"


_COMMENT_COLUMN = 40


def _number(value: float) -> str:
    return f"{value:g}"


def scaffold_rule_file(answers: NewRuleFile) -> str:
    """The commented rule file text; raises :class:`RulesError` when the answers make an invalid file."""
    problems = []
    if not answers.partnership.strip():
        problems.append(Problem("the partnership's name is empty", file="<answers>"))
    if any(unicodedata.category(ch)[0] == "C" for ch in answers.partnership):
        problems.append(Problem("the partnership's name must be one line of text", file="<answers>"))
    owner = answers.owner.strip() if answers.owner and answers.owner.strip() else None
    if owner is not None:
        try:
            TypeAdapter(EmailAddress).validate_python(owner)
        except ValidationError as exc:
            problems.append(Problem(f"the owner: {exc.errors()[0]['msg'].removeprefix('Value error, ')}",
                                    file="<answers>"))
    area = slug(answers.area) if answers.area else None
    if answers.area and not area:
        problems.append(Problem(f"the area '{answers.area}' has no letters or digits", file="<answers>"))
    try:
        start = parse_month(answers.year_starts)
    except ValueError as exc:
        problems.append(Problem(f"the first month of the reporting year: {exc}", file="<answers>"))
        start = parse_month("2025-04")
    if answers.tolerance < 0:
        problems.append(Problem(f"the tolerance must be 0 or more, not {answers.tolerance:g}", file="<answers>"))
    if problems:
        raise RulesError(problems)
    owner_line = (_commented(f"    owner: {_text(owner)}", "who answers for this priority") if owner else
                  _commented("    # owner: lead.officer@example.org", "who answers for this priority (an email)"))
    area_line = (_commented(f"area: {area}", "the area as the figures name it (lower case, hyphens)")
                 if area else _commented("# area: harborough", "the area as the figures name it; leave out for all"))
    year_line = _commented(f"year_starts: {format_month(start)}", "the first month of the reporting year")
    tolerance_line = _commented(f"tolerance: {_number(answers.tolerance)}",
                                "amber: a target missed by up to this many points")
    end = start + 11
    name = answers.file_name
    text = f"""\
# yaml-language-server: $schema={answers.schema}
#
# Performance targets for {answers.partnership.strip()}.
# Reporting year: {month_name(start)} to {month_name(end)}. Each measure is judged
# on the year to date against the same months of the previous year.
#
# Check this file:        csp-monitor rules check {name}
# Read it back in words:  csp-monitor rules explain {name}
# See how it judges:      csp-monitor evaluate {name} --figures figures.csv
partnership: {_text(answers.partnership.strip())}
{area_line}{year_line}{tolerance_line}
priorities:
  # One entry per priority of the partnership plan. An id is short:
  # lower-case letters, digits and hyphens.
  - id: serious-acquisitive-crime
    title: To reduce serious acquisitive crime
{owner_line}    measures:
      # A target to reduce: -13% means "13% fewer than the same months last
      # year". Always write the sign: 13% without a minus would be a rise.
      - id: domestic-burglary           # as the figures name the measure
        name: Domestic Burglary
        better: lower                   # lower (crime) or higher (satisfaction)
        target: {{change: -13%}}
      # A measure that is monitored only: no target, no red or green.
      - id: commercial-burglary
        name: Commercial Burglary
        better: lower

  - id: anti-social-behaviour
    title: To tackle anti-social behaviour
    measures:
      # A level target for a survey result: at least 85%, judged on the
      # latest month's figure, amber down to 83%.
      - id: user-satisfaction
        name: User Satisfaction
        better: higher
        unit: percent
        aggregate: latest
        target: {{at_least: 85}}
        tolerance: 2

# Alerts tell people when a measure goes off track. Remove the '# ' from
# these lines to turn them on (see docs/guide-for-partnership-leads.md).
# recipients:
#   board: [csp-board@example.org]
# alerts:
#   - id: off-target
#     when: {{status: [red]}}
#     notify: [owner, board]
"""
    from csp_monitor.load.rules import rules_from_text

    rules_from_text(text, name)  # never hand out a file that does not load
    return text
