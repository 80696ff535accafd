"""`status`, `history` and `alerts` tell the truth, read by real processes: a daemon killed with kill -9 is
not running, failed jobs and stuck messages make `status` exit 4 and are listed, and a notice is shown
queued until the mail server has taken it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    outbox_counts,
    wait_for_retry_time,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, free_port

ONCE_A_DAY = "timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}\n" \
             "  - {id: weekly-exceptions, cron: \"30 8 * * mon\", run: alerts}\n"


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_status_says_not_running_at_once_after_kill_9(tmp_path: Path) -> None:
    """Regression: status said "running" for up to 60 s after the daemon was killed with kill -9; now it
    looks the pid up on this computer and says at once that the daemon is not running."""
    config = write_partnership(tmp_path)
    daemon = DaemonProcess(config, tmp_path / "daemon.log").wait_started()
    try:
        alive = json.loads(command("status", "--config", str(config), "--format", "json").stdout)
        assert alive["daemon"]["running"] is True and alive["daemon"]["process_gone"] is False
        daemon.kill()
        shown = command("status", "--config", str(config), "--format", "json")
        status = json.loads(shown.stdout)
        assert status["daemon"]["running"] is False and status["daemon"]["process_gone"] is True
        assert status["daemon"]["pid"] == daemon.pid
        assert status["daemon"]["heartbeat_seconds_ago"] < 60  # the heartbeat alone would still say running
        text = command("status", "--config", str(config)).stdout
        assert (f"daemon         not running (pid {daemon.pid} on " in text
                and "has exited without releasing its lock" in text)
    finally:
        daemon.stop()


def test_status_lists_every_message_stuck_while_the_server_is_down_and_exits_4(tmp_path: Path) -> None:
    """Regression: with eight messages queued and the mail server down, status said `errors: []` and exited 0;
    now every waiting message is listed with the server's last answer, and status exits 4."""
    server = LoopbackSmtp(port=free_port())  # not started: connections are refused
    config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
    for month in ("2020-04", "2020-05"):
        add_month(tmp_path, month)
        assert command("run-once", "--config", str(config)).returncode == 1  # could not deliver: exit 1
    last_attempt = time.monotonic()
    assert outbox_counts(tmp_path) == {"queued": 8}
    shown = command("status", "--config", str(config), "--format", "json")
    assert shown.returncode == 4, shown.stderr
    status = json.loads(shown.stdout)
    waiting = [error for error in status["errors"] if "not delivered yet" in error]
    assert len(waiting) == 8
    assert all("refused the connection" in error for error in waiting)
    assert status["attention"] == [
        f"8 messages waiting to be delivered: the last attempt failed (127.0.0.1:{server.port} refused the "
        "connection (is the mail server running?))"]
    text = command("status", "--config", str(config))
    assert text.returncode == 4 and "needs attention (exit code 4)" in text.stdout
    wait_for_retry_time(last_attempt)
    with server:  # back: the next run delivers everything, and status is content again
        assert command("run-once", "--config", str(config)).returncode == 0
        assert len(server.received) == 8
    healthy = command("status", "--config", str(config), "--format", "json")
    assert healthy.returncode == 0, healthy.stdout
    assert json.loads(healthy.stdout)["attention"] == []


def test_status_exits_4_while_the_last_run_of_a_schedule_failed(tmp_path: Path) -> None:
    """A job that failed (a figures file that cannot be read) makes status exit 4, naming the schedule;
    once a run succeeds it exits 0 again."""
    config = write_partnership(tmp_path, schedules=ONCE_A_DAY)  # delivery to a folder
    (tmp_path / "figures" / "2020-04.csv").write_text("area,measure,period,value\ntestshire,satisfaction-a,"
                                                      "2020-04,lots\n", encoding="utf-8")
    assert command("run-once", "--config", str(config)).returncode == 1
    failed = command("status", "--config", str(config), "--format", "json")
    assert failed.returncode == 4
    assert json.loads(failed.stdout)["attention"] == ["the last run of monthly-summary failed",
                                                     "the last run of weekly-exceptions failed"]
    add_month(tmp_path, "2020-04")
    assert command("run-once", "--config", str(config)).returncode == 0
    assert command("status", "--config", str(config)).returncode == 0


def test_history_and_alerts_show_a_notice_queued_until_the_server_takes_it(tmp_path: Path) -> None:
    """Regression: history and alerts said who was "told" while the email still waited in the outbox; now
    they show each recipient's email as queued, then as delivered once the mail server has taken it."""
    server = LoopbackSmtp(port=free_port())
    config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
    add_month(tmp_path, "2020-04")
    assert command("run-once", "--config", str(config)).returncode == 1
    last_attempt = time.monotonic()
    state = str(tmp_path / "state.db")

    def notices() -> list[dict[str, object]]:
        entries = json.loads(command("history", "--state", state, "--format", "json").stdout)
        return [entry for entry in entries if entry["event"] == "notified"]

    queued = notices()
    assert len(queued) == 1
    assert queued[0]["delivery"] == {"owner@example.org": "queued", "board@example.org": "queued",
                                     "analyst@example.org": "queued"}
    history = command("history", "--state", state).stdout
    assert "owner@example.org (queued, not delivered yet)" in history
    alerts = command("alerts", "--state", state).stdout
    assert "last notice 2020-04" in alerts and "last told" not in alerts
    assert "board@example.org (queued, not delivered yet)" in alerts
    wait_for_retry_time(last_attempt)
    with server:
        assert command("run-once", "--config", str(config)).returncode == 0
    assert set(notices()[0]["delivery"].values()) == {"sent"}  # type: ignore[union-attr]
    assert "owner@example.org (delivered)" in command("history", "--state", state).stdout
    alerts = command("alerts", "--state", state)
    assert "      last told 2020-04 (" in alerts.stdout and "(delivered)" in alerts.stdout
    as_json = json.loads(command("alerts", "--state", state, "--format", "json").stdout)
    assert [set(alert["delivery"].values()) for alert in as_json] == [{"sent"}]
