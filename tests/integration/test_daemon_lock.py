"""The daemon lock: one holder per state store, across real processes, with safe takeover of stale locks.

The other processes are forked from the test (real processes with their own
pids and their own connections to the store, without the cost of importing
csp-monitor again).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from csp_monitor.errors import StateError
from csp_monitor.schedule import lock
from csp_monitor.state import open_store

FORK = multiprocessing.get_context("fork")


def _hold(path: str, heartbeat_age: float, ready: Event, release: Event) -> None:
    store = open_store(path)
    lease = lock.acquire(store, now=datetime.now(UTC) - timedelta(seconds=heartbeat_age))
    ready.set()
    release.wait(60)
    lock.release(store, lease)
    store.close()


class Holder:
    """A real process holding the daemon lock of a store."""

    def __init__(self, path: Path, heartbeat_age: float = 0.0) -> None:
        self.ready, self.release = FORK.Event(), FORK.Event()
        self.process = FORK.Process(target=_hold, args=(str(path), heartbeat_age, self.ready, self.release))
        self.process.start()
        assert self.ready.wait(30), "the holder did not take the lock"

    @property
    def pid(self) -> int:
        """The holder's process id."""
        assert self.process.pid is not None
        return self.process.pid

    def kill(self) -> None:
        """kill -9, then reap it so its pid is really gone."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.join(10)

    def stop(self) -> None:
        """Let it release the lock and exit normally."""
        self.release.set()
        self.process.join(10)


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
        assert f"is in use by another csp-monitor daemon (pid {holder.pid} on {os.uname().nodename}" in message
        assert "only one daemon may run on a state store" in message
        assert "last heartbeat 0 s ago" in message or "last heartbeat 1 s ago" in message
    finally:
        holder.stop()
    with open_store(store_path) as store:  # released by a clean stop: the next one starts at once
        assert lock.current_holder(store) is None
        assert lock.acquire(store).took_over is None


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


def _race(path: str, start: Barrier, results: Any) -> None:
    store = open_store(path)
    start.wait(30)
    try:
        lease = lock.acquire(store)
        results.put(f"won: {lease.took_over}")
    except StateError:
        results.put("refused")
    start.wait(30)  # stay alive until everyone has tried, so the others see a live holder
    store.close()


def test_racing_daemons_take_a_lock_left_by_kill_9_exactly_once(store_path: Path) -> None:
    """Four processes racing for the lock of a daemon killed with kill -9: one takes it at once, three are refused."""
    holder = Holder(store_path)
    holder.kill()
    start, results = FORK.Barrier(4), FORK.Queue()
    racers = [FORK.Process(target=_race, args=(str(store_path), start, results)) for _ in range(4)]
    for racer in racers:
        racer.start()
    outcomes = sorted(results.get(timeout=60) for _ in racers)
    for racer in racers:
        racer.join(30)
    assert [racer.exitcode for racer in racers] == [0, 0, 0, 0]
    assert outcomes[:3] == ["refused", "refused", "refused"], outcomes
    assert outcomes[3].startswith(f"won: csp-monitor daemon (pid {holder.pid} on ")
    assert outcomes[3].endswith("its process is no longer running")
