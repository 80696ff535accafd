"""Read a well-formed figures CSV a column at a time: the fast path of :func:`load_figures`.

A national file has hundreds of thousands of rows, and a Python loop that
checks each row costs several times the reading itself. Here the rows are
read in chunks and turned into columns; each column is converted by C-level
``map`` calls, each distinct area, measure, month and value text is worked out once,
and the work in Python is per series rather than per row.

This path only ever says "done" or "not for me": it mutates nothing until the
whole file has proved well formed, and at the first oddity (a blank, short or
comment row, an empty or non-numeric value, an unreadable month or name, a
figure given twice, bad encoding) it gives up and the row-by-row reader in
:mod:`csp_monitor.load.figures` reads the file again, with its messages.
Both paths give the same figures (tests/test_figures_columns.py checks).
"""

from __future__ import annotations

import gc
import itertools
import operator
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from csp_monitor.files import read_regular
from csp_monitor.models.figures import FigureSet, normalise_name
from csp_monitor.periods import parse_month

__all__ = ["read_csv_columns"]

_T = TypeVar("_T")
_REQUIRED = ("area", "measure", "period", "value")
_CHUNK_CHARACTERS = 1 << 20


def read_csv_columns(path: str | Path, result: FigureSet, *, max_value: float, max_bytes: int) -> bool:
    """Add a well-formed CSV file's figures to ``result`` and return True, or return False untouched.

    Only a regular file of at most ``max_bytes`` is read (a pipe or device is left to the
    row-by-row reader, which refuses it); a value above ``max_value`` is an oddity too.
    """
    try:
        text = read_regular(path, max_bytes).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    # Millions of new strings, floats and dictionaries, none in a reference cycle: the cyclic
    # collector's walks over them while they are made would find nothing, so it waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _read(text, max_value)
    finally:
        if collecting:
            gc.enable()
    del text
    if found is None:
        return False
    series_found, suspects = found
    # A figure an earlier file gave is a problem the row-by-row reader words: check before adding anything.
    for (area, measure), series in series_found.items():
        existing = result.series(area, measure)
        if existing and not existing.keys().isdisjoint(series):
            return False
    for (area, measure), series in series_found.items():
        result.series_for_update(area, measure).update(series)
    for (area, measure, month), reason in suspects.items():
        result.mark_suspect(area, measure, month, reason)
    return True


_Found = tuple[dict[tuple[str, str], dict[int, float]], dict[tuple[str, str, int], str]]


def _read(text: str, max_value: float) -> _Found | None:
    # Without quotes a CSV line is its cells joined by commas, so the csv module's parse is
    # str.split's; a quote, a lone carriage return or a NUL is left to the row-by-row reader.
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    position = 0
    while text.startswith("#", position) or text.startswith(" ", position):
        if not text[position:].lstrip(" ").startswith("#"):
            break
        position = text.find("\n", position) + 1
        if position == 0:
            return None
    end_of_header = text.find("\n", position)
    if end_of_header < 0:
        return None
    header = text[position:end_of_header].split(",")
    index: dict[str, int] = {}
    for column, cell in enumerate(header):
        index.setdefault(cell.strip().lower(), column)
    if any(column not in index for column in _REQUIRED):
        return None
    a_i, m_i, p_i, v_i = (index[column] for column in _REQUIRED)
    flag_index = index.get("flag", index.get("suspect"))
    reason_index = index.get("reason")
    width = len(header)

    names: dict[str, str] = {}
    months: dict[str, int] = {}
    converted: dict[str, float] = {}

    def figure(text: str) -> float:
        value = float(text)
        if not 0 <= value <= max_value:  # negative, too large, an infinity or NaN
            raise ValueError(f"not a figure: {text}")
        return value + 0.0  # -0 is read as nought, so that it never prints as "-0"

    found: dict[tuple[str, str], dict[int, float]] = {}
    suspects: dict[tuple[str, str, int], str] = {}
    position = end_of_header + 1
    size = len(text)
    if not text.endswith("\n"):
        text += "\n"
    size = len(text)
    stride = width + 1
    while position < size:
        # About a megabyte of whole lines at a time keeps the cells' strings a few tens of MB.
        cut = text.find("\n", position + _CHUNK_CHARACTERS) + 1 or size
        # Each line end becomes a cell of its own, "\n": every row has the header's cells exactly
        # when the line ends fall every width + 1 cells (a cell of the file never holds a line end).
        cells = text[position:cut].replace("\n", ",\n,").split(",")
        rows = (len(cells) - 1) // stride
        position = cut
        if len(cells) != rows * stride + 1 or cells[width::stride].count("\n") != rows:
            return None
        cells.pop()  # the empty text after the last line end
        area_texts, measure_texts, period_texts = cells[a_i::stride], cells[m_i::stride], cells[p_i::stride]
        # Runs of rows of one series (files are usually grouped): where the area or the measure text
        # changes from the row before, found by C-level maps; the work in Python is then per run.
        cuts = set(itertools.compress(range(1, rows), map(operator.ne, itertools.islice(area_texts, 1, None),
                                                             area_texts)))
        cuts.update(itertools.compress(range(1, rows), map(operator.ne, itertools.islice(measure_texts, 1, None),
                                                            measure_texts)))
        bounds = [0, *sorted(cuts), rows]
        starts = bounds[:-1]
        # Every row of a run has its first row's texts, so the first rows' are the ones to check.
        if not (_learn(map(area_texts.__getitem__, starts), names, normalise_name)
                and _learn(map(measure_texts.__getitem__, starts), names, normalise_name)):
            return None
        # Months and counts repeat (a few hundred distinct value texts in a national file): each
        # distinct text is converted and checked once, and every figure written alike shares its float.
        periods = _converted(period_texts, months, parse_month)
        values = _converted(cells[v_i::stride], converted, figure)
        if periods is None or values is None:
            return None
        # One dictionary update per run.
        for start, end in itertools.pairwise(bounds):
            key = (names[area_texts[start]], names[measure_texts[start]])
            series = found.get(key)
            if series is None:
                series = found[key] = dict(zip(periods[start:end], values[start:end], strict=True))
                if len(series) != end - start:
                    return None
            else:
                before = len(series)
                series.update(zip(periods[start:end], values[start:end], strict=True))
                if len(series) != before + end - start:
                    return None
        if flag_index is not None:
            flags = cells[flag_index::stride]
            if any(map(str.strip, flags)):
                reasons = cells[reason_index::stride] if reason_index is not None else None
                for row, flag in enumerate(flags):
                    if flag.strip():
                        reason = reasons[row].strip() if reasons is not None else ""
                        key3 = (names[area_texts[row]], names[measure_texts[row]], periods[row])
                        suspects[key3] = reason or flag.strip()
    return found, suspects


def _converted(texts: list[str], known: dict[str, _T], convert: Callable[[str], _T]) -> list[_T] | None:
    """Each text's value, working out the texts not yet known first; None when one is empty or unreadable."""
    try:
        return list(map(known.__getitem__, texts))
    except KeyError:
        if not _learn(texts, known, convert):
            return None
        return list(map(known.__getitem__, texts))


def _learn(texts: Iterable[str], known: dict[str, _T], convert: Callable[[str], _T]) -> bool:
    """Work out each new distinct text of a column once; False when one is empty or unreadable."""
    for text in set(texts).difference(known):
        try:
            value = convert(text)
        except ValueError:
            return False
        if value == "":
            return False
        known[text] = value
    return True
