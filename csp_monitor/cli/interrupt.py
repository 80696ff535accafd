"""Ctrl-C during ``send`` or ``run-once``: stop after the message being sent, not in the middle of it.

Interrupted while the server holds a message it has not yet acknowledged, a run
leaves that message "in flight", and the next run sends it again: the board gets
it twice. So the first Ctrl-C only asks the run to stop, as SIGTERM asks the
daemon: the message being sent is finished and recorded, the rest stay queued
for the next run. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click

__all__ = ["STOPPED_EXIT", "stop_on_interrupt"]

STOPPED_EXIT = 130
"""The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect."""


@contextmanager
def stop_on_interrupt() -> Iterator[Callable[[], bool]]:
    """Within the block, the first Ctrl-C turns the yielded ``stop()`` true; a second raises KeyboardInterrupt."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked.is_set
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:  # started in the background: Ctrl-C is not for it
        yield asked.is_set
        return

    def ask(_signal: int, _frame: FrameType | None) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()
        click.echo("stopping after the message being sent, which is recorded; the rest stay queued for the next "
                   "run (Ctrl-C again stops at once, and that message may then arrive twice)", err=True)

    signal.signal(signal.SIGINT, ask)
    try:
        yield asked.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
