"""The outbox's guarantees, against a real SQLite store: once per key, atomic, crash-safe, retried, reported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csp_monitor.delivery.outbox import deliver_due, enqueue, list_messages, recover, utc_text
from csp_monitor.delivery.transport import Receipt
from csp_monitor.errors import DeliveryError
from csp_monitor.models.config import RetrySettings
from csp_monitor.state import open_store
from csp_monitor.state.store import StateStore
from tests.delivery_fixtures import NOW

RETRY = RetrySettings(first_delay=60, max_delay=300, give_up_after=3600)


class RecordingTransport:
    """A transport that keeps what it is given, or fails as told (the outbox's seam for tests)."""

    description = "recording"

    def __init__(self, failures: Sequence[DeliveryError] = ()) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.failures = list(failures)
        self.closed = False
        self.connected = True

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> Receipt:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((message_id, message))
        return Receipt(reply="250 OK", accepted=tuple(recipients))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    """A new SQLite state store."""
    with open_store(tmp_path / "state.db") as opened:
        yield opened


def _add(store: StateStore, key: str = "k1", *, body: bytes = b"Subject: x\r\n\r\nbody\r\n") -> bool:
    with store.transaction() as connection:
        return enqueue(connection, key=key, kind="alert", period="2014-03", message_id=f"<{key}@example.org>",
                       sender="csp@example.org", recipients=["a@example.org"], subject=f"subject {key}",
                       message=body, now=NOW, notifications=["n1"])


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _claim_as(store: StateStore, claimant: str, at: str) -> None:
    with store.transaction() as connection:
        connection.exec_driver_sql("update outbox set status = 'sending', claimed_by = ?, claimed_at = ?",
                                   (claimant, at))


def test_a_key_is_queued_once(store: StateStore) -> None:
    """Enqueueing the same key again writes nothing."""
    assert _add(store) is True
    assert _add(store) is False
    assert [row.key for row in list_messages(store)] == ["k1"]


def test_nothing_is_queued_when_the_deciding_transaction_fails(store: StateStore) -> None:
    """The message and the decision commit together: if the transaction fails, neither is kept."""
    with pytest.raises(RuntimeError), store.transaction() as connection:
        enqueue(connection, key="k1", kind="alert", period="2014-03", message_id="<k1@example.org>",
                sender="csp@example.org", recipients=["a@example.org"], subject="s", message=b"m", now=NOW)
        raise RuntimeError("the decision failed after the enqueue")
    assert list_messages(store) == []


def test_a_delivered_message_is_marked_sent_with_the_reply(store: StateStore) -> None:
    """Sent: the reply, the time, one attempt; it is never sent again."""
    _add(store)
    transport = RecordingTransport()
    (attempt,) = deliver_due(store, transport, now=NOW, retry=RETRY)
    assert attempt.outcome == "sent" and transport.closed
    (row,) = list_messages(store)
    assert (row.status, row.reply, row.sent_at, row.attempts) == ("sent", "250 OK", utc_text(NOW), 1)
    assert deliver_due(store, RecordingTransport(), now=NOW + timedelta(hours=1), retry=RETRY) == []


def test_transient_failures_back_off_exponentially_up_to_the_maximum(store: StateStore) -> None:
    """Waits of 60, 120, 240, then 300 s (the maximum) between attempts."""
    _add(store)
    moment = NOW
    waits = []
    for _ in range(4):
        deliver_due(store, RecordingTransport([DeliveryError("busy", permanent=False)]), now=moment, retry=RETRY)
        (row,) = list_messages(store)
        assert row.status == "queued"
        due = row.next_attempt_at
        waits.append(int((_parse(due) - moment).total_seconds()))
        moment = _parse(due)
    assert waits == [60, 120, 240, 300]


def test_a_permanent_failure_is_recorded_and_not_retried(store: StateStore) -> None:
    """A 5xx reply: failed, with the reason, and no later attempt."""
    _add(store)
    failure = DeliveryError("550 mailbox unavailable", permanent=True, reply="550 mailbox unavailable")
    (attempt,) = deliver_due(store, RecordingTransport([failure]), now=NOW, retry=RETRY)
    assert attempt.outcome == "failed"
    (row,) = list_messages(store)
    assert (row.status, row.last_error) == ("failed", "550 mailbox unavailable")
    assert deliver_due(store, RecordingTransport(), now=NOW + timedelta(days=1), retry=RETRY) == []


def test_a_message_still_not_taken_after_the_give_up_time_fails(store: StateStore) -> None:
    """Transient failures past give_up_after end as failed, never silently dropped."""
    _add(store)
    late = NOW + timedelta(seconds=RETRY.give_up_after + 1)
    (attempt,) = deliver_due(store, RecordingTransport([DeliveryError("down", permanent=False)]), now=late,
                             retry=RETRY)
    assert attempt.outcome == "failed" and "gave up after 1 attempts" in attempt.detail


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_message_left_in_flight_by_a_dead_run_is_resent_unchanged(store: StateStore) -> None:
    """A row 'sending' whose process is gone is queued again and resent byte for byte, same Message-ID."""
    import socket

    body = b"Message-ID: <k1@example.org>\r\n\r\nthe very same bytes\r\n"
    _add(store, body=body)
    _claim_as(store, f"{socket.gethostname()}:{_dead_pid()}:run", utc_text(NOW))
    recovered = recover(store, now=NOW + timedelta(seconds=5))
    assert [row.message_id for row in recovered] == ["<k1@example.org>"]
    transport = RecordingTransport()
    deliver_due(store, transport, now=NOW + timedelta(seconds=5), retry=RETRY)
    assert transport.sent == [("<k1@example.org>", body)]


def test_a_message_in_flight_in_a_live_run_is_left_alone_until_its_lease_ends(store: StateStore) -> None:
    """Another live process's claim is respected; after the lease it is taken to have died."""
    import socket

    _add(store)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _claim_as(store, f"{socket.gethostname()}:{sleeper.pid}:run", utc_text(NOW))
        assert recover(store, now=NOW + timedelta(minutes=1)) == []
        assert deliver_due(store, RecordingTransport(), now=NOW + timedelta(minutes=1), retry=RETRY) == []
        assert len(recover(store, now=NOW + timedelta(hours=1))) == 1
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_server_that_is_down_stops_the_run_early(store: StateStore) -> None:
    """After a failure that leaves no connection, the other messages wait untried for the next run."""
    for key in ("k1", "k2", "k3"):
        _add(store, key)
    transport = RecordingTransport([DeliveryError("connection refused", permanent=False)])
    transport.connected = False
    attempts = deliver_due(store, transport, now=NOW, retry=RETRY)
    assert [a.outcome for a in attempts] == ["retry"]
    rows = {row.key: row for row in list_messages(store)}
    assert rows["k2"].attempts == rows["k3"].attempts == 0
