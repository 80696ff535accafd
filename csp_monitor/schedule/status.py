"""``status``: what the daemon is doing, read from the configuration and the state store.

Each schedule's next run (computed from its cron, so it is right whether the
daemon is running or not), its last run and how it ended, whether a daemon
holds the store and when it last showed signs of life, the outbox's queue,
the latest errors, and each drop folder with what was last picked up from it. Nothing is written except what opening a store does.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.schedule import ledger, lock, pickups
from csp_monitor.schedule.configuration import load_schedule_config, schedule_zone
from csp_monitor.schedule.occurrences import local_time, next_occurrence

if TYPE_CHECKING:
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.state.store import StateStore

__all__ = ["EXIT_ATTENTION", "FAILED_RECENTLY", "MAX_ERRORS", "DaemonState", "DropFolderState", "LastRun",
           "OutboxCounts", "ScheduleState", "Status", "read_status", "render_status", "status_exit_code"]

EXIT_ATTENTION = 4
"""``status`` exits with this when a job failed, a message was given up lately, or messages wait after failing."""

FAILED_RECENTLY = timedelta(days=7)
"""A message given up this recently makes ``status`` exit with :data:`EXIT_ATTENTION`."""

MAX_ERRORS = 20
"""The most errors ``status`` lists."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LastRun(_Result):
    """The most recent run of a schedule."""

    occurrence: str = Field(description="The occurrence it ran for (its ledger key).")
    reason: str = Field(description="scheduled, catch-up (missed while the daemon was down), manual (run-once) or "
                                    "new-figures (a drop folder's new files).")
    started_at: datetime = Field(description="When it started (UTC).")
    finished_at: datetime | None = Field(description="When it ended (UTC); empty while running.")
    outcome: str = Field(description="running, succeeded, failed or interrupted.")
    detail: str | None = Field(description="What it did: messages queued and sent.")
    error: str | None = Field(description="Why it failed, when it did.")


class ScheduleState(_Result):
    """One schedule: when it runs next and how it last went."""

    id: str = Field(description="The schedule's id.")
    run: str = Field(description="summary or alerts.")
    when: str = Field(description="The cron, or the interval.")
    next_run: datetime | None = Field(description="The next occurrence (UTC).")
    next_run_local: str = Field(description="The next occurrence in the configuration's time zone.")
    last_run: LastRun | None = Field(description="The most recent run, if any.")


class DaemonState(_Result):
    """Who holds the store's daemon lock."""

    running: bool = Field(description="Whether a daemon holds the lock with a fresh heartbeat (and, on this "
                                      "computer, its process still exists).")
    process_gone: bool = Field(default=False, description="The holder ran on this computer and its process no "
                                                          "longer exists (killed, or crashed): the next daemon "
                                                          "takes its lock over at once.")
    pid: int | None = Field(default=None, description="Its process id.")
    host: str | None = Field(default=None, description="The computer it runs on.")
    purpose: str | None = Field(default=None, description="daemon, or run-once.")
    started_at: datetime | None = Field(default=None, description="When it started (UTC).")
    heartbeat_seconds_ago: int | None = Field(default=None, description="Seconds since its last heartbeat.")


class OutboxCounts(_Result):
    """The outbox by status."""

    queued: int = Field(description="Waiting to be sent, or to be retried.")
    sending: int = Field(description="Being sent now (or left by a run that died; resent at the next run).")
    sent: int = Field(description="Accepted by the mail server (or written to the folder).")
    failed: int = Field(description="Given up: a permanent refusal, or retried for too long.")


class DropFolderState(_Result):
    """A drop folder: what is in it, and what the daemon last picked up from it."""

    folder: str = Field(description="The folder.")
    pattern: str = Field(description="Which files in it are figures.")
    watch_seconds: int = Field(description="How often the daemon looks in it.")
    files: int | None = Field(description="How many figures files it holds now (empty when it cannot be read).")
    problem: str | None = Field(default=None, description="Why the folder cannot be read, when it cannot.")
    watched_since: datetime | None = Field(description="When the daemon first looked at it (UTC).")
    waiting: tuple[str, ...] = Field(description="New or changed files not picked up yet.")
    last_picked_up_at: datetime | None = Field(description="When files were last picked up (UTC).")
    last_picked_up: tuple[str, ...] = Field(description="The files picked up then.")
    last_run: LastRun | None = Field(description="The alerts run those files started, if any.")


class Status(_Result):
    """Everything ``csp-monitor status`` shows."""

    config: str = Field(description="The configuration file.")
    store: str = Field(description="The state store.")
    timezone: str = Field(description="The time zone of the schedules.")
    now: datetime = Field(description="When this status was read (UTC).")
    daemon: DaemonState = Field(description="Whether a daemon is running on the store.")
    schedules: tuple[ScheduleState, ...] = Field(description="Every schedule.")
    outbox: OutboxCounts = Field(description="The outbox queue.")
    errors: tuple[str, ...] = Field(description="The latest failed runs and undeliverable messages, and every "
                                                "message queued while delivery is failing, newest first.")
    attention: tuple[str, ...] = Field(
        default=(), description="Why ``csp-monitor status`` exits with 4: a schedule or drop folder whose last run "
                                "failed or was interrupted, messages given up in the last 7 days, messages sent "
                                "in the last 7 days that some recipients refused for good, or messages "
                                "queued while delivery is failing. Empty when all is well.")
    drop_folders: tuple[DropFolderState, ...] = Field(
        default=(), description="Every drop folder, with what the daemon last picked up from it.")


def read_status(config_path: str | os.PathLike[str], *, now: datetime | None = None) -> Status:
    """Read the status of the schedules of a configuration from its store."""
    from sqlalchemy import func, select

    from csp_monitor.state import open_store
    from csp_monitor.state.outbox_tables import outbox

    config = load_schedule_config(config_path, need_schedules=False)
    zone = schedule_zone(config)
    moment = now or datetime.now(UTC)
    holder: lock.Holder | None = None
    last: dict[str, ledger.RunRecord] = {}
    failures: list[ledger.RunRecord] = []
    counts: dict[str, int] = {}
    failed_messages: list[tuple[str, str, str]] = []
    refused_messages: list[tuple[str, str, str]] = []
    waiting_messages: list[tuple[str, str, str, int, str, str]] = []
    location = config.state
    if config.state_is_url or os.path.exists(config.state):  # status never creates a store
        with open_store(config.state, create=False) as store:
            holder = lock.current_holder(store)
            last = ledger.last_runs(store)
            failures = ledger.recent_failures(store)
            with store.transaction() as connection:
                counts = {row[0]: int(row[1]) for row in connection.execute(
                    select(outbox.c.status, func.count()).group_by(outbox.c.status))}
                failed_messages = [(row.updated_at, row.subject, row.last_error) for row in connection.execute(
                    select(outbox.c.updated_at, outbox.c.subject, outbox.c.last_error)
                    .where(outbox.c.status.in_(("failed", "unknown"))).order_by(outbox.c.id.desc()).limit(5))]
                # Sent, but refused for good to some of the recipients: they will never get it.
                refused_messages = [
                    (row.updated_at, row.subject, row.refused) for row in connection.execute(
                        select(outbox.c.updated_at, outbox.c.subject, outbox.c.refused)
                        .where(outbox.c.status == "sent", outbox.c.refused.is_not(None))
                        .order_by(outbox.c.id.desc()).limit(20))]
                # Waiting while delivery fails (the server down, a 4xx): not lost, but not delivered either.
                # After a failed connection the others wait untried, so all are listed, not only the one tried.
                waiting_messages = [
                    (row.updated_at, row.subject, row.recipients, int(row.attempts), row.created_at, row.last_error)
                    for row in connection.execute(
                        select(outbox.c.updated_at, outbox.c.subject, outbox.c.recipients, outbox.c.attempts,
                               outbox.c.created_at, outbox.c.last_error)
                        .where(outbox.c.status.in_(("queued", "sending")))
                        .order_by(outbox.c.id))]
                if not any(error for *_, error in waiting_messages):
                    waiting_messages = []  # queued and going out as usual: nothing to report
            location = store.location
            drops = _drop_folders(config, store)
    else:
        drops = _drop_folders(config, None)
    schedules = []
    for schedule in config.schedules:
        following = next_occurrence(schedule, zone, moment)
        record = last.get(schedule.id)
        schedules.append(ScheduleState(
            id=schedule.id, run=schedule.run,
            when=schedule.cron if schedule.cron is not None else f"every {schedule.interval_seconds} s",
            next_run=following.at if following else None,
            next_run_local=local_time(following.at if following else None, zone),
            last_run=_last_run(record) if record else None))
    daemon = DaemonState(running=False)
    if holder is not None:
        age = int((moment - holder.heartbeat_at).total_seconds())
        gone = lock.holder_gone(holder)
        daemon = DaemonState(running=age <= lock.LOCK_TIMEOUT_SECONDS and not gone, process_gone=gone,
                             pid=holder.pid, host=holder.host, purpose=holder.purpose, started_at=holder.started_at,
                             heartbeat_seconds_ago=max(0, age))
    errors = [(r.finished_at or r.started_at, f"{r.job_id}: {r.outcome} ({r.occurrence}): {r.error or 'no cause recorded'}")
              for r in failures]
    errors += [(_parse(updated), f"message '{subject}' could not be delivered: {error}")
               for updated, subject, error in failed_messages]
    latest_error = next((error for *_, error in sorted(waiting_messages, reverse=True) if error), None)
    for updated, subject, recipients, attempts, created, error in waiting_messages:
        to = ", ".join(json.loads(recipients))
        tried = (f"after {attempts} attempt{'s' if attempts != 1 else ''}: {error}" if error else
                 f"not tried yet, waiting for the mail server (the last attempt failed: {latest_error})")
        errors.append((_parse(updated), f"message '{subject}' to {to} not delivered yet, queued "
                                        f"{local_time(_parse(created), zone)}, {tried}; it is retried"))
    refused_recently = [(updated, subject, json.loads(refused)) for updated, subject, refused in refused_messages
                        if moment - _parse(updated) <= FAILED_RECENTLY]
    errors += [(_parse(updated), f"message '{subject}' was refused for good for "
                                 + "; ".join(f"{to} ({why})" for to, why in refused.items()))
               for updated, subject, refused in refused_recently]
    errors.sort(key=lambda item: item[0], reverse=True)
    attention: list[str] = []
    for state in schedules:
        if state.last_run is not None and state.last_run.outcome in ("failed", "interrupted"):
            attention.append(f"the last run of {state.id} {state.last_run.outcome}")
    for drop in drops:
        if drop.last_run is not None and drop.last_run.outcome in ("failed", "interrupted"):
            attention.append(f"the last alerts run for new figures in {drop.folder} {drop.last_run.outcome}")
    recent = [updated for updated, _, _ in failed_messages if moment - _parse(updated) <= FAILED_RECENTLY]
    if recent:
        attention.append(f"{len(recent)} message{'s' if len(recent) != 1 else ''} given up in the last "
                         f"{FAILED_RECENTLY.days} days")
    if refused_recently:
        people = sorted({to for *_, refused in refused_recently for to in refused})
        attention.append(f"{len(refused_recently)} message{'s' if len(refused_recently) != 1 else ''} sent in the "
                         f"last {FAILED_RECENTLY.days} days refused for good for {', '.join(people)}")
    if waiting_messages:
        count = len(waiting_messages)
        attention.append(f"{count} message{'s' if count != 1 else ''} waiting to be delivered: the last attempt "
                         f"failed ({latest_error})")
    return Status(config=str(config_path), store=location, timezone=config.timezone, now=moment, daemon=daemon,
                  schedules=tuple(schedules),
                  outbox=OutboxCounts(**{name: int(counts.get(name, 0)) for name in ("queued", "sending", "sent",
                                                                                     "failed")}),
                  errors=tuple(f"{local_time(at, zone)}: {text}" for at, text in errors[:MAX_ERRORS]),
                  attention=tuple(attention), drop_folders=tuple(drops))


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def status_exit_code(status: Status) -> int:
    """What ``csp-monitor status`` exits with: 0 all is well, :data:`EXIT_ATTENTION` when something needs a look."""
    return EXIT_ATTENTION if status.attention else 0


def _drop_folders(config: MonitorConfig, store: StateStore | None) -> list[DropFolderState]:
    """Each drop folder: its files now, those waiting, and the last pickup with the run it started."""
    from csp_monitor.load.figure_sources import drop_folders, dropped_files
    from csp_monitor.schedule.watch import FIGURES_JOB

    found = []
    for _, source in drop_folders(config):
        folder = source.drop_folder
        files = None
        problem = None
        try:
            files = dropped_files(source)
        except OSError as exc:
            problem = f"cannot be read: {exc.strerror}"
        since = pickups.watched_since(store, folder) if store is not None else None
        known = pickups.picked_up(store, folder) if store is not None else {}
        waiting: tuple[str, ...] = ()
        if files is not None and since is not None:
            waiting = tuple(f.name for f in files if f.name not in known or not known[f.name].same_as(f))
        picked = [entry for entry in known.values() if entry.occurrence != pickups.BASELINE]
        last_at = max((entry.picked_up_at for entry in picked), default=None)
        last = sorted(entry.name for entry in picked if entry.picked_up_at == last_at)
        occurrence = next((entry.occurrence for entry in picked if entry.picked_up_at == last_at), None)
        record = ledger.lookup(store, FIGURES_JOB, occurrence) if store is not None and occurrence else None
        found.append(DropFolderState(
            folder=folder, pattern=source.pattern, watch_seconds=source.watch_seconds,
            files=len(files) if files is not None else None, problem=problem, watched_since=since,
            waiting=waiting, last_picked_up_at=last_at, last_picked_up=tuple(last),
            last_run=_last_run(record) if record is not None else None))
    return found


def _last_run(record: ledger.RunRecord) -> LastRun:
    return LastRun(occurrence=record.occurrence, reason=record.reason, started_at=record.started_at,
                   finished_at=record.finished_at, outcome=record.outcome, detail=record.detail, error=record.error)


def render_status(status: Status) -> str:
    """The status for people."""
    from csp_monitor.cron import load_timezone

    zone = load_timezone(status.timezone)
    lines = [f"configuration  {status.config}", f"state store    {status.store}"]
    daemon = status.daemon
    if daemon.running:
        lines.append(f"daemon         running: pid {daemon.pid} on {daemon.host}, since "
                     f"{local_time(daemon.started_at, zone)}, last heartbeat {daemon.heartbeat_seconds_ago} s ago")
    elif daemon.process_gone:
        lines.append(f"daemon         not running (pid {daemon.pid} on {daemon.host} has exited without releasing "
                     "its lock: killed or crashed; the next daemon takes it over at once)")
    elif daemon.pid is not None:
        lines.append(f"daemon         not running (pid {daemon.pid} on {daemon.host} left a lock with no heartbeat "
                     f"for {daemon.heartbeat_seconds_ago} s; the next daemon takes it over)")
    else:
        lines.append("daemon         not running")
    lines.append("")
    if not status.schedules:
        lines.append("no schedules")
    for schedule in status.schedules:
        lines.append(f"{schedule.id}  ({schedule.run}, {schedule.when}, {status.timezone})")
        lines.append(f"  next run   {schedule.next_run_local}")
        run = schedule.last_run
        if run is None:
            lines.append("  last run   never")
        else:
            ended = f", {run.detail}" if run.detail else ""
            if run.error:
                ended = f": {run.error}"
            lines.append(f"  last run   {local_time(run.started_at, zone)} {run.outcome} ({run.reason}){ended}")
    if status.drop_folders:
        lines += ["", "drop folders"]
    for drop in status.drop_folders:
        lines.append(f"{drop.folder}  ({drop.pattern}, looked at every {drop.watch_seconds} s)")
        if drop.problem is not None:
            lines.append(f"  files      {drop.problem}")
        else:
            lines.append(f"  files      {drop.files}")
        if drop.watched_since is None:
            lines.append("  picked up  never: not watched yet (the daemon starts watching it when it first looks)")
        elif drop.last_picked_up_at is None:
            lines.append(f"  picked up  nothing yet (watched since {local_time(drop.watched_since, zone)})")
        else:
            picked = f"  picked up  {local_time(drop.last_picked_up_at, zone)}: {', '.join(drop.last_picked_up)}"
            run = drop.last_run
            if run is not None:
                picked += f"; alerts run {run.outcome}"
                if run.error:
                    picked += f": {run.error}"
            lines.append(picked)
        if drop.waiting:
            lines.append(f"  waiting    {', '.join(drop.waiting)} (picked up once complete and readable)")
    counts = status.outbox
    lines += ["", f"outbox         {counts.queued} queued, {counts.sending} sending, {counts.sent} sent, "
                  f"{counts.failed} failed"]
    if status.errors:
        lines += ["", "latest errors"]
        lines += [f"  {error}" for error in status.errors]
    if status.attention:
        lines += ["", "needs attention (exit code 4)"]
        lines += [f"  {reason}" for reason in status.attention]
    return "\n".join(lines) + "\n"
