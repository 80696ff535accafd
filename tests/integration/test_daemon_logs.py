"""What the daemon's logs say, read from real processes: JSON from the first line to the last (refusals to
start and library warnings included), no tracebacks in plain logs during ordinary outages, a mail server
without a login named as a configuration problem, and alerts sent by the summary job logged as such."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    proxy_for,
    through_proxy,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, free_port

ONCE_A_DAY = "timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}\n" \
             "  - {id: weekly-exceptions, cron: \"30 8 * * mon\", run: alerts}\n"


def command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line of ``text`` as a JSON object (fails on any line that is not one)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_refusal_to_start_is_logged_as_json(tmp_path: Path) -> None:
    """Regression: with --log-format json an invalid configuration or a damaged store was printed as plain
    text; now each problem is a JSON line (config.problem at file:line:col, then config.refused; or
    store.refused), with the same exit codes."""
    config = write_partnership(tmp_path, schedules="timezone: Europe/London\nschedules:\n"
                                                   "  - {id: nightly, cron: \"61 7 * * *\", run: alerts}\n")
    result = command("daemon", "--config", str(config), "--log-format", "json")
    assert result.returncode == 1
    entries = json_lines(result.stderr)
    assert [entry["event"] for entry in entries] == ["config.problem", "config.refused"]
    assert str(entries[0]["message"]).startswith(f"{config}:") and "the minute '61'" in str(entries[0]["message"])
    assert entries[0]["line"] is not None and entries[0]["column"] is not None

    config = write_partnership(tmp_path, schedules=ONCE_A_DAY)
    (tmp_path / "state.db").write_bytes(b"")
    result = command("daemon", "--config", str(config), "--log-format", "json")
    assert result.returncode == 3
    entries = json_lines(result.stderr)
    assert [(entry["event"], entry["reason"]) for entry in entries] == [("store.refused", "damaged")]


def test_matplotlib_says_nothing_outside_the_json_log(tmp_path: Path) -> None:
    """Regression: under a service account whose home cannot be written, matplotlib's "created a temporary
    cache directory" warning broke the JSON log; now its configuration folder is made writable and every line
    of a run that draws charts is JSON."""
    with LoopbackSmtp(port=free_port()) as server:
        config = write_partnership(tmp_path, smtp_port=server.port)
        edit_config(config, "charts: false", "charts: true")
        add_month(tmp_path, "2020-04")
        env = {key: value for key, value in os.environ.items()
               if key not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
        env["HOME"] = "/proc/csp-monitor-no-home"  # can never be created, even by root
        daemon = DaemonProcess(config, tmp_path / "daemon.log", env=env).wait_started()
        try:
            wait_for(lambda: any("risk summary" in str(m.message["Subject"]).lower() for m in server.received), 60,
                     "the summary, with its charts")
        finally:
            daemon.stop()
    entries = json_lines(daemon.text())  # fails on any plain line
    assert entries and not any("Matplotlib" in str(entry.get("message")) for entry in entries)
    summary = next(m for m in server.received if "risk summary" in str(m.message["Subject"]).lower())
    assert any(part.get_content_type() == "image/png" for part in summary.message.walk())


def test_a_database_outage_leaves_no_traceback_in_the_plain_log(tmp_path: Path, postgres_url: str) -> None:
    """Regression: with PostgreSQL down mid-run, the plain log filled with tracebacks; now each failure is one
    plain line saying it cannot connect to the state store, and the daemon carries on once it is back."""
    proxy = proxy_for(postgres_url).start()
    config = write_partnership(tmp_path)
    edit_config(config, "state: state.db", f"state: '{through_proxy(postgres_url, proxy)}'")
    add_month(tmp_path, "2020-04")
    daemon = DaemonProcess(config, tmp_path / "daemon.log", log_format="plain").wait_started()
    try:
        wait_for(lambda: "summary-every-2s: done" in daemon.text(), 30, "a summary run")
        proxy.stop()
        wait_for(lambda: daemon.text().count("cannot connect to the state store") >= 3, 30,
                 "several runs failing on the outage")
        outage = daemon.text()
        proxy.start()
        mark = len(daemon.text())
        wait_for(lambda: "alerts-every-second: done" in daemon.text()[mark:], 60, "runs to succeed again")
    finally:
        daemon.stop()
        proxy.stop()
    assert "Traceback" not in daemon.text(), outage
    assert daemon.process.returncode == 0


def test_a_mail_server_without_a_login_is_a_configuration_problem(tmp_path: Path) -> None:
    """Regression: a server that offers no login (no SMTP AUTH) while a username is configured was reported as
    "cannot reach"; now it is named as a configuration problem and the messages wait in the outbox."""
    with LoopbackSmtp(port=free_port()) as server:  # aiosmtpd without an authenticator offers no AUTH
        config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
        edit_config(config, "security: none,", "security: none, username: csp, password_env: TEST_SMTP_PASSWORD,")
        add_month(tmp_path, "2020-04")
        result = command("run-once", "--config", str(config), env={**os.environ, "TEST_SMTP_PASSWORD": "secret"})
        assert server.received == []
    assert result.returncode == 1
    assert "does not offer a login (SMTP AUTH), but the configuration gives a username (csp)" in result.stdout
    assert "this is a configuration problem, not the server being down" in result.stdout
    assert "cannot reach" not in result.stdout and "refused the connection" not in result.stdout
    assert "secret" not in result.stdout + result.stderr


def test_alerts_sent_by_the_summary_job_are_logged_as_queued_by_an_earlier_run(tmp_path: Path) -> None:
    """An alert queued by the alerts job while the server was down and sent later by the summary job's
    delivery is logged as an alert queued by an earlier run, and the summary run counts summaries and alerts
    apart."""
    server = LoopbackSmtp(port=free_port())
    schedules = ("timezone: Europe/London\nschedules:\n  - {id: alerts-every-second, interval_seconds: 1, "
                 "run: alerts}\n")
    config = write_partnership(tmp_path, smtp_port=server.port, schedules=schedules)
    add_month(tmp_path, "2020-04")
    daemon = DaemonProcess(config, tmp_path / "alerts.log").wait_started()
    try:
        wait_for(lambda: bool(daemon.logged("message.retry")), 30, "the alerts to be queued and tried")
    finally:
        daemon.stop()
    summary_only = "timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: \"0 7 10 * *\", run: " \
                   "summary}\n"
    edit_config(config, schedules, summary_only)
    with server:  # run-once runs the summary job alone: its delivery takes the alerts waiting in the outbox
        result = command("run-once", "--config", str(config), "--log-format", "json", "--log-level", "info")
    assert result.returncode == 0, result.stderr
    assert len(server.received) == 4
    entries = json_lines(result.stderr)
    sent = [entry for entry in entries if entry.get("event") == "message.sent"]
    alerts = [entry for entry in sent if entry["kind"] == "alert"]
    assert len(alerts) == 3
    assert all(entry["queued_by"] == "an earlier run" and "sent alert '" in str(entry["message"])
               and "(queued by an earlier run)" in str(entry["message"]) for entry in alerts)
    summaries = [entry for entry in sent if entry["kind"] == "summary"]
    assert [entry["queued_by"] for entry in summaries] == ["this run"]
    finished = [str(entry["message"]) for entry in entries if entry.get("event") == "job.finished"]
    assert any("queued 1 (1 summary), sent 4 (1 summary, 3 alerts)" in message for message in finished), finished
