"""One daemon's life as a real process: a second daemon refused, SIGHUP reloads (an invalid configuration
refused, the old one kept), a failing job logged, recorded and retried, status, and a clean SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, CliResult
from tests.daemon_fixtures import (
    FAST_SCHEDULES,
    DaemonProcess,
    add_month,
    ledger_rows,
    outbox_counts,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import Handler, LoopbackSmtp


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_a_daemon_lives_reloads_fails_recovers_and_stops_cleanly(
        tmp_path: Path, control_ids: dict[str, set[str]], cli: Callable[..., CliResult]) -> None:
    """The behaviours council IT relies on, in the order they would meet them."""
    expected, later = control_ids["2020-04"], control_ids["2020-05"]
    server = LoopbackSmtp(handler=Handler(delay=0.3)).start()  # each message takes a moment to be taken
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port)
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        # Only one daemon per state store: the second is refused, naming the first.
        second = command("daemon", "--config", str(config))
        assert second.returncode == 3
        assert f"is in use by another csp-monitor daemon (pid {daemon.pid} on " in second.stderr
        assert "Traceback" not in second.stderr
        # run-once, by contrast, works beside the daemon through the run ledger: test_daemon_retries.py.

        # A figures file that cannot be read fails the jobs: logged with its cause, recorded, retried.
        (folder / "figures" / "2020-04.csv").write_text("area,measure,period,value\ntestshire,satisfaction-a,"
                                                       "2020-04,lots\n", encoding="utf-8")
        def failures() -> list[str]:
            return [e["error"] for e in daemon.logged("job.failed", job="alerts-every-second") if "lots" in e["error"]]

        wait_for(lambda: len(failures()) >= 2, 30, "the alerts job to fail twice on the bad file")
        assert "2020-04.csv:2:" in failures()[0]
        assert any(row[3] == "failed" and "lots" in (row[4] or "") for row in ledger_rows(folder))
        add_month(folder, "2020-04")  # fixed: the next runs succeed and send the month's messages
        wait_for(lambda: set(received_ids(server.received)) == expected, 30, "the month's messages")

        # SIGHUP with an invalid configuration: refused, logged, and the old schedules keep running.
        good = config.read_text(encoding="utf-8")
        config.write_text(good.replace("interval_seconds: 2", "cron: \"61 7 * * *\""), encoding="utf-8")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: bool(daemon.logged("config.refused")), 30, "the invalid configuration to be refused")
        problem = daemon.logged("config.problem")[0]["message"]
        assert problem.startswith(f"{config}:") and "the minute '61'" in problem
        refused_at = len(daemon.events())
        wait_for(lambda: any(e.get("event") == "job.finished" and e.get("job") == "summary-every-2s"
                             for e in daemon.events()[refused_at:]), 30, "the old summary schedule to run on")

        # SIGHUP with a valid new configuration: reloaded, the new schedule starts.
        config.write_text(good + "  - {id: added-later, interval_seconds: 1, run: alerts}\n", encoding="utf-8")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: bool(daemon.logged("config.reloaded")), 30, "the new configuration to load")
        wait_for(lambda: bool(daemon.logged("job.finished", job="added-later")), 30, "the new schedule to run")

        # status reads it all from the store, as JSON for monitoring tools.
        shown = cli("status", "--config", str(config), "--format", "json")
        assert shown.exit_code == 0, shown.stderr
        status = json.loads(shown.stdout)
        assert status["daemon"]["running"] is True and status["daemon"]["pid"] == daemon.pid
        assert [s["id"] for s in status["schedules"]] == ["alerts-every-second", "summary-every-2s", "added-later"]
        assert status["schedules"][0]["last_run"]["outcome"] in ("running", "succeeded")
        assert status["outbox"]["sent"] == len(expected)
        assert any("lots" in error for error in status["errors"])

        # SIGTERM while a message is being sent: that message is finished, then the daemon stops.
        # The signal waits for another message of the month to be queued too: the summary and alerts jobs take
        # turns, and when the summary job saw the month first (about one time in twenty), its summary arrived
        # before the alerts were even decided, so nothing was left queued.
        server.handler.delay = 1.0
        add_month(folder, "2020-05")
        wait_for(lambda: len(server.received) > len(expected) and outbox_counts(folder).get("queued", 0) >= 1, 30,
                 lambda: f"the next month's first message to arrive and another to wait ({outbox_counts(folder)})")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert daemon.logged("daemon.stopped")
        counts = outbox_counts(folder)
        assert "sending" not in counts, counts  # nothing left half-sent
        assert counts.get("queued", 0) >= 1, counts  # the rest wait for the next start
        assert not [row for row in ledger_rows(folder) if row[3] == "running"]
        after = cli("status", "--config", str(config))
        assert after.exit_code == 0 and "daemon         not running" in after.stdout

        # The next start sends what was left, and nothing twice.
        server.handler.delay = 0.0
        daemon = DaemonProcess(config, folder / "daemon-2.log").wait_started()
        wait_for(lambda: later <= set(received_ids(server.received)), 30, "the rest of the month's messages")
        wait_for(lambda: outbox_counts(folder) == {"sent": len(expected | later)}, 30, "the outbox to be all sent")
    finally:
        daemon.stop()
        server.stop()
    assert Counter(received_ids(server.received)) == Counter(expected | later)  # each exactly once


def test_an_invalid_configuration_stops_the_daemon_before_it_starts(tmp_path: Path) -> None:
    """A daemon given a schedule in the hour the clocks change exits 1, naming the file, line and column."""
    config = write_partnership(tmp_path, schedules=FAST_SCHEDULES.replace("interval_seconds: 2",
                                                                          "cron: \"30 1 * * *\""))
    started = time.monotonic()
    result = command("daemon", "--config", str(config))
    assert result.returncode == 1
    line = next(n for n, text in enumerate(config.read_text().splitlines(), start=1) if "30 1 * * *" in text)
    assert f"{config}:{line}:11: the cron '30 1 * * *' runs at 01:30 on " in result.stderr
    assert "in the next 28 years), but the clocks go" in result.stderr
    assert "choose a time of 02:00 or later, or before 01:00" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "state.db").exists()  # refused before anything was created


def test_rules_that_cannot_be_read_stop_the_daemon_before_it_starts(tmp_path: Path) -> None:
    """A daemon whose rule file has a syntax slip exits 1 at start, naming its line and column (it started and
    logged nothing until the first run failed, days later for a monthly summary), and creates no store."""
    config = write_partnership(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "oops: [\n", encoding="utf-8")
    line = len(rules.read_text(encoding="utf-8").splitlines())
    result = command("daemon", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert f"{rules}:{line}:7: this '[' is never closed" in result.stderr
    assert not (tmp_path / "state.db").exists()
