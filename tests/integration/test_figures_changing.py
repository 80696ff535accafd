"""Figures files that change under the daemon: a file being written is not read until it stays the same, and
a month whose summary went out with figures that changed afterwards gets a correction, once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    received_ids,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, Received, free_port

ONCE_A_DAY = "timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}\n" \
             "  - {id: weekly-exceptions, cron: \"30 8 * * mon\", run: alerts}\n"
HEADER = "area,measure,period,value\n"
FIRST_HALF = HEADER + "testshire,satisfaction-a,2020-04,9"  # the "0" of 90 is not written yet
SECOND_HALF = "0\ntestshire,satisfaction-b,2020-04,70\n"


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def summaries(received: list[Received]) -> list[Received]:
    """The risk summaries among the messages received."""
    return [message for message in received if "risk summary" in str(message.message["Subject"]).lower()]


def test_a_file_being_written_is_read_only_once_it_stays_the_same(
        tmp_path: Path, control_ids: dict[str, set[str]]) -> None:
    """Regression: the daemon read a figures file half-written (satisfaction A as 9 instead of 90). With the
    file written a piece every 0.4 s, the runs wait until it stays the same for settle_seconds, so exactly
    the month's four messages arrive, as from the complete file, and no correction is needed."""
    server = LoopbackSmtp(port=free_port()).start()
    folder = tmp_path / "live"
    daemon = DaemonProcess(write_partnership(folder, smtp_port=server.port), folder / "daemon.log").wait_started()
    target = folder / "figures" / "2020-04.csv"
    pieces = [FIRST_HALF[:30], FIRST_HALF[30:], SECOND_HALF[:1], SECOND_HALF[1:20], SECOND_HALF[20:]]

    def write_slowly() -> None:
        with open(target, "w", encoding="utf-8") as file:
            for piece in pieces:
                file.write(piece)
                file.flush()
                time.sleep(0.4)

    writer = threading.Thread(target=write_slowly)
    try:
        writer.start()
        writer.join(10)
        wait_for(lambda: set(received_ids(server.received)) == control_ids["2020-04"], 30, "April's messages")
        time.sleep(3)  # several more runs: time enough for a wrong message to show
    finally:
        daemon.stop()
        server.stop()
    assert Counter(received_ids(server.received)) == Counter(control_ids["2020-04"])
    assert daemon.logged("figures.changing")  # the runs did wait for the file
    assert not [m for m in server.received if "Correction" in str(m.message["Subject"])]


def test_a_summary_read_from_a_half_written_file_is_corrected_by_the_next_run(tmp_path: Path) -> None:
    """With settle_seconds 0 (read at once) the daemon sends April's summary from half a file; once the file
    is complete the next summary run sends one correction: 'Correction:' in the subject, a new Message-ID and
    the changed figure listed."""
    server = LoopbackSmtp(port=free_port()).start()
    folder = tmp_path / "live"
    config = write_partnership(folder, smtp_port=server.port)
    edit_config(config, "settle_seconds: 1", "settle_seconds: 0")
    target = folder / "figures" / "2020-04.csv"
    target.write_text(FIRST_HALF + "\n", encoding="utf-8")  # as read half-way: A is 9, B not there yet
    daemon = DaemonProcess(config, folder / "daemon.log").wait_started()
    try:
        wait_for(lambda: len(summaries(server.received)) == 1, 30, "the summary from half the file")
        target.write_text(FIRST_HALF + SECOND_HALF, encoding="utf-8")
        wait_for(lambda: len(summaries(server.received)) == 2, 30, "the correction")
        time.sleep(4)  # two more summary runs: the correction is sent once
    finally:
        daemon.stop()
        server.stop()
    first, correction = summaries(server.received)
    assert len(summaries(server.received)) == 2
    subject, corrected = str(first.message["Subject"]), str(correction.message["Subject"])
    assert corrected.startswith("Correction: Testshire Community Safety Partnership")  # its own counts follow
    assert subject.startswith("Testshire Community Safety Partnership")
    assert correction.message["Message-ID"] != first.message["Message-ID"]
    text = correction.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Correction: this replaces the risk summary sent on ")
    assert "testshire satisfaction-a 2020-04: 9 -> 90" in text
    assert "testshire satisfaction-b 2020-04: 70 (new)" in text
    assert Counter(received_ids(server.received)).most_common(1)[0][1] == 1  # nothing twice


def test_run_once_sends_one_correction_per_change_and_none_when_corrections_are_off(tmp_path: Path) -> None:
    """A revised figure for a month already sent brings one correction at the next run and none after; with
    summary: corrections: false the revision sends no correction."""
    with LoopbackSmtp(port=free_port()) as server:
        config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
        add_month(tmp_path, "2020-04")
        assert command("run-once", "--config", str(config)).returncode == 0
        assert len(summaries(server.received)) == 1
        revised = tmp_path / "figures" / "2020-04.csv"
        revised.write_text(revised.read_text(encoding="utf-8").replace("satisfaction-b,2020-04,70",
                                                                       "satisfaction-b,2020-04,88"))
        for _ in range(2):
            assert command("run-once", "--config", str(config)).returncode == 0
        corrections = [m for m in summaries(server.received) if str(m.message["Subject"]).startswith("Correction")]
        assert len(corrections) == 1
        body = corrections[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "testshire satisfaction-b 2020-04: 70 -> 88" in body
        received = len(server.received)

        edit_config(config, "  charts: false\n", "  charts: false\n  corrections: false\n")
        revised.write_text(revised.read_text(encoding="utf-8").replace("satisfaction-b,2020-04,88",
                                                                       "satisfaction-b,2020-04,86"))
        assert command("run-once", "--config", str(config)).returncode == 0
        assert not [m for m in server.received[received:] if "Correction" in str(m.message["Subject"])]
