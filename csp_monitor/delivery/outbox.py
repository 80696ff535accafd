"""The outbox: nothing decided is lost, nothing accepted is sent twice.

The guarantees, and how each is kept:

* **Written with the decision.** :func:`enqueue` is called on the connection
  of the transaction that records the decision (``decide_and_record(...,
  also=...)``), so either both the decision and its message are stored, or
  neither is and the next run decides again.
* **Once per key.** A message's key (a notice batch, or the summary of one
  period) is unique in the table: deciding or enqueueing again adds nothing.
* **Built once.** The row holds the whole message as it will be sent, so a
  resend is byte for byte the same, with the same Message-ID.
* **Claimed before sending.** A run marks a row ``sending`` (with its host
  and process id) and commits before talking to the server, then records
  ``sent`` with the server's reply. Two runs never send the same row.
* **Crash-safe.** A row left ``sending`` by a run that died (its process is
  gone, or its claim is older than the lease) is queued again by
  :func:`recover` and resent with the same Message-ID. That message may
  arrive twice if the server had taken it just before the crash: that one
  message, never any other.
* **Retried, then reported.** A transient failure (connection refused or
  dropped, a timeout, a 4xx reply) queues the row again with an exponential
  wait (``next_attempt_at``); a permanent one (a 5xx reply, every recipient
  refused) or a message still not taken after ``give_up_after`` is marked
  ``failed`` and reported, never silently dropped.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from csp_monitor.delivery.transport import Transport
from csp_monitor.errors import DeliveryError
from csp_monitor.models.config import RetrySettings
from csp_monitor.plain_data import PlainData

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.state.store import StateStore

__all__ = [
    "DEFAULT_LEASE",
    "Attempt",
    "OutboxMessage",
    "claimant",
    "deliver_due",
    "enqueue",
    "has_key",
    "list_messages",
    "recover",
    "retry_delay",
    "utc_text",
]

DEFAULT_LEASE = timedelta(minutes=15)
"""A claim older than this is taken to be a run that died, wherever it ran."""


def utc_text(moment: datetime) -> str:
    """``2014-04-10T07:00:00Z``: UTC text that sorts and compares correctly in every database."""
    if moment.tzinfo is None:
        raise ValueError("times in the outbox need a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# The claims of the runs in progress in this process (a daemon may run two jobs at once).
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def claimant() -> str:
    """``host:pid:run`` of a new run, recorded on the rows it is sending."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class OutboxMessage(PlainData):
    """One row of the outbox, without the message bytes."""

    id: int
    key: str
    kind: str
    period: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    status: str
    attempts: int
    created_at: str
    next_attempt_at: str
    sent_at: str | None
    reply: str | None
    refused: dict[str, str]
    last_error: str | None
    claimed_by: str | None = None
    claimed_at: str | None = None


@dataclass(frozen=True)
class Attempt(PlainData):
    """What happened to one message in one run."""

    message: OutboxMessage
    outcome: str  # sent, retry or failed
    detail: str
    refused: dict[str, str] = field(default_factory=dict)


def _table() -> Any:
    from csp_monitor.state.outbox_tables import outbox

    return outbox


def has_key(connection: Connection, key: str) -> bool:
    """Whether a message with this key is already in the outbox (whatever its status)."""
    from sqlalchemy import select

    table = _table()
    return connection.execute(select(table.c.id).where(table.c.key == key)).first() is not None


def enqueue(connection: Connection, *, key: str, kind: str, period: str, message_id: str, sender: str,
            recipients: Sequence[str], subject: str, message: bytes, now: datetime,
            notifications: Sequence[str] = ()) -> bool:
    """Add a message inside the caller's transaction; False (and nothing written) when the key is there."""
    if has_key(connection, key):
        return False
    table = _table()
    stamp = utc_text(now)
    values = {
        "key": key, "kind": kind, "period": period, "message_id": message_id, "sender": sender,
        "recipients": json.dumps(list(recipients)), "subject": subject,
        "notifications": json.dumps(list(notifications)), "message": message, "status": "queued",
        "attempts": 0, "created_at": stamp, "updated_at": stamp, "next_attempt_at": stamp,
    }
    dialect = connection.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        statement: Any = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
        return bool(connection.execute(statement).rowcount)
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
        return bool(connection.execute(statement).rowcount)
    connection.execute(table.insert().values(**values))
    return True


def _row(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id, key=row.key, kind=row.kind, period=row.period, message_id=row.message_id, sender=row.sender,
        recipients=tuple(json.loads(row.recipients)), subject=row.subject, status=row.status,
        attempts=row.attempts, created_at=row.created_at, next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at, reply=row.reply, refused=json.loads(row.refused) if row.refused else {},
        last_error=row.last_error, claimed_by=row.claimed_by, claimed_at=row.claimed_at)


def _columns() -> list[Any]:
    table = _table()
    return [column for column in table.c if column.name != "message"]


def list_messages(store: StateStore, *, statuses: Iterable[str] | None = None, limit: int | None = None
                  ) -> list[OutboxMessage]:
    """The outbox, newest first (optionally only some statuses)."""
    from sqlalchemy import select

    table = _table()
    query = select(*_columns()).order_by(table.c.id.desc())
    if statuses is not None:
        query = query.where(table.c.status.in_(list(statuses)))
    if limit is not None:
        query = query.limit(limit)
    with store.transaction() as connection:
        return [_row(row) for row in connection.execute(query)]


def _alive(claim: str | None) -> bool:
    """Whether the run that claimed a row may still be sending it."""
    if not claim or claim.count(":") < 2:
        return False
    host, pid_text, _ = claim.rsplit(":", 2)
    if host != socket.gethostname():
        return True  # another machine: only the lease can tell
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        with _ACTIVE_LOCK:
            return claim in _ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(store: StateStore, *, now: datetime, lease: timedelta = DEFAULT_LEASE) -> list[OutboxMessage]:
    """Queue again every row left ``sending`` by a run that died; return them (resent as they were)."""
    from sqlalchemy import select, update

    table = _table()
    recovered: list[OutboxMessage] = []
    with store.transaction() as connection:
        rows = connection.execute(select(*_columns()).where(table.c.status == "sending")).all()
        for row in rows:
            expired = row.claimed_at is None or _parse(row.claimed_at) + lease <= now
            if _alive(row.claimed_by) and not expired:
                continue
            connection.execute(update(table).where(table.c.id == row.id, table.c.status == "sending").values(
                status="queued", next_attempt_at=utc_text(now), updated_at=utc_text(now),
                last_error=f"in flight when the run {row.claimed_by} stopped: sent again with the same Message-ID",
                claimed_by=None, claimed_at=None))
            recovered.append(_row(row))
    return recovered


def _claim(store: StateStore, message_id: int, now: datetime, token: str) -> tuple[OutboxMessage, bytes] | None:
    from sqlalchemy import select, update

    table = _table()
    with store.transaction() as connection:
        changed = connection.execute(update(table).where(table.c.id == message_id, table.c.status == "queued").values(
            status="sending", claimed_by=token, claimed_at=utc_text(now), attempts=table.c.attempts + 1,
            updated_at=utc_text(now)))
        if not changed.rowcount:
            return None  # another run took it
        row = connection.execute(select(*_columns(), table.c.message).where(table.c.id == message_id)).one()
    return _row(row), bytes(row.message)


def _finish(store: StateStore, message_id: int, **values: Any) -> None:
    from sqlalchemy import update

    table = _table()
    with store.transaction() as connection:
        connection.execute(update(table).where(table.c.id == message_id, table.c.status == "sending").values(
            claimed_by=None, claimed_at=None, **values))


def retry_delay(attempts: int, retry: RetrySettings) -> timedelta:
    """The wait before the next attempt: the first delay, doubling each time, at most the maximum."""
    seconds = min(retry.first_delay * 2 ** max(0, attempts - 1), retry.max_delay)
    return timedelta(seconds=seconds)


def deliver_due(store: StateStore, transport: Transport, *, now: datetime, retry: RetrySettings,
                clock: Any = None, stop: Callable[[], bool] | None = None) -> list[Attempt]:
    """Send every queued message whose time has come, oldest first; return what happened to each.

    ``clock`` (a function returning an aware datetime) stamps sent times;
    by default each attempt is stamped with ``now``. After a failure that
    leaves no connection to the server (it is down), the rest wait for the
    next run rather than each waiting for a timeout. When ``stop()`` turns
    true (the daemon got SIGTERM) the message being sent is finished and the
    rest stay queued for the next run.
    """
    from sqlalchemy import select

    table = _table()
    with store.transaction() as connection:
        due = [row.id for row in connection.execute(
            select(table.c.id).where(table.c.status == "queued", table.c.next_attempt_at <= utc_text(now))
            .order_by(table.c.id))]
    attempts: list[Attempt] = []
    token = claimant()
    with _ACTIVE_LOCK:
        _ACTIVE.add(token)
    try:
        for message_id in due:
            if stop is not None and stop():
                break
            claimed = _claim(store, message_id, now, token)
            if claimed is None:
                continue
            row, data = claimed
            try:
                receipt = transport.send(data, sender=row.sender, recipients=row.recipients,
                                         message_id=row.message_id)
            except DeliveryError as exc:
                stamp = clock() if clock else now
                gave_up = _parse(row.created_at) + timedelta(seconds=retry.give_up_after) <= stamp
                if exc.permanent or gave_up:
                    why = exc.message if exc.permanent else f"gave up after {row.attempts} attempts: {exc.message}"
                    _finish(store, row.id, status="failed", last_error=why, reply=exc.reply,
                            updated_at=utc_text(stamp))
                    attempts.append(Attempt(row, "failed", why))
                else:
                    wait = retry_delay(row.attempts, retry)
                    _finish(store, row.id, status="queued", last_error=exc.message, reply=exc.reply,
                            next_attempt_at=utc_text(stamp + wait), updated_at=utc_text(stamp))
                    attempts.append(Attempt(row, "retry", f"{exc.message}; next attempt after "
                                                          f"{utc_text(stamp + wait)}"))
                    if not getattr(transport, "connected", True):
                        break  # the server is unreachable: the rest wait for the next run
                continue
            stamp = clock() if clock else now
            _finish(store, row.id, status="sent", sent_at=utc_text(stamp), reply=receipt.reply,
                    refused=json.dumps(receipt.refused) if receipt.refused else None, last_error=None,
                    updated_at=utc_text(stamp))
            attempts.append(Attempt(row, "sent", receipt.reply, dict(receipt.refused)))
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(token)
        transport.close()
    return attempts
