"""Does an alert's condition hold for a result? Yes, no, or cannot tell.

"Cannot tell" (``None``) is an answer of its own: when a month's figures are
missing or late (status ``no_data``), or a statistic the condition reads was
not computed, the alert neither advances nor resolves. Missing figures are
never read as "back on track"; an alert that should fire on missing figures
says so with ``status: [no_data]``.

A result resting on suspect figures (a likely data fault on either side of
the comparison) is "cannot tell" too, unless the alert rule says
``fire_on_suspect: true``: a fault that drops last year's count to almost
nothing must not send a "new alert" about this year's rise.
"""

from __future__ import annotations

from collections.abc import Sequence

from csp_monitor.models.alert_state import PreviousResult
from csp_monitor.models.alerts import Condition
from csp_monitor.models.results import STATUS_ORDER, MeasureResult

__all__ = ["condition_holds", "worse_than"]


def worse_than(status: str, previous: PreviousResult | None) -> bool:
    """Whether ``status`` is worse (green < amber < red) than the previous evaluation's."""
    if previous is None or status not in STATUS_ORDER or previous.status not in STATUS_ORDER:
        return False
    return STATUS_ORDER[status] > STATUS_ORDER[previous.status]


def condition_holds(condition: Condition, result: MeasureResult, previous: PreviousResult | None, *,
                    fire_on_suspect: bool = False) -> bool | None:
    """True or False when the result says; None when it cannot (no data for what the condition reads).

    Every key of the condition must hold: one that clearly fails makes it
    False; otherwise one that cannot tell makes it None. A result with
    suspect figures cannot tell unless ``fire_on_suspect``.
    """
    if result.suspect is not None and not fire_on_suspect:
        return None
    if result.status == "no_data" and not (condition.status is not None and "no_data" in condition.status):
        return None
    outcomes: list[bool | None] = []
    if condition.status is not None:
        outcomes.append(result.status in condition.status)
    if condition.worse_than_previous is not None:
        outcomes.append(worse_than(result.status, previous) == condition.worse_than_previous)
    if condition.projected_status is not None:
        outcomes.append(_projected_status_in(result, condition.projected_status))
    if condition.significance is not None:
        outcomes.append(_significance_in(result, condition.significance))
    if condition.variation is not None:
        outcomes.append(_variation_in(result, condition.variation))
    if condition.assurance is not None:
        outcomes.append(_assurance_in(result, condition.assurance))
    if condition.current is not None:
        outcomes.append(None if result.current is None else condition.current.met_by(result.current))
    if condition.change_pct is not None:
        outcomes.append(None if result.change_pct is None else condition.change_pct.met_by(result.change_pct))
    if False in outcomes:
        return False
    if None in outcomes:
        return None
    return True


def _projected_status_in(result: MeasureResult, wanted: Sequence[str]) -> bool | None:
    if result.projection is None:  # not a summed measure, or nothing to project from
        return None
    return result.projection.status in wanted


def _significance_in(result: MeasureResult, wanted: Sequence[str]) -> bool | None:
    if result.significance is None:  # not a count with a baseline
        return None
    return result.significance.verdict in wanted


def _variation_in(result: MeasureResult, wanted: Sequence[str]) -> bool | None:
    if result.spc is None:  # too few months for a chart
        return None
    return result.spc.variation in wanted


def _assurance_in(result: MeasureResult, wanted: Sequence[str]) -> bool | None:
    if result.spc is None or result.spc.assurance is None:  # no chart, or no target to assure
        return None
    return result.spc.assurance in wanted
