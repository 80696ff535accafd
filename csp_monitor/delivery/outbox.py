"""The outbox: nothing decided is lost, nothing accepted is sent twice.

The guarantees, and how each is kept:

* **Nothing decided is left out.** The decision records each notice as still
  to be queued; :func:`enqueue` is called in the transaction that stamps those
  notices queued (:mod:`csp_monitor.delivery.pending`), so either the emails
  are in the outbox and the notices stamped, or neither, and the next run
  queues them.
* **Once per key.** A message's key (a notice batch, or the summary of one
  period) is unique in the table: deciding or enqueueing again adds nothing.
* **Built once.** The row holds the whole message as it will be sent, so a
  resend is byte for byte the same, with the same Message-ID.
* **Claimed before sending.** A run marks a row ``sending`` (with its host
  and process id) and commits before talking to the server, then records
  ``sent`` with the server's reply. Two runs never send the same row.
* **"Sent" recorded on its own, until it is.** Once the server has accepted
  a message, recording ``sent`` is a transaction of its own, retried while the
  store is busy or unreachable (:func:`~csp_monitor.state.retry.write_until_done`);
  the SMTP transaction is never repeated for it. If the store stays away
  longer than that, the receipt is kept in this process and recorded by the
  next run in it (:func:`recover` records it rather than resend).
* **Unknown, resent a bounded number of times.** A timeout or a dropped
  connection after the whole message was sent leaves its fate unknown: the
  row is resent with the same Message-ID at most ``retry.resend_unknown``
  times, then marked ``unknown`` (reported, never sent again).
* **Crash-safe.** A row left ``sending`` by a run that died (its process is
  gone, or its claim is older than the lease) is queued again by
  :func:`recover` and resent with the same Message-ID. That message may
  arrive twice if the server had taken it just before the crash: that one
  message, never any other.
* **Retried, then reported.** A transient failure (connection refused or
  dropped, a timeout, a 4xx reply) queues the row again with an exponential
  wait (``next_attempt_at``; when the server cannot be reached, the whole
  queue waits as long, and once anything is due the queue is tried oldest
  first); a permanent one (a 5xx reply, every recipient
  refused) or a message still not taken after ``give_up_after`` is marked
  ``failed`` and reported, never silently dropped.
* **Recipients put off, sent alone.** When the server takes some recipients
  and puts others off (4xx), the row is recorded ``sent`` and, in the same
  transaction, a row for the put-off recipients alone is queued (the same
  bytes and Message-ID, ``give_up_after`` counted from the first queueing):
  those who took it never get it again.
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
from csp_monitor.errors import DeliveryError, StateError
from csp_monitor.models.config import RetrySettings
from csp_monitor.plain_data import PlainData
from csp_monitor.state.store import reading_rows

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.state.store import StateStore

__all__ = [
    "DEFAULT_LEASE",
    "Attempt",
    "OutboxMessage",
    "Resend",
    "claimant",
    "deliver_due",
    "enqueue",
    "has_key",
    "list_messages",
    "recover",
    "resends",
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

# Rows the server accepted whose "sent" could not be recorded (the store stayed away): id -> the columns
# to write. A later run in this process records them instead of sending them again.
_UNRECORDED: dict[int, dict[str, Any]] = {}


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
    unknown_attempts: int = 0


@dataclass(frozen=True)
class Attempt(PlainData):
    """What happened to one message in one run."""

    message: OutboxMessage
    outcome: str  # sent, retry, failed or unknown
    detail: str
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)  # recipients the server put off: tried again later


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
    stamp = utc_text(now)
    values = {
        "key": key, "kind": kind, "period": period, "message_id": message_id, "sender": sender,
        "recipients": json.dumps(list(recipients)), "subject": subject,
        "notifications": json.dumps(list(notifications)), "message": message, "status": "queued",
        "attempts": 0, "created_at": stamp, "updated_at": stamp, "next_attempt_at": stamp,
    }
    return _insert(connection, values)


def _insert(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert one outbox row unless its key is there (False then)."""
    table = _table()
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
    with reading_rows("outbox"):
        return _message(row)


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id, key=row.key, kind=row.kind, period=row.period, message_id=row.message_id, sender=row.sender,
        recipients=tuple(json.loads(row.recipients)), subject=row.subject, status=row.status,
        attempts=row.attempts, created_at=row.created_at, next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at, reply=row.reply, refused=json.loads(row.refused) if row.refused else {},
        last_error=row.last_error, claimed_by=row.claimed_by, claimed_at=row.claimed_at,
        unknown_attempts=row.unknown_attempts or 0)


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
    _record_unrecorded(store)
    with store.transaction() as connection:
        rows = connection.execute(select(*_columns()).where(table.c.status == "sending")).all()
        for row in rows:
            expired = row.claimed_at is None or _parse(row.claimed_at) + lease <= now
            if _alive(row.claimed_by) and not expired:
                continue
            with _ACTIVE_LOCK:
                if row.id in _UNRECORDED:
                    continue  # accepted by the server; recorded as soon as the store takes it
            connection.execute(update(table).where(table.c.id == row.id, table.c.status == "sending").values(
                status="queued", next_attempt_at=utc_text(now), updated_at=utc_text(now),
                last_error=f"in flight when the run {row.claimed_by} stopped: sent again with the same Message-ID",
                claimed_by=None, claimed_at=None))
            recovered.append(_row(row))
    return recovered


@dataclass(frozen=True)
class Resend(PlainData):
    """A message already in the outbox that a run would send again: its row, its bytes and why."""

    message: OutboxMessage
    data: bytes
    why: str


def resends(connection: Connection, *, now: datetime, adding: Iterable[str], lease: timedelta = DEFAULT_LEASE
              ) -> tuple[list[Resend], list[OutboxMessage]]:
    """What a run at ``now`` would send again from the outbox, read only (dry runs): (sent again, waiting).

    As :func:`recover` then :func:`deliver_due` decide: a row left ``sending`` by a run that died is sent
    again; once anything is due (such a row, a queued row whose time has come, or a new message: a key of
    ``adding`` not yet in the outbox) every queued row is sent, oldest first; otherwise the queued rows wait
    for their time. Rows being sent by a live run are neither.
    """
    from sqlalchemy import select

    table = _table()
    rows = connection.execute(select(*_columns(), table.c.message).where(table.c.status.in_(["queued", "sending"]))
                              .order_by(table.c.id)).all()
    stamp = utc_text(now)
    candidates: list[tuple[OutboxMessage, bytes, bool]] = []  # (row, bytes, stranded: left sending by a dead run)
    for raw in rows:
        row = _row(raw)
        if row.status == "sending":
            expired = row.claimed_at is None or _parse(row.claimed_at) + lease <= now
            if _alive(row.claimed_by) and not expired:
                continue  # another run is sending it now
            candidates.append((row, bytes(raw.message), True))
        else:
            candidates.append((row, bytes(raw.message), False))
    due = any(not has_key(connection, key) for key in adding) or any(
        stranded or row.next_attempt_at <= stamp for row, _, stranded in candidates)
    if not due:
        return [], [row for row, _, _ in candidates]
    return [Resend(row, data, _why_again(row, stranded=stranded)) for row, data, stranded in candidates], []


def _why_again(row: OutboxMessage, *, stranded: bool) -> str:
    """Why a row is sent again, in a few words: the run that died, the unanswered send, or the failure."""
    if stranded:
        return ("it was being sent when a run stopped; sent again with the same Message-ID (it may arrive "
                "twice if the server had taken it)")
    error = " ".join((row.last_error or "").split())
    if len(error) > 160:
        error = error[:157] + "..."
    if row.unknown_attempts:
        return (f"send {row.unknown_attempts + 1}: the server did not answer after the whole message last time; "
                f"sent again with the same Message-ID ({error})")
    if row.attempts:
        return f"attempt {row.attempts + 1}: not taken before ({error})"
    return "queued by an earlier run, not sent yet"


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


def _finish(store: StateStore, message_id: int, *, stop: Callable[[], bool] | None = None,
            patience: float | None = None, remainder: dict[str, Any] | None = None, **values: Any) -> None:
    """Record how an attempt ended: its own transaction, retried while the store is busy or away.

    ``remainder`` is a row to add in the same transaction: the recipients the server put off, queued
    on their own, so that the sent message and what is left of it are recorded together or not at all.
    """
    from sqlalchemy import update

    from csp_monitor.state.retry import write_until_done

    table = _table()

    def write(connection: Connection) -> None:
        changed = connection.execute(update(table).where(table.c.id == message_id, table.c.status == "sending")
                                     .values(claimed_by=None, claimed_at=None, **values))
        if remainder is not None and changed.rowcount:
            _insert(connection, remainder)

    if patience is None:
        write_until_done(store, write, what=f"the outcome of outbox message {message_id}", stop=stop)
    else:
        write_until_done(store, write, what=f"the outcome of outbox message {message_id}", stop=stop,
                         patience=patience)


def _record_unrecorded(store: StateStore) -> None:
    """Record "sent" for the messages this process delivered while the store was away."""
    from csp_monitor.errors import StateError

    with _ACTIVE_LOCK:
        pending = dict(_UNRECORDED)
    for row_id, values in pending.items():
        try:
            _finish(store, row_id, patience=0.0, **values)
        except StateError:
            return  # still away: the next run tries again
        with _ACTIVE_LOCK:
            _UNRECORDED.pop(row_id, None)


def _not_sent(store: StateStore, row: OutboxMessage, exc: DeliveryError, stamp: datetime, retry: RetrySettings,
              stop: Callable[[], bool] | None) -> Attempt:
    """Record an attempt the server did not (or may not have) accepted: queued again, failed or unknown."""
    if exc.unknown:
        count = row.unknown_attempts + 1
        if count > retry.resend_unknown:
            why = (f"{exc.message}; sent {count} times with the same Message-ID and never answered after the "
                   "whole message, so it is not sent again: ask the recipients whether it arrived")
            _finish(store, row.id, stop=stop, status="unknown", last_error=why, unknown_attempts=count,
                    updated_at=utc_text(stamp))
            return Attempt(row, "unknown", why)
        wait = retry_delay(row.attempts, retry)
        why = (f"{exc.message}; sent again with the same Message-ID after {utc_text(stamp + wait)} "
               f"({count} of at most {retry.resend_unknown + 1} sends)")
        _finish(store, row.id, stop=stop, status="queued", last_error=why, unknown_attempts=count,
                next_attempt_at=utc_text(stamp + wait), updated_at=utc_text(stamp))
        return Attempt(row, "retry", why)
    gave_up = _parse(row.created_at) + timedelta(seconds=retry.give_up_after) <= stamp
    if exc.permanent or gave_up:
        why = exc.message if exc.permanent else f"gave up after {row.attempts} attempts: {exc.message}"
        _finish(store, row.id, stop=stop, status="failed", last_error=why, reply=exc.reply,
                updated_at=utc_text(stamp))
        return Attempt(row, "failed", why)
    wait = retry_delay(row.attempts, retry)
    _finish(store, row.id, stop=stop, status="queued", last_error=exc.message, reply=exc.reply,
            next_attempt_at=utc_text(stamp + wait), updated_at=utc_text(stamp))
    return Attempt(row, "retry", f"{exc.message}; next attempt after {utc_text(stamp + wait)}")


def _remainder(row: OutboxMessage, data: bytes, deferred: dict[str, str], stamp: datetime,
               retry: RetrySettings) -> dict[str, Any]:
    """The row that sends ``row`` later to the recipients the server put off (4xx) while it took the others.

    The same bytes and Message-ID (it is the same message), only those recipients in the envelope, and the
    original's queueing time, so that ``give_up_after`` counts from when the message was first queued.
    """
    import hashlib

    recipients = [recipient for recipient in row.recipients if recipient in deferred]
    identity = "\x1f".join(("csp-monitor-deferred-v1", row.key, str(row.attempts), *recipients))
    why = "; ".join(f"{recipient}: {deferred[recipient]}" for recipient in recipients)
    wait = retry_delay(1, retry)
    return {
        "key": hashlib.sha256(identity.encode("utf-8")).hexdigest(), "kind": row.kind, "period": row.period,
        "message_id": row.message_id, "sender": row.sender, "recipients": json.dumps(recipients),
        "subject": row.subject, "notifications": json.dumps([]), "message": data, "status": "queued",
        "attempts": 1, "created_at": row.created_at, "updated_at": utc_text(stamp),
        "next_attempt_at": utc_text(stamp + wait), "reply": why,
        "last_error": f"the server put off these recipients while it took the others ({why}); tried again after "
                      f"{utc_text(stamp + wait)}",
    }


def _postpone_queue(store: StateStore, until: datetime) -> None:
    from sqlalchemy import update

    table = _table()
    with store.transaction() as connection:
        connection.execute(update(table).where(table.c.status == "queued", table.c.next_attempt_at < utc_text(until))
                           .values(next_attempt_at=utc_text(until)))


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
        # Oldest first, always: once anything is due, the whole queue is tried in the order it was queued, so
        # after an outage a month's messages never arrive after the next month's (the oldest message, tried
        # most often, would otherwise wait longest for its next attempt).
        anything_due = connection.execute(select(table.c.id).where(
            table.c.status == "queued", table.c.next_attempt_at <= utc_text(now)).limit(1)).first() is not None
        due = [row.id for row in connection.execute(
            select(table.c.id).where(table.c.status == "queued").order_by(table.c.id))] if anything_due else []
    _record_unrecorded(store)
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
                attempts.append(_not_sent(store, row, exc, stamp, retry, stop))
                if not exc.unknown and not exc.permanent and not getattr(transport, "connected", True):
                    # The server is unreachable: the rest wait as long as this one, so that they are tried
                    # again together, oldest first, rather than the newest first.
                    _postpone_queue(store, stamp + retry_delay(row.attempts, retry))
                    break
                continue
            stamp = clock() if clock else now
            values: dict[str, Any] = {"status": "sent", "sent_at": utc_text(stamp), "reply": receipt.reply,
                      "refused": json.dumps(receipt.refused) if receipt.refused else None, "last_error": None,
                      "updated_at": utc_text(stamp)}
            if receipt.deferred:
                values["remainder"] = _remainder(row, data, receipt.deferred, stamp, retry)
            try:
                _finish(store, row.id, stop=stop, **values)
            except StateError:
                # Accepted, but the store stayed away: never send it again from this process; record it
                # when the store is back (the next run here, or recover()).
                with _ACTIVE_LOCK:
                    _UNRECORDED[row.id] = values
                raise
            attempts.append(Attempt(row, "sent", receipt.reply, dict(receipt.refused), dict(receipt.deferred)))
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(token)
        transport.close()
    return attempts
