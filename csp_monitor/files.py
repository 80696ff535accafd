"""Writing files the safe way: never half a file, never over someone's work.

Every file csp-monitor writes (figures, reports, schemas, spreadsheets, .eml
previews) goes through :func:`atomic_path`: the content is written to a
temporary file in the same folder, flushed to disk, given the permissions a
plain ``open(path, "w")`` would give, and moved into place in one step. A
reader sees the old file or the whole new one; a failure leaves the old file
untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "create_text_exclusively", "write_bytes_atomically", "write_text_atomically"]


def _new_file_mode(target: Path) -> int:
    """The old file's mode, else 0666 less the umask (mkstemp's own 0600 is too private)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    mode = _new_file_mode(target)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, mode)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with UTF-8 ``text`` (newlines as written) in one step."""
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


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
