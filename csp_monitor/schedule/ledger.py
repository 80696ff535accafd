"""The run ledger: one row per (job, occurrence), so each piece of work is done once.

A job *claims* its occurrence before doing any work. The claim is an insert
under a unique key, so a second firing of the same occurrence (the clocks
repeating an hour, a restart, a catch-up racing the scheduler) finds the row
and does nothing. The row then records how the run ended:

``running``      claimed, working (or killed while working)
``succeeded``    done
``failed``       the job raised; it is logged and retried with a growing wait
                 (``next_attempt_at``, see :func:`retry_at`) for the same occurrence and
                 the same month, until it succeeds or its retries run out
``interrupted``  found ``running`` when a daemon started, so its process died mid-run;
                 it is claimed again and rerun (the work itself is idempotent:
                 decisions and the outbox never notify twice)
``skipped``      the daemon first met this schedule after this occurrence, or its timing
                 changed after it; rows keyed ``definition ...`` remember each timing a
                 schedule has had (:func:`note_definition`)
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from csp_monitor.schedule.occurrences import Occurrence

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.models.schedule import RunRetrySettings
    from csp_monitor.state.store import StateStore

__all__ = [
    "DEFINITION",
    "Claim",
    "Outcome",
    "Reason",
    "RunRecord",
    "claim",
    "due_retries",
    "finish",
    "has_history",
    "interrupt_unfinished",
    "last_runs",
    "lookup",
    "note_definition",
    "recent_failures",
    "record_skipped",
    "retry_at",
    "runs_of",
    "waiting_retry",
]

Outcome = Literal["running", "succeeded", "failed", "interrupted", "skipped"]
Reason = Literal["scheduled", "catch-up", "manual", "new-figures", "retry"]


@dataclass(frozen=True, slots=True)
class Claim:
    """This process's right to do one occurrence's work."""

    row_id: int
    job_id: str
    occurrence: str
    attempts: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of the ledger."""

    job_id: str
    occurrence: str
    scheduled_at: datetime
    reason: str
    run: str
    as_of: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    attempts: int
    detail: str | None
    error: str | None
    next_attempt_at: datetime | None = None


def retry_at(settings: RunRetrySettings, *, scheduled_at: datetime, attempts: int, now: datetime
             ) -> datetime | None:
    """When a run that failed ``attempts`` times is tried again: ``first_delay``, doubling, at most ``max_delay``;
    None once ``give_up_after`` has passed since its scheduled time."""
    wait = min(settings.first_delay * 2 ** max(0, attempts - 1), settings.max_delay)
    following = now + timedelta(seconds=wait)
    if following > scheduled_at + timedelta(seconds=settings.give_up_after):
        return None
    return following


def claim(store: StateStore, occurrence: Occurrence, *, run: str, reason: Reason, as_of: str | None = None,
          now: datetime | None = None, retry: bool = False) -> Claim | None:
    """Claim ``occurrence`` for this process; None when it is done, failed or being done already.

    With ``retry`` a failed occurrence is claimed again once its retry time has come (by hand, ``run-once``,
    at once): the month it recorded is kept unless ``as_of`` names one.
    """
    from sqlalchemy import insert, select, update

    from csp_monitor.state.schedule_tables import runs
    from csp_monitor.state.store import format_time

    moment = now or datetime.now(UTC)
    started = format_time(moment)
    key = (runs.c.job_id == occurrence.schedule_id) & (runs.c.occurrence == occurrence.key)
    with store.transaction() as connection:
        row = connection.execute(select(runs.c.id, runs.c.outcome, runs.c.attempts, runs.c.as_of,
                                        runs.c.next_attempt_at).where(key)).first()
        if row is None:
            row_id = connection.execute(insert(runs).values(
                job_id=occurrence.schedule_id, occurrence=occurrence.key, scheduled_at=format_time(occurrence.at),
                reason=reason, run=run, as_of=as_of, started_at=started, outcome="running", attempts=1,
                host=socket.gethostname(), pid=os.getpid())).inserted_primary_key
            assert row_id is not None
            return Claim(int(row_id[0]), occurrence.schedule_id, occurrence.key, 1)
        retrying = retry and row.outcome == "failed" and row.next_attempt_at is not None and (
            reason == "manual" or row.next_attempt_at <= started)
        if row.outcome != "interrupted" and not retrying:
            return None
        attempts = int(row.attempts) + 1
        # A compare-and-set on what was read: of two processes retrying the same run, one wins.
        changed = connection.execute(update(runs).where(
            runs.c.id == row.id, runs.c.outcome == row.outcome, runs.c.attempts == row.attempts).values(
            outcome="running", attempts=attempts, started_at=started, finished_at=None, reason=reason,
            as_of=as_of or row.as_of, host=socket.gethostname(), pid=os.getpid(), error=None, detail=None,
            next_attempt_at=None))
        if not changed.rowcount:
            return None
        return Claim(int(row.id), occurrence.schedule_id, occurrence.key, attempts)


def finish(store: StateStore, held: Claim, outcome: Outcome, *, detail: str | None = None,
           error: str | None = None, now: datetime | None = None, as_of: str | None = None,
           next_attempt_at: datetime | None = None, stop: Callable[[], bool] | None = None) -> None:
    """Record how a claimed run ended (and, for a failure, when it is retried and which month it judged).

    The record is its own transaction, tried again while the store is busy or
    unreachable (:func:`~csp_monitor.state.retry.write_until_done`), so a store
    that fails for a while after the work was done leaves no run ``running``.
    """
    from sqlalchemy import update

    from csp_monitor.state.retry import write_until_done
    from csp_monitor.state.schedule_tables import runs
    from csp_monitor.state.store import format_time

    values: dict[str, Any] = {"outcome": outcome, "finished_at": format_time(now or datetime.now(UTC)),
                              "detail": detail, "error": error,
                              "next_attempt_at": format_time(next_attempt_at) if next_attempt_at else None}
    if as_of is not None:
        values["as_of"] = as_of

    def write(connection: Connection) -> None:
        connection.execute(update(runs).where(runs.c.id == held.row_id).values(**values))

    write_until_done(store, write, what=f"how the run {held.job_id} {held.occurrence} ended", stop=stop)


def due_retries(store: StateStore, job_id: str, now: datetime) -> list[RunRecord]:
    """The failed runs of ``job_id`` whose retry time has come, oldest first."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs
    from csp_monitor.state.store import format_time

    with store.transaction() as connection:
        rows = connection.execute(select(runs).where(
            runs.c.job_id == job_id, runs.c.outcome == "failed", runs.c.next_attempt_at.is_not(None),
            runs.c.next_attempt_at <= format_time(now)).order_by(runs.c.id)).mappings().all()
    return [_record(row) for row in rows]


def waiting_retry(store: StateStore, job_id: str) -> RunRecord | None:
    """The oldest failed run of ``job_id`` still waiting to be retried, if any (``run-once`` runs it now)."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs

    with store.transaction() as connection:
        row = connection.execute(select(runs).where(
            runs.c.job_id == job_id, runs.c.outcome == "failed", runs.c.next_attempt_at.is_not(None))
            .order_by(runs.c.id).limit(1)).mappings().first()
    return _record(row) if row is not None else None


def record_skipped(store: StateStore, occurrence: Occurrence, *, run: str, detail: str,
                   now: datetime | None = None) -> bool:
    """Record an occurrence that will not be run; False when it already has a row."""
    from sqlalchemy import insert, select

    from csp_monitor.state.schedule_tables import runs
    from csp_monitor.state.store import format_time

    stamp = format_time(now or datetime.now(UTC))
    with store.transaction() as connection:
        if connection.execute(select(runs.c.id).where(
                runs.c.job_id == occurrence.schedule_id, runs.c.occurrence == occurrence.key)).first():
            return False
        connection.execute(insert(runs).values(
            job_id=occurrence.schedule_id, occurrence=occurrence.key, scheduled_at=format_time(occurrence.at),
            reason="scheduled", run=run, started_at=stamp, finished_at=stamp, outcome="skipped", attempts=0,
            detail=detail, host=socket.gethostname(), pid=os.getpid()))
    return True


DEFINITION = "definition "
"""The occurrence key prefix of the rows that remember a schedule's timing (outcome ``skipped``)."""


def note_definition(store: StateStore, job_id: str, timing: str, *, now: datetime | None = None) -> bool:
    """Remember that ``job_id`` now runs at ``timing`` (its cron or interval, and time zone); True when it ran
    at another timing before, so that a past time of the new timing is not taken for a missed run."""
    from sqlalchemy import insert, select

    from csp_monitor.state.schedule_tables import runs
    from csp_monitor.state.store import format_time

    moment = now or datetime.now(UTC)
    stamp = format_time(moment)
    with store.transaction() as connection:
        latest = connection.execute(
            select(runs.c.detail).where(runs.c.job_id == job_id, runs.c.occurrence.startswith(DEFINITION))
            .order_by(runs.c.id.desc()).limit(1)).scalar()
        if latest == timing:
            return False
        connection.execute(insert(runs).values(
            job_id=job_id, occurrence=f"{DEFINITION}{moment.isoformat(timespec='microseconds')}", scheduled_at=stamp,
            reason="scheduled", run="-", started_at=stamp, finished_at=stamp, outcome="skipped", attempts=0,
            detail=timing, host=socket.gethostname(), pid=os.getpid()))
    return latest is not None


def interrupt_unfinished(store: StateStore) -> list[RunRecord]:
    """Mark every ``running`` row ``interrupted``; call only while holding the daemon lock."""
    from sqlalchemy import select, update

    from csp_monitor.state.schedule_tables import runs

    with store.transaction() as connection:
        rows = connection.execute(select(runs).where(runs.c.outcome == "running")).mappings().all()
        connection.execute(update(runs).where(runs.c.outcome == "running").values(outcome="interrupted"))
    return [_record({**row, "outcome": "interrupted"}) for row in rows]


def has_history(store: StateStore, job_id: str) -> bool:
    """Whether the daemon has met ``job_id`` before (manual runs by ``run-once`` do not count)."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs

    with store.transaction() as connection:
        return connection.execute(select(runs.c.id).where(runs.c.job_id == job_id, runs.c.reason != "manual",
                                                          ~runs.c.occurrence.startswith(DEFINITION))
                                  .limit(1)).first() is not None


def lookup(store: StateStore, job_id: str, occurrence_key: str) -> RunRecord | None:
    """The row of one occurrence, if any."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs

    with store.transaction() as connection:
        row = connection.execute(select(runs).where(
            runs.c.job_id == job_id, runs.c.occurrence == occurrence_key)).mappings().first()
    return _record(row) if row is not None else None


def last_runs(store: StateStore) -> dict[str, RunRecord]:
    """The most recently started run of each job (skipped rows aside)."""
    from sqlalchemy import func, select

    from csp_monitor.state.schedule_tables import runs

    latest = (select(runs.c.job_id, func.max(runs.c.id).label("id"))
              .where(runs.c.outcome != "skipped").group_by(runs.c.job_id).subquery())
    with store.transaction() as connection:
        rows = connection.execute(select(runs).join(latest, runs.c.id == latest.c.id)).mappings().all()
    return {row["job_id"]: _record(row) for row in rows}


def recent_failures(store: StateStore, limit: int = 5) -> list[RunRecord]:
    """The latest failed or interrupted runs, newest first."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs

    with store.transaction() as connection:
        rows = connection.execute(select(runs).where(runs.c.outcome.in_(("failed", "interrupted")))
                                  .order_by(runs.c.id.desc()).limit(limit)).mappings().all()
    return [_record(row) for row in rows]


def runs_of(store: StateStore, job_id: str | None = None) -> list[RunRecord]:
    """Every row of the ledger (of one job), oldest first."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import runs

    query = select(runs).order_by(runs.c.id)
    if job_id is not None:
        query = query.where(runs.c.job_id == job_id)
    with store.transaction() as connection:
        return [_record(row) for row in connection.execute(query).mappings().all()]


def _record(row: Any) -> RunRecord:
    from csp_monitor.state.store import reading_rows

    with reading_rows("runs"):
        return _run_record(row)


def _run_record(row: Any) -> RunRecord:
    from csp_monitor.state.store import parse_time

    return RunRecord(
        job_id=row["job_id"], occurrence=row["occurrence"], scheduled_at=parse_time(row["scheduled_at"]),
        reason=row["reason"], run=row["run"], as_of=row["as_of"], started_at=parse_time(row["started_at"]),
        finished_at=parse_time(row["finished_at"]) if row["finished_at"] else None, outcome=row["outcome"],
        attempts=int(row["attempts"]), detail=row["detail"], error=row["error"],
        next_attempt_at=parse_time(row["next_attempt_at"]) if row.get("next_attempt_at") else None)
