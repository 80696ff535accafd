"""The alerts component of the store: evaluations, alert states, notifications, transitions, silences.

Times are stored as UTC text (``2014-04-10T07:00:00Z``) and periods as
``YYYY-MM``, so that they compare correctly as text in every database.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Float, Index, Integer, String, Table, Text, update

from csp_monitor.state.migrations import Migration, add_columns, create_tables
from csp_monitor.state.schema import metadata

__all__ = ["MIGRATIONS", "alert_events", "alert_states", "evaluations", "notifications", "silences"]

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", String(7), nullable=False),
    Column("area", String, nullable=False),
    Column("measure", String, nullable=False),
    Column("status", String(16), nullable=False),
    Column("current", Float),
    Column("baseline", Float),
    Column("change_pct", Float),
    Column("result", Text, nullable=False),  # the whole result, as JSON
    Column("rule_hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("ix_evaluations_area_measure_as_of", "area", "measure", "as_of"),
)

alert_states = Table(
    "alert_states",
    metadata,
    Column("alert", String, primary_key=True),
    Column("area", String, primary_key=True),
    Column("measure", String, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("since", String(7), nullable=False),
    Column("consecutive", Integer, nullable=False),
    Column("last_period", String(7), nullable=False),
    Column("firing_since", String(7)),
    Column("last_notified_period", String(7)),
    Column("last_notified_at", String(32)),
    Column("recipients", Text, nullable=False),  # JSON list
    Column("no_data_since", String(7)),
    Column("message", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("rule_hash", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("previous", Text),  # JSON: the record before last_period was decided
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("alert", String, nullable=False),
    Column("area", String, nullable=False),
    Column("measure", String, nullable=False),
    Column("period", String(7), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("recipients", Text, nullable=False),  # JSON list
    Column("message", Text, nullable=False),
    Column("rule_hash", String(64), nullable=False),
    Column("decided_at", String(32), nullable=False),
    # When the delivery layer put it into an email in the outbox; none: decided, still to be queued
    # (whichever entry point decided it, the next delivery run queues it).
    Column("queued_at", String(32)),
    Index("ix_notifications_period", "period"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert", String, nullable=False),
    Column("area", String, nullable=False),
    Column("measure", String, nullable=False),
    Column("period", String(7), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("notification", String(16)),
    Column("message", Text, nullable=False),
    Column("rule_hash", String(64), nullable=False),
    Column("decided_at", String(32), nullable=False),
)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert", String),
    Column("area", String),
    Column("measure", String),
    Column("author", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("expired_at", String(32)),
    Column("expired_by", String),
)

def _settle_earlier_notices(connection: Connection) -> None:
    # Notices decided before queueing was tracked were queued then, or were meant not to be mailed
    # (decided with `csp-monitor decide` alone): an upgrade must not send months-old notices.
    connection.execute(update(notifications).where(notifications.c.queued_at.is_(None))
                       .values(queued_at=notifications.c.decided_at))


MIGRATIONS = (
    Migration(1, "evaluations, alert states, notifications, alert events and silences",
              create_tables(evaluations, alert_states, notifications, alert_events, silences)),
    Migration(2, "when each notice was queued for delivery",
              add_columns(notifications, "queued_at", then=_settle_earlier_notices)),
)
