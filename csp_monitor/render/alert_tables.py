"""Decisions, alert states, silences and the audit trail as terminal text or JSON."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from csp_monitor.models.alert_state import AlertKey, AlertRecord, HistoryEntry, Silence
from csp_monitor.models.decisions import AlertState, Decision

__all__ = [
    "alerts_json",
    "alerts_table",
    "decision_json",
    "decision_table",
    "history_json",
    "history_table",
    "silence_json",
    "silences_table",
]

_COLOURS = {"firing": "\x1b[1;31m", "pending": "\x1b[1;33m", "silenced": "\x1b[2m", "resolved": "\x1b[1;32m",
            "repeat": "\x1b[1;31m"}
_RESET = "\x1b[0m"
_STATE_ORDER: tuple[AlertState, ...] = ("firing", "pending", "silenced", "resolved")


def _clean(text: object) -> str:
    """Drop control characters (a hostile name cannot drive the terminal); keep it on one line."""
    return "".join(" " if ch in "\n\t" else ch for ch in str(text)
                   if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def _paint(word: str, colour: bool) -> str:
    return f"{_COLOURS.get(word, '')}{word}{_RESET}" if colour and word in _COLOURS else word


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def decision_json(decision: Decision) -> str:
    """The decision as JSON: {as_of, notifications: [...], alerts: [...]} (its warnings go to stderr)."""
    return json.dumps(decision.model_dump(mode="json", exclude={"warnings"}), indent=2, ensure_ascii=False)


def decision_table(decision: Decision, *, colour: bool = False) -> str:
    """The notices due and the state of every alert, for a person at a terminal."""
    lines = [f"Alerts decided for {decision.as_of}"]
    if decision.notifications:
        count = len(decision.notifications)
        lines.append(f"\n{count} notice{'s' if count != 1 else ''} due:")
        for notice in decision.notifications:
            lines.append(f"  {_paint(notice.kind, colour):<9} {_clean(notice.alert)}  {_clean(notice.area)} / "
                         f"{_clean(notice.measure)}  -> {_clean(', '.join(notice.recipients))}")
            lines.append(f"            {_clean(notice.message)}")
    else:
        lines.append("\nNo notices due: nothing new to tell anyone.")
    if decision.alerts:
        lines.append("\nAlerts:")
        for state in _STATE_ORDER:
            for alert in decision.by_state(state):
                lines.append(f"  {_paint(alert.state, colour):<9} {_clean(alert.alert)}  {_clean(alert.area)} / "
                             f"{_clean(alert.measure)}  since {alert.since}")
    else:
        lines.append("\nNo alert is pending, firing or silenced.")
    return "\n".join(lines) + "\n"


def _active_silence(record: AlertRecord, silences: Sequence[Silence]) -> Silence | None:
    for silence in silences:
        if silence.matches(record.alert, record.area, record.measure):
            return silence
    return None


def _alert_view(record: AlertRecord, silences: Sequence[Silence],
                deliveries: Mapping[AlertKey, Mapping[str, str]] | None) -> dict[str, Any]:
    silence = _active_silence(record, silences)
    view = {
        "alert": record.alert, "area": record.area, "measure": record.measure, "state": record.state,
        "since": record.since, "severity": record.severity, "periods": record.consecutive,
        "last_period": record.last_period, "last_notified_period": record.last_notified_period,
        "recipients": list(record.recipients), "reason": record.message, "no_data_since": record.no_data_since,
        "silence": None if silence is None else {
            "id": silence.id, "by": silence.author, "reason": silence.reason,
            "until": silence.expires_at.isoformat().replace("+00:00", "Z")},
    }
    if deliveries is not None:
        view["delivery"] = dict(deliveries.get(record.key, {}))
    return view


def alerts_json(records: Sequence[AlertRecord], silences: Sequence[Silence], *,
                deliveries: Mapping[AlertKey, Mapping[str, str]] | None = None) -> str:
    """Alert states as a JSON list (given ``deliveries``, each with ``delivery``: {address: outbox status} of its
    last notice)."""
    return json.dumps([_alert_view(r, silences, deliveries) for r in records], indent=2, ensure_ascii=False)


_DELIVERY_WORDS = {"sent": "delivered", "queued": "queued, not delivered yet", "sending": "being sent",
                   "failed": "FAILED, not delivered"}


def _delivery_text(delivery: Mapping[str, str]) -> str:
    """``a@x (delivered), b@y (queued, not delivered yet)``."""
    return ", ".join(f"{address} ({_DELIVERY_WORDS.get(status, status)})" for address, status in delivery.items())


def alerts_table(records: Sequence[AlertRecord], silences: Sequence[Silence], *, colour: bool = False,
                 deliveries: Mapping[AlertKey, Mapping[str, str]] | None = None) -> str:
    """What is firing, pending and silenced, with the reasons (and, given ``deliveries``, whether the last
    notice was delivered or is still queued)."""
    if not records:
        return "No alert is firing, pending or silenced.\n"
    lines: list[str] = []
    for state in _STATE_ORDER:
        chosen = [r for r in records if r.state == state]
        if not chosen:
            continue
        lines.append(f"{_paint(state.upper(), colour)} ({len(chosen)})")
        for record in chosen:
            head = (f"  {_clean(record.alert)}  {_clean(record.area)} / {_clean(record.measure)}  "
                    f"since {record.since}  [{record.severity}]")
            lines.append(head)
            lines.append(f"      {_clean(record.message)}")
            if state == "pending":
                lines.append(f"      the condition has held for {record.consecutive} period"
                             f"{'s' if record.consecutive != 1 else ''}")
            if record.no_data_since:
                lines.append(f"      no figures to judge it (missing or suspect) since {record.no_data_since}: it keeps its state")
            if record.last_notified_period:
                delivery = (deliveries or {}).get(record.key)
                when = f"{record.last_notified_period} ({_time(record.last_notified_at)})"
                if deliveries is None:
                    lines.append(f"      last told {when} to {_clean(', '.join(record.recipients))}")
                elif delivery and all(status == "sent" for status in delivery.values()):
                    lines.append(f"      last told {when} to {_clean(', '.join(delivery))} (delivered)")
                elif delivery:
                    lines.append(f"      last notice {when}: {_clean(_delivery_text(delivery))}")
                else:
                    lines.append(f"      last notice {when} for {_clean(', '.join(record.recipients))}: "
                                 "no email queued")
            silence = _active_silence(record, silences)
            if silence is not None:
                later = "" if state == "silenced" else "; it applies from the next decision"
                lines.append(f"      silenced by {_clean(silence.author)} until {_time(silence.expires_at)} "
                             f"(silence {silence.id}): {_clean(silence.reason)}{later}")
        lines.append("")
    return "\n".join(lines)


def silence_json(silences: Sequence[Silence]) -> str:
    """Silences as a JSON list."""
    return json.dumps([s.model_dump(mode="json") for s in silences], indent=2, ensure_ascii=False)


def silences_table(silences: Sequence[Silence], *, now: datetime) -> str:
    """One line per silence: number, what it matches, until when, who and why."""
    if not silences:
        return "No silences.\n"
    lines = []
    for silence in silences:
        if silence.expired_at is not None:
            status = f"ended {_time(silence.expired_at)} by {_clean(silence.expired_by or '')}"
        elif silence.active_at(now):
            status = f"until {_time(silence.expires_at)}"
        else:
            status = f"expired {_time(silence.expires_at)}"
        lines.append(f"{silence.id:>4}  {_clean(silence.describe())}  {status}  by {_clean(silence.author)}: "
                     f"{_clean(silence.reason)}")
    return "\n".join(lines) + "\n"


def history_json(entries: Sequence[HistoryEntry]) -> str:
    """The audit trail as a JSON list."""
    return json.dumps([e.model_dump(mode="json") for e in entries], indent=2, ensure_ascii=False)


def history_table(entries: Sequence[HistoryEntry]) -> str:
    """The audit trail, newest first: when, what, to whom, under which rules."""
    if not entries:
        return "Nothing has been decided yet.\n"
    lines = []
    for entry in entries:
        what = " / ".join(_clean(part) for part in (entry.alert, entry.area, entry.measure) if part)
        period = f" {entry.period}" if entry.period else ""
        line = f"{_time(entry.at)}  {entry.event:<15} {what}{period}: {_clean(entry.detail)}"
        if entry.delivery:
            line += f" -> {_clean(_delivery_text(entry.delivery))}"
        elif entry.recipients:
            line += f" -> {_clean(', '.join(entry.recipients))}" + (" (no email queued)" if entry.event == "notified"
                                                                    else "")
        if entry.by:
            line += f" (by {_clean(entry.by)})"
        if entry.rule_hash:
            line += f" [rules {entry.rule_hash[:12]}]"
        lines.append(line)
    return "\n".join(lines) + "\n"
