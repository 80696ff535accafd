"""What a proposed change to the rules would change: measure by measure, on the same figures.

Both rule sets judge the same figures as of the same month; where they
differ in status, target, amber band, owner, or in the alerts that would go
out and to whom, the difference is listed. Alerts are decided with no earlier
history (as if both rule sets were starting now), in memory only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from csp_monitor.authoring.alert_preview import DueNotification, alerts_available, notifications_due
from csp_monitor.evaluation.wording import format_number
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet

__all__ = ["Change", "MeasureDiff", "RuleDiff", "diff_rules"]


@dataclass(frozen=True)
class Change:
    """One field that differs: ``status: red -> amber``."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class MeasureDiff:
    """Every difference for one measure in one area."""

    area: str
    measure: str
    name: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class RuleDiff:
    """The differences between two rule sets on the same figures and month."""

    as_of: str
    measures: tuple[MeasureDiff, ...]
    unchanged: int
    alerts_compared: bool
    warnings: tuple[str, ...] = field(default=())


def _target(result: MeasureResult | None) -> str:
    if result is None:
        return "-"
    return result.target.text if result.target else "none (monitored)"


def _tolerance(result: MeasureResult) -> str:
    if result.target is None or result.tolerance is None:
        return "none"
    amount = format_number(result.tolerance, "count")
    if result.target.kind == "change" or result.unit == "percent":
        return f"{amount} point{'' if amount == '1' else 's'}"
    return amount


def _notices(due: Sequence[DueNotification]) -> dict[tuple[str, str], dict[str, DueNotification]]:
    found: dict[tuple[str, str], dict[str, DueNotification]] = {}
    for notice in due:
        found.setdefault((notice.area, notice.measure), {})[notice.alert] = notice
    return found


def _alert_changes(old: dict[str, DueNotification], new: dict[str, DueNotification]) -> list[Change]:
    changes = []
    for alert in sorted(set(old) | set(new)):
        before, after = old.get(alert), new.get(alert)
        if before is None or after is None:
            changes.append(Change(f"alert {alert}", _who(before), _who(after)))
        elif sorted(before.recipients) != sorted(after.recipients):
            changes.append(Change(f"alert {alert} recipients", ", ".join(before.recipients) or "nobody",
                                  ", ".join(after.recipients) or "nobody"))
        elif before.message != after.message:
            changes.append(Change(f"alert {alert} message", before.message, after.message))
    return changes


def _who(notice: DueNotification | None) -> str:
    if notice is None:
        return "not due"
    return f"due, to {', '.join(notice.recipients) or 'nobody'}"


def diff_rules(old_rules: RuleSet, new_rules: RuleSet, figures: FigureSet, as_of: str | int | None = None
               ) -> RuleDiff:
    """Judge the figures with both rule sets and list what differs, measure by measure."""
    from csp_monitor.evaluation.engine import default_as_of, evaluate, evaluate_month

    if as_of is None:
        months = [m for m in (default_as_of(old_rules, figures), default_as_of(new_rules, figures)) if m is not None]
        as_of = max(months) if months else None
    old_eval = evaluate_month(old_rules, figures, as_of)
    new_eval = evaluate(new_rules, figures, as_of=old_eval.as_of)
    compare_alerts = alerts_available() and bool(old_rules.alerts or new_rules.alerts)
    old_due = _notices(notifications_due(old_rules, old_eval)) if compare_alerts else {}
    new_due = _notices(notifications_due(new_rules, new_eval)) if compare_alerts else {}
    return _compare(old_eval, new_eval, old_due, new_due, compare_alerts)


def _compare(old_eval: Evaluation, new_eval: Evaluation, old_due: dict[tuple[str, str], dict[str, DueNotification]],
             new_due: dict[tuple[str, str], dict[str, DueNotification]], compared: bool) -> RuleDiff:
    old_results = {result.key: result for result in old_eval.results}
    new_results = {result.key: result for result in new_eval.results}
    keys = [result.key for result in old_eval.results]
    keys += [key for key in new_results if key not in old_results]
    diffs = []
    unchanged = 0
    for key in keys:
        before, after = old_results.get(key), new_results.get(key)
        changes: list[Change] = []
        if before is None and after is not None:
            changes.append(Change("measure", "not in the old rules", f"added ({_status(after)})"))
        elif after is None and before is not None:
            changes.append(Change("measure", f"{_status(before)}", "removed from the new rules"))
        elif before is not None and after is not None:
            for name, old_value, new_value in (
                ("status", _status(before), _status(after)),
                ("target", _target(before), _target(after)),
                ("tolerance", _tolerance(before), _tolerance(after)),
                ("owner", before.owner or "nobody", after.owner or "nobody"),
            ):
                if old_value != new_value:
                    changes.append(Change(name, old_value, new_value))
        changes.extend(_alert_changes(old_due.get(key, {}), new_due.get(key, {})))
        if changes:
            shown = after or before
            assert shown is not None
            diffs.append(MeasureDiff(key[0], key[1], shown.name, tuple(changes)))
        else:
            unchanged += 1
    warnings = tuple(dict.fromkeys([*old_eval.warnings, *new_eval.warnings]))
    return RuleDiff(old_eval.as_of, tuple(diffs), unchanged, compared, warnings)


def _status(result: MeasureResult) -> str:
    return {"no_target": "monitored", "no_data": "no data"}.get(result.status, result.status)
