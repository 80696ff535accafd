"""Builders of small hostile files: a far cell in a workbook, a zip bomb, a configuration."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

__all__ = ["STREET_HEADER", "far_cell_workbook", "rewritten_workbook", "write_config", "zip_bomb"]

STREET_HEADER = (b"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                 b"Crime type,Last outcome category,Context\n")


def far_cell_workbook(path: Path, cell: str, *, dimension: str | None = None) -> Path:
    """A small wide table (Measure, Apr-13, May-13) plus one value at ``cell``; optionally a forged dimension."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Measure", "Apr-13", "May-13"])
    sheet.append(["Burglary", 1, 2])
    if cell:
        sheet[cell] = 1
    workbook.save(path)
    if dimension is not None:
        _forge_dimension(path, dimension)
    return path


def _forge_dimension(path: Path, dimension: str) -> None:
    rewritten_workbook(path, {"xl/worksheets/sheet1.xml": lambda sheet: re.sub(
        rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), sheet)})


def rewritten_workbook(path: Path, parts: dict[str, Callable[[bytes], bytes]]) -> Path:
    """The workbook at ``path`` with each named part rewritten (a missing part is given b"" to rewrite)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    for name, rewrite in parts.items():
        members[name] = rewrite(members.get(name, b""))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zip_bomb(path: Path, *, inflated_mib: int = 1500, claimed: int | None = 1000,
             member: str = "2020-01/2020-01-leicestershire-street.csv") -> Path:
    """A zip whose one street file inflates to ``inflated_mib`` MiB of NULs but claims ``claimed`` bytes.

    ``claimed=None`` declares the true size. The deflate stream is one
    compressed MiB repeated (each ends with a full flush, so copies join), so
    building a 1.5 GB bomb takes a moment, not a minute.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(STREET_HEADER) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b"\0" * 2**20) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = head + block * inflated_mib + b"\x03\x00"  # a final empty block ends the stream
    true_size = len(STREET_HEADER) + inflated_mib * 2**20
    size = true_size if claimed is None else claimed
    crc = zlib.crc32(STREET_HEADER)
    name = member.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), size, len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(stream), size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(stream), 0)
    path.write_bytes(local + stream + central + end)
    return path


def write_config(folder: Path, extra: str = "", *, figures: str | None = None,
                 delivery: str = "  folder: outbox/\n") -> Path:
    """A monitor configuration in ``folder`` with Harborough's rules, a state file and the given parts."""
    path = folder / "csp-monitor.yaml"
    path.write_text(
        f"rules: [{HARBOROUGH_RULES}]\n"
        f"figures: {figures if figures is not None else f'[{HARBOROUGH_FIGURES}]'}\n"
        "state: state.db\n"
        "delivery:\n"
        '  from: "Monitor <monitor@example.org>"\n'
        f"{delivery}"
        f"{extra}", encoding="utf-8")
    return path
