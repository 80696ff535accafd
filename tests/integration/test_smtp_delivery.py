"""Delivery through a real SMTP server on loopback: TLS, structure, outages, refusals."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.delivery.run import send_once
from csp_monitor.load.config import load_config
from csp_monitor.models.config import MonitorConfig
from csp_monitor.state import open_store
from tests.delivery_fixtures import NOW, write_config
from tests.mail_fixtures import Handler, LoopbackSmtp, make_certificate


def _config(folder: Path, smtp: str) -> MonitorConfig:
    return load_config(write_config(folder, f"""
        delivery:
          from: "Harborough CSP monitor <csp-monitor@example.org>"
          smtp: {smtp}
        """))


def _outbox(config: MonitorConfig) -> dict[str, list[str]]:
    with open_store(config.state, create=False) as store:
        rows = list_messages(store)
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.status, []).append(row.message_id)
    return found


def test_starttls_delivery_has_the_expected_structure(tmp_path: Path) -> None:
    """Over STARTTLS with a verified certificate, the summary arrives as text + HTML with its charts inline."""
    certificate = make_certificate(tmp_path)
    with LoopbackSmtp(starttls=certificate) as server:
        config = load_config(write_config(tmp_path / "monitor", f"""
            delivery:
              from: "Harborough CSP monitor <csp-monitor@example.org>"
              smtp: {{host: 127.0.0.1, port: {server.port}, security: starttls, ca_file: {certificate.cert},
                      timeout: 10}}
            """, summary="summary:\n  to: [board]\n"))
        report = send_once(config, as_of="2014-03", now=NOW)
    assert not report.failed and not report.retrying
    assert server.received and all(item.tls for item in server.received)
    summaries = [item for item in server.received if "risk summary" in str(item.message["Subject"])]
    assert len(summaries) == 1
    received = summaries[0]
    message = received.message
    assert received.mail_from == "csp-monitor@example.org"
    assert sorted(received.rcpt_tos) == ["analyst@example.org", "csp-board@example.org"]
    assert str(message["From"]) == "Harborough CSP monitor <csp-monitor@example.org>"
    assert message["Date"].datetime == NOW
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert images and all(image.get_content_type() == "image/png" for image in images)
    body = html.get_content()
    for image in images:
        content_id = str(image["Content-ID"]).strip("<>")
        assert f'src="cid:{content_id}"' in body
        assert image.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Domestic Burglary" in text.get_content() and "Domestic Burglary" in body
    assert "<style" not in body.split("</head>")[1]  # CSS inlined into the body
    assert 'style="' in body
    sent_ids = {str(item.message["Message-ID"]) for item in server.received}
    assert sent_ids == set(_outbox(config)["sent"])


def test_an_unverified_certificate_is_never_trusted(tmp_path: Path) -> None:
    """Without the council's CA the self-signed certificate fails verification and nothing is sent."""
    certificate = make_certificate(tmp_path)
    with LoopbackSmtp(starttls=certificate) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: starttls, "
                                               "timeout: 10}")
        report = send_once(config, as_of="2014-03", now=NOW)
    assert server.received == []
    assert report.retrying and "certificate" in report.retrying[0].detail
    assert "sent" not in _outbox(config)


def test_implicit_tls_logs_in_with_a_password_from_the_environment(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Implicit TLS with AUTH: the password comes from the environment and is stored nowhere."""
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct-horse-battery")
    with LoopbackSmtp(tls=certificate, users={"csp": "correct-horse-battery"}) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: tls, "
                                               f"ca_file: {certificate.cert}, username: csp, "
                                               "password_env: TEST_SMTP_PASSWORD, timeout: 10}")
        report = send_once(config, as_of="2014-03", now=NOW)
    assert report.sent and not report.retrying
    assert {item.login for item in server.received} == {"csp"}
    assert all(item.tls for item in server.received)
    assert b"correct-horse-battery" not in Path(config.state).read_bytes()
    assert "correct-horse-battery" not in "\n".join(report.lines())


def test_a_wrong_password_keeps_the_messages_queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused login is reported and retried later, without the password in the message."""
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-password-123")
    with LoopbackSmtp(tls=certificate, users={"csp": "right"}) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: tls, "
                                               f"ca_file: {certificate.cert}, username: csp, "
                                               "password_env: TEST_SMTP_PASSWORD, timeout: 10}")
        report = send_once(config, as_of="2014-03", now=NOW)
    assert server.received == [] and report.retrying
    assert "refused the login" in report.retrying[0].detail
    assert "wrong-password-123" not in "\n".join(report.lines())


def test_an_outage_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    """Messages decided while the server is down are queued, retried together after the backoff, oldest
    first, and delivered once."""
    server = LoopbackSmtp()
    config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: none, timeout: 5}}")
    down = send_once(config, as_of="2014-03", now=NOW)
    assert down.queued and not down.sent
    assert len(down.retrying) == 1  # the first failure stops the run: the rest wait, untried
    queued = _outbox(config)["queued"]
    assert len(queued) == len(down.queued)
    tried = down.retrying[0].message.message_id
    with server:
        early = send_once(config, as_of="2014-03", now=NOW + timedelta(seconds=30))
        assert len(early.queued) == 0  # deciding again adds nothing
        # The server could not be reached: the whole queue waits for the backoff (60 s), then goes oldest first
        # (the untried messages used to go first, and the oldest, tried, last).
        assert early.attempts == ()
        later = send_once(config, as_of="2014-03", now=NOW + timedelta(minutes=2))
        assert [a.message.message_id for a in later.sent] == [m.message_id for m in down.queued]
        assert later.sent[0].message.message_id == tried
        again = send_once(config, as_of="2014-03", now=NOW + timedelta(minutes=3))
    received = [str(item.message["Message-ID"]) for item in server.received]
    assert sorted(received) == sorted(queued)
    assert len(set(received)) == len(received)
    assert not again.attempts


def test_every_recipient_refused_is_a_permanent_failure(tmp_path: Path) -> None:
    """A 550 for every recipient marks the message failed with the server's reason, and it is not retried."""
    handler = Handler(refuse={"violence@example.org": "550 5.1.1 no such mailbox"})
    with LoopbackSmtp(handler=handler) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: none}}")
        first = send_once(config, as_of="2014-03", now=NOW)
        second = send_once(config, as_of="2014-03", now=NOW + timedelta(days=1))
    assert [attempt.message.recipients for attempt in first.failed] == [("violence@example.org",)]
    assert "550 5.1.1 no such mailbox" in first.failed[0].detail
    assert not second.attempts
    assert all("violence@example.org" not in item.rcpt_tos for item in server.received)


def test_a_partly_refused_message_goes_to_the_others_and_records_the_refusal(tmp_path: Path) -> None:
    """When one of the summary's recipients is refused, the rest get it and the refusal is kept."""
    handler = Handler(refuse={"analyst@example.org": "550 mailbox unavailable"})
    with LoopbackSmtp(handler=handler) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: none}}")
        report = send_once(config, as_of="2014-03", now=NOW, jobs=("summary",))
    (attempt,) = report.sent
    assert attempt.refused == {"analyst@example.org": "550 mailbox unavailable"}
    assert [item.rcpt_tos for item in server.received] == [["csp-board@example.org"]]
    with open_store(config.state, create=False) as store:
        (row,) = list_messages(store)
    assert row.status == "sent" and row.refused == {"analyst@example.org": "550 mailbox unavailable"}


def test_a_4xx_reply_is_retried_with_exponential_backoff(tmp_path: Path) -> None:
    """A 451 reply queues the message again, each wait twice the one before."""
    handler = Handler(data_reply="451 4.3.0 try again later")
    with LoopbackSmtp(handler=handler) as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: none}}")
        send_once(config, as_of="2014-03", now=NOW, jobs=("summary",))
        send_once(config, as_of="2014-03", now=NOW + timedelta(seconds=60), jobs=("summary",))
    with open_store(config.state, create=False) as store:
        (row,) = list_messages(store)
    assert row.status == "queued" and row.attempts == 2
    assert row.next_attempt_at == "2014-04-10T07:03:00Z"  # 60 s after the first, then 120 s after the second
    assert "451 4.3.0 try again later" in (row.last_error or "")


def test_the_outbox_table_keeps_the_servers_reply(tmp_path: Path) -> None:
    """A sent message records the server's own reply."""
    with LoopbackSmtp() as server:
        config = _config(tmp_path / "monitor", f"{{host: 127.0.0.1, port: {server.port}, security: none}}")
        send_once(config, as_of="2014-03", now=NOW, jobs=("summary",))
    with sqlite3.connect(config.state) as connection:
        (reply,) = connection.execute("select reply from outbox").fetchone()
    assert reply == "250 OK queued as test-1"


def test_a_port_that_takes_the_connection_but_speaks_no_smtp_is_named_as_the_likely_mistake(tmp_path: Path) -> None:
    """A wrong port (another service that accepts and never greets, on loopback): send, in a process of its own,
    says the server did not answer as a mail server and which port to check (it said only 'closed the
    connection'); the messages stay queued, and the right port then delivers each of them once."""
    import socket
    import threading
    from collections import Counter

    from tests.daemon_fixtures import edit_config, received_ids
    from tests.delivery_fixtures import smtp_delivery
    from tests.security.bounded_cli import run_cli

    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(silent.accept()[0])  # keep it open, say nothing
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        config = write_config(tmp_path, smtp_delivery(port, timeout=1))
        run = run_cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:00")
    finally:
        silent.close()
        for connection in held:
            connection.close()
    assert run.exit_code == 1, run.output
    assert ("it took the connection but did not answer as a mail server (no greeting within 1 s), so check the "
            "port: with security: none a mail server usually listens on 25") in run.stdout
    with LoopbackSmtp() as server:
        edit_config(config, f"port: {port},", f"port: {server.port},")
        again = run_cli("send", "--config", config, "--as-of", "2014-03", "--now", "2014-04-10T07:05")
        assert again.exit_code == 0, again.output
        counts = Counter(received_ids(server.received))
    assert len(counts) >= 3 and set(counts.values()) == {1}
