"""``run-once``: every scheduled job, once, now, through the daemon's own job function.

For councils that prefer cron (or a Windows scheduled task) to a daemon, and
for trying a configuration out. It takes the daemon lock for the few seconds
it runs, so it never works beside a daemon on the same store; each job is
recorded in the run ledger as a ``manual`` run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from csp_monitor.schedule import ledger, lock
from csp_monitor.schedule.configuration import load_schedule_config
from csp_monitor.schedule.jobs import JobResult, manual_occurrence, run_job

__all__ = ["run_once"]


def run_once(config_path: str | os.PathLike[str], *, as_of: str | None = None,
             now: datetime | None = None) -> list[JobResult]:
    """Run every schedule's job once, in the order the file gives them; return how each ended."""
    from csp_monitor.state import open_store

    config = load_schedule_config(config_path)
    moment = now or datetime.now(UTC)
    with open_store(config.state) as store:
        lease = lock.acquire(store, purpose="run-once")
        try:
            ledger.interrupt_unfinished(store)
            return [run_job(config, store, schedule, manual_occurrence(schedule, moment), reason="manual",
                            as_of=as_of)
                    for schedule in config.schedules]
        finally:
            lock.release(store, lease)
