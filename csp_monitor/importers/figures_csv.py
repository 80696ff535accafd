"""Writing imported figures as the long ``area,measure,period,value`` CSV, atomically.

The file is written beside its destination under a temporary name and moved
into place with ``os.replace`` once complete, so a reader (or the daemon)
never sees half a file, and a failed import leaves the old file untouched.
Suspect figures carry ``flag`` = ``suspect`` and the evidence in ``reason``;
the figures loader ignores columns it does not use.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from csp_monitor.errors import FiguresError, Problem
from csp_monitor.files import atomic_path, overwritten_input, special_output

__all__ = ["FigureRow", "check_output", "write_figures_csv"]


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One output row: a monthly value, and why it is suspect if it is."""

    area: str
    measure: str
    period: str
    value: float
    reason: str | None = None


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def check_output(out: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Fail early, before a long import, when ``out`` cannot be written or is one of the ``inputs``."""
    target = Path(out)
    kind = special_output(out)
    if kind is not None:
        raise FiguresError([Problem(f"this is {kind}, not a file: give the file to write the figures to",
                                    file=str(out))])
    same = overwritten_input(out, inputs)
    if same is not None:
        raise FiguresError([Problem(f"this is {_also(out, same)}an input of the import: writing the figures here "
                                    "would overwrite it; give another file", file=str(out))])
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FiguresError([Problem("the folder for the output file does not exist", file=str(out))])
    if target.is_dir():
        raise FiguresError([Problem("the output is a folder: give a file name", file=str(out))])


def _also(out: str | Path, same: str) -> str:
    return "" if os.path.abspath(out) == os.path.abspath(same) else f"{same} (by another name), "


def write_figures_csv(rows: Iterable[FigureRow], out: str | Path) -> int:
    """Write the rows to ``out`` atomically; return how many were written."""
    check_output(out)
    written = 0
    # A failed write (a full disk) is an OutputError from atomic_path, the old file as it was.
    with atomic_path(out) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("area", "measure", "period", "value", "flag", "reason"))
        for row in rows:
            writer.writerow((row.area, row.measure, row.period, _text(row.value),
                             "suspect" if row.reason else "", row.reason or ""))
            written += 1
    return written
