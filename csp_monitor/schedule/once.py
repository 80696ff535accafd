"""``run-once``: every scheduled job, once, now, through the daemon's own job function.

For councils that prefer cron (or a Windows scheduled task) to a daemon, for
trying a configuration out, and for running by hand a run that failed. Each
schedule's job is recorded in the run ledger: a schedule with a failed run
still waiting to be retried has *that* run (that occurrence, that month) run
now; otherwise a new ``manual`` run is recorded.

It works beside a running daemon: the run ledger's claims and the outbox's
claims keep the two from doing the same work (whoever claims a run or a
message first does it; the other skips it). Only when no daemon runs does it
take the daemon lock for the seconds it runs, and only then does it mark runs
left ``running`` by a dead process as interrupted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime

from csp_monitor.errors import StateError
from csp_monitor.schedule import ledger, lock
from csp_monitor.schedule.configuration import load_schedule_config
from csp_monitor.schedule.jobs import JobResult, manual_occurrence, run_job
from csp_monitor.schedule.occurrences import Occurrence

__all__ = ["run_once"]

log = logging.getLogger("csp_monitor.jobs")


def run_once(config_path: str | os.PathLike[str], *, as_of: str | None = None,
             now: datetime | None = None, stop: Callable[[], bool] | None = None) -> list[JobResult]:
    """Run every schedule's job once, in the order the file gives them; return how each ended.

    A failed run waiting to be retried is run now (for its own month) unless ``as_of`` names a month.
    ``stop()`` turning true (Ctrl-C) ends delivery after the message being sent, and no further job starts.
    """
    from csp_monitor.state import open_store

    config = load_schedule_config(config_path)
    moment = now or datetime.now(UTC)
    with open_store(config.state) as store:
        lease: lock.Lease | None
        try:
            lease = lock.acquire(store, purpose="run-once")
        except StateError:
            holder = lock.current_holder(store)
            if holder is None:
                raise
            lease = None  # a daemon runs: work beside it, through the ledger
            log.info("a csp-monitor %s (pid %d on %s) is running on this store: run-once works beside it",
                     holder.purpose, holder.pid, holder.host, extra={"event": "run_once.beside_daemon"})
        try:
            if lease is not None:
                ledger.interrupt_unfinished(store)
            results = []
            for schedule in config.schedules:
                if stop is not None and stop():
                    break
                waiting = None if as_of is not None else ledger.waiting_retry(store, schedule.id)
                occurrence = (Occurrence(schedule.id, waiting.scheduled_at, waiting.occurrence)
                              if waiting is not None else manual_occurrence(schedule, moment))
                results.append(run_job(config, store, schedule, occurrence, reason="manual", as_of=as_of, stop=stop))
            return results
        finally:
            if lease is not None:
                lock.release(store, lease)
