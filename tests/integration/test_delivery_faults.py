"""Faults after the server has the message: a server slower than the timeout, a SQLite store held busy by
another process, PostgreSQL cut off mid-send. Every message the outbox holds arrives; copies beyond one only
within the documented window (resend_unknown after a timeout after the whole message), never after a
store fault."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.delivery.run import send_once
from csp_monitor.load.config import load_config
from csp_monitor.models.config import MonitorConfig
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import ledger
from csp_monitor.schedule.jobs import run_job
from csp_monitor.schedule.occurrences import Occurrence
from csp_monitor.state import open_store
from csp_monitor.state import store as store_module
from tests.daemon_fixtures import add_month, received_ids, write_partnership
from tests.mail_fixtures import Handler, LoopbackSmtp
from tests.tcp_proxy import postgres_proxy

TIMEOUT = 1.0  # the client's SMTP timeout in these tests, in seconds


class SlowHandler(Handler):
    """Keeps each message, then answers only after the client's timeout, for the first ``slow`` messages."""

    def __init__(self, slow: int) -> None:
        super().__init__()
        self.slow = slow

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) <= self.slow:
            await asyncio.sleep(TIMEOUT + 1.0)
        return reply


class FaultAfterFirst(Handler):
    """Keeps each message; before answering the first, calls ``fault()`` (the store goes away)."""

    def __init__(self, fault: Any) -> None:
        super().__init__()
        self.fault = fault

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 1:
            self.fault()
        return reply


def monitor(folder: Path, port: int, *, resend_unknown: int = 1, state: str | None = None) -> MonitorConfig:
    """Testshire with April's figures, SMTP on ``port`` with a 1 s timeout, retries after 1 s."""
    path = write_partnership(folder, smtp_port=port, schedules="")
    text = path.read_text(encoding="utf-8").replace("timeout: 5", f"timeout: {TIMEOUT}").replace(
        "retry: {first_delay: 1, max_delay: 2}", f"retry: {{first_delay: 1, max_delay: 1, resend_unknown: "
                                                  f"{resend_unknown}}}")
    path.write_text(text, encoding="utf-8")
    add_month(folder, "2020-04")
    config = load_config(path)
    return config if state is None else config.model_copy(update={"state": state})


def run_until_settled(config: MonitorConfig, runs: int = 6) -> None:
    """Run the summary and alerts jobs, then retry, as the daemon would, until nothing is queued."""
    send_once(config, jobs=("summary",))
    send_once(config, jobs=("alerts",))
    for _ in range(runs):
        with open_store(config.state) as store:
            if not list_messages(store, statuses=["queued", "sending"]):
                return
        time.sleep(1.1)
        send_once(config, jobs=("alerts",))
    raise AssertionError("the outbox did not settle")


def outbox_by_status(config: MonitorConfig) -> dict[str, set[str]]:
    """Message-IDs in the outbox by status."""
    found: dict[str, set[str]] = {}
    with open_store(config.state) as store:
        for message in list_messages(store):
            found.setdefault(message.status, set()).add(message.message_id)
    return found


def test_a_server_always_slower_than_the_timeout_gets_each_message_at_most_twice(tmp_path: Path) -> None:
    """When every answer comes after the timeout, each message is sent once and resent once (resend_unknown: 1)
    with the same Message-ID, then marked unknown: 4 messages, 8 received, none lost, none a third time."""
    with LoopbackSmtp(handler=SlowHandler(slow=1000)) as server:
        config = monitor(tmp_path, server.port)
        run_until_settled(config)
        time.sleep(TIMEOUT + 1.5)  # the last slow answer
    outbox = outbox_by_status(config)
    assert set(outbox) == {"unknown"} and len(outbox["unknown"]) == 4
    assert Counter(received_ids(server.received)) == dict.fromkeys(outbox["unknown"], 2)


def test_a_server_slow_once_gets_that_message_twice_and_the_rest_once(tmp_path: Path) -> None:
    """A server slow on the first message only: that one is resent once with the same Message-ID and then
    recorded sent; the other three arrive once."""
    with LoopbackSmtp(handler=SlowHandler(slow=1)) as server:
        config = monitor(tmp_path, server.port)
        run_until_settled(config)
    outbox = outbox_by_status(config)
    assert set(outbox) == {"sent"} and len(outbox["sent"]) == 4
    copies = Counter(received_ids(server.received))
    assert set(copies) == outbox["sent"]
    assert sorted(copies.values()) == [1, 1, 1, 2]
    assert copies[received_ids(server.received)[0]] == 2  # the slow one


def test_resend_unknown_zero_never_sends_a_message_twice(tmp_path: Path) -> None:
    """With resend_unknown: 0 a message whose answer never came is marked unknown at once: no copy at all."""
    with LoopbackSmtp(handler=SlowHandler(slow=1000)) as server:
        config = monitor(tmp_path, server.port, resend_unknown=0)
        run_until_settled(config)
        time.sleep(TIMEOUT + 1.5)
    outbox = outbox_by_status(config)
    assert set(outbox) == {"unknown"}
    assert Counter(received_ids(server.received)) == dict.fromkeys(outbox["unknown"], 1)
    with open_store(config.state) as store:
        reasons = {message.last_error for message in list_messages(store)}
    assert all(reason and "sent 1 times with the same Message-ID" in reason for reason in reasons), reasons


HOLD = """\
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def test_a_sqlite_store_busy_after_a_delivery_records_it_sent_without_a_resend(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holds the SQLite store's write lock for 5 s (past the busy timeout, shortened here from
    30 s to 2 s to keep the suite quick) just as the first message is accepted: "sent" is recorded once the
    store is free, nothing is resent, the run succeeds."""
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", 2_000)
    holders: list[subprocess.Popen[str]] = []

    def hold_the_store() -> None:
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "state.db"), "5"],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        holders.append(holder)

    with LoopbackSmtp(handler=FaultAfterFirst(hold_the_store)) as server:
        config = monitor(tmp_path, server.port)
        report = send_once(config, jobs=("summary",))
        again = send_once(config)
    assert holders and holders[0].wait(10) == 0
    assert any("is busy" in r.getMessage() for r in caplog.records if r.name == "csp_monitor.state")
    assert len(report.sent) == 1 and not report.recovered
    assert not again.recovered and not [a for a in again.attempts if a.outcome != "sent"]
    outbox = outbox_by_status(config)
    assert set(outbox) == {"sent"} and len(outbox["sent"]) == 4
    assert Counter(received_ids(server.received)) == dict.fromkeys(outbox["sent"], 1)


def test_postgres_cut_off_mid_send_records_the_delivery_and_the_run(
        postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL becomes unreachable (a proxy in front of it is cut) just as the summary is accepted, and comes
    back 3 s later: the summary is recorded sent, not resent, and the run is recorded succeeded, not running."""
    proxy, through_proxy = postgres_proxy(postgres_url)
    schedule = Schedule(id="monthly-summary", interval_seconds=3600, run="summary")
    occurrence = Occurrence(schedule.id, datetime.now(UTC).replace(microsecond=0), "test-occurrence")
    try:
        with LoopbackSmtp(handler=FaultAfterFirst(lambda: proxy.cut_for(3.0))) as server:
            config = monitor(tmp_path, server.port, state=through_proxy)
            with open_store(through_proxy) as store:
                result = run_job(config, store, schedule, occurrence, reason="scheduled")
                assert proxy.cuts == 1
                assert result.outcome == "succeeded", result.error
                record = ledger.lookup(store, schedule.id, occurrence.key)
                assert record is not None and record.outcome == "succeeded" and record.as_of == "2020-04"
            again = send_once(config)
    finally:
        proxy.close()
    assert not again.recovered
    retried = [r.getMessage() for r in caplog.records if r.name == "csp_monitor.state"]
    assert any("could not record the outcome of outbox message" in line for line in retried), retried
    outbox = outbox_by_status(config.model_copy(update={"state": postgres_url}))
    assert set(outbox) == {"sent"} and len(outbox["sent"]) == 4
    assert Counter(received_ids(server.received)) == dict.fromkeys(outbox["sent"], 1)


def test_a_runs_outcome_is_recorded_when_postgres_comes_back(postgres_url: str) -> None:
    """PostgreSQL cut off as a run ends, back 2 s later: the run is recorded succeeded, not left running."""
    proxy, through_proxy = postgres_proxy(postgres_url)
    occurrence = Occurrence("monthly-summary", datetime.now(UTC).replace(microsecond=0), "test-occurrence")
    try:
        with open_store(through_proxy) as store:
            held = ledger.claim(store, occurrence, run="summary", reason="scheduled")
            assert held is not None
            proxy.cut_for(2.0)
            started = time.monotonic()
            ledger.finish(store, held, "succeeded", detail="as of 2020-04, queued 1, sent 1", as_of="2020-04")
            assert time.monotonic() - started >= 1.5  # it waited for the store rather than fail
    finally:
        proxy.close()
    with open_store(postgres_url) as store:
        record = ledger.lookup(store, "monthly-summary", occurrence.key)
    assert record is not None and (record.outcome, record.as_of) == ("succeeded", "2020-04")
