"""A real, imperfect mail server against ``csp-monitor send`` and ``status`` in processes of their own: recipients
put off or refused, sessions closed with 421 or dropped, replies too long or with control characters, TLS and
logins that fail, international addresses. Every test counts what arrives, per recipient and Message-ID, across
the failing run and the runs after it: nothing lost, nothing twice, and the output says what happened."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_fixtures import (
    FAST_SCHEDULES,
    DaemonProcess,
    add_month,
    edit_config,
    outbox_counts,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import (
    CLOSE,
    Handler,
    LoopbackSmtp,
    ScriptedSession,
    ScriptedSmtp,
    free_port,
    make_certificate,
)
from tests.security.bounded_cli import BoundedRun, run_cli

BOARD = ("board@example.org", "analyst@example.org", "third@example.org")
OTHERS = {"owner@example.org"}  # gets an alert, not the summary
EVERYONE = {*BOARD, *OTHERS}


def monitor(folder: Path, port: int, *, third: str = "third@example.org", schedules: str = "") -> Path:
    """Testshire with April's figures and a board of three, SMTP on loopback ``port`` (2 s timeout, retries
    after 1 s): a run sends the summary to the three and an alert to each of the four people."""
    config = write_partnership(folder, smtp_port=port, schedules=schedules)
    edit_config(config, "timeout: 5", "timeout: 2")
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "board: [board@example.org, analyst@example.org]", f"board: [board@example.org, analyst@example.org, {third}]"),
        encoding="utf-8")
    add_month(folder, "2020-04")
    return config


def send(config: Path) -> BoundedRun:
    """``csp-monitor send`` in a process of its own; never an internal error."""
    run = run_cli("send", "--config", config)
    assert run.exit_code in (0, 1), run.output
    assert "Traceback" not in run.output and "internal error" not in run.output, run.output
    return run


def arrivals(received: list[Any]) -> Counter[tuple[str, str]]:
    """How many times each recipient got each message (by Message-ID)."""
    return Counter((recipient, str(item.message["Message-ID"])) for item in received for recipient in item.rcpt_tos)


def outbox(folder: Path) -> list[tuple[str, list[str], str | None]]:
    """(status, recipients, last error) of every outbox row, oldest first."""
    with sqlite3.connect(folder / "state.db") as connection:
        rows = connection.execute("SELECT status, recipients, last_error FROM outbox ORDER BY id").fetchall()
    return [(status, json.loads(recipients), error) for status, recipients, error in rows]


def a_willing_server_gets_each_once(config: Path, port: int, *, wait: float) -> None:
    """The configuration moved from ``port`` to a willing server: after ``wait`` s (the messages' retry time) the
    next `send` succeeds and each message arrives exactly once."""
    with ScriptedSmtp() as server:
        edit_config(config, f"port: {port},", f"port: {server.port},")
        time.sleep(wait)
        assert send(config).exit_code == 0
    everyone_once(server.received)


def everyone_once(received: list[Any], people: set[str] = EVERYONE) -> None:
    """Each of ``people`` got the summary and an alert, each exactly once; nobody else got anything."""
    counts = arrivals(received)
    assert set(counts.values()) == {1}, counts
    by_person = Counter(recipient for recipient, _ in counts)
    assert by_person == {person: 2 if person in BOARD else 1 for person in people}, by_person


class PutOff(ScriptedSmtp):
    """Answers RCPT for ``who`` with ``reply`` in the first ``sessions`` connections, then takes it."""

    def __init__(self, who: str, reply: str, sessions: int = 1) -> None:
        super().__init__()
        self.who, self.reply, self.until = who, reply, sessions

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        return self.reply if address == self.who and session.number <= self.until else "250 2.1.5 OK"


def test_a_recipient_put_off_with_450_gets_the_summary_later_and_the_others_once(tmp_path: Path) -> None:
    """The server takes two of the board's three and answers 450 for the third: the two get the summary now
    (before, nobody got it until the third was taken, and nobody at all if it never was), the third gets it
    at the next run with the same Message-ID, and nobody gets it twice."""
    with PutOff("third@example.org", "450 4.2.1 mailbox busy", sessions=1) as server:
        config = monitor(tmp_path, server.port)
        first = send(config)
        summary = [item for item in server.received if len(item.rcpt_tos) > 1]
        assert [item.rcpt_tos for item in summary] == [["board@example.org", "analyst@example.org"]]
        assert first.exit_code == 1
        assert "put off by the server, tried again later on their own: third@example.org (450 4.2.1 mailbox busy)" \
            in first.stdout
        assert "reached only some of its recipients" in first.stderr
        assert [(status, to) for status, to, _ in outbox(tmp_path) if status == "queued"] == [
            ("queued", ["third@example.org"]), ("queued", ["third@example.org"])]  # the summary, and an alert
        time.sleep(1.2)  # the retry time (first_delay: 1)
        second = send(config)
        assert second.exit_code == 0, second.output
    everyone_once(server.received)
    ids = {str(item.message["Message-ID"]) for item in server.received if "third@example.org" in item.rcpt_tos}
    assert str(summary[0].message["Message-ID"]) in ids  # the same message, not a new one
    assert {status for status, _, _ in outbox(tmp_path)} == {"sent"}


def test_a_recipient_refused_with_550_is_reported_and_never_retried(tmp_path: Path) -> None:
    """550 for one of three: the two get the summary once; send says who was refused and exits 1; status
    exits 4 naming them; later runs send nothing again."""
    with PutOff("third@example.org", "550 5.1.1 no such user", sessions=99) as server:
        config = monitor(tmp_path, server.port)
        first = send(config)
        assert first.exit_code == 1
        assert "refused for good: third@example.org (550 5.1.1 no such user)" in first.stdout
        status = run_cli("status", "--config", config)
        assert status.exit_code == 4, status.output
        assert "refused for good for third@example.org" in status.stdout
        time.sleep(1.2)
        again = send(config)
        assert "nothing new to send" in again.stdout
    everyone_once(server.received, EVERYONE - {"third@example.org"})


class PutOffInCompany(ScriptedSmtp):
    """Answers 451 for third@ when others were accepted before it in the same message (the summary), so that
    everything else goes: the summary goes to third@ only when sent to them alone."""

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        if address == "third@example.org" and session.rcpt_tos:
            return "451 4.3.0 greylisted"
        return "250 OK"


def test_run_once_exits_1_when_a_recipient_was_put_off_and_the_next_run_sends_them_alone(tmp_path: Path) -> None:
    """``run-once`` (every scheduled job once) with one of the board put off: it exits 1 and says so (it
    exited 0, as if everyone had the summary); the next run-once sends the summary to that recipient alone."""
    with PutOffInCompany() as server:
        config = monitor(tmp_path, server.port, schedules=FAST_SCHEDULES)
        first = run_cli("run-once", "--config", config)
        assert first.exit_code == 1, first.output
        assert "to only some recipients" in first.stdout and "third@example.org (451 4.3.0 greylisted)" \
            in first.stdout, first.stdout
        time.sleep(1.2)
        second = run_cli("run-once", "--config", config)
        assert second.exit_code == 0, second.output
    everyone_once(server.received)


class ClosesAfterEachMessage(ScriptedSmtp):
    """Takes one message per connection, then hangs up without waiting for QUIT."""

    def after_accepting(self, session: ScriptedSession) -> bool:
        return True


class OnePerSession(ScriptedSmtp):
    """Answers 421 (and closes) at ``stage`` when a connection already carried a message."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def _second(self, session: ScriptedSession, stage: str, default: str) -> str:
        carried = sum(command.upper() == "DATA" for command in session.commands[:-1])
        return "421 4.3.2 too many messages, closing" if stage == self.stage and carried else default

    def mail(self, session: ScriptedSession, address: str) -> str:
        return self._second(session, "mail", super().mail(session, address))

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        return self._second(session, "rcpt", super().rcpt(session, address))

    def data_end(self, session: ScriptedSession, number: int) -> str:
        return self._second(session, "data_end", super().data_end(session, number))


@pytest.mark.parametrize("server", [ClosesAfterEachMessage, lambda: OnePerSession("mail"),
                                    lambda: OnePerSession("rcpt"), lambda: OnePerSession("data_end")],
                         ids=["250-then-close", "421-at-mail", "421-at-rcpt", "421-after-data"])
def test_a_server_that_takes_one_message_per_connection_gets_every_message_in_one_run(
        tmp_path: Path, server: Any) -> None:
    """A server that closes the connection after each message (silently, or with 421 at the next MAIL, RCPT or
    after the next message's end) gets all five messages in one run, each once: the next message opens a new
    connection (before, the rest of the queue waited for a retry, one more message per run)."""
    with server() as smtp:
        config = monitor(tmp_path, smtp.port)
        run = send(config)
        assert run.exit_code == 0, run.output
    everyone_once(smtp.received)
    assert len(smtp.sessions) == 5


class Always421(ScriptedSmtp):
    def mail(self, session: ScriptedSession, address: str) -> str:
        return "421 4.3.2 shutting down for maintenance"


def test_a_server_closing_every_session_keeps_everything_queued_and_says_so(tmp_path: Path) -> None:
    """421 at every MAIL: nothing is lost or failed, the output names the 421, the run stops after trying one
    message twice (not once per message), and the next run, with a willing server, delivers each once."""
    with Always421() as closing:
        config = monitor(tmp_path, closing.port)
        run = send(config)
    assert run.exit_code == 1
    assert "closed the session before the message (at MAIL FROM): 421 4.3.2 shutting down" in run.stdout
    assert len(closing.sessions) == 2
    assert {status for status, _, _ in outbox(tmp_path)} == {"queued"}
    a_willing_server_gets_each_once(config, closing.port, wait=1.2)


class Unwilling(ScriptedSmtp):
    """Fails every session at one step: a 554 greeting, or the connection dropped after EHLO or after DATA's
    354 (the message cut short)."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step

    def greeting(self, session: ScriptedSession) -> str:
        return "554 5.7.1 no service for you" if self.step == "greeting" else super().greeting(session)

    def ehlo(self, session: ScriptedSession) -> str:
        return CLOSE if self.step == "ehlo" else super().ehlo(session)

    def data_end(self, session: ScriptedSession, number: int) -> str:
        return CLOSE if self.step == "data" else super().data_end(session, number)


@pytest.mark.parametrize(("step", "said"), [
    ("greeting", "replied 554 5.7.1 no service for you"),
    ("ehlo", "closed the connection"),
    ("data", "after the whole message was sent, so whether the server took it is unknown"),
])
def test_a_server_failing_every_session_loses_nothing_and_the_next_server_gets_each_once(
        tmp_path: Path, step: str, said: str) -> None:
    """A 554 greeting, a drop after EHLO, or a drop after the message's end without a reply (the server here
    kept nothing): nothing is failed or lost, the output says what the server did, and once a willing server
    answers each message arrives once."""
    with Unwilling(step) as unwilling:
        config = monitor(tmp_path, unwilling.port)
        run = send(config)
    assert run.exit_code == 1 and said in run.stdout, run.output
    assert not unwilling.received
    assert {status for status, _, _ in outbox(tmp_path)} == {"queued"}
    a_willing_server_gets_each_once(config, unwilling.port, wait=2.2)


class RefusesTheSender(ScriptedSmtp):
    """In the first connection, refuses at ``step`` (MAIL or RCPT) with ``reply``; then takes everything."""

    def __init__(self, step: str, reply: str) -> None:
        super().__init__()
        self.step, self.reply = step, reply

    def mail(self, session: ScriptedSession, address: str) -> str:
        return self.reply if self.step == "mail" and session.number == 1 else super().mail(session, address)

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        return self.reply if self.step == "rcpt" and session.number == 1 else super().rcpt(session, address)


@pytest.mark.parametrize(("step", "reply", "said"), [
    ("mail", "550 5.7.1 sender not allowed to relay", "check delivery.from"),
    ("mail", "530 5.7.0 Authentication required", "check delivery.from"),
    ("rcpt", "530 5.7.57 Client not authenticated to send mail", "needs a login before it takes mail"),
    ("rcpt", "550 5.7.1 Unable to relay", "refused every recipient as not authorised"),
])
def test_a_refused_sender_or_a_missing_login_keeps_every_message_queued(
        tmp_path: Path, step: str, reply: str, said: str) -> None:
    """The sender refused for good (550 at MAIL FROM), a login required (530) or relaying denied (5.7.1 for every
    recipient): it failed every message of the run for good, one after the other, as if each were undeliverable; now the run stops at the first, says it
    is the configuration, keeps everything queued, and the next run delivers each message once."""
    with RefusesTheSender(step, reply) as server:
        config = monitor(tmp_path, server.port)
        first = send(config)
        assert first.exit_code == 1 and said in first.stdout and "configuration problem" in first.stdout, first.stdout
        assert "FAILED" not in first.stdout
        assert {status for status, _, _ in outbox(tmp_path)} == {"queued"}
        assert len(server.sessions) == 1
        time.sleep(1.2)
        assert send(config).exit_code == 0
    everyone_once(server.received)


class TooBig(ScriptedSmtp):
    def data_end(self, session: ScriptedSession, number: int) -> str:
        return "552 5.3.4 message too big" if len(session.rcpt_tos) > 1 else super().data_end(session, number)


def test_a_message_rejected_after_data_fails_alone_and_is_not_resent(tmp_path: Path) -> None:
    """552 after the summary's end: the summary is failed with the server's words, the alerts go once, status
    exits 4, and the next run sends nothing again."""
    with TooBig() as server:
        config = monitor(tmp_path, server.port)
        run = send(config)
        assert "FAILED: summary" in run.stdout and "552 5.3.4 message too big" in run.stdout
        assert run_cli("status", "--config", config).exit_code == 4
        time.sleep(1.2)
        assert "nothing new to send" in send(config).stdout
    counts = arrivals(server.received)
    assert set(counts.values()) == {1} and {recipient for recipient, _ in counts} == EVERYONE
    assert len(counts) == 4  # the four alerts, no summary


class Misbehaving(ScriptedSmtp):
    """In the first connection, answers the owner's RCPT with ``reply``."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        return self.reply if address == "owner@example.org" and session.number == 1 else "250 OK"


def test_a_reply_line_too_long_to_read_is_retried_not_failed(tmp_path: Path) -> None:
    """A 9,000-character reply line: smtplib reads it as '500 Line too long.', which had the alert failed for
    good as if the server had refused it; it is now retried, named as what it is, and delivered once."""
    with Misbehaving("250 " + "y" * 9000) as server:
        config = monitor(tmp_path, server.port)
        first = send(config)
        assert "sent a reply line longer than SMTP allows" in first.stdout
        assert "FAILED" not in first.stdout
        time.sleep(1.2)
        assert send(config).exit_code == 0
    everyone_once(server.received)


def test_a_multi_line_reply_with_control_characters_reaches_status_on_one_printable_line(tmp_path: Path) -> None:
    """A two-line 450 holding ANSI colour codes, a bell and accented letters (send and outbox are covered in
    tests/security/test_injection.py): status shows it on one line, no control character reaching the
    terminal, the letters as they are; the alert is delivered once at the next run."""
    with Misbehaving("450 4.2.0 \x1b[31mred\x1b[0m \x07 ünïcode\n450 4.2.0 second line") as server:
        config = monitor(tmp_path, server.port)
        send(config)
        status = run_cli("status", "--config", config)
        time.sleep(1.2)
        send(config)
    assert status.exit_code == 4, status.output
    assert not any(ch in status.output for ch in "\x1b\x07"), status.output
    assert "(owner@example.org: 450 4.2.0 red  ünïcode 4.2.0 second line)" in status.stdout, status.stdout
    everyone_once(server.received)


def test_an_international_domain_is_delivered_in_its_ascii_form(tmp_path: Path) -> None:
    """A recipient at bücher.example (no SMTPUTF8 offered): send crashed with an internal error (exit 70) at
    every run, leaving the summary in flight; it now goes to xn--bcher-kva.example, once, and the To header
    says the same. Display names with commas, quotes and accents arrive as written."""
    with ScriptedSmtp() as server:
        config = monitor(tmp_path, server.port, third='"Smith, Jörg \\"JJ\\" <j@bücher.example>"')
        edit_config(config, 'from: "Testshire CSP monitor <csp-monitor@example.org>"',
                    "from: 'Büro, Testshire \"CSP\" <csp-monitor@example.org>'")
        assert send(config).exit_code == 0
        time.sleep(1.2)
        send(config)
    people = EVERYONE - {"third@example.org"} | {"j@xn--bcher-kva.example"}
    counts = arrivals(server.received)
    assert set(counts.values()) == {1} and {recipient for recipient, _ in counts} == people
    summary = next(item.message for item in server.received if len(item.rcpt_tos) > 1)
    names = {address.addr_spec: address.display_name for address in summary["To"].addresses}
    assert names["j@xn--bcher-kva.example"] == 'Smith, Jörg "JJ"'
    assert summary["From"].addresses[0].display_name == 'Büro, Testshire "CSP"'


def test_a_non_ascii_local_part_is_refused_when_the_rules_are_read(tmp_path: Path) -> None:
    """jörg@example.org: refused at its place in the rules, saying why, before anything is sent."""
    with ScriptedSmtp() as server:
        config = monitor(tmp_path, server.port, third="jörg@example.org")
        run = run_cli("send", "--config", config)
    assert run.exit_code == 1, run.output
    assert "rules.yaml:22:" in run.stderr and "has letters outside ASCII before the @" in run.stderr
    assert not server.sessions


def test_a_queued_message_to_a_non_ascii_address_fails_clearly_instead_of_crashing_every_run(tmp_path: Path) -> None:
    """A message queued by an older csp-monitor to a@bücher.example: it is failed with a plain reason, the rest
    go once, and the next run neither crashes nor sends anything again (it crashed at every run)."""
    nowhere = free_port()
    with ScriptedSmtp() as server:
        config = monitor(tmp_path, server.port)
        edit_config(config, f"port: {server.port}", f"port: {nowhere}")  # nothing listens: all stays queued
        send(config)
        with sqlite3.connect(tmp_path / "state.db") as connection:
            connection.execute("""UPDATE outbox SET recipients = '["a@bücher.example"]'
                                  WHERE recipients = '["third@example.org"]'""")
            connection.execute("UPDATE outbox SET next_attempt_at = ''")  # due now
        edit_config(config, f"port: {nowhere}", f"port: {server.port}")
        first = send(config)
        second = send(config)
    assert "FAILED: alert" in first.stdout and "has letters outside ASCII" in first.stdout
    assert "nothing new to send" in second.stdout
    counts = arrivals(server.received)
    assert set(counts.values()) == {1}
    assert Counter(recipient for recipient, _ in counts) == {"board@example.org": 2, "analyst@example.org": 2,
                                                             "owner@example.org": 1, "third@example.org": 1}
    assert [status for status, to, _ in outbox(tmp_path) if to == ["a@bücher.example"]] == ["failed"]


def test_starttls_not_offered_sends_nothing_in_the_clear(tmp_path: Path) -> None:
    """security: starttls and a server that does not offer it: no MAIL is ever said, the output says why, and
    the messages stay queued."""
    with ScriptedSmtp() as server:
        config = monitor(tmp_path, server.port)
        edit_config(config, "security: none", "security: starttls")
        run = send(config)
    assert run.exit_code == 1
    assert "does not offer STARTTLS, so the message was not sent in the clear" in run.stdout
    assert not [command for session in server.sessions for command in session.commands
                if command.upper().startswith(("MAIL", "AUTH"))]
    assert {status for status, _, _ in outbox(tmp_path)} == {"queued"}


class BrokenStarttls(ScriptedSmtp):
    """Offers STARTTLS, then refuses it (454) or cannot do the handshake (220, then plain text)."""

    extensions = ("STARTTLS", "8BITMIME")

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    def starttls(self, session: ScriptedSession) -> str:
        return self.reply


@pytest.mark.parametrize(("reply", "said"), [
    ("454 4.7.0 TLS not available", "offers STARTTLS but refused it: 454 4.7.0 TLS not available"),
    ("220 go ahead", "the TLS handshake with 127.0.0.1"),
])
def test_a_starttls_that_fails_sends_nothing_in_the_clear_and_says_so(tmp_path: Path, reply: str, said: str) -> None:
    """STARTTLS offered, then refused or a failed handshake: no MAIL is ever said, the output says STARTTLS
    failed and nothing went in the clear (a refusal said only 'replied 454'), and everything stays queued."""
    with BrokenStarttls(reply) as server:
        config = monitor(tmp_path, server.port)
        edit_config(config, "security: none", "security: starttls")
        run = send(config)
    assert run.exit_code == 1 and said in run.stdout and "never in the clear" in run.stdout, run.stdout
    assert not [command for session in server.sessions for command in session.commands
                if command.upper().startswith(("MAIL", "AUTH"))]
    assert {status for status, _, _ in outbox(tmp_path)} == {"queued"}


def test_a_wrong_password_is_one_login_per_run_named_as_configuration(tmp_path: Path) -> None:
    """535 for the login: each run tries it once (smtplib's login tried every mechanism offered, two failed
    logins per run towards the account's lockout), says it is a configuration problem, and sends nothing;
    with the right password the next run delivers each message once."""
    certificate = make_certificate(tmp_path)
    server = LoopbackSmtp(starttls=certificate, users={"csp": "right"}, handler=Handler()).start()
    try:
        config = monitor(tmp_path, server.port)
        edit_config(config, "security: none", f"security: starttls, ca_file: {certificate.cert}, username: csp, "
                                              "password_env: CSP_TEST_SMTP_PASSWORD")
        wrong = []
        for _ in range(2):
            wrong.append(run_cli("send", "--config", config, env={"CSP_TEST_SMTP_PASSWORD": "wrong"}))
            time.sleep(1.2)  # the retry time: the next run tries again
        assert server.logins == ["csp", "csp"]
        for run in wrong:
            assert run.exit_code == 1, run.output
            assert "refused the login for csp: 535" in run.stdout and "configuration problem" in run.stdout
        time.sleep(1.0)  # the second wait is 2 s
        right = run_cli("send", "--config", config, env={"CSP_TEST_SMTP_PASSWORD": "right"})
        assert right.exit_code == 0, right.output
    finally:
        server.stop()
    everyone_once(server.received)


def test_a_self_signed_certificate_needs_ca_file_and_then_delivers_once(tmp_path: Path) -> None:
    """STARTTLS with a self-signed certificate: refused while ca_file is not given (nothing sent, the output
    names ca_file), delivered once each when it is."""
    certificate = make_certificate(tmp_path)
    with LoopbackSmtp(starttls=certificate) as server:
        config = monitor(tmp_path, server.port)
        edit_config(config, "security: none", "security: starttls")
        refused = send(config)
        assert refused.exit_code == 1 and "could not be verified" in refused.stdout and "ca_file" in refused.stdout
        assert not server.received
        edit_config(config, "security: starttls", f"security: starttls, ca_file: {certificate.cert}")
        time.sleep(1.2)
        assert send(config).exit_code == 0
    everyone_once(server.received)
    assert all(item.tls for item in server.received)


def test_the_outbox_command_shows_a_message_whose_fate_is_unknown(tmp_path: Path) -> None:
    """``outbox`` listed an 'unknown' message with an internal error (exit 70), just when IT needs to look."""
    with ScriptedSmtp() as server:
        config = monitor(tmp_path, server.port)
        send(config)
    with sqlite3.connect(tmp_path / "state.db") as connection:
        connection.execute("UPDATE outbox SET status = 'unknown', last_error = 'no answer after the message' "
                           "WHERE id = 1")
    run = run_cli("outbox", "--config", config)
    assert run.exit_code == 0, run.output
    assert "UNKNOWN" in run.stdout and "unknown whether delivered, not sent again: no answer after the message" \
        in run.stdout



class HoldsOne(ScriptedSmtp):
    """Answers 450 for one recipient until :attr:`willing` is set; records when each RCPT for them came, and in
    which session."""

    def __init__(self, who: str) -> None:
        super().__init__()
        self.who = who
        self.willing = threading.Event()
        self.tried: list[tuple[float, int]] = []  # (time.monotonic(), session number)

    def rcpt(self, session: ScriptedSession, address: str) -> str:
        if address != self.who:
            return "250 OK"
        self.tried.append((time.monotonic(), session.number))
        return "250 OK" if self.willing.is_set() else "450 4.2.1 mailbox full, try later"


def test_a_daemon_with_a_recipient_put_off_backs_off_reports_and_delivers_each_once(tmp_path: Path) -> None:
    """The daemon (runs every second) with a server that puts one of the board off for 8 s: the others get the
    summary at once, the put-off recipient's messages are tried with the growing wait (1, 2, 4, 4 s, not at
    every run), the log says which recipient was put off, status exits 4 listing the
    stuck messages and 0 once they went, and everyone gets everything exactly once."""
    server = HoldsOne("third@example.org").start()
    folder = tmp_path / "live"
    config = monitor(folder, server.port, schedules=FAST_SCHEDULES)
    edit_config(config, "retry: {first_delay: 1, max_delay: 2}", "retry: {first_delay: 1, max_delay: 4}")
    (folder / "figures" / "2020-04.csv").unlink()  # published once the daemon runs
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        add_month(folder, "2020-04")
        wait_for(lambda: len(server.received) >= 4, 30, "the summary and the three alerts not held")
        held_until = server.tried[0][0] + 8  # the recipient is put off for 8 s from the first try
        wait_for(lambda: bool(daemon.logged("message.deferred")) and bool(daemon.logged("message.retry")), 30,
                 "the daemon to log the recipient put off")
        stuck = run_cli("status", "--config", config)
        assert stuck.exit_code == 4, stuck.output
        assert "2 messages waiting to be delivered" in stuck.stdout and "to third@example.org not delivered yet" \
            in stuck.stdout, stuck.stdout
        time.sleep(max(0.0, held_until - time.monotonic()))
        # The tries in those 8 s, by their own times: however long status took on this machine.
        tries_while_held = sum(1 for moment, _ in list(server.tried) if moment < held_until)
        server.willing.set()
        wait_for(lambda: outbox_counts(folder) == {"sent": 6}, 30, lambda: f"all sent ({outbox_counts(folder)})")
        time.sleep(1.5)  # time enough for a wrong resend to show
        settled = run_cli("status", "--config", config)
    finally:
        daemon.stop()
        server.stop()
    assert daemon.process.returncode == 0
    everyone_once(server.received)
    # Two messages wait for the recipient, tried together (the queue goes oldest first) in rounds 1, 2, 4 and 4 s
    # apart (within the second the outbox's times are kept to); a run every second would try them every second.
    # The first round is the month's first deliveries: the summary job's and the alerts job's sessions, which
    # carried the others' messages (so said DATA), and any try between them. Told apart by the 0.5 s gap alone,
    # a busy machine's 0.2 s between the two jobs plus a first retry 0.5 s later merged two rounds into one.
    held = server.tried[:tries_while_held]
    carried = {session.number for session in server.sessions
               if any(command.upper() == "DATA" for command in session.commands)}
    first_round_ends = max(moment for moment, number in held if number in carried)
    moments = [moment for moment, _ in held]
    rounds = [moments[0]] + [moment for earlier, moment in itertools.pairwise(moments)
                             if moment > first_round_ends and (earlier <= first_round_ends or moment - earlier > 0.5)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(rounds)]
    assert 3 <= len(rounds) <= 5 and all(gap >= 1.5 for gap in gaps[1:]), gaps
    assert tries_while_held <= 2 * len(rounds) + 2, server.tried  # the first round: the summary and alerts jobs
    (deferred,) = {entry["deferred"] for entry in daemon.logged("message.deferred")}
    assert deferred == "third@example.org"
    assert settled.exit_code == 0, settled.output


class RefusesTheSenderUntilFixed(ScriptedSmtp):
    """Answers MAIL FROM with 550 5.7.1 until :attr:`fixed` is set (the server's administrator allows the
    sender); records when each MAIL came."""

    def __init__(self) -> None:
        super().__init__()
        self.fixed = threading.Event()
        self.tried: list[float] = []

    def mail(self, session: ScriptedSession, address: str) -> str:
        self.tried.append(time.monotonic())
        return "250 OK" if self.fixed.is_set() else "550 5.7.1 sender not allowed"


def test_a_daemon_whose_sender_is_refused_keeps_the_queue_backs_off_and_delivers_once_fixed(tmp_path: Path) -> None:
    """The daemon while the server refuses the sender for 8 s: no message is failed, the whole queue waits
    with the growing wait (a MAIL every 2, then 4 s, not at every run each second), status exits 4 saying it is
    the configuration, and once the sender is allowed everyone gets everything exactly once."""
    server = RefusesTheSenderUntilFixed().start()
    folder = tmp_path / "live"
    config = monitor(folder, server.port, schedules=FAST_SCHEDULES)
    edit_config(config, "retry: {first_delay: 1, max_delay: 2}", "retry: {first_delay: 1, max_delay: 4}")
    (folder / "figures" / "2020-04.csv").unlink()  # published once the daemon runs
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        add_month(folder, "2020-04")
        wait_for(lambda: bool(server.tried), 30, "the first attempt")
        refused_until = server.tried[0] + 8  # the sender is refused for 8 s from the first try
        time.sleep(max(0.0, refused_until - time.monotonic()))
        stuck = run_cli("status", "--config", config)
        # The tries in those 8 s, by their own times: the time status took (longer on a slow machine) let a
        # further round of retries in.
        tries_while_refused = sum(1 for moment in list(server.tried) if moment < refused_until)
        server.fixed.set()
        wait_for(lambda: outbox_counts(folder) == {"sent": 5}, 30, lambda: f"all sent ({outbox_counts(folder)})")
        time.sleep(1.5)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        server.stop()
    assert daemon.process.returncode == 0
    assert stuck.exit_code == 4 and "5 messages waiting to be delivered" in stuck.stdout, stuck.output
    assert "refused the sender csp-monitor@example.org: 550 5.7.1 sender not allowed: this is a configuration " \
           "problem" in stuck.stdout
    assert not daemon.logged("message.failed")
    assert daemon.logged("message.retry")
    # Retried after 1 (or 2), 2 and 4 s: at most 5 rounds in 8 s (the summary and alerts jobs may both try in
    # one), where a run every second would have tried 8 times or more.
    assert 2 <= tries_while_refused <= 6, server.tried
    everyone_once(server.received)
