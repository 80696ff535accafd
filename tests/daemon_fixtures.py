"""A small partnership whose figures make mail every month, and the daemon run as a real process.

Testshire has two satisfaction measures judged on the latest month alone
(at least 85%): each month one is red and the other back on track, so each
new month brings a risk summary and alert emails (firing and resolved) to
three people: four messages a month, every month.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import ROOT
from tests.mail_fixtures import free_port

RULES = """\
partnership: Testshire Community Safety Partnership
area: testshire
year_starts: 2020-04
priorities:
  - id: satisfaction
    title: To keep victims satisfied
    owner: owner@example.org
    measures:
      - id: satisfaction-a
        name: Satisfaction A
        better: higher
        unit: percent
        aggregate: latest
        target: {at_least: 85}
      - id: satisfaction-b
        name: Satisfaction B
        better: higher
        unit: percent
        aggregate: latest
        target: {at_least: 85}
recipients:
  board: [board@example.org, analyst@example.org]
alerts:
  - id: off-target
    when: {status: [red]}
    notify: [owner, board]
"""

MONTHS = ("2020-04", "2020-05", "2020-06", "2020-07", "2020-08", "2020-09")

FAST_SCHEDULES = """\
timezone: Europe/London
schedules:
  - id: alerts-every-second
    interval_seconds: 1
    run: alerts
  - id: summary-every-2s
    interval_seconds: 2
    run: summary
"""


# The longest wait between two delivery attempts in write_partnership's configuration, in seconds.
RETRY_MAX_DELAY = 2


def wait_for_retry_time(last_attempt: float) -> None:
    """Sleep until messages whose delivery failed at ``last_attempt`` (time.monotonic()) are due again: a run
    before then leaves them waiting, and on a quick machine a test reaches its next run sooner than that."""
    time.sleep(max(0.0, last_attempt + RETRY_MAX_DELAY + 0.5 - time.monotonic()))


def write_partnership(folder: Path, *, smtp_port: int | None = None, schedules: str = FAST_SCHEDULES,
                      name: str = "csp-monitor.yaml") -> Path:
    """Write Testshire's rules and a configuration (SMTP on loopback, or a folder) into ``folder``."""
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    (folder / "rules.yaml").write_text(RULES, encoding="utf-8")
    delivery = (f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, timeout: 5}}\n"
                if smtp_port is not None else "  folder: outbox/\n")
    config = folder / name
    config.write_text(
        "rules: [rules.yaml]\n"
        "figures: [figures/*.csv]\n"
        "state: state.db\n"
        "settle_seconds: 1\n"
        "delivery:\n"
        "  from: \"Testshire CSP monitor <csp-monitor@example.org>\"\n"
        f"{delivery}"
        f"  retry: {{first_delay: 1, max_delay: {RETRY_MAX_DELAY}}}\n"
        "summary:\n"
        "  to: [board]\n"
        "  charts: false\n"
        f"{schedules}", encoding="utf-8")
    return config


def edit_config(config: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the configuration file ``config``; ``old`` must be there, so that an
    edit never silently leaves the file as it was."""
    text = config.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {config}"
    config.write_text(text.replace(old, new), encoding="utf-8")


def add_month(folder: Path, month: str) -> None:
    """Publish one month's figures: A and B take turns to miss the target."""
    index = MONTHS.index(month)
    a, b = (90, 70) if index % 2 == 0 else (70, 90)
    rows = f"area,measure,period,value\ntestshire,satisfaction-a,{month},{a}\ntestshire,satisfaction-b,{month},{b}\n"
    target = folder / "figures" / f"{month}.csv"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(rows, encoding="utf-8")
    temporary.replace(target)  # the daemon never reads half a file


def expected_message_ids(folder: Path, months: Sequence[str]) -> dict[str, set[str]]:
    """The Message-IDs of every message each month brings, from an uninterrupted run into a folder."""
    from csp_monitor.delivery.outbox import list_messages
    from csp_monitor.delivery.run import send_once
    from csp_monitor.load.config import load_config
    from csp_monitor.state import open_store

    config_path = write_partnership(folder, schedules="")
    expected: dict[str, set[str]] = {}
    for month in months:
        add_month(folder, month)
        config = load_config(config_path)
        send_once(config, jobs=("summary",))
        send_once(config, jobs=("alerts",))
        with open_store(config.state) as store:
            expected[month] = {m.message_id for m in list_messages(store) if m.period == month}
    return expected


def outbox_counts(folder: Path) -> dict[str, int]:
    """The outbox by status, read without disturbing the daemon (a read-only SQLite connection)."""
    return dict(_query(folder, "SELECT status, COUNT(*) FROM outbox GROUP BY status"))


def outbox_periods(folder: Path) -> dict[str, int]:
    """How many messages the outbox holds for each period."""
    return dict(_query(folder, "SELECT period, COUNT(*) FROM outbox GROUP BY period"))


def ledger_rows(folder: Path) -> list[tuple[Any, ...]]:
    """(job_id, occurrence, reason, outcome, error) of every run, oldest first."""
    return _query(folder, "SELECT job_id, occurrence, reason, outcome, error FROM runs ORDER BY id")


def _query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    path = folder / "state.db"
    if not path.exists():
        return []
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # no such table yet: the store is being created
        return []
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str | Callable[[], str], *,
             every: float = 0.05) -> None:
    """Poll ``condition`` until it holds, or fail saying what did not happen (``what`` is read then)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(every)


@dataclass
class DaemonProcess:
    """``python -m csp_monitor.cli daemon`` in its own process, logging JSON to a file."""

    config: Path
    log_path: Path
    log_format: str = "json"
    env: dict[str, str] | None = None  # the environment, when not this process's
    process: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(
            [sys.executable, "-m", "csp_monitor.cli", "daemon", "--config", str(self.config),
             "--log-format", self.log_format, "--log-level", "info"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log,
            env={**(os.environ if self.env is None else self.env), "PYTHONUNBUFFERED": "1"})

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        return self.process.pid

    def events(self) -> list[dict[str, Any]]:
        """Every JSON log entry so far (a line being written is left for later)."""
        entries = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return entries

    def logged(self, event: str, **fields: str) -> list[dict[str, Any]]:
        """The log entries of one event (with these field values)."""
        return [e for e in self.events() if e.get("event") == event
                and all(e.get(key) == value for key, value in fields.items())]

    def wait_started(self, timeout: float = 30) -> DaemonProcess:
        """Wait until the daemon has logged that it started (fail if it exits first)."""
        def started() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the daemon exited with {self.process.returncode}:\n{self.text()}")
            if self.log_format != "json":
                return "csp-monitor daemon started" in self.text()
            return bool(self.logged("daemon.started"))

        wait_for(started, timeout, "the daemon to start")
        return self

    def text(self) -> str:
        """The whole log."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """kill -9, and reap it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def signal(self, number: int) -> None:
        """Send a signal."""
        self.process.send_signal(number)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the daemon to exit; its exit code."""
        code = self.process.wait(timeout=timeout)
        self._log.close()
        return code

    def stop(self) -> None:
        """SIGTERM if still running (for test clean-up)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def received_ids(messages: Sequence[Any]) -> list[str]:
    """The Message-ID of every message a test SMTP server received, in order."""
    return [str(message.message["Message-ID"]) for message in messages]


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


class Proxy:
    """A TCP relay on loopback (to the test PostgreSQL): stopped, the server cannot be reached, and the
    connections through it are cut, as when a database server goes down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> Proxy:
        """Listen and relay every connection."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                server = socket.create_connection(self.target)
            except OSError:
                return
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Stop listening and cut every connection."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    end.close()
            self._open.clear()


def through_proxy(url: str, proxy: Proxy) -> str:
    """``url`` (a PostgreSQL URL) going through ``proxy``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))


def proxy_for(url: str) -> Proxy:
    """A (stopped) proxy to the server of ``url``."""
    parts = urlsplit(url)
    return Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
