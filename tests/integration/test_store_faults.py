"""State store faults met by real processes: an empty store file, files the user cannot write, and a
database server that cannot be reached when the daemon starts."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.daemon_fixtures import (
    DaemonProcess,
    add_month,
    edit_config,
    proxy_for,
    received_ids,
    through_proxy,
    wait_for,
    write_partnership,
)
from tests.mail_fixtures import LoopbackSmtp, free_port

ONCE_A_DAY = "timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: \"0 7 10 * *\", run: summary}\n" \
             "  - {id: weekly-exceptions, cron: \"30 8 * * mon\", run: alerts}\n"


def command(*args: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor`` as its own process (as another user, when given)."""
    return subprocess.run([sys.executable, "-m", "csp_monitor.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, user=user, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def test_a_control_run_once_sends_the_months_four_messages(tmp_path: Path) -> None:
    """The control for the tests below: on a new store, run-once sends April's four messages."""
    with LoopbackSmtp(port=free_port()) as server:
        config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
        add_month(tmp_path, "2020-04")
        result = command("run-once", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert len(server.received) == 4


@pytest.mark.parametrize("how", [["run-once"], ["send"], ["daemon", "--log-format", "plain"]])
def test_an_empty_store_file_is_refused_as_damaged_and_nothing_is_sent(tmp_path: Path, how: list[str]) -> None:
    """Regression: a 0-byte state file was taken for a new store and the month's messages went again; now
    every command refuses it (exit 3), sends nothing and leaves the file as it is."""
    with LoopbackSmtp(port=free_port()) as server:
        config = write_partnership(tmp_path, smtp_port=server.port, schedules=ONCE_A_DAY)
        add_month(tmp_path, "2020-04")
        (tmp_path / "state.db").write_bytes(b"")
        result = command(how[0], "--config", str(config), *how[1:])
        assert result.returncode == 3, result.stderr
        assert "state.db is empty (0 bytes), so it is not a csp-monitor state store" in result.stderr
        assert "restore it from a backup, or delete it to start a new store" in result.stderr
        assert "Traceback" not in result.stderr
        assert server.received == []
    assert (tmp_path / "state.db").stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("state.db")) == ["state.db"]


def test_processes_creating_one_store_at_once_never_see_it_empty(tmp_path: Path) -> None:
    """Six processes opening the same new store together all succeed: a store is created complete under
    another name and then named, so none meets an empty file (which would now be refused)."""
    script = "import sys; from csp_monitor.state import open_store; open_store(sys.argv[1]).close()"
    path = tmp_path / "state.db"
    processes = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT, stderr=subprocess.PIPE,
                                  text=True) for _ in range(6)]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, errors
    left = {p.name for p in tmp_path.iterdir()}
    # No temporary store left behind. SQLite's own write-ahead log may outlive processes closing at the same
    # moment (each sees the other still open and leaves the checkpoint to it): it is part of the store.
    assert left - {"state.db-wal", "state.db-shm"} == {"state.db"}, left
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user can read (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="csp-monitor-perm-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


NOBODY = 65534


def _as_other_user() -> int | None:
    """Root ignores file permissions: run the command as 'nobody' then; otherwise as ourselves."""
    return NOBODY if os.geteuid() == 0 else None


@pytest.mark.parametrize("setup, expected", [
    ("file", "state.db cannot be written: permission denied (the file is read-only for this user)"),
    ("folder", "cannot be used: permission denied on its folder"),
])
def test_a_store_the_user_cannot_write_is_named_as_a_permissions_problem(shared_folder: Path, setup: str,
                                                                         expected: str) -> None:
    """A read-only store file, or a store in a folder the user cannot write (SQLite's journal goes there),
    is refused (exit 3) as a permissions problem, not as a damaged store, and nothing is sent."""
    # The check runs csp-monitor as another user, who must be able to reach this interpreter.
    if any(not (folder.stat().st_mode & 0o001) for folder in Path(sys.executable).parents):
        pytest.skip("another user cannot run this checkout's interpreter (a folder above it is private)")
    with LoopbackSmtp(port=free_port()) as server:
        folder = shared_folder / "csp"
        folder.mkdir()
        config = write_partnership(folder, smtp_port=server.port, schedules=ONCE_A_DAY)
        add_month(folder, "2020-04")
        from csp_monitor.state import open_store

        open_store(folder / "state.db").close()
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        user = _as_other_user()
        if setup == "file":
            if user is None:
                (folder / "state.db").chmod(0o444)
        else:
            (folder / "state.db").chmod(0o666)
            folder.chmod(0o555)
        try:
            result = command("run-once", "--config", str(config), user=user)
        finally:
            folder.chmod(0o755)
        assert result.returncode == 3, result.stderr
        assert expected in result.stderr
        assert "give the user csp-monitor runs as write access" in result.stderr
        assert "backup" not in result.stderr and "Traceback" not in result.stderr
        assert server.received == []


def test_a_database_server_unreachable_at_start_is_waited_for_then_everything_is_sent_once(
        tmp_path: Path, postgres_url: str, control_ids: dict[str, set[str]]) -> None:
    """Regression: PostgreSQL unreachable when the daemon started exited 3 ("restore it from a backup") and
    systemd never restarted it. Now the daemon logs "cannot connect to the state store", tries again with a
    growing wait, and once the server is reachable starts and sends the month's messages, each once."""
    proxy = proxy_for(postgres_url)
    url = through_proxy(postgres_url, proxy)
    server = LoopbackSmtp(port=free_port()).start()
    config = write_partnership(tmp_path, smtp_port=server.port)
    edit_config(config, "state: state.db", f"state: '{url}'")
    add_month(tmp_path, "2020-04")
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: len(daemon.logged("store.unreachable")) >= 3, 30, "three tries to reach the server")
        tries = daemon.logged("store.unreachable")
        assert [entry["retry_seconds"] for entry in tries[:3]] == [1, 2, 4]
        assert all(entry["message"].startswith("cannot connect to the state store postgresql+psycopg://")
                   for entry in tries)
        assert "backup" not in daemon.text() and "Traceback" not in daemon.text()
        assert daemon.process.poll() is None  # still there, waiting
        assert server.received == []
        proxy.start()
        daemon.wait_started(timeout=30)
        wait_for(lambda: set(received_ids(server.received)) == control_ids["2020-04"], 30, "April's messages")
        time.sleep(1.5)  # time enough for a wrong resend to show
    finally:
        daemon.stop()
        proxy.stop()
        server.stop()
    assert daemon.process.returncode == 0
    assert Counter(received_ids(server.received)) == Counter(control_ids["2020-04"])


def test_a_sigterm_while_waiting_for_the_database_server_stops_cleanly(tmp_path: Path) -> None:
    """A daemon waiting for an unreachable database server stops at SIGTERM with exit code 0."""
    config = write_partnership(tmp_path)
    edit_config(config, "state: state.db", f"state: 'postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere'")
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: bool(daemon.logged("store.unreachable")), 30, "a try to reach the server")
        daemon.signal(15)
        assert daemon.wait(timeout=30) == 0
    finally:
        daemon.stop()
    assert all(isinstance(json.loads(line), dict) for line in daemon.text().splitlines())


def test_commands_name_an_unreachable_database_server_as_such(tmp_path: Path) -> None:
    """run-once and status against a database server that cannot be reached exit 3 saying they cannot connect,
    never that the store should be restored from a backup."""
    config = write_partnership(tmp_path, schedules=ONCE_A_DAY)
    edit_config(config, "state: state.db", f"state: 'postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere'")
    add_month(tmp_path, "2020-04")
    for how in ("run-once", "status"):
        result = command(how, "--config", str(config))
        assert result.returncode == 3, result.stderr
        assert result.stderr.startswith("error: cannot connect to the state store postgresql+psycopg://")
        assert "backup" not in result.stderr and "Traceback" not in result.stderr
