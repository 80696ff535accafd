"""A real daemon watching a drop folder: a half-written file is left alone, the complete file sends its alerts
once, and neither another look nor a restart sends them again."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    ledger_rows,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp

WEEKLY_ALERTS = """\
timezone: Europe/London
schedules:
  - id: weekly-alerts
    cron: "30 8 * * mon"
    run: alerts
"""
MAY = "area,measure,period,value\ntestshire,satisfaction-a,2020-05,70\ntestshire,satisfaction-b,2020-05,90\n"


def _partnership(folder: Path, smtp_port: int | None) -> Path:
    """Testshire with April's figures and a drop folder looked at every second."""
    config = write_partnership(folder, smtp_port=smtp_port, schedules=WEEKLY_ALERTS)
    edit_config(config, "figures: [figures/*.csv]",
                "figures: [figures/*.csv, {drop_folder: incoming/, watch_seconds: 1}]")
    (folder / "incoming").mkdir()
    add_month(folder, "2020-04")
    return config


def _expected_ids(folder: Path) -> set[str]:
    """The Message-IDs of May's alerts, decided in this process from the same figures."""
    from csp_monitor.delivery.outbox import list_messages
    from csp_monitor.delivery.run import send_once
    from csp_monitor.load.config import load_config
    from csp_monitor.state import open_store

    config = load_config(_partnership(folder, None))
    (folder / "incoming" / "2020-05.csv").write_text(MAY, encoding="utf-8")
    send_once(config, jobs=("alerts",))
    with open_store(config.state) as store:
        return {message.message_id for message in list_messages(store)}


def _figure_runs(folder: Path) -> list[tuple[object, ...]]:
    return [row for row in ledger_rows(folder) if row[0] == "csp-monitor:new-figures"]


def test_a_dropped_file_sends_its_alerts_once_and_a_half_written_one_none(
        tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """The behaviours a partnership relies on, in the order a partner's upload meets them."""
    expected = _expected_ids(tmp_path / "control")
    assert len(expected) == 3
    server = LoopbackSmtp().start()
    folder = tmp_path / "live"
    config = _partnership(folder, server.port)
    dropped = folder / "incoming" / "2020-05.csv"
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        wait_for(lambda: bool(daemon.logged("figures.watching")), 30, "the daemon to start watching the folder")

        # Half a file: logged once, plainly, and not acted on however long it stays.
        dropped.write_text(MAY[:40], encoding="utf-8")
        wait_for(lambda: bool(daemon.logged("figures.invalid")), 30, "the half-written file to be reported")
        time.sleep(2.2)  # two more looks
        (invalid,) = daemon.logged("figures.invalid")
        assert f"{dropped}:2:" in invalid["message"] and "picked up once the file is complete" in invalid["message"]
        assert _figure_runs(folder) == [] and server.received == []

        # The whole file: May's alerts go out, each once.
        dropped.write_text(MAY, encoding="utf-8")
        wait_for(lambda: set(received_ids(server.received)) == expected, 30,
                 lambda: f"May's alerts (received {received_ids(server.received)})")
        time.sleep(2.2)  # more looks at the same files
        assert [row[2:4] for row in _figure_runs(folder)] == [("new-figures", "succeeded")]
        shown = cli("status", "--config", config)
        assert shown.exit_code == 0, shown.stderr
        assert ": 2020-05.csv; alerts run succeeded\n" in shown.stdout

        # A restart finds the files already picked up.
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        daemon = DaemonProcess(config, folder / "daemon-2.log").wait_started()
        time.sleep(2.2)  # two looks, the second of which would pick up anything new
        assert daemon.logged("figures.arrived") == [] and len(_figure_runs(folder)) == 1
    finally:
        daemon.stop()
        server.stop()
    assert Counter(received_ids(server.received)) == Counter(expected)  # each exactly once
