"""Notices decided but not yet in an email: what the next delivery run must queue.

Deciding records each notice due with an empty ``queued_at`` (the alerts
layer cannot build emails: rendering is above it). Every delivery run reads
those notices, builds their alert emails and, in one transaction, puts the
emails into the outbox and stamps the notices queued. So a notice decided
through any entry point (``evaluate_and_decide``, ``csp-monitor decide``,
``send``, the daemon) is queued exactly once, by the first delivery run
after it, and a run that died between deciding and queueing loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from csp_monitor.models.decisions import Notification

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.state.store import StateStore

__all__ = ["mark_queued", "pending_notifications"]


def pending_notifications(store: StateStore, *, read_only: bool = False) -> list[Notification]:
    """Every notice decided and not yet queued, in the order decided (``read_only``: in a read-only transaction)."""
    from sqlalchemy import select

    from csp_monitor.state.alert_tables import notifications as table

    with store.transaction(read_only=read_only) as connection:
        rows = connection.execute(select(table).where(table.c.queued_at.is_(None)).order_by(table.c.id)).all()
    return [Notification(key=row.key, alert=row.alert, kind=row.kind, area=row.area, measure=row.measure,
                         period=row.period, recipients=tuple(json.loads(row.recipients)), message=row.message)
            for row in rows]


def mark_queued(connection: Connection, keys: Sequence[str], now: datetime) -> bool:
    """Stamp these notices queued, in the caller's transaction; False when another run queued any of them first."""
    if not keys:
        return True
    from sqlalchemy import update

    from csp_monitor.state.alert_tables import notifications as table
    from csp_monitor.state.store import format_time

    changed = connection.execute(update(table).where(table.c.key.in_(list(keys)), table.c.queued_at.is_(None))
                                 .values(queued_at=format_time(now)))
    return int(changed.rowcount) == len(set(keys))
