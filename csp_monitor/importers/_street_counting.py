"""Counting one police.uk street file: rows per month, district and crime type.

Three ways to count, one answer:

- the *checked* path reads row by row with the csv module, knows every line
  number and reports each malformed row; it is the reference;
- the *fast* path splits clean blocks of text on commas (quoted lines go
  through the csv module) and counts with C-level ``Counter.update``;
- the *arrow* path (when pyarrow is installed) parses with Arrow's
  multi-threaded CSV reader.

The fast and arrow paths give up on anything unusual (a wrong field count, a
bad month, an unknown crime type, bytes that are not UTF-8, a quoted line
break) and the file is read again by the checked path, which says what is
wrong and where. So speed never changes a count or hides a problem.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import IO, Any

from csp_monitor.errors import Problem, shown_value
from csp_monitor.importers._street_files import StreetFile, open_street_file, read_street_file
from csp_monitor.importers.areas import district_of_lsoa, slugify
from csp_monitor.importers.crime_types import KNOWN_CRIME_TYPES
from csp_monitor.names import near_typo
from csp_monitor.periods import format_month, parse_month

__all__ = ["ENGINES", "FileCount", "Key", "count_street_file", "default_engine"]

ENGINES = ("auto", "arrow", "python", "checked")

Key = tuple[int, str, str]
"""(month index, district slug or "" when the row has no location, measure slug)."""

_REQUIRED_COLUMNS = ("Month", "LSOA name", "Crime type")
_BLOCK_BYTES = 4 * 1024 * 1024
_MAX_HEADER_BYTES = 64 * 1024
_MAX_LISTED_PROBLEMS = 20


@dataclass(slots=True)
class FileCount:
    """What one street file holds, counted."""

    file: StreetFile
    counts: dict[Key, int] = field(default_factory=dict)
    rows: int = 0
    malformed: int = 0
    problems: list[Problem] = field(default_factory=list)
    fatal: bool = False
    empty: bool = False
    engine: str = "python"


@dataclass(frozen=True, slots=True)
class _Header:
    names: tuple[str, ...]
    month: int
    lsoa: int
    crime_type: int


class _GiveUp(Exception):
    """The fast path met something unusual: read the file again, checked."""


def default_engine() -> str:
    """``arrow`` when pyarrow is installed, else ``python``."""
    try:
        import pyarrow.csv  # type: ignore[import-untyped,import-not-found,unused-ignore] # noqa: F401
    except ImportError:
        return "python"
    return "arrow"


def count_street_file(file: StreetFile, engine: str = "auto", threads: bool = True) -> FileCount:
    """Count one street file; problems (never exceptions) say what is wrong with it.

    ``threads``: let Arrow parse with its own threads (off when files are counted in parallel).
    """
    if engine == "auto":
        engine = default_engine()
    try:
        content: bytes | None = None
        if file.member is not None and file.size <= _IN_MEMORY_BYTES:
            # Inflate a member once, whole (with ISA-L when installed); parse from memory.
            content = read_street_file(file)
        opener = _opener(file, content)
        header = _read_header(file, opener)
        if isinstance(header, FileCount):
            return header
        if engine in ("arrow", "python"):
            try:
                if engine == "arrow":
                    return _count_arrow(file, header, content, threads)
                return _count_fast(file, header, opener)
            except _GiveUp:
                pass
        return _count_checked(file, header, opener)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        return _fatal(file, f"the archive is damaged or incomplete ({exc}): download it again")
    except OSError as exc:
        return _fatal(file, f"the file cannot be read: {exc.strerror or exc}")


def _opener(file: StreetFile, content: bytes | None) -> Callable[[], IO[bytes]]:
    if content is not None:
        data = content
        return lambda: io.BytesIO(data)
    return lambda: open_street_file(file)


def _fatal(file: StreetFile, message: str, line: int | None = None, column: int | None = None) -> FileCount:
    return FileCount(file=file, fatal=True, problems=[Problem(message, file=file.label, line=line, column=column)])


def _read_header(file: StreetFile, opener: Callable[[], IO[bytes]]) -> _Header | FileCount:
    with opener() as handle:
        raw = handle.readline(_MAX_HEADER_BYTES)
    if not raw.strip():
        return _fatal(file, "the file is empty: not even a header (a failed download?)", line=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _fatal(file, "the header is not UTF-8 text: not a police.uk street file", line=1, column=1)
    names = tuple(cell.strip() for cell in next(csv.reader([text.rstrip("\r\n")]), []))
    missing = [column for column in _REQUIRED_COLUMNS if column not in names]
    if missing:
        hints = []
        for column in missing:
            close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
            if close:
                hints.append(f"'{close[0]}' for '{column}'")
        message = (f"not a police.uk street-level file: the header has no "
                   f"{' or '.join(repr(c) for c in missing)} column (expected Crime ID, Month, "
                   "Reported by, Falls within, Longitude, Latitude, Location, LSOA code, LSOA name, "
                   "Crime type, Last outcome category, Context)")
        if hints:
            message += f"; is {', '.join(hints)} a misspelling?"
        return _fatal(file, message, line=1, column=1)
    return _Header(names=names, month=names.index("Month"), lsoa=names.index("LSOA name"),
                   crime_type=names.index("Crime type"))


class _KeyChecker:
    """Turns raw (month, LSOA name, crime type) texts into keys, or says why not."""

    def __init__(self, month: int | None) -> None:
        self.month = month
        self.month_text = format_month(month) if month is not None else None
        self._months: dict[str, int | str] = {}
        self._districts: dict[str, str | None] = {}

    def month_of(self, text: str) -> int | str:
        """The month index, or the reason the text is not this file's month."""
        found = self._months.get(text)
        if found is None:
            found = self._check_month(text)
            self._months[text] = found
        return found

    def _check_month(self, text: str) -> int | str:
        stripped = text.strip()
        if self.month_text is not None and stripped == self.month_text:
            return self.month if self.month is not None else 0
        try:
            month = parse_month(stripped)
        except ValueError:
            return f"the month '{stripped}' is not a month written YYYY-MM"
        if self.month is not None and month != self.month:
            return f"the month {format_month(month)} does not match the file's month {self.month_text}"
        return month

    def district_of(self, lsoa_name: str) -> str | None:
        """The district slug ("" for no location), or None when the LSOA name has no code."""
        if lsoa_name in self._districts:
            return self._districts[lsoa_name]
        stripped = lsoa_name.strip()
        district = district_of_lsoa(stripped) if stripped else ""
        self._districts[lsoa_name] = district
        return district


def _crime_type_problem(text: str) -> str:
    message = f"'{shown_value(text.strip())}' is not a police.uk crime type"
    close = near_typo(text, KNOWN_CRIME_TYPES)
    if close:
        message += f" (did you mean '{close}'?)"
    return message


_DISTRICTS: dict[bool, dict[str, str]] = {False: {}, True: {}}
"""LSOA names (False) and district names cut from them by Arrow (True) -> district slug, per process."""


def _keys_from_raw(raw: Iterable[tuple[tuple[str, str, str], int]], checker: _KeyChecker,
                   *, has_code: bool = False) -> dict[Key, int]:
    """Validate raw counted texts; any bad one means the checked path must find its lines.

    With ``has_code`` the middle text is a district name already cut from its LSOA code.
    """
    counts: dict[Key, int] = {}
    months: dict[str, int] = {}
    districts = _DISTRICTS[has_code]
    types = KNOWN_CRIME_TYPES
    for (month_text, place, type_text), number in raw:
        month = months.get(month_text)
        if month is None:
            found = checker.month_of(month_text)
            if isinstance(found, str):
                raise _GiveUp
            month = months[month_text] = found
        district = districts.get(place)
        if district is None:
            district = _district(place, has_code=has_code)
            if district is None:
                raise _GiveUp
        slug = types.get(type_text)
        if slug is None:
            slug = types.get(type_text.strip())
            if slug is None:
                raise _GiveUp
        key = (month, district, slug)
        counts[key] = counts.get(key, 0) + number
    return counts


def _district(place: str, *, has_code: bool) -> str | None:
    stripped = place.strip()
    if not stripped:
        district: str | None = ""
    elif has_code:
        district = slugify(stripped) or None
    else:
        district = district_of_lsoa(stripped)
    if district is not None:
        _DISTRICTS[has_code][place] = district
    return district


def _count_fast(file: StreetFile, header: _Header, opener: Callable[[], IO[bytes]]) -> FileCount:
    width = len(header.names)
    getter: Callable[[list[str]], tuple[str, str, str]] = itemgetter(header.month, header.lsoa, header.crime_type)
    raw: Counter[tuple[str, str, str]] = Counter()
    rows = 0
    # A CRLF file leaves "\r" on the last field; only strip it when that field is counted.
    strip = width - 1 in (header.month, header.lsoa, header.crime_type)
    with opener() as handle, _collector_paused():
        handle.readline(_MAX_HEADER_BYTES)
        rest = b""
        while True:
            block = handle.read(_BLOCK_BYTES)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                continue
            rest = block[cut:]
            rows += _count_block(block[:cut], width, getter, raw, strip_returns=strip)
        if rest.strip():
            rows += _count_block(rest + b"\n", width, getter, raw, strip_returns=strip)
    counts = _keys_from_raw(raw.items(), _KeyChecker(file.month))
    return FileCount(file=file, counts=counts, rows=rows, empty=rows == 0, engine="python")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: splitting makes lists by the million, none of them cyclic,
    and the collector's passes over them cost a quarter of the fast path's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _count_block(block: bytes, width: int, getter: Callable[[list[str]], tuple[str, str, str]],
                 raw: Counter[tuple[str, str, str]], *, strip_returns: bool) -> int:
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        raise _GiveUp from None
    if strip_returns and "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    lines.pop()  # the block ends with a newline
    fields = list(map(str.split, lines, repeat(",")))
    if '"' in text:
        for index in _quoted_lines(text):
            line = lines[index]
            if line.count('"') % 2:
                raise _GiveUp  # a quoted line break: leave it to the csv module
            fields[index] = next(csv.reader([line]))
    if set(map(len, fields)) != {width}:
        if not fields:
            return 0
        raise _GiveUp  # a wrong field count, a blank line or a stray carriage return
    raw.update(map(getter, fields))
    return len(fields)


def _quoted_lines(text: str) -> list[int]:
    """The indexes of the lines holding a double quote (few: found without a loop over every line)."""
    found: list[int] = []
    line = 0
    searched = 0
    position = text.find('"')
    while position >= 0:
        line += text.count("\n", searched, position)
        searched = position
        found.append(line)
        end = text.find("\n", position)
        if end < 0:
            break
        line += 1
        searched = end + 1
        position = text.find('"', searched)
    return found


def _count_checked(file: StreetFile, header: _Header, opener: Callable[[], IO[bytes]]) -> FileCount:
    width = len(header.names)
    checker = _KeyChecker(file.month)
    result = FileCount(file=file, engine="checked")
    counts = result.counts
    needed = (header.month, header.lsoa, header.crime_type)
    with opener() as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            next(reader, None)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                result.rows += 1
                message, column = _row_problem(row, width, needed, checker)
                if message is None:
                    month = checker.month_of(row[header.month])
                    slug = KNOWN_CRIME_TYPES.get(row[header.crime_type].strip())
                    district = checker.district_of(row[header.lsoa])
                    assert isinstance(month, int) and slug is not None and district is not None
                    key = (month, district, slug)
                    counts[key] = counts.get(key, 0) + 1
                    continue
                result.malformed += 1
                if result.malformed <= _MAX_LISTED_PROBLEMS:
                    result.problems.append(Problem(message, file=file.label, line=reader.line_num,
                                                   column=column))
        except csv.Error as exc:
            result.fatal = True
            reason = (f"a value on this line is longer than {csv.field_size_limit():,} characters: this is not a "
                      "police.uk street file" if "field limit" in str(exc) else f"the file cannot be read as CSV: {exc}")
            result.problems.append(Problem(reason, file=file.label, line=max(reader.line_num, 1)))
    if result.malformed > _MAX_LISTED_PROBLEMS:
        result.problems.append(Problem(
            f"and {result.malformed - _MAX_LISTED_PROBLEMS} more malformed rows "
            f"({result.malformed} in all)", file=file.label))
    result.empty = result.rows == 0
    return result


def _row_problem(row: list[str], width: int, needed: tuple[int, int, int],
                 checker: _KeyChecker) -> tuple[str | None, int | None]:
    """What is wrong with a row, and the column (1-based character) where, if anything."""
    if len(row) != width:
        hint = " (an unquoted comma in a location?)" if len(row) > width else ""
        return f"the row has {len(row)} fields where the header has {width}{hint}", 1
    month_i, lsoa_i, type_i = needed
    for index in needed:
        if "\ufffd" in row[index]:
            return "the row is not UTF-8 text", _column(row, index)
    month = checker.month_of(row[month_i])
    if isinstance(month, str):
        return month, _column(row, month_i)
    if row[type_i].strip() not in KNOWN_CRIME_TYPES:
        return _crime_type_problem(row[type_i]), _column(row, type_i)
    if checker.district_of(row[lsoa_i]) is None:
        return (f"the LSOA name '{row[lsoa_i].strip()}' does not end in an LSOA code such as "
                "'Harborough 012B'"), _column(row, lsoa_i)
    return None, None


def _column(row: list[str], index: int) -> int:
    """The character column of a field (exact when no field before it was quoted)."""
    return sum(len(cell) + 1 for cell in row[:index]) + 1


def _count_arrow(file: StreetFile, header: _Header, content: bytes | None, threads: bool) -> FileCount:
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped,import-not-found,unused-ignore]

    wanted = [header.names[i] for i in (header.month, header.lsoa, header.crime_type)]
    if len(set(header.names)) != len(header.names):
        raise _GiveUp  # Arrow needs unique column names
    raw: Counter[tuple[str, str, str]] = Counter()
    suffixes: set[str] = set()
    no_location = 0
    rows = 0
    source: Any
    if content is not None:
        # Parsing from memory is faster than Arrow pulling small reads through a Python file.
        source = pa.BufferReader(content)
    elif file.member is None:
        source = pa.memory_map(file.path)
    else:
        source = open_street_file(file)
    with source:
        try:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(column_names=list(header.names), skip_rows=1, use_threads=threads,
                                               block_size=16 * 1024 * 1024),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()),
                    strings_can_be_null=False, quoted_strings_can_be_null=False))
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                rows += batch.num_rows
                lsoa = batch.column(1)
                # "Harborough 012B": group on the district part, so that a month makes a few
                # hundred (district, type) pairs rather than thousands of LSOAs; the code
                # parts are checked once each.
                suffixes.update(pc.unique(pc.utf8_slice_codeunits(lsoa, -5)).to_pylist())
                no_location += pc.sum(pc.equal(lsoa, "")).as_py() or 0
                table = pa.table({"month": batch.column(0), "district": pc.utf8_slice_codeunits(lsoa, 0, -5),
                                  "type": batch.column(2)})
                grouped = table.group_by(["month", "district", "type"], use_threads=False
                                         ).aggregate([([], "count_all")])
                months, districts, types, numbers = (grouped.column(i).to_pylist() for i in range(4))
                raw.update(dict(zip(zip(months, districts, types, strict=True), numbers, strict=True)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
            raise _GiveUp from None
    if any(suffix and not _LSOA_SUFFIX.match(suffix) for suffix in suffixes):
        raise _GiveUp  # an LSOA name without its code: the checked path says where
    if sum(n for (_, district, _), n in raw.items() if not district.strip()) != no_location:
        raise _GiveUp  # an LSOA name that is only a code
    counts = _keys_from_raw(raw.items(), _KeyChecker(file.month), has_code=True)
    return FileCount(file=file, counts=counts, rows=rows, empty=rows == 0, engine="arrow")


_LSOA_SUFFIX = re.compile(r"^ \d{3}[A-Z]$")
_IN_MEMORY_BYTES = 256 * 1024 * 1024
