"""Writing a record the store must not miss: retried, on its own, until the store takes it.

Some writes record a fact that has already happened in the world: "the mail
server accepted this message", "this run ended". If the store is busy (a
SQLite file held by another process for longer than its 30 s busy timeout)
or gone (PostgreSQL restarted), failing the write would leave the row saying
what is no longer true (``sending``, ``running``), and the next run would do
the work again: a message sent twice. So such a write is its own small
transaction, kept apart from the run's other writes, and tried again with a
growing wait until the store takes it, for at most ``patience`` seconds
(``stop()`` turning true, a SIGTERM, shortens that to ``grace``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from csp_monitor.errors import StateError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.state.store import StateStore

__all__ = ["DEFAULT_PATIENCE", "STOP_GRACE", "write_until_done"]

T = TypeVar("T")

DEFAULT_PATIENCE = 900.0
"""Seconds to keep trying (a claim older than 15 minutes is taken over by another machine anyway)."""

STOP_GRACE = 20.0
"""Seconds still given to the store after a stop was asked for (within systemd's 120 s stop timeout)."""

log = logging.getLogger("csp_monitor.state")


def write_until_done(store: StateStore, write: Callable[[Connection], T], *, what: str,
                     patience: float = DEFAULT_PATIENCE, stop: Callable[[], bool] | None = None,
                     first_wait: float = 0.25, max_wait: float = 10.0, grace: float = STOP_GRACE) -> T:
    """Run ``write`` in a transaction of its own, again after each store failure; raise the last after ``patience``.

    Only :class:`StateError` (busy, unreachable, failed) is retried: anything
    else is a bug and is raised at once.
    """
    started = time.monotonic()
    wait = first_wait
    attempt = 0
    stop_seen: float | None = None
    while True:
        attempt += 1
        try:
            with store.transaction() as connection:
                return write(connection)
        except StateError as exc:
            now = time.monotonic()
            if stop is not None and stop() and stop_seen is None:
                stop_seen = now
            limit = started + patience
            if stop_seen is not None:
                limit = min(limit, stop_seen + grace)
            if now + wait > limit:
                raise
            log.warning("could not record %s yet (%s); trying again in %.1f s", what, exc.message, wait,
                        extra={"event": "store.retry", "what": what, "attempt": attempt})
            time.sleep(wait)
            wait = min(wait * 2, max_wait)
