"""Writing files the safe way: never half a file, never over someone's work.

Every file csp-monitor writes (figures, reports, schemas, spreadsheets, .eml
previews) goes through :func:`atomic_path`: the content is written to a
temporary file in the same folder, flushed to disk, given the permissions a
plain ``open(path, "w")`` would give, and moved into place in one step. A
reader sees the old file or the whole new one; a failure leaves the old file
untouched and no temporary file behind.

Every file csp-monitor reads from a name it is given (rules, figures,
spreadsheets, archives, lookups, password files) is opened with
:func:`open_regular`: a named pipe, a device or a socket is refused at once
(opening a FIFO would block for ever and ``/dev/zero`` never ends), and
:func:`read_regular` reads at most a stated number of bytes.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from csp_monitor.errors import OutputError

__all__ = [
    "FileTooLarge",
    "NotARegularFile",
    "atomic_path",
    "create_text_exclusively",
    "not_regular",
    "open_regular",
    "overwritten_input",
    "read_regular",
    "special_output",
    "write_bytes_atomically",
    "write_text_atomically",
]


class NotARegularFile(OSError):
    """The name is a named pipe, a device or a socket: nothing csp-monitor should read."""

    def __init__(self, path: str | Path, kind: str) -> None:
        super().__init__(f"this is {kind}, not a file: give a regular file")
        self.strerror = f"this is {kind}, not a file: give a regular file"
        self.filename = str(path)
        self.kind = kind


class FileTooLarge(OSError):
    """The file is larger than the reader's limit."""

    def __init__(self, path: str | Path, limit: int) -> None:
        super().__init__(f"this file is larger than {_size(limit)}")
        self.strerror = f"this file is larger than {_size(limit)}"
        self.filename = str(path)
        self.limit = limit


def _size(count: int) -> str:
    if count >= 2**20 and count % 2**20 == 0:
        return f"{count // 2**20} MiB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KiB"
    return f"{count:,} bytes"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in plain words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"  # pragma: no cover - no other kinds on POSIX


def overwritten_input(out: str | Path, inputs: Iterable[str | Path]) -> str | None:
    """The first of ``inputs`` that writing ``out`` would replace (the same file by any name or link), or None."""
    try:
        written = os.stat(out)
    except OSError:
        return None  # nothing there yet: nothing read can be overwritten
    for given in inputs:
        try:
            read = os.stat(given)
        except OSError:
            continue
        if (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino):
            return str(given)
    return None


def not_regular(path: str | Path) -> str | None:
    """What ``path`` is when it is not a regular file ("a named pipe (FIFO)", "a folder"...); None when it is.

    Links are followed; a name that does not exist raises :class:`OSError`.
    """
    return _kind(os.stat(path).st_mode)


def open_regular(path: str | Path) -> BinaryIO:
    """Open a regular file for reading in binary; raise :class:`NotARegularFile` for anything else.

    The file is opened without blocking (a FIFO with no writer would wait for
    ever) and checked on the open descriptor, so a file swapped after a check
    cannot slip through. Other failures raise :class:`OSError` as ``open`` does.
    """
    if stat.S_ISDIR(os.stat(path).st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise NotARegularFile(path, kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; :class:`FileTooLarge` when larger."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FileTooLarge(path, max_bytes)
        # read(n) sets aside n bytes at once: ask for the size the file has, then
        # read on in small steps in case it is still growing.
        parts = [handle.read(size + 1)]
        total = len(parts[0])
        while parts[-1] and total <= max_bytes:
            parts.append(handle.read(min(2**20, max_bytes + 1 - total)))
            total += len(parts[-1])
    if total > max_bytes:
        raise FileTooLarge(path, max_bytes)
    return parts[0] if len(parts) <= 2 and not parts[-1] else b"".join(parts)


def _new_file_mode(target: Path) -> int:
    """The old file's mode, else 0666 less the umask (mkstemp's own 0600 is too private)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def special_output(path: str | Path) -> str | None:
    """What ``path`` is when it exists and is neither a regular file nor a folder (a device, a pipe), else None.

    Writing a file beside it and renaming it over it would replace the device
    itself: run as root, ``--out /dev/null`` would leave a regular file there.
    """
    try:
        kind = _kind(os.stat(path).st_mode)
    except OSError:
        return None
    return None if kind in (None, "a folder") else kind


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step.

    Raises :class:`NotARegularFile` for a device, pipe or socket: it is never replaced.
    """
    target = Path(path)
    kind = special_output(target)
    if kind is not None:
        raise NotARegularFile(target, kind)
    directory = target.parent if str(target.parent) else Path(".")
    mode = _new_file_mode(target)
    existed = target.exists()
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise cannot_write(target, exc, existed=existed) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, mode)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        if isinstance(exc, NotARegularFile):
            raise
        raise cannot_write(target, exc, existed=existed) from None
    finally:
        temporary.unlink(missing_ok=True)


_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be larger than this process may write (see 'ulimit -f')",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "the disk reported an input/output error",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "part of the path is a file, not a folder",
}


def why_not_written(exc: OSError) -> str:
    """Why a write failed, in plain words ('the disk is full'), from the operating system's error."""
    return _WHY.get(exc.errno or 0) or exc.strerror or str(exc)


def cannot_write(target: str | Path, exc: OSError, *, existed: bool) -> OutputError:
    """The :class:`OutputError` for ``target``: why, and that nothing half-written was left."""
    reason = why_not_written(exc)
    kept = f"{target} is as it was" if existed else f"{target} was not created"
    return OutputError(f"cannot write {target}: {reason}; nothing half-written was left ({kept})",
                       path=str(target), reason=reason)


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
            stream = open(target, "x", encoding="utf-8", newline="\n")  # noqa: SIM115 (removed if not whole)
            try:
                with stream:
                    stream.write(text)
            except OSError:
                target.unlink(missing_ok=True)  # ours ("x"), and not whole
                raise
    finally:
        Path(temporary).unlink(missing_ok=True)
