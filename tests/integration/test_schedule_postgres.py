"""The run ledger and the daemon lock on PostgreSQL (CSP_MONITOR_TEST_POSTGRES, an SQLAlchemy URL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from csp_monitor.cron import load_timezone
from csp_monitor.errors import StateError
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import ledger, lock
from csp_monitor.schedule.occurrences import occurrence_at
from csp_monitor.state import open_store
from tests.conftest import ROOT


def test_ledger_claims_each_occurrence_once_on_postgres(postgres_url: str) -> None:
    """Claimed once; an interrupted run is claimed again exactly once; a finished one never."""
    schedule = Schedule(id="weekly", cron="30 8 * * mon", run="alerts")
    zone = load_timezone("Europe/London")
    occurrence = occurrence_at(schedule, zone, datetime(2026, 1, 5, 8, 30, tzinfo=zone))
    with open_store(postgres_url) as store:
        assert ledger.claim(store, occurrence, run="alerts", reason="scheduled") is not None
        assert ledger.claim(store, occurrence, run="alerts", reason="catch-up") is None
        assert [r.outcome for r in ledger.interrupt_unfinished(store)] == ["interrupted"]
        again = ledger.claim(store, occurrence, run="alerts", reason="catch-up")
        assert again is not None and again.attempts == 2
        ledger.finish(store, again, "succeeded", detail="sent 1")
        assert ledger.claim(store, occurrence, run="alerts", reason="catch-up") is None
        assert ledger.last_runs(store)["weekly"].outcome == "succeeded"


HOLDER = textwrap.dedent("""
    import sys
    from csp_monitor.schedule import lock
    from csp_monitor.state import open_store
    store = open_store(sys.argv[1])
    lock.acquire(store)
    print("held", flush=True)
    sys.stdin.read()
""")


def test_the_lock_refuses_a_second_daemon_and_takes_over_a_dead_one_on_postgres(postgres_url: str) -> None:
    """A live holder refuses others by name; after kill -9 its lock is taken over at once; a stale one too."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, postgres_url], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with open_store(postgres_url) as store:
            with pytest.raises(StateError, match=f"pid {holder.pid} on "):
                lock.acquire(store)
            holder.kill()
            holder.wait(timeout=10)
            lease = lock.acquire(store)
            assert lease.took_over is not None and "no longer running" in lease.took_over
            stale = lock.acquire(store, now=datetime.now(UTC) + timedelta(seconds=lock.LOCK_TIMEOUT_SECONDS + 5))
            assert stale.took_over is not None and "heartbeat" in stale.took_over
            assert lock.renew(store, lease) is False and lock.renew(store, stale) is True
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
