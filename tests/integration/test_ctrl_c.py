"""Ctrl-C during ``send`` or ``run-once`` (SIGINT to a process of its own, a real SMTP server on loopback): the
message being sent is finished and recorded, the rest wait for the next run, and nothing arrives twice."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon_fixtures import received_ids, wait_for
from tests.delivery_fixtures import smtp_delivery, write_config
from tests.mail_fixtures import Handler, LoopbackSmtp

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to another process is POSIX only")

SCHEDULES = ('timezone: Europe/London\nschedules:\n  - {id: monthly-summary, cron: "0 7 10 * *", run: summary}\n'
             '  - {id: weekly-exceptions, cron: "30 8 * * mon", run: alerts}\n')


# ``python -m csp_monitor.cli`` as started from a terminal, where Ctrl-C is not ignored. A process started in the
# background (pytest run with ``&`` or nohup, as some CI runners and stress loops do) inherits SIGINT ignored,
# and csp-monitor rightly leaves Ctrl-C alone then, so the run went on to the end and exited 0, not 130.
_FROM_A_TERMINAL = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                    "runpy.run_module('csp_monitor.cli', run_name='__main__', alter_sys=True)")


def _interrupted(args: list[str], server: LoopbackSmtp) -> subprocess.CompletedProcess[str]:
    """Run ``csp-monitor ARGS``, press Ctrl-C once while the server holds the first message unanswered."""
    process = subprocess.Popen([sys.executable, "-c", _FROM_A_TERMINAL, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(lambda: len(server.received) >= 1 or process.poll() is not None, 60, "the first message to arrive")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


@pytest.mark.parametrize("command", ["send", "run-once"])
def test_ctrl_c_while_a_message_is_being_sent_finishes_it_and_nothing_arrives_twice(command: str,
                                                                                  tmp_path: Path) -> None:
    """The first Ctrl-C lets the message in flight finish and be recorded sent, exits 130 saying the rest wait;
    the next run sends the rest, and every Message-ID arrives exactly once (a resend of the message in flight
    used to reach the board twice)."""
    handler = Handler(delay=1.5, keep_before_reply=True)
    with LoopbackSmtp(handler=handler) as server:
        config = write_config(tmp_path, smtp_delivery(server.port, timeout=30),
                              extra=SCHEDULES if command == "run-once" else "")
        stopped = _interrupted([command, "--config", str(config), *(["--as-of", "2014-03"] if command == "send"
                                                                    else [])], server)
        assert stopped.returncode == 130, stopped.stdout + stopped.stderr
        assert "stopping after the message being sent, which is recorded" in stopped.stderr
        assert "Stopped (Ctrl-C): what is left is sent by the next run." in stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert len(server.received) == 1
        handler.delay = 0.0
        again = subprocess.run([sys.executable, "-m", "csp_monitor.cli", command, "--config", str(config)],
                               capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0, again.stdout + again.stderr
        counts = Counter(received_ids(server.received))
        assert len(counts) >= 3 and set(counts.values()) == {1}, counts
