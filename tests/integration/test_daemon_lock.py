"""The daemon lock: one holder per state store, across real processes, with safe takeover of stale locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csp_monitor.errors import StateError
from csp_monitor.schedule import lock
from csp_monitor.state import open_store
from tests.conftest import ROOT

HOLDER = textwrap.dedent("""
    import sys, time
    from datetime import UTC, datetime, timedelta
    from csp_monitor.schedule import lock
    from csp_monitor.state import open_store
    store = open_store(sys.argv[1])
    age = float(sys.argv[2])
    lease = lock.acquire(store, now=datetime.now(UTC) - timedelta(seconds=age))
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin (or kills us)
    lock.release(store, lease)
""")


class Holder:
    """A real process holding the daemon lock of a store."""

    def __init__(self, path: Path, heartbeat_age: float = 0.0) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(heartbeat_age)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "held", self.process.stderr.read() if self.process.stderr else ""

    def kill(self) -> None:
        """kill -9, then reap it so its pid is really gone."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Let it release the lock and exit normally."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=10)


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    """A new SQLite state store file."""
    path = tmp_path / "state.db"
    open_store(path).close()
    yield path


def test_a_second_daemon_is_refused_with_the_holder_named(store_path: Path) -> None:
    """While one process holds the lock, another is refused with a message naming its pid and host."""
    holder = Holder(store_path)
    try:
        with open_store(store_path) as store, pytest.raises(StateError) as refused:
            lock.acquire(store)
        message = str(refused.value)
        assert f"pid {holder.process.pid} on {os.uname().nodename}" in message
        assert "only one daemon may run on a state store" in message
        assert "last heartbeat 0 s ago" in message or "last heartbeat 1 s ago" in message
    finally:
        holder.stop()


def test_the_lock_is_free_again_after_a_clean_stop(store_path: Path) -> None:
    """A holder that stops normally releases the lock, so the next daemon starts at once."""
    Holder(store_path).stop()
    with open_store(store_path) as store:
        assert lock.current_holder(store) is None
        lease = lock.acquire(store)
        assert lease.took_over is None


def test_a_lock_with_an_old_heartbeat_is_taken_over_even_if_its_process_lives(store_path: Path) -> None:
    """A holder that stopped renewing (hung, or asleep) loses the lock after the timeout, and learns so."""
    holder = Holder(store_path, heartbeat_age=lock.LOCK_TIMEOUT_SECONDS + 5)
    try:
        with open_store(store_path) as store:
            lease = lock.acquire(store)
            assert lease.took_over is not None and "heartbeat is more than 60 s old" in lease.took_over
            assert lock.renew(store, lease) is True
    finally:
        holder.stop()  # its release must not remove the new holder's lock
    with open_store(store_path) as store:
        current = lock.current_holder(store)
        assert current is not None and current.pid == os.getpid()


def test_a_holder_that_lost_the_lock_is_told_when_it_renews(store_path: Path) -> None:
    """After a takeover, the old holder's renewal reports the lock is no longer its own."""
    with open_store(store_path) as store:
        old = lock.acquire(store, now=datetime.now(UTC) - timedelta(seconds=120))
        new = lock.acquire(store)
        assert new.took_over is not None
        assert lock.renew(store, old) is False
        assert lock.renew(store, new) is True


RACER = textwrap.dedent("""
    import sys, time
    from csp_monitor.errors import StateError
    from csp_monitor.schedule import lock
    from csp_monitor.state import open_store
    store = open_store(sys.argv[1])
    start = float(sys.argv[2])
    while time.time() < start:
        time.sleep(0.001)
    try:
        lease = lock.acquire(store)
        print("won:", lease.took_over, flush=True)
    except StateError:
        print("refused", flush=True)
    time.sleep(1)  # stay alive, so the others see a live holder
""")


def test_racing_daemons_take_a_lock_left_by_kill_9_exactly_once(store_path: Path) -> None:
    """Four processes racing for the lock of a daemon killed with kill -9: one takes it at once, three are refused."""
    holder = Holder(store_path)
    holder.kill()
    start = time.time() + 2.0
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(store_path), str(start)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = sorted(racer.communicate(timeout=60)[0].strip() for racer in racers)
    assert outputs[:3] == ["refused", "refused", "refused"], outputs
    assert outputs[3].startswith(f"won: csp-monitor daemon (pid {holder.process.pid} on ")
    assert outputs[3].endswith("its process is no longer running")
