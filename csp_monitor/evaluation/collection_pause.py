"""Pause Python's cyclic garbage collector while a national run builds its results.

Building tens of thousands of results allocates millions of containers, and
every so many allocations the cyclic collector walks the objects still alive
(all the figures and every result made so far) looking for reference
cycles. The results hold none, so those walks find nothing: in a national
run they were about a sixth of the evaluation's CPU. Reference counting
still frees everything as usual; only the search for cycles waits until the
results are made.

When the pause ends, everything made during it is handed straight to the
collector's oldest generation (``gc.freeze`` then ``gc.unfreeze``, two
list splices) rather than left in the youngest, where the first collection
after the pause would walk every one of the results just made (about a
tenth of a national run's evaluation) to find them alive. Objects in the
oldest generation are still collected, by the next full collection. This is
skipped when the program has frozen objects of its own (``gc.freeze``), as
unfreezing would thaw those too.

The collector is process-wide: it is switched back on when the outermost
pause ends, provided it was on when that pause began, so overlapping pauses
in several threads leave it as they found it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_collection"]


@contextlib.contextmanager
def paused_collection() -> Iterator[None]:
    """Hold off cyclic garbage collection for the ``with`` block (reference counting goes on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
