"""A full disk, for real: a small tmpfs mounted for the test and filled to the last byte.

Every file csp-monitor writes (reports, results, imports, schemas, JUnit XML, dry runs, the outbox folder and
the state store) meets "No space left on device" in a real process. Nothing half-written may be left, a file
already there must stay as it was, the message must say the disk is full (never a traceback or exit 70), and
no message may be lost or sent twice once there is room again.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.delivery.run import send_once
from csp_monitor.state import open_store
from tests.conftest import ROOT
from tests.daemon_fixtures import received_ids
from tests.integration.test_delivery_faults import FaultAfterFirst, monitor, outbox_by_status
from tests.mail_fixtures import LoopbackSmtp
from tests.security.bounded_cli import BoundedRun, assert_refused, run_cli

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a tmpfs is mounted: Linux only")

RULES = ROOT / "rules" / "harborough-2013-14.yaml"
FIGURES = ROOT / "examples" / "harborough" / "figures.csv"
EXCERPT = ROOT / "tests" / "data" / "police-uk" / "city-of-london-street-excerpt-2017-01_2017-06.zip"


class SmallDisk:
    """A mounted tmpfs of a few MB: ``fill()`` takes every free byte (optionally leaving some), ``free()`` gives
    it back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self, leave: int = 0) -> None:
        """Write the filler until the disk refuses, then give back ``leave`` bytes (rounded to pages)."""
        chunk = b"\0" * 65536
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(descriptor, chunk)  # a short write, then ENOSPC: the disk is full to the page
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(descriptor)
        if leave:
            os.truncate(self.filler, max(0, self.filler.stat().st_size - leave))
        else:
            probe = os.open(self.root / "probe", os.O_WRONLY | os.O_CREAT)
            try:
                with pytest.raises(OSError) as caught:
                    os.write(probe, b"x" * 8192)
                assert caught.value.errno == errno.ENOSPC
            finally:
                os.close(probe)
                (self.root / "probe").unlink()

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def files(self) -> set[str]:
        """Every file on the disk (relative names), the filler aside."""
        return {str(path.relative_to(self.root)) for path in self.root.rglob("*")
                if path.is_file() and path != self.filler}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 4 MB tmpfs at tmp_path/disk, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk (tmpfs) needs root; CI runs as root")
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def _refused_for_a_full_disk(run: BoundedRun) -> None:
    assert_refused(run, codes=(1,))
    assert "the disk is full" in run.output, run.output
    assert "Exception ignored" not in run.output, run.output


OUTPUTS = {
    "report": ("report.html", ["report", RULES, "--figures", FIGURES, "--out", "{out}"]),
    "evaluate json": ("results.json", ["evaluate", RULES, "--figures", FIGURES, "--format", "json", "--out", "{out}"]),
    "evaluate csv": ("results.csv", ["evaluate", RULES, "--figures", FIGURES, "--format", "csv", "--out", "{out}"]),
    "evaluate xlsx": ("results.xlsx", ["evaluate", RULES, "--figures", FIGURES, "--format", "xlsx", "--out", "{out}"]),
    "evaluate table": ("results.txt", ["evaluate", RULES, "--figures", FIGURES, "--out", "{out}"]),
    "import police-uk": ("figures.csv", ["import", "police-uk", EXCERPT, "--area-by", "force", "--out", "{out}"]),
    "rules test --junit": ("junit.xml", ["rules", "test", ROOT / "rules" / "harborough-2013-14.test.yaml",
                                         "--junit", "{out}"]),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_an_output_on_a_full_disk_is_refused_and_the_old_file_is_kept(small_disk: SmallDisk, name: str) -> None:
    """Each command that writes a file exits 1 saying the disk is full; yesterday's file is byte for byte as it
    was and no temporary file is left beside it. With room again, the same command writes it whole."""
    filename, template = OUTPUTS[name]
    out = small_disk.root / filename
    out.write_bytes(b"yesterday's file\n")
    small_disk.fill()
    run = run_cli(*(str(part).format(out=out) for part in template))
    _refused_for_a_full_disk(run)
    assert str(out) in run.output
    assert out.read_bytes() == b"yesterday's file\n"
    assert small_disk.files() == {filename}
    small_disk.free()
    again = run_cli(*(str(part).format(out=out) for part in template))
    assert again.exit_code == 0, again.output
    assert out.read_bytes() != b"yesterday's file\n" and small_disk.files() == {filename}


def test_schemas_on_a_full_disk_are_refused_and_none_is_half_written(small_disk: SmallDisk) -> None:
    """``schema --write`` to a full disk exits 1 and leaves no schema file (nor a temporary one)."""
    small_disk.fill()
    run = run_cli("schema", "--write", small_disk.root / "schema")
    _refused_for_a_full_disk(run)
    assert small_disk.files() == set()


def _dry_run(config: Path, folder: Path) -> BoundedRun:
    return run_cli("send", "--config", config, "--dry-run", folder, "--now", "2014-04-10T07:00")


def _harborough_config(folder: Path, delivery: str) -> Path:
    config = folder / "csp-monitor.yaml"
    config.write_text(
        f"rules: [{RULES}, {ROOT / 'rules' / 'harborough-alerts.yaml'}]\n"
        f"figures: [{FIGURES}]\n"
        f"state: {folder / 'state.db'}\n"
        "delivery:\n"
        "  from: \"Harborough CSP monitor <csp-monitor@example.org>\"\n"
        f"  folder: {delivery}\n"
        "summary:\n"
        "  to: [board]\n", encoding="utf-8")
    return config


def test_a_dry_run_that_fills_the_disk_halfway_leaves_none_of_its_messages(small_disk: SmallDisk,
                                                                           tmp_path: Path) -> None:
    """The disk has room for the first message of a dry run but not the rest: the run exits 1 and takes back
    what it wrote, so the folder never holds half a set that looks like the whole."""
    config = _harborough_config(tmp_path, str(tmp_path / "outbox"))
    whole = _dry_run(config, tmp_path / "measured")
    assert whole.exit_code == 0, whole.output
    written = sorted((tmp_path / "measured").iterdir())
    assert len([path for path in written if path.suffix == ".eml"]) == 6
    first = written[0].stem
    room = sum(path.stat().st_size for path in written if path.stem == first)
    small_disk.fill(leave=room + 16384)
    run = _dry_run(config, small_disk.root / "dry")
    _refused_for_a_full_disk(run)
    assert "none of the 6 messages was left" in run.output, run.output
    assert small_disk.files() == set()


def test_folder_delivery_on_a_full_disk_waits_and_then_delivers_each_message_once(small_disk: SmallDisk,
                                                                                 tmp_path: Path) -> None:
    """With the outbox folder on a full disk, ``send`` queues every message and exits 1, writing nothing; once
    there is room the next run writes each of the six messages once, and a third run writes none."""
    folder = small_disk.root / "outbox"
    config = _harborough_config(tmp_path, str(folder))
    small_disk.fill()
    first = run_cli("send", "--config", config, "--now", "2014-04-10T07:00")
    assert first.exit_code == 1, first.output
    assert "the disk is full" in first.output and "Traceback" not in first.output
    assert small_disk.files() == set()
    with open_store(str(tmp_path / "state.db"), create=False) as store:
        assert Counter(message.status for message in list_messages(store)) == {"queued": 6}
    small_disk.free()
    second = run_cli("send", "--config", config, "--now", "2014-04-10T07:05")
    assert second.exit_code == 0, second.output
    third = run_cli("send", "--config", config, "--now", "2014-04-10T07:10")
    assert third.exit_code == 0, third.output
    emails = sorted(folder.glob("*.eml"))
    ids = Counter(str(message_from_bytes(path.read_bytes())["Message-ID"]) for path in emails)
    assert len(emails) == 6 and set(ids.values()) == {1}
    with open_store(str(tmp_path / "state.db"), create=False) as store:
        rows = list_messages(store)
    assert {row.status for row in rows} == {"sent"} and {row.message_id for row in rows} == set(ids)


def test_a_store_whose_disk_fills_after_a_delivery_records_it_once_there_is_room(
        small_disk: SmallDisk, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The SQLite store's disk fills just as the mail server accepts the first message and is freed 3 s later:
    "sent" is recorded once there is room, nothing is resent, and every message arrives exactly once."""
    freed: list[threading.Timer] = []

    def fill_the_disk() -> None:
        small_disk.fill()
        timer = threading.Timer(3.0, small_disk.free)
        timer.start()
        freed.append(timer)

    with LoopbackSmtp(handler=FaultAfterFirst(fill_the_disk)) as server:
        config = monitor(tmp_path, server.port, state=str(small_disk.root / "state.db"))
        report = send_once(config, jobs=("summary",))
        again = send_once(config)
    for timer in freed:
        timer.join(10)
    assert freed, "the disk was never filled"
    assert any("disk is full" in record.getMessage() for record in caplog.records
               if record.name == "csp_monitor.state"), [record.getMessage() for record in caplog.records]
    assert len(report.sent) == 1 and not report.recovered
    assert not again.recovered and not [attempt for attempt in again.attempts if attempt.outcome != "sent"]
    outbox = outbox_by_status(config)
    assert set(outbox) == {"sent"} and len(outbox["sent"]) == 4
    assert Counter(received_ids(server.received)) == dict.fromkeys(outbox["sent"], 1)
