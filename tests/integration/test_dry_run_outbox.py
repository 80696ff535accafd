"""Dry runs and previews show what a real run would send again from the outbox: a message the server deferred
(4xx), one whose send went unanswered after the whole message, one a stopped run left in flight; each marked as
sent again, and the real run then sends exactly those, counted at a real SMTP server on loopback."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.daemon_fixtures import received_ids
from tests.delivery_fixtures import smtp_delivery, write_config
from tests.integration.test_dry_run_corrections import command, store_snapshot, written
from tests.mail_fixtures import Handler, LoopbackSmtp

NOW = "2014-04-10T07:00"
LATER = "2014-04-10T07:05"  # past the first retry (a minute by default)


def _outbox(folder: Path) -> list[tuple[str, str, int]]:
    connection = sqlite3.connect(folder / "csp-monitor.db")
    try:
        return [(row[0], row[1], row[2]) for row in connection.execute(
            "SELECT message_id, status, attempts FROM outbox ORDER BY id")]
    finally:
        connection.close()


def _dry_ids(folder: Path) -> list[str]:
    return sorted(str(message["Message-ID"]) for message in written(folder))


def test_a_deferred_message_is_shown_waiting_then_as_a_retry_and_the_real_run_sends_exactly_it(
        tmp_path: Path) -> None:
    """After the server deferred every message (451), a dry run before the retry time sends nothing and names
    each as waiting (and preview, rendering the month's summary already queued, sends nothing again); one after it writes each, marked 'again from the outbox (attempt 2 ...)', as does preview;
    neither touches the store or the server; the real run then delivers those Message-IDs, once each."""
    with LoopbackSmtp(handler=Handler(data_reply="451 4.3.0 try again later")) as server:
        config = write_config(tmp_path, smtp_delivery(server.port))
        first = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW)
        assert first.returncode == 1, first.stdout + first.stderr
        queued = _outbox(tmp_path)
        assert queued and all(status == "queued" and attempts == 1 for _, status, attempts in queued)
        assert first.stdout.endswith(f"{len(queued)} messages waiting to be retried later (the next attempt after "
                                     "2014-04-10T07:01:00Z: a run from then sends them)\n")
        snapshot = store_snapshot(tmp_path)

        early = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW, "--dry-run", tmp_path / "e")
        assert early.returncode == 0, early.stderr
        assert early.stdout == "nothing would be sent for 2014-03\n"
        assert early.stderr.count("is in the outbox waiting to be tried again after 2014-04-10T07:01:00Z: a run "
                                  "now would not send it yet (127.0.0.1 did not accept the message: 451 4.3.0 try again later)"
                                  ) == len(queued)
        assert written(tmp_path / "e") == []
        early_preview = command("preview", "--config", config, "--as-of", "2014-03", "--now", NOW,
                                "--out", tmp_path / "ep")
        assert early_preview.returncode == 0, early_preview.stderr
        assert "again from the outbox" not in early_preview.stdout  # the summary it renders is no new message
        assert len(written(tmp_path / "ep")) == 1

        dry = command("send", "--config", config, "--as-of", "2014-03", "--now", LATER, "--dry-run", tmp_path / "d")
        preview = command("preview", "--config", config, "--as-of", "2014-03", "--now", LATER,
                          "--out", tmp_path / "p")
        assert (dry.returncode, preview.returncode) == (0, 0), dry.stderr + preview.stderr
        lines = dry.stdout.splitlines()
        assert len(lines) == len(queued)
        assert all(line.startswith("would send again from the outbox (attempt 2: not taken before (127.0.0.1 did "
                                   "not accept the message: 451 4.3.0 try again later") for line in lines), lines
        assert preview.stdout.count("(again from the outbox: attempt 2: not taken before") == len(queued)
        assert _dry_ids(tmp_path / "d") == _dry_ids(tmp_path / "p") == sorted(mid for mid, _, _ in queued)
        assert server.received == []
        assert store_snapshot(tmp_path) == snapshot

        server.handler.data_reply = None
        real = command("send", "--config", config, "--as-of", "2014-03", "--now", LATER)
        assert real.returncode == 0, real.stdout + real.stderr
        assert sorted(received_ids(server.received)) == _dry_ids(tmp_path / "d")


def test_a_message_sent_without_an_answer_is_shown_as_sent_again_and_arrives_as_the_dry_run_said(
        tmp_path: Path) -> None:
    """The server kept each message but answered after the client's timeout (fate unknown, resent by design): the
    dry run writes each, 'again from the outbox (send 2: the server did not answer ...)'; the real run sends
    exactly those again, with the same Message-IDs, so each arrives twice and no other message arrives."""
    with LoopbackSmtp(handler=Handler(delay=2.0, keep_before_reply=True)) as server:
        config = write_config(tmp_path, smtp_delivery(server.port, timeout=1))
        first = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW)
        assert first.returncode == 1, first.stdout + first.stderr
        ids = sorted(received_ids(server.received))
        assert ids and sorted(mid for mid, _, _ in _outbox(tmp_path)) == ids
        server.handler.delay = 0.0

        dry = command("send", "--config", config, "--as-of", "2014-03", "--now", LATER, "--dry-run", tmp_path / "d")
        assert dry.returncode == 0, dry.stderr
        lines = dry.stdout.splitlines()
        assert len(lines) == len(ids)
        assert all(line.startswith("would send again from the outbox (send 2: the server did not answer after the "
                                   "whole message last time; sent again with the same Message-ID") for line in lines)
        assert _dry_ids(tmp_path / "d") == ids
        assert len(server.received) == len(ids)

        real = command("send", "--config", config, "--as-of", "2014-03", "--now", LATER)
        assert real.returncode == 0, real.stdout + real.stderr
        assert sorted(received_ids(server.received)) == sorted(ids + ids)


def test_a_message_left_in_flight_by_a_run_that_died_is_shown_as_sent_again(tmp_path: Path) -> None:
    """Rows left 'sending' by a process that is gone: the dry run (before any retry is due) writes them, 'it was
    being sent when a run stopped', and every other queued message, as the real run then sends them."""
    with LoopbackSmtp(handler=Handler(data_reply="451 4.3.0 try again later")) as server:
        config = write_config(tmp_path, smtp_delivery(server.port))
        assert command("send", "--config", config, "--as-of", "2014-03", "--now", NOW).returncode == 1
        dead = subprocess.Popen([sys.executable, "-c", "pass"])  # a process id that has ended
        dead.wait()
        connection = sqlite3.connect(tmp_path / "csp-monitor.db")
        with connection:
            connection.execute("UPDATE outbox SET status = 'sending', claimed_at = '2014-04-10T07:00:00Z', "
                               "claimed_by = ? WHERE id = (SELECT MIN(id) FROM outbox)",
                               (f"{socket.gethostname()}:{dead.pid}:0123456789ab",))
        connection.close()
        queued = _outbox(tmp_path)
        assert [status for _, status, _ in queued].count("sending") == 1

        dry = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW, "--dry-run", tmp_path / "d")
        assert dry.returncode == 0, dry.stderr
        lines = dry.stdout.splitlines()
        assert lines[0].startswith("would send again from the outbox (it was being sent when a run stopped; sent "
                                   "again with the same Message-ID")
        assert len(lines) == len(queued)
        assert _dry_ids(tmp_path / "d") == sorted(mid for mid, _, _ in queued)

        server.handler.data_reply = None
        real = command("send", "--config", config, "--as-of", "2014-03", "--now", NOW)
        assert real.returncode == 0, real.stdout + real.stderr
        assert sorted(received_ids(server.received)) == _dry_ids(tmp_path / "d")
