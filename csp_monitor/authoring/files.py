"""Writing files the safe way: never half a file, never over someone's work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["create_text_exclusively", "write_text_atomically"]


def _new_file_mode(target: Path) -> int:
    """The mode a plain ``open(path, "w")`` would give: the old file's, else 0666 less the umask.

    mkstemp makes its files private (0600); a rule file or schema should be as
    readable as any other file the user writes.
    """
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write_text_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new, never half."""
    target = Path(path)
    mode = _new_file_mode(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(temporary, mode)
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
    mode = _new_file_mode(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(temporary, mode)
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
