"""The daemon: runs the configured jobs on the partnership's calendar, unattended, for years.

How it is built, and why:

* **APScheduler 3** ``BackgroundScheduler`` with the configuration's time zone
  and an in-memory job store rebuilt from the configuration at every start
  (job ids are the schedule ids). Nothing is pickled, so an upgrade can never
  strand a job. One worker thread runs every job in turn: one SMTP
  conversation and one writer at a time. ``coalesce`` (a backlog runs once),
  ``max_instances=1`` and a misfire grace of hours (APScheduler's default is
  one second).
* **The run ledger** (:mod:`csp_monitor.schedule.ledger`) makes each
  occurrence's work happen once, whoever fires it.
* **Housekeeping**, every ``delivery.retry.first_delay`` seconds (at most a
  minute): runs once any occurrence that was missed (the daemon was stopped,
  the computer asleep, a run was still going) or interrupted, runs again each
  failed occurrence whose retry time has come (``retry_runs``), for the month
  it was judging, and sends again what the outbox has due. At start it runs at once, so a run missed while
  the daemon was down happens once, straight away: not once per missed
  occurrence, and not zero times. A schedule the daemon has never run before
  starts at its next occurrence.
* **The drop-folder watcher** (:mod:`csp_monitor.schedule.watch`), every
  ``watch_seconds`` when the configuration has drop folders: complete, readable
  new figures run the alerts job once, through the same ledger.
* **The daemon lock** (:mod:`csp_monitor.schedule.lock`): one daemon per
  store; the main thread renews its heartbeat.
* **Signals** are taken by the main thread with ``sigtimedwait`` (they are
  blocked in every thread), so no handler runs at an awkward moment: SIGTERM
  and SIGINT finish the message being sent and stop (what is left stays in
  the outbox for the next start); SIGHUP reloads the
  configuration, or logs why the new one was refused and keeps the old.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from csp_monitor.errors import ConfigError, CspMonitorError, InputError, StateError
from csp_monitor.schedule import ledger, lock
from csp_monitor.schedule.configuration import load_schedule_config, schedule_zone
from csp_monitor.schedule.jobs import retry_outbox, run_job
from csp_monitor.schedule.occurrences import (
    Occurrence,
    latest_occurrence,
    local_time,
    next_occurrence,
    trigger_for,
)
from csp_monitor.schedule.watch import WATCH_JOB, DropFolderWatcher, watch_interval

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from apscheduler.schedulers.background import BackgroundScheduler

    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.models.schedule import Schedule
    from csp_monitor.state.store import StateStore

__all__ = [
    "EXIT_LOST_LOCK",
    "HOUSEKEEPING_JOB",
    "MISFIRE_GRACE_SECONDS",
    "STORE_RETRY_FIRST",
    "STORE_RETRY_MAX",
    "Daemon",
    "housekeeping_seconds",
    "run_daemon",
]

log = logging.getLogger("csp_monitor.daemon")

MISFIRE_GRACE_SECONDS = 6 * 3600
"""APScheduler still runs a job this late (after a sleep or a busy spell); later, housekeeping catches it up."""

HOUSEKEEPING_JOB = "csp-monitor:housekeeping"  # a colon: never a schedule id
EXIT_LOST_LOCK = 3
STORE_RETRY_FIRST = 1
"""Seconds to wait before trying again to reach a database server that could not be reached at start."""
STORE_RETRY_MAX = 60
"""The longest wait between two tries to reach the database server at start."""
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def housekeeping_seconds(config: MonitorConfig) -> float:
    """How often to catch up and retry: the outbox's first retry delay, between 1 and 60 seconds."""
    return min(60.0, max(1.0, float(config.delivery.retry.first_delay)))


class Daemon:
    """One daemon process: start it, serve until a signal, and it stops cleanly."""

    def __init__(self, config_path: str | os.PathLike[str]) -> None:
        self.config_path = str(config_path)
        self._current: tuple[MonitorConfig, ZoneInfo] | None = None
        self._store: StateStore | None = None
        self._lease: lock.Lease | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._stopping = threading.Event()
        self._first_pass = True
        self._watcher = DropFolderWatcher()

    # -- starting ------------------------------------------------------------------------------------------

    def start(self) -> bool:
        """Load the configuration, take the lock, build the scheduler and start it.

        A database server that cannot be reached is waited for, trying again with a growing wait
        (:data:`STORE_RETRY_FIRST` seconds, doubling, at most :data:`STORE_RETRY_MAX`); False when a
        SIGTERM or SIGINT came meanwhile (nothing was started).
        """
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        from csp_monitor.state import open_store

        config = load_schedule_config(self.config_path)
        zone = schedule_zone(config)
        delay = STORE_RETRY_FIRST
        while True:
            try:
                store = open_store(config.state)
                try:
                    lease = lock.acquire(store)
                except BaseException:
                    store.close()
                    raise
                break
            except StateError as exc:
                if exc.reason != "unreachable":
                    raise
                log.warning("%s; trying again in %d s", exc.message, delay,
                            extra={"event": "store.unreachable", "store": exc.store, "retry_seconds": delay})
                if _wait_for_signal(delay) in (signal.SIGTERM, signal.SIGINT):
                    log.info("stopped while waiting for the state store", extra={"event": "daemon.stopped"})
                    return False
                delay = min(STORE_RETRY_MAX, delay * 2)
        self._store, self._lease, self._current = store, lease, (config, zone)
        if lease.took_over:
            log.warning("took over the daemon lock from %s", lease.took_over, extra={"event": "lock.taken_over"})
        for record in ledger.interrupt_unfinished(store):
            log.warning("%s: the run for %s was interrupted (the daemon stopped mid-run); it is run again",
                        record.job_id, record.occurrence,
                        extra={"event": "job.interrupted", "job": record.job_id, "occurrence": record.occurrence})
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
            timezone=zone)
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        self._scheduler = scheduler
        self._note_timings(config, zone)
        self._schedule_jobs(config, zone)
        scheduler.start()
        log.info("csp-monitor daemon started: %d schedule%s in %s, state store %s, pid %d",
                 len(config.schedules), "" if len(config.schedules) == 1 else "s", config.timezone, store.location,
                 os.getpid(), extra={"event": "daemon.started", "config": self.config_path, "pid": os.getpid()})
        self._log_next_runs(config, zone)
        return True

    def _note_timings(self, config: MonitorConfig, zone: ZoneInfo) -> None:
        """Remember each schedule's timing; one whose cron changed starts at its next time, like a new one.

        Otherwise the latest time of the new cron, in the past and never run, would look like a missed run
        and be run at once.
        """
        assert self._store is not None
        now = datetime.now(UTC)
        for schedule in config.schedules:
            timing = (f"cron {schedule.cron}" if schedule.cron is not None
                      else f"every {schedule.interval_seconds} s") + f" in {config.timezone}"
            if not ledger.note_definition(self._store, schedule.id, timing, now=now):
                continue
            latest = latest_occurrence(schedule, zone, now)
            detail = "the schedule's timing changed after this time; it starts at its next run"
            if latest is not None and ledger.record_skipped(self._store, latest, run=schedule.run, detail=detail):
                following = next_occurrence(schedule, zone, now)
                log.info("%s: its timing changed to %s; first run %s (a past time is not run)", schedule.id,
                         timing, local_time(following.at if following else None, zone),
                         extra={"event": "schedule.changed", "job": schedule.id})

    def _schedule_jobs(self, config: MonitorConfig, zone: ZoneInfo) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        assert self._scheduler is not None
        wanted = {schedule.id for schedule in config.schedules}
        for job in self._scheduler.get_jobs():
            if job.id != HOUSEKEEPING_JOB and job.id not in wanted:
                self._scheduler.remove_job(job.id)  # the watch job too: added again below if wanted
        for schedule in config.schedules:
            self._scheduler.add_job(self._scheduled, trigger_for(schedule, zone), args=[schedule.id],
                                    id=schedule.id, name=schedule.id, replace_existing=True)
        seconds = housekeeping_seconds(config)
        self._scheduler.add_job(self._housekeeping, IntervalTrigger(seconds=seconds, timezone=UTC),
                                id=HOUSEKEEPING_JOB, name="housekeeping", replace_existing=True,
                                next_run_time=datetime.now(UTC), misfire_grace_time=None)
        every = watch_interval(config)
        if every is not None:
            self._scheduler.add_job(self._watch, IntervalTrigger(seconds=every, timezone=UTC), id=WATCH_JOB,
                                    name="drop folders", replace_existing=True, next_run_time=datetime.now(UTC),
                                    misfire_grace_time=None)

    def _log_next_runs(self, config: MonitorConfig, zone: ZoneInfo) -> None:
        now = datetime.now(UTC)
        for schedule in config.schedules:
            following = next_occurrence(schedule, zone, now)
            when = schedule.cron if schedule.cron is not None else f"every {schedule.interval_seconds} s"
            log.info("%s: %s (%s), next run %s", schedule.id, schedule.run, when,
                     local_time(following.at if following else None, zone),
                     extra={"event": "schedule.next", "job": schedule.id,
                            "next_run": following.at.isoformat() if following else None})

    # -- the jobs ------------------------------------------------------------------------------------------

    def _scheduled(self, schedule_id: str) -> None:
        """APScheduler's job: run the schedule's latest occurrence (the one now due)."""
        if self._stopping.is_set() or self._current is None or self._store is None:
            return  # stopping: left unclaimed, so the next start catches it up
        config, zone = self._current
        schedule = _find(config, schedule_id)
        if schedule is None:
            return
        try:
            occurrence = latest_occurrence(schedule, zone, datetime.now(UTC))
            if occurrence is not None:
                run_job(config, self._store, schedule, occurrence, reason="scheduled", stop=self._stopping.is_set)
        except CspMonitorError as exc:  # the store is down or busy (an outage, not a bug): no traceback
            log.error("%s: could not run (%s); it is tried again shortly", schedule_id, _cause(exc),
                      extra={"event": "job.error", "job": schedule_id, "error": _cause(exc)})
        except Exception as exc:  # a bug: housekeeping tries again, the traceback is for the report
            log.exception("%s: could not run (%s); it is tried again shortly", schedule_id, exc,
                          extra={"event": "job.error", "job": schedule_id})

    def _housekeeping(self) -> None:
        """Catch up missed or interrupted occurrences, then retry the outbox."""
        if self._stopping.is_set() or self._current is None or self._store is None:
            return
        config, zone = self._current
        now = datetime.now(UTC)
        # Give the scheduler a moment to run what has just come due itself.
        settle = timedelta(0) if self._first_pass else timedelta(seconds=2 * housekeeping_seconds(config) + 5)
        self._first_pass = False
        for schedule in config.schedules:
            if self._stopping.is_set():
                return
            try:
                self._catch_up(config, zone, schedule, now, settle)
            except CspMonitorError as exc:
                log.error("%s: could not check for a missed run (%s)", schedule.id, _cause(exc),
                          extra={"event": "job.error", "job": schedule.id, "error": _cause(exc)})
            except Exception as exc:
                log.exception("%s: could not check for a missed run (%s)", schedule.id, exc,
                              extra={"event": "job.error", "job": schedule.id})
            try:
                self._retry_failed(config, schedule, now)
            except Exception as exc:
                log.exception("%s: could not retry a failed run (%s)", schedule.id, exc,
                              extra={"event": "job.error", "job": schedule.id})
        if self._stopping.is_set():
            return
        try:
            retry_outbox(config, self._store, now=datetime.now(UTC), stop=self._stopping.is_set)
        except CspMonitorError as exc:
            cause = _cause(exc)
            log.error("the outbox could not be retried: %s", cause, extra={"event": "outbox.error", "error": cause})
        except Exception as exc:
            log.exception("the outbox could not be retried: %s", exc, extra={"event": "outbox.error"})

    def _watch(self) -> None:
        """Look in the drop folders; run the alerts job for complete new figures."""
        if self._stopping.is_set() or self._current is None or self._store is None:
            return
        config, _ = self._current
        try:
            self._watcher.poll(config, self._store, stop=self._stopping.is_set)
        except CspMonitorError as exc:
            log.error("the drop folders could not be checked (%s); they are checked again shortly", _cause(exc),
                      extra={"event": "figures.error", "error": _cause(exc)})
        except Exception as exc:  # the store could not be read or written: the next look tries again
            log.exception("the drop folders could not be checked (%s); they are checked again shortly", exc,
                          extra={"event": "figures.error"})

    def _catch_up(self, config: MonitorConfig, zone: ZoneInfo, schedule: Schedule, now: datetime,
                  settle: timedelta) -> None:
        assert self._store is not None
        latest = latest_occurrence(schedule, zone, now)
        if latest is None:
            return
        if not ledger.has_history(self._store, schedule.id):
            detail = "the daemon first ran this schedule after this time; it starts at its next run"
            if ledger.record_skipped(self._store, latest, run=schedule.run, detail=detail):
                following = next_occurrence(schedule, zone, now)
                log.info("%s: new schedule, first run %s", schedule.id,
                         local_time(following.at if following else None, zone),
                         extra={"event": "schedule.new", "job": schedule.id})
            return
        record = ledger.lookup(self._store, schedule.id, latest.key)
        if record is not None and record.outcome != "interrupted":
            return
        if record is None and now - latest.at < settle:
            return
        log.info("%s: the run for %s was missed; running it now", schedule.id, latest.key,
                 extra={"event": "job.catch_up", "job": schedule.id, "occurrence": latest.key})
        run_job(config, self._store, schedule, latest, reason="catch-up", stop=self._stopping.is_set)

    def _retry_failed(self, config: MonitorConfig, schedule: Schedule, now: datetime) -> None:
        """Run again each failed occurrence of ``schedule`` whose retry time has come, for its own month."""
        assert self._store is not None
        for record in ledger.due_retries(self._store, schedule.id, now):
            if self._stopping.is_set():
                return
            log.info("%s: retrying the run for %s (failed %d time%s%s)", schedule.id, record.occurrence,
                     record.attempts, "" if record.attempts == 1 else "s",
                     f", as of {record.as_of}" if record.as_of else "",
                     extra={"event": "job.retry", "job": schedule.id, "occurrence": record.occurrence,
                            "as_of": record.as_of})
            run_job(config, self._store, schedule, Occurrence(schedule.id, record.scheduled_at, record.occurrence),
                    reason="retry", stop=self._stopping.is_set)

    def _on_event(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

        if event.job_id in (HOUSEKEEPING_JOB, WATCH_JOB):
            return
        if event.code == EVENT_JOB_MISSED:
            log.warning("%s: its time (%s) passed while the computer was asleep or busy; it is caught up",
                        event.job_id, event.scheduled_run_time, extra={"event": "job.missed", "job": event.job_id})
        elif event.code == EVENT_JOB_ERROR:
            log.error("%s: the job raised %s", event.job_id, event.exception,
                      extra={"event": "job.error", "job": event.job_id})
        else:
            log.info("%s: the previous run is still going; this one is caught up after it", event.job_id,
                     extra={"event": "job.busy", "job": event.job_id})

    # -- serving ---------------------------------------------------------------------------------------------

    def serve(self) -> int:
        """Wait for signals and renew the lock until told to stop; return the exit code."""
        assert self._store is not None and self._lease is not None
        last_beat = time.monotonic()
        while True:
            timeout = max(0.1, lock.HEARTBEAT_SECONDS - (time.monotonic() - last_beat))
            received = _wait_for_signal(timeout)
            if received in (signal.SIGTERM, signal.SIGINT):
                log.info("received %s: finishing the message being sent, then stopping",
                         signal.Signals(received).name, extra={"event": "daemon.stopping"})
                self.stop()
                return 0
            if received == signal.SIGHUP:
                self.reload()
            if time.monotonic() - last_beat >= lock.HEARTBEAT_SECONDS or received is None:
                last_beat = time.monotonic()
                try:
                    if not lock.renew(self._store, self._lease):
                        log.error("another daemon took over this state store's lock (this one was stopped or "
                                  "asleep for too long); stopping", extra={"event": "lock.lost"})
                        self.stop(release=False)
                        return EXIT_LOST_LOCK
                except CspMonitorError as exc:
                    log.warning("could not renew the daemon lock: %s", exc.message, extra={"event": "lock.renew_failed"})

    def reload(self) -> None:
        """Read the configuration again; keep the old one (and say why) when the new one is invalid."""
        assert self._current is not None
        old, old_zone = self._current
        log.info("reloading the configuration %s", self.config_path, extra={"event": "config.reloading"})
        try:
            config = load_schedule_config(self.config_path)
            zone = schedule_zone(config)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("%s", problem, extra={"event": "config.problem"})
            log.error("the new configuration has %d problem%s and was not loaded; the old one keeps running",
                      len(exc.problems), "" if len(exc.problems) == 1 else "s", extra={"event": "config.refused"})
            return
        except CspMonitorError as exc:
            log.error("the new configuration was not loaded (%s); the old one keeps running", exc.message,
                      extra={"event": "config.refused"})
            return
        except Exception as exc:  # whatever a new file does, the daemon keeps its old one
            log.error("the new configuration could not be read (%s: %s); the old one keeps running",
                      type(exc).__name__, exc, extra={"event": "config.refused"})
            return
        if config.state != old.state:
            log.error("the new configuration names another state store (%s); restart the daemon to change stores. "
                      "The old configuration keeps running", config.state, extra={"event": "config.refused"})
            return
        try:
            self._note_timings(config, zone)  # before housekeeping can see the new timings
        except CspMonitorError as exc:
            log.error("the new configuration was not loaded (%s); the old one keeps running", _cause(exc),
                      extra={"event": "config.refused"})
            return
        try:
            self._schedule_jobs(config, zone)
        except Exception as exc:  # put the old schedules back rather than run half of each
            self._note_timings(old, old_zone)
            self._schedule_jobs(old, old_zone)
            log.error("the new schedules could not be set up (%s: %s); the old configuration keeps running",
                      type(exc).__name__, exc, extra={"event": "config.refused"})
            return
        self._current = (config, zone)
        log.info("configuration reloaded: %d schedule%s", len(config.schedules),
                 "" if len(config.schedules) == 1 else "s", extra={"event": "config.reloaded"})
        self._log_next_runs(config, zone)

    def stop(self, *, release: bool = True) -> None:
        """Stop scheduling, wait for the job in progress, give the lock up."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._store is None:
            return  # it never started
        if release and self._lease is not None:
            try:
                lock.release(self._store, self._lease)
            except CspMonitorError as exc:
                log.warning("could not release the daemon lock: %s", exc.message)
        self._store.close()
        log.info("csp-monitor daemon stopped", extra={"event": "daemon.stopped"})


def _cause(exc: CspMonitorError) -> str:
    """An expected failure in one line, for the log."""
    return "; ".join(str(p) for p in exc.problems) if isinstance(exc, InputError) else exc.message


def _find(config: MonitorConfig, schedule_id: str) -> Schedule | None:
    return next((schedule for schedule in config.schedules if schedule.id == schedule_id), None)


def _wait_for_signal(timeout: float) -> int | None:
    """The next of our signals to arrive within ``timeout`` seconds, or None."""
    if hasattr(signal, "sigtimedwait"):
        info = signal.sigtimedwait(_SIGNALS, timeout)
        return info.si_signo if info is not None else None
    # Without sigtimedwait (macOS), the handlers set by run_daemon leave the signal here.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _PENDING:
            return _PENDING.pop(0)
        time.sleep(0.2)
    return None


_PENDING: list[int] = []


def run_daemon(config_path: str | os.PathLike[str]) -> int:
    """Run the daemon in this process until SIGTERM or SIGINT; return the exit code.

    Raises :class:`ConfigError` (an invalid configuration) or
    :class:`~csp_monitor.errors.StateError` (a store in use by another daemon,
    damaged or newer) before anything runs.
    """
    blocked = hasattr(signal, "pthread_sigmask") and hasattr(signal, "sigtimedwait")
    if blocked:
        # Blocked before any thread starts, so every thread inherits it and only
        # the main thread's sigtimedwait ever takes these signals.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    else:  # pragma: no cover - not Linux
        for number in _SIGNALS:
            signal.signal(number, lambda received, _frame: _PENDING.append(received))
    daemon = Daemon(config_path)
    try:
        if not daemon.start():
            return 0
        return daemon.serve()
    except BaseException:
        daemon.stop()
        raise
    finally:
        if blocked:
            # A second Ctrl-C while stopping is already answered: take it, so it cannot kill the exit.
            while signal.sigpending() & _SIGNALS:
                signal.sigtimedwait(_SIGNALS, 0)
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
