"""Small builders for alert tests: a rule set with alerts, results with a chosen status, evaluations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from csp_monitor import rules_from_text
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet

NOW = datetime(2014, 4, 10, 7, 0, tzinfo=UTC)

BASE_RULES = """\
partnership: Test Community Safety Partnership
priorities:
  - id: crime
    title: Reduce crime
    owner: lead@example.org
    measures:
      - {id: burglary, name: Burglary, better: lower, target: {change: -10%}}
      - {id: damage, name: Criminal Damage, better: lower, owner: damage@example.org}
recipients:
  board: [board@example.org, analyst@example.org]
"""


def rules_with(alerts: str) -> RuleSet:
    """The base rules plus an ``alerts:`` section (YAML text)."""
    return rules_from_text(BASE_RULES + alerts, "rules.yaml")


def result(status: str = "red", *, measure: str = "burglary", area: str = "town", period: str = "2014-03",
           current: float | None = 120.0, baseline: float | None = 100.0, owner: str | None = None,
           name: str | None = None, **extra: Any) -> MeasureResult:
    """A result for one measure with the given status (figures default to a 20% rise)."""
    if status == "no_data":
        current = baseline = None
    difference = None if current is None or baseline is None else current - baseline
    change = None if difference is None or not baseline else difference / baseline * 100
    return MeasureResult(
        area=area, measure=measure, name=name or measure.title(), priority="crime", priority_title="Reduce crime",
        owner=owner or ("damage@example.org" if measure == "damage" else "lead@example.org"), better="lower",
        aggregate="sum", unit="count", period_start="2013-04", period_end=period, baseline_start="2012-04",
        baseline_end=f"{int(period[:4]) - 1}{period[4:]}", months_present=12, months_expected=12,
        current=current, baseline=baseline, difference=difference, change_pct=change, target=None,
        tolerance=None, status=status, direction="unknown",
        summary=f"{name or measure.title()} in {area} is {status}", **extra)


def evaluation(period: str, *results: MeasureResult) -> Evaluation:
    """An evaluation as of ``period`` holding ``results`` (their period_end is set to it)."""
    return Evaluation(
        partnership="Test Community Safety Partnership", as_of=period, reporting_year="2013/14",
        year_start="2013-04", results=tuple(r.model_copy(update={"period_end": period}) for r in results))
