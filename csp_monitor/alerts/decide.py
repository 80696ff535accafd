"""Decide alerts: a pure function of an evaluation, the alert rules and what the store remembers.

No clock and no I/O here: ``now`` is passed in, and the remembered state comes
in as plain records. The same inputs always give the same decision, which is
what lets a rerun, a restart or a test reproduce it exactly.

Deciding the same period again (a rerun, revised figures) starts from the
state as it was *before* that period, which each record keeps, so a period is
never counted twice; and a notice whose key is already recorded is not due
again, so it is never sent twice. A period earlier than the last one decided
for an alert leaves that alert alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from csp_monitor.alerts.conditions import condition_holds
from csp_monitor.alerts.keys import notification_key
from csp_monitor.alerts.lifecycle import advance, notified_while_firing
from csp_monitor.alerts.messages import MessageWriter
from csp_monitor.models.alert_state import AlertKey, AlertRecord, AlertTransition, RememberedState
from csp_monitor.models.alerts import OWNER, AlertRule
from csp_monitor.models.decisions import (
    AlertState,
    AlertStatus,
    Decision,
    Notification,
    NotificationKind,
)
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet

__all__ = ["DecisionPlan", "RememberedState", "decide", "recipients_for"]

# The states a decision reports; a "cleared" record (pending, then no longer) is kept only as memory.
_SHOWN: dict[str, AlertState] = {"pending": "pending", "firing": "firing", "resolved": "resolved",
                                 "silenced": "silenced"}


@dataclass(frozen=True)
class DecisionPlan:
    """The decision, and everything the store must write to remember it."""

    decision: Decision
    records: tuple[AlertRecord, ...]
    removed: tuple[AlertKey, ...]
    transitions: tuple[AlertTransition, ...]
    severities: Mapping[str, str]


def recipients_for(rule: AlertRule, result: MeasureResult, rules: RuleSet) -> tuple[str, ...]:
    """Who an alert tells about a result: the owner and the named lists, in order, each once."""
    found: list[str] = []
    for name in rule.notify:
        addresses = ([result.owner] if result.owner else []) if name == OWNER else rules.recipients.get(name, [])
        for address in addresses:
            if address.lower() not in (seen.lower() for seen in found):
                found.append(address)
    return tuple(found)


def decide(evaluation: Evaluation, rules: RuleSet, remembered: RememberedState, *, now: datetime) -> DecisionPlan:
    """Decide every alert of ``rules`` for every result of ``evaluation``, as at ``now``."""
    period = evaluation.as_of
    writer = MessageWriter()
    warnings: list[str] = []
    active_silences = [silence for silence in remembered.silences if silence.active_at(now)]
    records: list[AlertRecord] = []
    removed: list[AlertKey] = []
    transitions: list[AlertTransition] = []
    notifications: list[Notification] = []
    statuses: list[AlertStatus] = []
    later: set[str] = set()
    unknown_lists = sorted({name for rule in rules.alerts for name in rule.notify
                            if name != OWNER and name not in rules.recipients})
    if unknown_lists:
        warnings.append(f"the alerts notify lists that are not defined: {', '.join(unknown_lists)}")

    for rule in rules.alerts:
        for result in evaluation.results:
            if not rule.in_scope(result.area, result.priority, result.measure):
                continue
            key = (rule.id, result.area, result.measure)
            existing = remembered.records.get(key)
            if existing is not None and existing.last_period > period:
                later.add(existing.last_period)
                continue
            base = existing.previous if existing is not None and existing.last_period == period else existing
            previous = remembered.previous_results.get((result.area, result.measure))
            holds = condition_holds(rule.when, result, previous, fire_on_suspect=rule.fire_on_suspect)
            silenced = any(s.matches(rule.id, result.area, result.measure) for s in active_silences)
            record, kind = advance(base, holds, rule=rule, area=result.area, measure=result.measure,
                                   period=period, silenced=silenced)
            if existing is not None and existing is not base and notified_while_firing(existing) \
                    and existing.state in ("firing", "silenced") \
                    and (record is None or record.state not in ("firing", "silenced")):
                # People were told it fires this period, and revised figures say it does not: tell them it
                # is back on track (or, when the revision has no data, keep it firing).
                record, kind = advance(_without_previous(existing), False if holds else holds, rule=rule,
                                       area=result.area, measure=result.measure, period=period,
                                       silenced=silenced)
            notice: Notification | None = None
            if record is not None:
                context = {"area": result.area, "area_name": result.area_label, "measure": result.measure, "period": period,
                           "partnership": evaluation.partnership,
                           "previous_status": previous.status if previous else None}
                message_kind: NotificationKind = kind or ("resolved" if record.state == "resolved" else "firing")
                message = writer.write(rule, message_kind, result, context)
                recipients = recipients_for(rule, result, rules)
                update: dict[str, object] = {"message": message, "recipients": recipients,
                                             "severity": rule.severity, "rule_hash": rules.content_hash,
                                             "previous": _without_previous(base)}
                if kind is not None:
                    notice_key = notification_key(rule.id, result.area, result.measure, period, kind)
                    if not recipients:
                        warnings.append(f"the alert '{rule.id}' for {result.measure} in {result.area} reaches "
                                        "nobody (no owner and no recipients list), so no notice was made")
                    else:
                        if notice_key not in remembered.notified_keys:
                            notice = Notification(key=notice_key, alert=rule.id, kind=kind, area=result.area,
                                                  measure=result.measure, period=period, recipients=recipients,
                                                  message=message)
                            notifications.append(notice)
                        already = (existing is not None and existing.last_notified_period == period
                                   and existing.last_notified_at is not None)
                        # Firing again in a period already told "back on track" (revised figures) cannot be
                        # told under the same key: leave it untold, so that the next period tells it.
                        refired = notice is None and kind != "resolved" and notification_key(
                            rule.id, result.area, result.measure, period, "resolved") in remembered.notified_keys
                        if not refired:
                            update["last_notified_period"] = period
                            update["last_notified_at"] = existing.last_notified_at if already and existing else now
                record = record.model_copy(update=update)
                records.append(record)
                shown = _SHOWN.get(record.state)
                if shown is not None and (shown != "resolved" or record.since == period):
                    statuses.append(AlertStatus(alert=rule.id, area=result.area, measure=result.measure,
                                                state=shown, since=record.since))
            elif existing is not None:
                removed.append(key)
            before = existing.state if existing is not None else None
            after = record.state if record is not None else None
            if before != after or notice is not None:
                transitions.append(AlertTransition(
                    alert=rule.id, area=result.area, measure=result.measure, period=period, from_state=before,
                    to_state=after or "cleared", notification=notice.kind if notice else None,
                    message=record.message if record is not None else ""))

    if later:
        warnings.append(
            f"{period} is earlier than the last month decided ({max(later)}): its evaluation is recorded, but "
            "the alerts already decided for later months were left as they are")
    warnings.extend(writer.warnings)
    decision = Decision(as_of=period, notifications=tuple(notifications), alerts=tuple(statuses),
                        warnings=tuple(warnings))
    return DecisionPlan(decision=decision, records=tuple(records), removed=tuple(removed),
                        transitions=tuple(transitions),
                        severities={rule.id: rule.severity for rule in rules.alerts})


def _without_previous(record: AlertRecord | None) -> AlertRecord | None:
    """Keep one step of history only: the record before the period, not its own history."""
    if record is None or record.previous is None:
        return record
    return record.model_copy(update={"previous": None})
