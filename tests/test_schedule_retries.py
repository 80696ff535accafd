"""Failed runs are retried for their own occurrence and month: the ledger's retry times, their bound, and the
month a retry judges (against a real SMTP server)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from csp_monitor.cron import load_timezone
from csp_monitor.load.config import load_config
from csp_monitor.models.schedule import RunRetrySettings, Schedule
from csp_monitor.schedule import ledger
from csp_monitor.schedule.jobs import run_job
from csp_monitor.schedule.occurrences import latest_occurrence, occurrence_at
from csp_monitor.state import open_store
from csp_monitor.state.schedule_tables import runs
from csp_monitor.state.store import StateStore, format_time
from tests.daemon_fixtures import add_month, write_partnership
from tests.mail_fixtures import LoopbackSmtp, make_certificate

LONDON = load_timezone("Europe/London")
MONTHLY = Schedule(id="monthly-summary", cron="0 7 10 * *", run="summary")
TENTH = occurrence_at(MONTHLY, LONDON, datetime(2026, 6, 10, 7, 0, tzinfo=LONDON))


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    """A new SQLite state store in a temporary folder."""
    with open_store(tmp_path / "state.db") as opened:
        yield opened  # type: ignore[misc]


def test_retry_times_grow_and_stop_after_give_up_after() -> None:
    """Each retry waits twice as long as the last, at most max_delay, and none is planned past give_up_after."""
    settings = RunRetrySettings(first_delay=60, max_delay=600, give_up_after=3600)
    start = TENTH.at
    waits = [ledger.retry_at(settings, scheduled_at=start, attempts=n, now=start) for n in range(1, 7)]
    assert [(w - start).total_seconds() for w in waits if w] == [60, 120, 240, 480, 600, 600]
    assert ledger.retry_at(settings, scheduled_at=start, attempts=1, now=start + timedelta(seconds=3590)) is None


def test_a_failed_run_is_claimed_again_once_its_retry_time_has_come(store: StateStore) -> None:
    """A failed occurrence with a retry time is claimed again (by one claimant) only once that time has come;
    without one it is never claimed again; by hand it may be claimed at once."""
    now = TENTH.at
    held = ledger.claim(store, TENTH, run="summary", reason="scheduled", now=now)
    assert held is not None
    ledger.finish(store, held, "failed", error="bad row", as_of="2026-04", next_attempt_at=now + timedelta(minutes=1))
    early = now + timedelta(seconds=30)
    assert ledger.claim(store, TENTH, run="summary", reason="retry", retry=True, now=early) is None
    assert ledger.due_retries(store, MONTHLY.id, early) == []
    late = now + timedelta(minutes=2)
    assert [r.occurrence for r in ledger.due_retries(store, MONTHLY.id, late)] == [TENTH.key]
    again = ledger.claim(store, TENTH, run="summary", reason="retry", retry=True, now=late)
    assert again is not None and again.attempts == 2
    assert ledger.claim(store, TENTH, run="summary", reason="retry", retry=True, now=late) is None
    record = ledger.lookup(store, MONTHLY.id, TENTH.key)
    assert record is not None and record.outcome == "running" and record.as_of == "2026-04"

    ledger.finish(store, again, "failed", error="still bad", next_attempt_at=None)  # retries ran out
    assert ledger.claim(store, TENTH, run="summary", reason="retry", retry=True, now=late + timedelta(days=9)) is None
    assert ledger.waiting_retry(store, MONTHLY.id) is None

    ledger.finish(store, again, "failed", error="bad", next_attempt_at=late + timedelta(hours=1))
    by_hand = ledger.claim(store, TENTH, run="summary", reason="manual", retry=True, now=late)
    assert by_hand is not None and by_hand.attempts == 3


def test_a_store_from_before_run_retries_gains_the_retry_column(tmp_path: Path) -> None:
    """A store whose run ledger predates retries is migrated: the column is added and old failures are not
    retried."""
    path = tmp_path / "state.db"
    open_store(path).close()
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE runs DROP COLUMN next_attempt_at")
    connection.execute("INSERT INTO runs (job_id, occurrence, scheduled_at, reason, run, started_at, outcome, "
                       "attempts) VALUES ('monthly-summary', 'old', '2020-01-10T07:00:00Z', 'scheduled', "
                       "'summary', '2020-01-10T07:00:00Z', 'failed', 1)")
    connection.execute("UPDATE schema_version SET version = 2 WHERE component = 'schedule'")
    connection.commit()
    connection.close()
    with open_store(path) as store:
        assert store.schema_versions()["schedule"] == 3
        assert ledger.due_retries(store, "monthly-summary", datetime.now(UTC)) == []
        record = ledger.lookup(store, "monthly-summary", "old")
        assert record is not None and record.next_attempt_at is None


def test_a_retry_judges_the_month_the_failed_run_was_judging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """A run that failed for want of its SMTP password after judging May is retried for May, even though
    June's figures have arrived meanwhile; May's summary is the one delivered."""
    certificate = make_certificate(tmp_path)
    monkeypatch.delenv("TEST_RETRY_PASSWORD", raising=False)
    with LoopbackSmtp(tls=certificate, users={"csp": "s3cret-enough"}) as server:
        config_path = write_partnership(tmp_path, schedules="")
        text = config_path.read_text(encoding="utf-8").replace(
            "  folder: outbox/\n",
            f"  smtp: {{host: 127.0.0.1, port: {server.port}, security: tls, ca_file: {certificate.cert}, "
            "username: csp, password_env: TEST_RETRY_PASSWORD, timeout: 10}\n")
        config_path.write_text(text + "schedules: [{id: monthly-summary, interval_seconds: 3600, run: summary}]\n",
                               encoding="utf-8")
        config = load_config(config_path)
        schedule = config.schedules[0]
        add_month(tmp_path, "2020-04")
        add_month(tmp_path, "2020-05")
        with open_store(config.state) as store:
            due = latest_occurrence(schedule, LONDON, datetime.now(UTC))
            assert due is not None
            failed = run_job(config, store, schedule, due, reason="scheduled")
            assert failed.outcome == "failed" and "TEST_RETRY_PASSWORD is not set" in (failed.error or "")
            record = ledger.lookup(store, schedule.id, due.key)
            assert record is not None and record.as_of == "2020-05" and record.next_attempt_at is not None

            add_month(tmp_path, "2020-06")
            monkeypatch.setenv("TEST_RETRY_PASSWORD", "s3cret-enough")
            retried = run_job(config, store, schedule, due, reason="retry")
            assert retried.outcome == "already-done"  # its retry time (a minute later) has not come yet
            with store.transaction() as connection:  # the minute passes
                connection.execute(update(runs).values(next_attempt_at=format_time(datetime.now(UTC))))
            retried = run_job(config, store, schedule, due, reason="retry")
        assert retried.outcome == "succeeded" and retried.report is not None
        assert retried.report.as_of == "2020-05"
    assert [str(m.message["Subject"]) for m in server.received] == [
        "Testshire Community Safety Partnership risk summary, May 2020: 1 red, 0 amber, 1 green"]

