"""Alerts: decide who hears about which change, once, and remember it.

The decision is pure (:func:`decide`: an evaluation, the alert rules and the
remembered state in, a plan out; no clock, no I/O). :func:`decide_and_record`
runs it against a state store (:func:`open_store`) in one transaction, and
the notices it makes due are queued for email by the next delivery run on
that store (``send_once``, ``csp-monitor send``, the daemon);
:func:`evaluate_and_decide` evaluates figures first. Notices for one recipient
in one run are grouped with :func:`group_by_recipient`.

Example::

    from datetime import UTC, datetime
    from csp_monitor import load_figures, load_rules
    from csp_monitor.alerts import evaluate_and_decide, open_store

    rules = load_rules(["rules/harborough-2013-14.yaml", "rules/harborough-alerts.yaml"])
    with open_store("csp-monitor.db") as store:
        decision = evaluate_and_decide(store, rules, load_figures("figures.csv"),
                                       as_of="2014-03", now=datetime.now(UTC))
    for notice in decision.notifications:
        print(notice.kind, notice.alert, notice.measure, notice.recipients)
"""

from __future__ import annotations

from csp_monitor.alerts.decide import DecisionPlan, decide, recipients_for
from csp_monitor.alerts.grouping import RecipientBatch, group_by_recipient
from csp_monitor.alerts.keys import notification_key
from csp_monitor.alerts.record import decide_and_record, evaluate_and_decide
from csp_monitor.models.alert_state import RememberedState, Silence
from csp_monitor.models.decisions import (
    AlertState,
    AlertStatus,
    Decision,
    Notification,
    NotificationKind,
)
from csp_monitor.state import open_store

__all__ = [
    "AlertState",
    "AlertStatus",
    "Decision",
    "DecisionPlan",
    "Notification",
    "NotificationKind",
    "RecipientBatch",
    "RememberedState",
    "Silence",
    "decide",
    "decide_and_record",
    "evaluate_and_decide",
    "group_by_recipient",
    "notification_key",
    "open_store",
    "recipients_for",
]
