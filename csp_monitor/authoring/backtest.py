"""Backtests: replay rules month by month over past figures.

Each month is judged exactly as the daemon would have judged it then (the
year to date up to that month, against the same months a year earlier), and
alerts are decided with an in-memory memory carried from one month to the
next, so "for: 2" and reminders behave as they would have. Nothing is read
from or written to a real state store, and nothing is sent.
"""

from __future__ import annotations

import re
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
    warnings = _months_without_figures(rules, figures, start, end) + _one_per_year(warnings)
    return Backtest(rules.partnership, tuple(months), decide_alerts, tuple(dict.fromkeys(warnings)))


_OTHER_YEAR = re.compile(r"^the rules are for the reporting year (\S+), but (\d{4}-\d{2}) falls in (\S+): "
                         r"check the targets still apply$")


def _one_per_year(warnings: list[str]) -> list[str]:
    """The engine's "month falls in another reporting year" warning once per year, naming its months."""
    years: dict[tuple[str, str], list[str]] = {}
    others: list[str] = []
    for warning in warnings:
        match = _OTHER_YEAR.match(warning)
        if match is None:
            others.append(warning)
        else:
            years.setdefault((match.group(1), match.group(3)), []).append(match.group(2))
    lines = []
    for (stated, year), found in years.items():
        span = found[0] if len(found) == 1 else f"{found[0]} to {found[-1]}"
        verb = "falls" if len(found) == 1 else "fall"
        lines.append(f"the rules are for the reporting year {stated}, but {span} {verb} in {year}: check the "
                     "targets still apply")
    return lines + others if lines else others


def _months_without_figures(rules: RuleSet, figures: FigureSet, start: int, end: int) -> list[str]:
    """A warning when months of the range have no figures at all for the rules' measures: they show '.' and
    could alert no one, which is not the same as nothing going wrong."""
    wanted = {measure.figures_measure for _, measure in rules.measures()}
    areas = [rules.area] if rules.area is not None else figures.areas()
    have = {month for area in areas for measure in wanted for month in figures.series(area, measure)}
    empty = [month for month in range(start, end + 1) if month not in have]
    if not empty:
        return []
    shown = format_month(empty[0]) if len(empty) == 1 else \
        f"{len(empty)} months ({format_month(empty[0])} to {format_month(empty[-1])})"
    where = f"the figures for the rules' measures run from {format_month(min(have))} to {format_month(max(have))}" \
        if have else "the figures have none of the rules' measures"
    # A month past the figures late in a year is still judged, on the year's earlier months: it repeats their
    # comparison rather than showing no data, so say which months are which.
    first_month = rules.year_start_month - 1
    stale = [month for month in empty
             if any(earlier in have for earlier in range(month - (month - first_month) % 12, month))]
    if not stale:
        return [f"there are no figures for {shown} of the backtest: {where}; those months show no data and could "
                "alert no one"]
    blank = [month for month in empty if month not in stale]
    repeat = "repeats" if len(stale) == 1 else "repeat"
    parts = [f"{_months(stale)} {repeat} the comparison of the year's earlier months (marked * in the grid: "
             "only the months with figures are compared)"]
    if blank:
        show = "shows" if len(blank) == 1 else "show"
        parts.append(f"{_months(blank)} {show} no data and could alert no one")
    return [f"there are no figures for {shown} of the backtest: {where}; " + "; ".join(parts)]


def _months(months: list[int]) -> str:
    return format_month(months[0]) if len(months) == 1 else f"{format_month(months[0])} to {format_month(months[-1])}"
