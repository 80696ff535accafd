"""The mail server down for several cycles, across two months of figures, then back: everything
delivered, once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.daemon_fixtures import (
    MONTHS,
    DaemonProcess,
    add_month,
    outbox_counts,
    outbox_periods,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, free_port


def test_an_outage_queues_everything_and_delivers_it_once_when_the_server_returns(
        tmp_path: Path, control_ids: dict[str, set[str]]) -> None:
    """While the server refuses connections the daemon keeps deciding and queueing; once it is back,
    every message of both months arrives exactly once."""
    months = MONTHS[:2]
    expected = {month: control_ids[month] for month in months}
    everything = set().union(*expected.values())
    server = LoopbackSmtp(port=free_port())  # not started: connections are refused
    folder = tmp_path / "live"
    daemon = DaemonProcess(write_partnership(folder, smtp_port=server.port), folder / "daemon.log").wait_started()
    try:
        for month in months:
            add_month(folder, month)
            wait_for(lambda month=month: outbox_periods(folder).get(month) == len(expected[month]), 30,
                     f"the messages of {month} to be queued")
        # Several more cycles of the server being down: jobs run, retries fail and are rescheduled.
        wait_for(lambda: len(daemon.logged("message.retry")) >= 4, 30, "several failed attempts")
        counts = outbox_counts(folder)  # one may be being tried right now
        assert set(counts) <= {"queued", "sending"} and sum(counts.values()) == len(everything), counts
        assert not daemon.logged("message.failed")
        server.start()
        wait_for(lambda: set(received_ids(server.received)) == everything, 30, "every message to arrive")
        wait_for(lambda: outbox_counts(folder) == {"sent": len(everything)}, 30, "the outbox to be all sent")
        time.sleep(1.5)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        server.stop()
    assert daemon.process.returncode == 0
    assert Counter(received_ids(server.received)) == Counter(everything)
