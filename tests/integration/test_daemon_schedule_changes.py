"""A schedule whose cron is changed (by a reload, or while the daemon was stopped) starts at its next time:
the new cron's latest time, in the past and never run, is not taken for a missed run."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csp_monitor.cron import load_timezone
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    ledger_rows,
    wait_for,
    write_partnership,
)

# UTC, not London: a cron in London's 01:00-01:59 is refused (the clocks change in that hour on two days a
# year), so "three minutes ago" between 01:00 and 02:03 made an invalid configuration and the test failed at
# that time of day. The change of a cron being remembered does not depend on the zone.
ZONE = load_timezone("UTC")


def cron_minutes_ago(minutes: int) -> str:
    """A daily cron whose latest time was ``minutes`` ago, in UTC (the configuration's zone here)."""
    moment = (datetime.now(UTC) - timedelta(minutes=minutes)).astimezone(ZONE)
    return f"{moment.minute} {moment.hour} * * *"


def test_a_changed_cron_does_not_run_a_past_time_at_once(tmp_path: Path) -> None:
    """Regression: after a reload changed the summary's cron to 07:00 (say) at 07:05, the daemon ran 07:00 at
    once as a "missed" run. Now the change is remembered and that time is recorded as skipped, both at a
    reload and at a start after the file was changed while the daemon was stopped."""
    config = write_partnership(tmp_path)
    edit_config(config, "timezone: Europe/London", "timezone: UTC")
    add_month(tmp_path, "2020-04")
    daemon = DaemonProcess(config, tmp_path / "daemon.log").wait_started()
    try:
        wait_for(lambda: bool(daemon.logged("job.finished", job="summary-every-2s")), 30, "the summary job to run")
        first = cron_minutes_ago(3)
        edit_config(config, "interval_seconds: 2", f"cron: \"{first}\"")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: bool(daemon.logged("config.reloaded")), 30, "the reload")
        reloaded_at = len(daemon.events())
        wait_for(lambda: bool(daemon.logged("schedule.changed", job="summary-every-2s")), 30, "the change noted")
        wait_for(lambda: sum(1 for e in daemon.events()[reloaded_at:]
                             if e.get("event") == "job.finished" and e.get("job") == "alerts-every-second") >= 3,
                 20, "three more housekeeping passes and alerts runs")
        assert not [e for e in daemon.events()[reloaded_at:]
                    if e.get("job") == "summary-every-2s" and e.get("event") in ("job.started", "job.catch_up")]
    finally:
        daemon.stop()
    # The new cron's past time (keyed by its wall-clock time in the zone) is in the ledger as skipped, never run.
    cron_rows = [row for row in ledger_rows(tmp_path) if row[0] == "summary-every-2s" and row[1].endswith("UTC")]
    assert [row[3] for row in cron_rows] == ["skipped"]

    # Changed again while the daemon is stopped: the next start does not run the new cron's past time either.
    second = cron_minutes_ago(2)
    edit_config(config, first, second)
    daemon = DaemonProcess(config, tmp_path / "daemon-2.log").wait_started()
    try:
        wait_for(lambda: len(daemon.logged("job.finished", job="alerts-every-second")) >= 3, 30,
                 "three alerts runs after the start")
        assert daemon.logged("schedule.changed", job="summary-every-2s")
        assert not daemon.logged("job.started", job="summary-every-2s")
        assert not daemon.logged("job.catch_up", job="summary-every-2s")
    finally:
        daemon.stop()
