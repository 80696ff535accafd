"""Backtests: replay rules month by month over past figures.

Each month is judged exactly as the daemon would have judged it then (the
year to date up to that month, against the same months a year earlier), and
alerts are decided with an in-memory memory carried from one month to the
next, so "for: 2" and reminders behave as they would have. Nothing is read
from or written to a real state store, and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from csp_monitor.authoring.alert_preview import (
    AlertMemory,
    DueNotification,
    alerts_available,
    notifications_due,
)
from csp_monitor.errors import InputError, Problem
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet
from csp_monitor.periods import format_month, parse_month

__all__ = ["MAX_MONTHS", "Backtest", "BacktestMonth", "backtest"]

MAX_MONTHS = 240
"""Twenty years: more is a mistake in the range, not a backtest."""


@dataclass(frozen=True)
class BacktestMonth:
    """One month of a backtest: the evaluation and the notifications that would have gone out."""

    evaluation: Evaluation
    notifications: tuple[DueNotification, ...]


@dataclass(frozen=True)
class Backtest:
    """Every month from the first to the last, in order."""

    partnership: str
    months: tuple[BacktestMonth, ...]
    alerts_decided: bool
    warnings: tuple[str, ...] = field(default=())


def backtest(rules: RuleSet, figures: FigureSet, first: str, last: str) -> Backtest:
    """Judge every month from ``first`` to ``last`` (YYYY-MM) and decide alerts month after month."""
    from csp_monitor.evaluation.engine import evaluate_month

    problems = []
    try:
        start = parse_month(first)
    except ValueError as exc:
        problems.append(Problem(f"--from: {exc}", file="<arguments>"))
    try:
        end = parse_month(last)
    except ValueError as exc:
        problems.append(Problem(f"--to: {exc}", file="<arguments>"))
    if problems:
        raise InputError(problems)
    if end < start:
        raise InputError([Problem(f"--to {format_month(end)} is before --from {format_month(start)}",
                                  file="<arguments>")])
    if end - start + 1 > MAX_MONTHS:
        raise InputError([Problem(f"{end - start + 1} months is more than a backtest needs (at most {MAX_MONTHS})",
                                  file="<arguments>")])
    decide_alerts = alerts_available() and bool(rules.alerts)
    memory = AlertMemory()
    months = []
    warnings: list[str] = []
    for month in range(start, end + 1):
        evaluation = evaluate_month(rules, figures, month)
        due = notifications_due(rules, evaluation, memory) if decide_alerts else []
        months.append(BacktestMonth(evaluation, tuple(due)))
        warnings.extend(evaluation.warnings)
    warnings.extend(memory.warnings)
    return Backtest(rules.partnership, tuple(months), decide_alerts, tuple(dict.fromkeys(warnings)))
