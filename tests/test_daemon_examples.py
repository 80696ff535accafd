"""The daemon's examples: the Harborough configuration's schedules and the systemd unit."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csp_monitor.schedule.configuration import load_schedule_config, schedule_zone
from csp_monitor.schedule.occurrences import next_occurrence
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "harborough" / "csp-monitor.yaml"
UNIT = ROOT / "examples" / "csp-monitor.service"


def test_the_harborough_example_schedules_the_monthly_summary_and_weekly_alerts() -> None:
    """The example runs the summary at 07:00 on the 10th and the alerts at 08:30 on Mondays, UK time."""
    config = load_schedule_config(EXAMPLE)
    zone = schedule_zone(config)
    assert config.timezone == "Europe/London"
    runs = {schedule.id: next_occurrence(schedule, zone, datetime(2026, 6, 11, tzinfo=UTC))
            for schedule in config.schedules}
    summary, alerts = runs["monthly-summary"], runs["weekly-exceptions"]
    assert summary is not None and alerts is not None
    assert summary.local(zone).strftime("%Y-%m-%d %H:%M %Z") == "2026-07-10 07:00 BST"
    assert alerts.local(zone).strftime("%A %Y-%m-%d %H:%M %Z") == "Monday 2026-06-15 08:30 BST"


def test_the_systemd_unit_is_valid(tmp_path: Path) -> None:
    """systemd-analyze accepts the example unit (pointed at this checkout's csp-monitor)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing: CI must provide it (Debian's systemd package)")
        pytest.skip("systemd-analyze is not installed")
    executable = shutil.which("csp-monitor", path=str(ROOT / ".venv" / "bin")) or shutil.which("csp-monitor")
    if executable is None:
        pytest.skip("the csp-monitor command is not installed")
    text = UNIT.read_text(encoding="utf-8")
    assert "/opt/csp-monitor/bin/csp-monitor daemon --config" in text
    unit = tmp_path / "csp-monitor.service"
    unit.write_text(text.replace("/opt/csp-monitor/bin/csp-monitor", executable), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    for line in ("Type=simple", "KillSignal=SIGTERM", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                 "User=csp-monitor", "NoNewPrivileges=true", "ProtectSystem=strict"):
        assert line in text
