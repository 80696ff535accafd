"""Writing files the safe way: never half a file, never over someone's work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["create_text_exclusively", "write_text_atomically"]


def write_text_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new, never half."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_text_exclusively(path: str | Path, text: str) -> None:
    """Create ``path`` holding ``text``; raise FileExistsError rather than overwrite anything.

    The text is written to a temporary file first and then linked into place,
    so the new file appears complete or not at all.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: fall back to an exclusive create
            with open(target, "x", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
    finally:
        Path(temporary).unlink(missing_ok=True)
