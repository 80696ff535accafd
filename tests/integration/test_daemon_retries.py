"""A failed scheduled run is retried for its own occurrence and month until it succeeds, by the daemon or by
run-once beside it: the month's summary arrives exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csp_monitor.delivery.message import message_id
from csp_monitor.delivery.run import summary_key
from tests.conftest import ROOT
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    ledger_rows,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp

PARTNERSHIP = "Testshire Community Safety Partnership"
SENDER = "Testshire CSP monitor <csp-monitor@example.org>"
BAD_ROW = "area,measure,period,value\ntestshire,satisfaction-a,2020-05,lots\ntestshire,satisfaction-b,2020-05,90\n"


def interval_firing_soon(earliest: float = 5, latest: float = 40) -> tuple[int, datetime]:
    """An ``interval_seconds`` (at least ten minutes) whose next run time falls between ``earliest`` and
    ``latest`` seconds from now, so that a test sees one scheduled run and no second one."""
    now = time.time()
    for fire in range(int(now + earliest) + 1, int(now + latest)):
        for seconds in range(600, 86400):
            if fire % seconds == 0:
                return seconds, datetime.fromtimestamp(fire, UTC)
    raise AssertionError("no interval fires soon enough")  # every whole number has a divisor in range


def summary_id(month: str) -> str:
    """The Message-ID of Testshire's summary for ``month``."""
    return message_id(summary_key(PARTNERSHIP, month), SENDER)


def schedules(interval: int, first_delay: int) -> str:
    """One summary schedule, with failed runs retried after ``first_delay`` seconds, doubling to 2 s at most."""
    return (f"schedules:\n  - {{id: monthly-summary, interval_seconds: {interval}, run: summary}}\n"
            f"retry_runs: {{first_delay: {first_delay}, max_delay: {max(first_delay, 2)}}}\n")


@contextmanager
def failed_run(tmp_path: Path, interval: int, *, first_delay: int
               ) -> Iterator[tuple[LoopbackSmtp, Path, Path, DaemonProcess, dict[str, Any]]]:
    """A daemon whose scheduled summary run has failed on May's bad row (April's figures are good): yields the
    mail server, the partnership's folder, its configuration, the daemon and the logged failure; stops both."""
    server = LoopbackSmtp().start()
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port, schedules=schedules(interval, first_delay))
    add_month(folder, "2020-04")
    (folder / "figures" / "2020-05.csv").write_text(BAD_ROW, encoding="utf-8")
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        wait_for(lambda: daemon.logged("job.failed", job="monthly-summary"), 60, "the scheduled run to fail")
        yield server, folder, config, daemon, daemon.logged("job.failed", job="monthly-summary")[0]
    finally:
        daemon.stop()
        server.stop()


def test_a_run_failing_on_a_bad_row_is_retried_and_the_month_is_summarised_once(tmp_path: Path) -> None:
    """A bad figures row at the scheduled time fails the run; fixed seconds later, the daemon's retry of that
    same run delivers May's summary exactly once, and the ledger shows the one run failed, then succeeded."""
    interval, fires = interval_firing_soon()
    with failed_run(tmp_path, interval, first_delay=1) as (server, folder, _, daemon, failure):
        assert "2020-05.csv:2:" in failure["error"] and failure["next_attempt"] is not None
        assert datetime.fromisoformat(failure["occurrence"].replace("Z", "+00:00")) == fires
        wait_for(lambda: len(daemon.logged("job.retry", job="monthly-summary")) >= 1, 30, "a retry")
        assert not server.received
        add_month(folder, "2020-05")  # fixed a few seconds later
        wait_for(lambda: server.received, 30, "the summary")
        time.sleep(3)  # time enough for a wrong second copy (a retry, a catch-up) to show
    assert daemon.process.returncode == 0
    assert Counter(received_ids(server.received)) == {summary_id("2020-05"): 1}
    assert "May 2020" in str(server.received[0].message["Subject"])
    rows = [row for row in ledger_rows(folder) if row[0] == "monthly-summary" and row[3] != "skipped"]
    assert [(row[1], row[2], row[3]) for row in rows] == [(failure["occurrence"], "retry", "succeeded")]


def test_run_once_runs_a_failed_run_by_hand_beside_the_daemon(tmp_path: Path) -> None:
    """With the daemon running and its retry an hour away, run-once runs the failed run now, for its month,
    beside the daemon (not refused); the summary arrives once and the daemon does not send it again."""
    interval, _ = interval_firing_soon()
    with failed_run(tmp_path, interval, first_delay=3600) as (server, folder, config, daemon, failure):
        occurrence = failure["occurrence"]
        add_month(folder, "2020-05")
        by_hand = subprocess.run([sys.executable, "-m", "csp_monitor.cli", "run-once", "--config", str(config)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
        assert by_hand.stdout.splitlines()[0] == "monthly-summary (summary): as of 2020-05, queued 1 (1 summary), sent 1 (1 summary)"
        time.sleep(3)  # housekeeping runs every second: time enough for a wrong second copy to show
    assert daemon.process.returncode == 0
    assert Counter(received_ids(server.received)) == {summary_id("2020-05"): 1}
    rows = [row for row in ledger_rows(folder) if row[0] == "monthly-summary" and row[3] != "skipped"]
    assert [(row[1], row[2], row[3]) for row in rows] == [(occurrence, "manual", "succeeded")]
