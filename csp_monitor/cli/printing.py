"""What the command line prints passes through one function that keeps the terminal safe.

Values from files and servers reach the screen in error messages (a figure,
a period, a key), listings (measure names, silences) and SMTP replies shown
by ``send`` and ``outbox``. A value holding terminal escape sequences could
clear the screen, retitle the window, hide text or forge a line, so every
character that is not printable is dropped from all output (line breaks and
tabs are kept). Colour codes (SGR, ``ESC [ ... m``) are kept only on a
terminal that shows colour, where our own ``click.style`` puts them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["printable", "printable_output"]

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides that reorder text.
_UNPRINTABLE = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, keep_colour: bool = False) -> str:
    """``text`` without control characters (and without colour codes unless ``keep_colour``)."""
    if text.isprintable() or not _UNPRINTABLE.search(text):
        return text
    if keep_colour:
        return _UNPRINTABLE.sub(lambda match: match.group(0) if len(match.group(0)) > 1 else "", text)
    return _UNPRINTABLE.sub("", text)


class _PrintableStream:
    """A text stream that passes everything written through :func:`printable`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._colour = _shows_colour(stream)

    def write(self, text: str) -> int:
        self._stream.write(printable(text, keep_colour=self._colour))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # encoding, errors, flush, isatty, fileno ...
        return getattr(self._stream, name)


def _shows_colour(stream: TextIO) -> bool:
    try:
        return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


@contextmanager
def printable_output() -> Iterator[None]:
    """Within the block, everything written to stdout and stderr is made printable."""
    saved = sys.stdout, sys.stderr
    sys.stdout = _PrintableStream(saved[0])
    sys.stderr = _PrintableStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
