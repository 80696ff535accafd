"""``csp-monitor send`` killed with SIGKILL at random moments, then run again until it completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.load.config import load_config
from csp_monitor.state import open_store
from tests.delivery_fixtures import write_config
from tests.mail_fixtures import Handler, LoopbackSmtp

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX only")

_KILLS = 4
_RUN = "import sys; from csp_monitor.cli import main; main(sys.argv[1:])"


def _send(config: Path, as_of: str, now: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _RUN, "send", "--config", str(config), "--as-of", as_of,
                             "--now", now], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def _reaches(server: LoopbackSmtp, process: subprocess.Popen[bytes], count: int) -> bool:
    """Wait until the server has kept ``count`` messages (True) or the process has ended (False).

    Timing the kill by the server's arrivals, not by the clock, makes the kills land on any machine's speed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(server.received) >= count:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError(f"send neither delivered message {count} nor ended within 60 s")


def test_killed_sends_deliver_everything_and_only_an_in_flight_message_twice(tmp_path: Path) -> None:
    """Every message arrives; a message arrives twice only if a kill caught it in flight, with the same Message-ID."""
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    # The server keeps each message, then takes a moment to reply: a kill in that moment is a message
    # in flight, which the next run must resend with the same Message-ID.
    handler = Handler(delay=0.25, keep_before_reply=True)
    with LoopbackSmtp(handler=handler) as server:
        config_path = write_config(tmp_path / "monitor", f"""
            delivery:
              from: "Harborough CSP monitor <csp-monitor@example.org>"
              smtp: {{host: 127.0.0.1, port: {server.port}, security: none, timeout: 10}}
            """)
        kills = 0
        runs = 0
        for as_of, now in (("2014-02", "2014-03-10T07:00"), ("2014-03", "2014-04-10T07:00")):
            while True:
                runs += 1
                assert runs <= 2 * _KILLS + 4, f"send did not complete after {runs} runs (seed {seed})"
                process = _send(config_path, as_of, now)
                if kills < _KILLS and _reaches(server, process, len(server.received) + chance.randint(1, 2)):
                    # A moment after the server kept a message: within its 0.25 s reply (a message in flight)
                    # or just after it (the reply read, the outbox not yet told).
                    time.sleep(chance.uniform(0.0, 0.35))
                if process.poll() is None and kills < _KILLS:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    continue
                out, err = process.communicate(timeout=60)
                assert process.returncode == 0, (out + err).decode()
                break
    config = load_config(config_path)
    with open_store(config.state, create=False) as store:
        rows = list_messages(store)
    assert rows and {row.status for row in rows} == {"sent"}, f"seed {seed}"
    received = Counter(str(item.message["Message-ID"]) for item in server.received)
    assert set(received) == {row.message_id for row in rows}, f"seed {seed}"
    duplicates = {message_id: count for message_id, count in received.items() if count > 1}
    assert sum(count - 1 for count in duplicates.values()) <= kills, f"seed {seed}"
    for message_id in duplicates:  # a resend is the very same message
        copies = {item.data for item in server.received if str(item.message["Message-ID"]) == message_id}
        assert len(copies) == 1, f"seed {seed}"
    print(f"seed {seed}: {runs} runs, {kills} kills, {len(server.received)} received, duplicates {duplicates}")
    assert kills > 0
