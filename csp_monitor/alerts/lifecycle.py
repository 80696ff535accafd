"""One alert's lifecycle for one measure in one area, one reporting period at a time.

::

    (none) --holds--> pending --holds for `for` periods--> firing --no longer holds--> resolved
                         |                                   |  ^
                         +--no longer holds--> cleared       v  |  a silence starts / ends
                                                          silenced

``cleared`` (pending, then no longer) is never reported: it is kept so that
deciding the same period again starts from the right place.

* ``for: N`` fires in the N-th period in a row that meets the condition; the
  periods before only make it pending.
* A period whose figures cannot say (``no_data``) changes nothing: it neither
  counts towards ``for``, nor breaks the run, nor resolves a firing alert.
* A firing alert is notified once when it starts firing (or, if it was
  silenced all along, once the silence ends), again every ``repeat`` periods
  while it still fires, and once when it resolves, if it was notified at all.
* A silence changes only whether anyone is told, never the state underneath.

Periods are months (``YYYY-MM``); ``repeat`` counts calendar months between
notices, so a skipped month still counts towards it.
"""

from __future__ import annotations

from csp_monitor.models.alert_state import AlertRecord
from csp_monitor.models.alerts import AlertRule
from csp_monitor.models.decisions import NotificationKind
from csp_monitor.periods import parse_month

__all__ = ["advance", "notified_while_firing"]


def notified_while_firing(record: AlertRecord) -> bool:
    """Whether anyone was told about the record's current (or last) firing."""
    return (record.last_notified_period is not None and record.firing_since is not None
            and record.last_notified_period >= record.firing_since)


def advance(base: AlertRecord | None, holds: bool | None, *, rule: AlertRule, area: str, measure: str,
            period: str, silenced: bool) -> tuple[AlertRecord | None, NotificationKind | None]:
    """The record after deciding ``period``, and the notice it makes due (if any).

    ``base`` is the record as it stood before ``period`` (None when the alert
    has no record); ``holds`` is the condition's answer for the period (None:
    cannot tell); ``silenced`` whether a silence covers it now. A None record
    means there is nothing to keep (the alert never fired, or was only pending).
    """
    if holds is None:
        return _hold(base, period, silenced), None
    if not holds:
        return _clear(base, period, silenced)
    return _meet(base, rule=rule, area=area, measure=measure, period=period, silenced=silenced)


def _hold(base: AlertRecord | None, period: str, silenced: bool) -> AlertRecord | None:
    if base is None:
        return None
    state = base.state
    if state in ("firing", "silenced"):
        state = "silenced" if silenced else "firing"
    return base.model_copy(update={
        "state": state,
        "since": base.since if state == base.state else period,
        "last_period": period,
        "no_data_since": base.no_data_since or period,
        "previous": None,
    })


def _clear(base: AlertRecord | None, period: str, silenced: bool
           ) -> tuple[AlertRecord | None, NotificationKind | None]:
    if base is None:
        return None, None
    if base.state == "pending":
        # Kept, not deleted, so that deciding this period again still knows the period before.
        return base.model_copy(update={"state": "cleared", "since": period, "consecutive": 0,
                                       "last_period": period, "no_data_since": None, "previous": None}), None
    if base.state in ("resolved", "cleared"):
        return base.model_copy(update={"last_period": period, "no_data_since": None, "consecutive": 0,
                                       "previous": None}), None
    kind: NotificationKind | None = "resolved" if notified_while_firing(base) and not silenced else None
    return base.model_copy(update={
        "state": "resolved", "since": period, "consecutive": 0, "last_period": period, "no_data_since": None,
        "previous": None,
    }), kind


def _meet(base: AlertRecord | None, *, rule: AlertRule, area: str, measure: str, period: str, silenced: bool
          ) -> tuple[AlertRecord | None, NotificationKind | None]:
    continuing = base is not None and base.active
    consecutive = (base.consecutive if base is not None and continuing else 0) + 1
    carried = {
        "last_notified_period": base.last_notified_period if base else None,
        "last_notified_at": base.last_notified_at if base else None,
        "recipients": base.recipients if base else (),
    }
    if consecutive < rule.for_periods:
        since = base.since if base is not None and base.state == "pending" else period
        return AlertRecord(
            alert=rule.id, area=area, measure=measure, state="pending", since=since, consecutive=consecutive,
            last_period=period, firing_since=base.firing_since if base else None, **carried), None
    firing_before = base is not None and base.state in ("firing", "silenced")
    firing_since = base.firing_since if base is not None and firing_before else period
    state = "silenced" if silenced else "firing"
    since = base.since if base is not None and base.state == state else period
    record = AlertRecord(
        alert=rule.id, area=area, measure=measure, state=state, since=since, consecutive=consecutive,
        last_period=period, firing_since=firing_since, **carried)
    if silenced:
        return record, None
    if base is None or not firing_before or not notified_while_firing(base):
        return record, "firing"
    assert base.last_notified_period is not None  # notified_while_firing says so
    if rule.repeat is not None and parse_month(period) - parse_month(base.last_notified_period) >= rule.repeat:
        return record, "repeat"
    return record, None
