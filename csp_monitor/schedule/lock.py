"""The daemon lock: one daemon per state store, across processes and hosts.

The lock is a row in the state store's ``daemon_lock`` table naming its
holder (host, pid, a random token) with a heartbeat the holder renews every
few seconds. A second daemon finds the row and refuses to start, naming the
holder. A lock left behind by a daemon killed with ``kill -9`` (or a power
cut) is taken over safely:

* at once when the holder was on this host and its process is gone (the
  process's start time is recorded too, so a reused pid is not mistaken for
  the holder);
* otherwise once its heartbeat is older than the timeout.

Taking over is a compare-and-swap on the old token, so of two daemons racing
for a stale lock exactly one wins. A holder whose renewal finds its token
gone has lost the lock (it slept past the timeout and another daemon took
over) and must stop.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from csp_monitor.errors import StateError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.state.store import StateStore

__all__ = [
    "HEARTBEAT_SECONDS",
    "LOCK_TIMEOUT_SECONDS",
    "Holder",
    "Lease",
    "acquire",
    "current_holder",
    "holder_gone",
    "release",
    "renew",
]

HEARTBEAT_SECONDS = 10.0
"""How often the holder renews its heartbeat."""

LOCK_TIMEOUT_SECONDS = 60.0
"""A heartbeat older than this means the holder is gone (it is renewed every 10 seconds)."""

_NAME = "daemon"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lock, as recorded in the store."""

    host: str
    pid: int
    purpose: str
    started_at: datetime
    heartbeat_at: datetime
    host_id: str
    pid_start: str
    token: str

    def describe(self, now: datetime) -> str:
        """``csp-monitor daemon (pid 4121 on council-app-01, started ..., last heartbeat 3 s ago)``."""
        age = max(0, int((now - self.heartbeat_at).total_seconds()))
        return (f"csp-monitor {self.purpose} (pid {self.pid} on {self.host}, started "
                f"{self.started_at:%Y-%m-%d %H:%M:%S} UTC, last heartbeat {age} s ago)")


@dataclass(frozen=True, slots=True)
class Lease:
    """The lock as held by this process."""

    token: str
    pid: int
    host: str
    purpose: str
    took_over: str | None = None  # who held a stale lock we took over, for the log


def acquire(store: StateStore, *, purpose: str = "daemon", now: datetime | None = None,
            timeout: float = LOCK_TIMEOUT_SECONDS) -> Lease:
    """Take the lock or raise :class:`StateError` naming the daemon that holds it."""
    from sqlalchemy import insert, update
    from sqlalchemy.exc import IntegrityError

    from csp_monitor.state.schedule_tables import daemon_lock
    from csp_monitor.state.store import format_time

    now = now or datetime.now(UTC)
    me = _identity()
    token = secrets.token_hex(16)
    values = {
        "name": _NAME, "token": token, "host": me.host, "host_id": me.host_id, "pid": me.pid,
        "pid_start": me.pid_start, "purpose": purpose, "started_at": format_time(now),
        "heartbeat_at": format_time(now),
    }
    for _attempt in range(3):
        with store.transaction() as connection:
            holder = _read(connection)
            if holder is None:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(daemon_lock).values(**values))
                except IntegrityError:
                    continue  # another process inserted first: look again
                return Lease(token, me.pid, me.host, purpose)
            reason = _stale_reason(holder, now, timeout, me)
            if reason is None:
                raise StateError(
                    f"{store.location} is in use by another {holder.describe(now)}: only one daemon may "
                    "run on a state store. Stop that one first; if it was killed or its computer lost power, "
                    f"its lock is taken over automatically once its heartbeat is {int(timeout)} s old.",
                    store=store.location)
            taken = connection.execute(
                update(daemon_lock)
                .where(daemon_lock.c.name == _NAME, daemon_lock.c.token == holder.token)
                .values(**values))
            if taken.rowcount == 1:
                return Lease(token, me.pid, me.host, purpose, took_over=f"{holder.describe(now)}: {reason}")
    raise StateError(f"could not take the daemon lock of {store.location}: other processes keep taking it; "
                     "try again", store=store.location)


def renew(store: StateStore, lease: Lease, *, now: datetime | None = None) -> bool:
    """Refresh the heartbeat; False when the lock is no longer ours (it was taken over)."""
    from sqlalchemy import update

    from csp_monitor.state.schedule_tables import daemon_lock
    from csp_monitor.state.store import format_time

    with store.transaction() as connection:
        result = connection.execute(
            update(daemon_lock)
            .where(daemon_lock.c.name == _NAME, daemon_lock.c.token == lease.token)
            .values(heartbeat_at=format_time(now or datetime.now(UTC))))
        return bool(result.rowcount == 1)


def release(store: StateStore, lease: Lease) -> None:
    """Give the lock up (only if it is still ours)."""
    from sqlalchemy import delete

    from csp_monitor.state.schedule_tables import daemon_lock

    with store.transaction() as connection:
        connection.execute(delete(daemon_lock).where(daemon_lock.c.name == _NAME,
                                                     daemon_lock.c.token == lease.token))


def current_holder(store: StateStore) -> Holder | None:
    """Who holds the lock now, if anyone (for ``csp-monitor status``)."""
    with store.transaction() as connection:
        return _read(connection)


def holder_gone(holder: Holder) -> bool:
    """Whether the holder ran on this computer and its process no longer exists (``kill -9``, a crash).

    Only then can its death be known at once; a holder on another computer is gone only when its
    heartbeat is older than :data:`LOCK_TIMEOUT_SECONDS`.
    """
    return holder.host_id == _identity().host_id and not _process_alive(holder.pid, holder.pid_start)


def _read(connection: Connection) -> Holder | None:
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import daemon_lock
    from csp_monitor.state.store import parse_time

    row = connection.execute(select(daemon_lock).where(daemon_lock.c.name == _NAME)).mappings().first()
    if row is None:
        return None
    return Holder(host=row["host"], pid=int(row["pid"]), purpose=row["purpose"],
                  started_at=parse_time(row["started_at"]), heartbeat_at=parse_time(row["heartbeat_at"]),
                  host_id=row["host_id"], pid_start=row["pid_start"], token=row["token"])


def _stale_reason(holder: Holder, now: datetime, timeout: float, me: _Identity) -> str | None:
    if now - holder.heartbeat_at > timedelta(seconds=timeout):
        return f"its heartbeat is more than {int(timeout)} s old"
    if holder.host_id == me.host_id and not _process_alive(holder.pid, holder.pid_start):
        return "its process is no longer running"
    return None


@dataclass(frozen=True, slots=True)
class _Identity:
    host: str
    host_id: str
    pid: int
    pid_start: str


def _identity() -> _Identity:
    host = socket.gethostname()
    # Same name is not same machine: containers share names, pids are per
    # namespace and reset at boot. Only a match on all three lets us look the pid up.
    boot = _read_text("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    pid = os.getpid()
    return _Identity(host=host, host_id=f"{host}|{boot}|{namespace}", pid=pid, pid_start=_process_start(pid))


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or '' when unknown."""
    stat = _read_text(f"/proc/{pid}/stat")
    if not stat:
        return ""
    # The command name (field 2) may hold spaces and brackets: split after its closing ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def _process_alive(pid: int, pid_start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    stat = _read_text(f"/proc/{pid}/stat")
    if stat:
        fields = stat.rsplit(")", 1)[-1].split()
        if fields and fields[0] in {"Z", "X"}:  # a zombie has exited
            return False
        if pid_start and len(fields) > 19 and fields[19] != pid_start:
            return False  # the pid now belongs to another process
    return True


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
