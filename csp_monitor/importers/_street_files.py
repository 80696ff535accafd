"""Finding police.uk street-level files: in zip archives, folders, or given one by one.

police.uk hands out zip archives of ``YYYY-MM/YYYY-MM-<force>-street.csv``
(beside ``-outcomes.csv`` and ``-stop-and-search.csv`` files, which are not
crimes and are left alone). The month and force come from the file name; a
street CSV given by hand under another name is read for its months instead.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from csp_monitor.errors import Problem
from csp_monitor.files import not_regular, open_regular
from csp_monitor.names import slug
from csp_monitor.periods import format_month

__all__ = [
    "MAX_MEMBER_BYTES",
    "StreetFile",
    "close_archives",
    "find_street_files",
    "open_street_file",
    "read_street_file",
]

_STREET_NAME = re.compile(r"(?:^|/)(\d{4})-(\d{2})-(.+)-street\.csv$", re.IGNORECASE)
_OTHER_POLICE_UK = re.compile(r"-(outcomes|stop-and-search)\.csv$", re.IGNORECASE)

MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""The largest street file read from an archive: a force's month is tens of megabytes at most."""


@dataclass(frozen=True, slots=True)
class StreetFile:
    """One street-level CSV: on disk (``member`` None) or inside a zip archive."""

    label: str
    path: str
    member: str | None
    force: str
    month: int | None
    size: int


_archives = threading.local()


def open_street_file(file: StreetFile) -> IO[bytes]:
    """Open the file's bytes for reading (the caller closes it).

    Zip archives stay open, one handle per thread, between members: a national
    archive's directory of a thousand entries costs milliseconds to read, and
    is read once rather than once per member. :func:`close_archives` closes them.
    """
    if file.member is None:
        return open_regular(file.path)
    return _archive(file.path).open(file.member)


def read_street_file(file: StreetFile) -> bytes:
    """The whole content of a zip member, inflated with ISA-L when ``isal`` is installed (twice zlib's speed).

    A member never inflates past the size its archive declares (a "zip bomb"
    that claims 1,000 bytes and inflates to gigabytes is refused once it passes
    1,001), and no member over :data:`MAX_MEMBER_BYTES` is inflated at all.
    """
    if file.member is None:
        with open_regular(file.path) as handle:
            return handle.read()
    if file.size > MAX_MEMBER_BYTES:
        raise zipfile.BadZipFile(
            f"{file.member} claims {file.size:,} bytes, more than any police.uk street file "
            f"({MAX_MEMBER_BYTES // 2**20} MiB)")
    fast = _fast_inflate()
    if fast is not None:
        archive = _archive(file.path)
        info = archive.getinfo(file.member)
        if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x1:
            return _inflate_member(file.path, info, fast)
    with open_street_file(file) as handle:
        # read(n) inflates at most n bytes; read() would inflate the whole stream whatever it claims.
        # (zipfile stops at the declared size and then checks the CRC).
        return handle.read(file.size + 1)


def _bomb_message(member: str, size: int) -> str:
    return f"{member} inflates to more than the {size:,} bytes its archive declares"


_Inflate = Callable[[bytes, int], bytes]


def _fast_inflate() -> tuple[_Inflate, Callable[[bytes], int]] | None:
    try:
        from isal import isal_zlib  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None

    def inflate(data: bytes, size: int) -> bytes:
        # max_length caps the output: one byte past the declared size shows the member lies.
        inflater = isal_zlib.decompressobj(-15)
        return bytes(inflater.decompress(data, size + 1))

    def crc32(data: bytes) -> int:
        return int(isal_zlib.crc32(data))

    return inflate, crc32


def _inflate_member(path: str, info: zipfile.ZipInfo, fast: tuple[_Inflate, Callable[[bytes], int]]) -> bytes:
    """Read a member's raw deflate stream from its local header on and inflate it, checking size and CRC."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        data = handle.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is cut short")
    inflate, crc32 = fast
    try:
        content = inflate(data, info.file_size)
    except Exception as exc:  # isal's own error type
        raise zipfile.BadZipFile(f"{info.filename} cannot be inflated: {exc}") from None
    if len(content) > info.file_size:
        raise zipfile.BadZipFile(_bomb_message(info.filename, info.file_size))
    if len(content) != info.file_size or crc32(content) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
    return content


def _archive(path: str) -> zipfile.ZipFile:
    cache: dict[str, zipfile.ZipFile] | None = getattr(_archives, "open", None)
    if cache is None:
        cache = _archives.open = {}
        with _all_lock:
            _all_caches.append(cache)
    archive = cache.get(path)
    if archive is None:
        archive = cache[path] = zipfile.ZipFile(path)
    return archive


_all_lock = threading.Lock()
_all_caches: list[dict[str, zipfile.ZipFile]] = []


def close_archives() -> None:
    """Close every archive this process holds open."""
    with _all_lock:
        for cache in _all_caches:
            for archive in cache.values():
                archive.close()
            cache.clear()


def _name_parts(name: str) -> tuple[int | None, str]:
    match = _STREET_NAME.search(name.replace("\\", "/"))
    if not match:
        return None, slug(Path(name).stem)
    year, month, force = int(match.group(1)), int(match.group(2)), match.group(3).lower()
    if not 1 <= month <= 12:
        return None, force
    return year * 12 + month - 1, force


def _zip_members(path: str, problems: list[Problem]) -> Iterator[StreetFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        problems.append(Problem(
            f"the archive is damaged or incomplete ({exc}): download it again", file=path))
        return
    except OSError as exc:
        problems.append(Problem(f"the archive cannot be read: {exc.strerror or exc}", file=path))
        return
    found = False
    for info in infos:
        if info.is_dir() or not info.filename.lower().endswith(".csv"):
            continue
        if _OTHER_POLICE_UK.search(info.filename):
            continue
        month, force = _name_parts(info.filename)
        if month is None:
            continue
        found = True
        if info.file_size > MAX_MEMBER_BYTES:
            problems.append(Problem(
                f"{info.filename} claims {info.file_size:,} bytes, more than any police.uk street file "
                f"({MAX_MEMBER_BYTES // 2**20} MiB): is this the archive police.uk gave?", file=path))
            continue
        yield StreetFile(label=f"{path}/{info.filename}", path=path, member=info.filename,
                         force=force, month=month, size=info.file_size)
    if not found:
        problems.append(Problem(
            "the archive holds no police.uk street files (YYYY-MM/YYYY-MM-<force>-street.csv)", file=path))


def _disk_file(path: str, *, explicit: bool) -> StreetFile | None:
    month, force = _name_parts(path)
    if month is None and not explicit:
        return None
    return StreetFile(label=path, path=path, member=None, force=force, month=month,
                      size=os.path.getsize(path))


def find_street_files(paths: Iterable[str | Path]) -> tuple[list[StreetFile], list[Problem]]:
    """Every street file under the given archives, folders and CSV files, with the problems met."""
    problems: list[Problem] = []
    files: list[StreetFile] = []
    for given in paths:
        path = str(given)
        if os.path.isdir(path):
            before, problems_before = len(files), len(problems)
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    full = os.path.join(root, name)
                    lower = name.lower()
                    if not lower.endswith((".zip", "-street.csv")):
                        continue
                    if not _regular(full, problems):
                        continue
                    if lower.endswith(".zip"):
                        files.extend(_zip_members(full, problems))
                    else:
                        found = _disk_file(full, explicit=False)
                        if found is not None:
                            files.append(found)
            if len(files) == before and len(problems) == problems_before:
                problems.append(Problem("the folder holds no police.uk archives or street files", file=path))
        elif not os.path.exists(path):
            problems.append(Problem("no such file or folder", file=path))
        elif not _regular(path, problems):
            continue
        elif path.lower().endswith(".zip") or zipfile.is_zipfile(path):
            files.extend(_zip_members(path, problems))
        else:
            found = _disk_file(path, explicit=True)
            if found is not None:
                files.append(found)
    problems.extend(_duplicates(files))
    return files, problems


def _regular(path: str, problems: list[Problem]) -> bool:
    """True for a regular file; otherwise say what it is (a named pipe would block the import for ever)."""
    try:
        kind = not_regular(path)
    except OSError as exc:
        problems.append(Problem(f"cannot be read: {exc.strerror or exc}", file=path))
        return False
    if kind is not None:
        problems.append(Problem(f"this is {kind}, not a file: give police.uk archives or street files", file=path))
        return False
    return True


def _duplicates(files: list[StreetFile]) -> list[Problem]:
    """The same force and month twice would be counted twice: refuse it."""
    seen: dict[tuple[str, int], StreetFile] = {}
    problems: list[Problem] = []
    for file in files:
        if file.month is None:
            continue
        key = (file.force, file.month)
        first = seen.get(key)
        if first is None:
            seen[key] = file
        else:
            problems.append(Problem(
                f"{file.force} {format_month(file.month)} is also in {first.label}: "
                "give each force's month once, or it would be counted twice", file=file.label))
    return problems
