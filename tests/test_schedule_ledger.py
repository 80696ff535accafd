"""The run ledger: each (job, occurrence) is worked once, in a real SQLite store, across processes."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csp_monitor.cron import load_timezone
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import ledger
from csp_monitor.schedule.occurrences import Occurrence, occurrence_at
from csp_monitor.state import open_store
from csp_monitor.state.store import StateStore

LONDON = load_timezone("Europe/London")
WEEKLY = Schedule(id="weekly", cron="30 8 * * mon", run="alerts")


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    """A new SQLite state store in a temporary folder."""
    with open_store(tmp_path / "state.db") as opened:
        yield opened  # type: ignore[misc]


def monday(week: int) -> Occurrence:
    """The weekly schedule's occurrence in the given week of 2026."""
    return occurrence_at(WEEKLY, LONDON, datetime(2026, 1, 5, 8, 30, tzinfo=LONDON) + timedelta(weeks=week))


def test_an_occurrence_is_claimed_once(store: StateStore) -> None:
    """The first claim of an occurrence wins; every later claim of it gets nothing."""
    first = ledger.claim(store, monday(0), run="alerts", reason="scheduled")
    assert first is not None and first.attempts == 1
    assert ledger.claim(store, monday(0), run="alerts", reason="catch-up") is None
    assert ledger.claim(store, monday(1), run="alerts", reason="scheduled") is not None


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_finished_occurrence_is_never_worked_again(store: StateStore, outcome: ledger.Outcome) -> None:
    """A run that succeeded, or failed (and waits for the next occurrence), is not claimed again."""
    held = ledger.claim(store, monday(0), run="alerts", reason="scheduled")
    assert held is not None
    ledger.finish(store, held, outcome, detail="sent 2 messages" if outcome == "succeeded" else None,
                  error="ConfigError: figures missing" if outcome == "failed" else None)
    assert ledger.claim(store, monday(0), run="alerts", reason="catch-up") is None
    record = ledger.lookup(store, "weekly", monday(0).key)
    assert record is not None and record.outcome == outcome and record.finished_at is not None


def test_a_run_killed_mid_work_is_rerun_once_after_a_restart(store: StateStore) -> None:
    """A run left 'running' becomes 'interrupted' at the next start and is claimed again exactly once."""
    assert ledger.claim(store, monday(0), run="alerts", reason="scheduled") is not None
    interrupted = ledger.interrupt_unfinished(store)
    assert [(r.job_id, r.occurrence, r.outcome) for r in interrupted] == [("weekly", monday(0).key, "interrupted")]
    again = ledger.claim(store, monday(0), run="alerts", reason="catch-up")
    assert again is not None and again.attempts == 2
    assert ledger.claim(store, monday(0), run="alerts", reason="catch-up") is None
    ledger.finish(store, again, "succeeded")
    assert ledger.interrupt_unfinished(store) == []


def test_a_skipped_occurrence_is_recorded_and_not_claimed(store: StateStore) -> None:
    """An occurrence recorded as skipped (first start) is not worked, and is recorded only once."""
    assert ledger.record_skipped(store, monday(0), run="alerts", detail="first start") is True
    assert ledger.record_skipped(store, monday(0), run="alerts", detail="first start") is False
    assert ledger.claim(store, monday(0), run="alerts", reason="catch-up") is None
    assert ledger.has_history(store, "weekly") and not ledger.has_history(store, "monthly")
    assert ledger.last_runs(store) == {}


def test_last_runs_and_failures_are_the_newest(store: StateStore) -> None:
    """Status reads the newest run of each job and the newest failures first."""
    for week, outcome in enumerate(["succeeded", "failed", "succeeded"]):
        held = ledger.claim(store, monday(week), run="alerts", reason="scheduled")
        assert held is not None
        ledger.finish(store, held, outcome, error="boom" if outcome == "failed" else None)  # type: ignore[arg-type]
    last = ledger.last_runs(store)
    assert list(last) == ["weekly"] and last["weekly"].occurrence == monday(2).key
    assert [r.occurrence for r in ledger.recent_failures(store)] == [monday(1).key]


def _claim_all(path: str, start: Any, results: Any) -> None:
    schedule = Schedule(id="every-minute", interval_seconds=60, run="alerts")
    store = open_store(path)
    start.wait(30)
    won = []
    for minute in range(30):
        occurrence = occurrence_at(schedule, UTC, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute))
        if ledger.claim(store, occurrence, run="alerts", reason="scheduled") is not None:
            won.append(minute)
    store.close()
    results.put(won)


def test_processes_racing_for_the_same_occurrences_each_win_different_ones(tmp_path: Path) -> None:
    """Four processes claiming the same 30 occurrences at the same moment share them out: each claimed once."""
    open_store(tmp_path / "state.db").close()
    fork = multiprocessing.get_context("fork")  # real processes, without importing csp-monitor again
    start, results = fork.Barrier(4), fork.Queue()
    processes = [fork.Process(target=_claim_all, args=(str(tmp_path / "state.db"), start, results))
                 for _ in range(4)]
    for process in processes:
        process.start()
    won = [minute for _ in processes for minute in results.get(timeout=60)]
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert sorted(won) == list(range(30))
    with open_store(tmp_path / "state.db") as store:
        assert len(ledger.runs_of(store, "every-minute")) == 30


def test_claims_are_kept_in_utc_text(store: StateStore) -> None:
    """The ledger keeps the occurrence's UTC time, whatever the schedule's zone."""
    held = ledger.claim(store, monday(26), run="alerts", reason="scheduled", as_of="2026-05")
    assert held is not None
    record = ledger.lookup(store, "weekly", monday(26).key)
    assert record is not None
    assert record.scheduled_at == datetime(2026, 7, 6, 7, 30, tzinfo=UTC)  # 08:30 BST
    assert record.as_of == "2026-05" and record.outcome == "running"
