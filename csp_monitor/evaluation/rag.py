"""Red, amber, green: judging a figure against its target.

Green means the target is met; amber that it is missed by no more than the
tolerance; red that it is missed by more. Judgements use unrounded values;
rounding is for display only. A tiny epsilon keeps ``-13.000000000000002``
from missing a -13% target through floating-point noise alone.
"""

from __future__ import annotations

from csp_monitor.models.results import Direction, Status
from csp_monitor.models.rules import Better, Target

__all__ = ["direction_of", "judge"]

_EPSILON = 1e-9


def _at_most(value: float, limit: float) -> bool:
    return value <= limit + _EPSILON * max(1.0, abs(limit))


def _at_least(value: float, limit: float) -> bool:
    return value >= limit - _EPSILON * max(1.0, abs(limit))


def judge(target: Target | None, better: Better, tolerance: float | None, *,
          current: float | None, change_pct: float | None, baseline: float | None = None) -> Status:
    """The status of a figure against its target.

    ``change`` targets are judged on ``change_pct`` with the tolerance in
    percentage points; ``at_least`` / ``at_most`` on ``current`` with the
    tolerance in the measure's own units. No tolerance means no amber band.

    A ``change`` target against a ``baseline`` of zero (none last year) has no percentage change, but its
    target is still plain: any change of none is none. Where lower is better, none again meets it and any
    figure above none misses it by more than any tolerance in points (red); where higher is better, any
    figure meets it. Without a baseline at all there is nothing to compare: no data.
    """
    if current is None:
        return "no_data"
    if target is None:
        return "no_target"
    band = tolerance or 0.0
    if target.kind == "change":
        if change_pct is None:
            if baseline is None or abs(baseline) > _EPSILON:
                return "no_data"
            if better == "higher":
                return "green"
            return "green" if _at_most(current, 0.0) else "red"
        limit = target.value
        if better == "lower":
            if _at_most(change_pct, limit):
                return "green"
            return "amber" if band and _at_most(change_pct, limit + band) else "red"
        if _at_least(change_pct, limit):
            return "green"
        return "amber" if band and _at_least(change_pct, limit - band) else "red"
    if target.kind == "at_least":
        if _at_least(current, target.value):
            return "green"
        return "amber" if band and _at_least(current, target.value - band) else "red"
    if _at_most(current, target.value):
        return "green"
    return "amber" if band and _at_most(current, target.value + band) else "red"


def direction_of(difference: float | None, better: Better) -> Direction:
    """improving, worsening, no_change or unknown, from the sign of the difference."""
    if difference is None:
        return "unknown"
    if abs(difference) <= _EPSILON:
        return "no_change"
    return "improving" if (difference < 0) == (better == "lower") else "worsening"
