"""Load monthly figures from long-format CSV or JSON files.

CSV: a header with ``area,measure,period,value`` (any order, any case, extra
columns ignored, UTF-8 with or without a byte-order mark); one row per area,
measure and month. An empty value means "no figure" (a missing month is not a
zero). Lines starting with ``#`` are comments. An optional ``flag`` column marks a figure ``suspect``,
with the evidence in an optional ``reason`` column (the police.uk importer's data-quality checks write both).

JSON: a list of ``{"area", "measure", "period", "value"}`` objects, or an
object ``{"figures": [...]}``; an entry may give a run of months as
``{"area", "measure", "from": "2012-04", "values": [...]}``.

Every problem in a file is reported at once as ``file:line:col: message``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from csp_monitor.arguments import check_paths
from csp_monitor.errors import FiguresError, Problem, shown_value
from csp_monitor.files import open_regular, read_regular
from csp_monitor.load.figures_columns import read_csv_columns
from csp_monitor.load.json_positions import json_positions
from csp_monitor.load.validation import closest_word, validate_located
from csp_monitor.load.yaml_source import MAX_DEPTH, Located, Positions
from csp_monitor.models.figures import MAX_FIGURE, FigureSet, normalise_name
from csp_monitor.periods import LAST_YEAR, format_month, parse_month

__all__ = [
    "MAX_FIGURE",
    "MAX_FIGURES_BYTES",
    "FigureEntry",
    "figures_from_entries",
    "json_number",
    "load_figures",
    "parse_value",
    "read_figures",
]

MAX_FIGURES_BYTES = 512 * 1024 * 1024
"""A national five-year set is tens of megabytes; anything this large is a mistake."""


_MAX_PROBLEMS = 200
_REQUIRED = ("area", "measure", "period", "value")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DIGITS = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")  # a numeral (too large if infinite)


def parse_value(text: str) -> float | None:
    """A figure's value: ``1,159`` and ``88%`` are accepted; empty means no figure.

    Raises ValueError with a plain-English reason.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.endswith("%"):
        stripped = stripped[:-1].strip()
    if _THOUSANDS.match(stripped):
        stripped = stripped.replace(",", "")
    shown = shown_value(text.strip())
    try:
        value = float(stripped)
    except ValueError:
        raise ValueError(f"the value '{shown}' is not a number") from None
    if value != value or (value in (float("inf"), float("-inf")) and not _DIGITS.match(stripped)):
        raise ValueError(f"the value '{shown}' is not a number")
    if value < 0:
        raise ValueError(f"the value {shown} is negative: figures are counts, rates or percentages")
    if value > MAX_FIGURE:
        raise ValueError(f"the value {shown} is too large: figures must be at most {MAX_FIGURE:,.0f}")
    return value + 0.0  # -0 is nought, never printed as "-0"


def json_number(text: str) -> int | str:
    """A JSON integer; one of more than 30 digits stays text (Python refuses int() of 4,300), refused as too large."""
    return int(text) if len(text) <= 30 else text


def load_figures(paths: str | Path | Sequence[str | Path]) -> FigureSet:
    """Load one or more figures files into one :class:`FigureSet` (which refuses changes)."""
    return read_figures(paths).freeze()


def read_figures(paths: str | Path | Sequence[str | Path]) -> FigureSet:
    """:func:`load_figures` for loaders that go on adding to the set (figures sources): not frozen."""
    paths = check_paths(paths)
    problems: list[Problem] = []
    result = FigureSet()
    earlier: list[tuple[str | Path, str]] = []
    for path in paths:
        name = str(path)
        suffix = Path(name).suffix.lower()
        try:
            size = Path(path).stat().st_size
        except FileNotFoundError:
            problems.append(Problem("no such file", file=name))
            continue
        except OSError as exc:
            problems.append(Problem(f"cannot be read: {exc.strerror}", file=name))
            continue
        if Path(path).is_dir():
            problems.append(Problem("this is a folder, not a figures file", file=name))
            continue
        if size > MAX_FIGURES_BYTES:
            problems.append(Problem(f"this file is larger than {MAX_FIGURES_BYTES // 2**20} MiB: split it by year",
                                    file=name))
            continue
        try:
            if suffix == ".json":
                _load_json(path, name, result, problems)
            elif suffix in {".csv", ".txt"} and not read_csv_columns(path, result, max_value=MAX_FIGURE,
                                                                     max_bytes=MAX_FIGURES_BYTES):
                _load_csv(path, name, result, earlier, problems)
        except MemoryError:  # a process limited (ulimit, a container) to less than this file needs
            problems.append(Problem(
                f"there is not enough memory to read these {size / 2**20:,.0f} MB of figures: split the file by "
                "year, or let csp-monitor use more memory", file=name))
            break  # nothing read is used once a file has problems, and the files after it would not fit either
        if suffix not in {".json", ".csv", ".txt"}:
            kind = f"'{suffix}' files" if suffix else "a file without a .csv or .json ending"
            problems.append(Problem(
                f"csp-monitor cannot read {kind} as figures: use a .csv or .json file "
                "(spreadsheets: csp-monitor import spreadsheet)", file=name))
            continue
        earlier.append((path, name))
    if problems:
        raise FiguresError(problems)
    return result


def _field_columns(line: str) -> list[int]:
    """1-based starting column of each field of a CSV line (quotes respected)."""
    columns = [1]
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            columns.append(index + 2)
    return columns


class _CsvFile:
    """One CSV figures file being read: problems are kept as (line, field, message)
    and given their columns at the end, so the fast path never keeps raw lines."""

    def __init__(self, path: str | Path, name: str) -> None:
        self.path = path
        self.name = name
        self.cells: list[tuple[int, int | None, str]] = []
        self.duplicates: list[tuple[int, int, tuple[str, str, int]]] = []

    def problems(self, earlier: list[tuple[str | Path, str]]) -> list[Problem]:
        wanted = {line for line, _, _ in self.cells} | {line for line, _, _ in self.duplicates}
        raw = _read_lines(self.path, wanted)
        first = _first_lines(self.path, {key for _, _, key in self.duplicates}) if self.duplicates else {}
        found = []
        for line, field, message in self.cells:
            column = 1 if field is None else _column(raw.get(line, ""), field)
            found.append(Problem(message, file=self.name, line=line, column=column))
        for line, field, key in self.duplicates:
            area, measure, month = key
            first_line = first.get(key)
            if first_line is not None and first_line < line:
                where = f"{self.name}:{first_line}"
            else:
                where = _earlier_place(earlier, key)
            found.append(Problem(f"{area} {measure} {format_month(month)} is given twice (first at {where}): keep one",
                                 file=self.name, line=line, column=_column(raw.get(line, ""), field)))
        return found


def _earlier_place(earlier: list[tuple[str | Path, str]], key: tuple[str, str, int]) -> str:
    """Where an earlier file gave the same figure (error path only)."""
    for path, name in earlier:
        if Path(name).suffix.lower() in {".csv", ".txt"}:
            line = _first_lines(path, {key}).get(key)
            if line is not None:
                return f"{name}:{line}"
        else:
            return name
    return "an earlier file"


def _column(raw_line: str, field: int) -> int:
    columns = _field_columns(raw_line)
    return columns[field] if field < len(columns) else 1


def _read_lines(path: str | Path, wanted: set[int]) -> dict[int, str]:
    """The raw text of a few lines (for column numbers in messages)."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number in wanted:
                found[number] = line
                if len(found) == len(wanted):
                    break
    return found


def _first_lines(path: str | Path, keys: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
    """Where each key first appears in a file (error path only)."""
    found: dict[tuple[str, str, int], int] = {}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = [c.strip().lower() for c in next(reader, [])]
        while header and header[0].startswith("#"):
            header = [c.strip().lower() for c in next(reader, [])]
        try:
            a_i, m_i, p_i = header.index("area"), header.index("measure"), header.index("period")
        except ValueError:
            return found
        for row in reader:
            try:
                key = (normalise_name(row[a_i]), normalise_name(row[m_i]), parse_month(row[p_i]))
            except (IndexError, ValueError):
                continue
            if key in keys and key not in found:
                found[key] = reader.line_num
    return found


def _load_csv(path: str | Path, name: str, result: FigureSet, earlier: list[tuple[str | Path, str]],
              problems: list[Problem]) -> None:
    try:
        # A regular file only: a named pipe would block the run for ever.
        handle = io.TextIOWrapper(open_regular(path), encoding="utf-8-sig", newline="")
    except OSError as exc:
        problems.append(Problem(f"cannot be read: {exc.strerror}", file=name))
        return
    state = _CsvFile(path, name)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            while header is not None and header and header[0].lstrip().startswith("#"):
                header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.append(_decode_problem(exc, path, name, reader.line_num))
            return
        if header is None:
            problems.append(Problem("this file is empty: it needs a header line area,measure,period,value",
                                    file=name, line=max(reader.line_num, 1), column=1))
            return
        header_line = reader.line_num
        if any("\x00" in cell for cell in header):
            problems.append(Problem("this is not a text file", file=name, line=header_line, column=1))
            return
        columns = [cell.strip().lower() for cell in header]
        index: dict[str, int] = {}
        for position, column in enumerate(columns):
            index.setdefault(column, position)
        missing = [c for c in _REQUIRED if c not in index]
        if missing:
            extras = [c for c in columns if c not in _REQUIRED]
            hints = [f"'{h}' looks like a misspelling of '{c}'" for c in missing if (h := _closest_raw(c, extras))]
            message = (f"the header must name the columns area, measure, period and value; "
                       f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
            if hints:
                message += f" ({'; '.join(hints)})"
            separator = _other_separator(header)
            if separator is not None:
                message = (f"the columns are separated by {separator}, not commas: save the file as 'CSV UTF-8 "
                           "(Comma delimited)' in Excel, or as 'Text CSV' with ',' as the field separator")
            problems.append(Problem(message, file=name, line=header_line, column=1))
            return
        flag_index = index.get("flag", index.get("suspect"))
        reason_index = index.get("reason")
        a_i, m_i, p_i, v_i = (index[c] for c in _REQUIRED)
        width = max(a_i, m_i, p_i, v_i) + 1
        cells, duplicates = state.cells, state.duplicates
        # Areas, measures and months repeat on every row: parse each distinct text once,
        # and keep the series of the previous row at hand (files are usually grouped).
        names: dict[str, str] = {}
        months: dict[str, int | str] = {}
        last_key: tuple[str, str] | None = None
        series: dict[int, float] = {}
        try:
            for row in reader:
                if len(cells) + len(duplicates) >= _MAX_PROBLEMS:
                    cells.append((reader.line_num, None, f"more than {_MAX_PROBLEMS} problems: stopped reading here"))
                    break
                if len(row) < width:
                    if not row or row[0].lstrip().startswith("#") or all(not cell.strip() for cell in row):
                        continue
                    cells.append((reader.line_num, None,
                                  f"this row has {len(row)} value{'s' if len(row) != 1 else ''} but the header "
                                  f"has {len(columns)} columns"))
                    continue
                period_text = row[p_i]
                month = months.get(period_text)
                if month is None:
                    try:
                        month = parse_month(period_text)
                    except ValueError as exc:
                        if row[0].lstrip().startswith("#"):
                            continue
                        month = f"period: {exc}"
                    months[period_text] = month
                value_text = row[v_i]
                value: float | None
                try:
                    value = float(value_text) + 0.0  # -0 is nought
                    if not 0 <= value <= MAX_FIGURE:  # negative, NaN, infinite or too large: let parse_value explain
                        value = parse_value(value_text)
                except ValueError:
                    try:
                        value = parse_value(value_text)
                    except ValueError as exc:
                        cells.append((reader.line_num, v_i, str(exc)))
                        continue
                if isinstance(month, str):
                    cells.append((reader.line_num, p_i, month))
                    continue
                area_text, measure_text = row[a_i], row[m_i]
                area = names.get(area_text)
                if area is None:
                    area = names[area_text] = normalise_name(area_text)
                measure = names.get(measure_text)
                if measure is None:
                    measure = names[measure_text] = normalise_name(measure_text)
                if not area or not measure:
                    which = a_i if not area else m_i
                    cells.append((reader.line_num, which, f"the {'area' if not area else 'measure'} is empty"))
                    continue
                if value is None:
                    continue
                if (area, measure) != last_key:
                    last_key = (area, measure)
                    series = result.series_for_update(area, measure)
                if month in series:
                    duplicates.append((reader.line_num, p_i, (area, measure, month)))
                    continue
                series[month] = value
                if flag_index is not None and flag_index < len(row) and row[flag_index].strip():
                    reason = row[reason_index].strip() if reason_index is not None and reason_index < len(row) else ""
                    result.mark_suspect(area, measure, month, reason or row[flag_index].strip())
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.extend(state.problems(earlier))
            problems.append(_decode_problem(exc, path, name, reader.line_num))
            return
    problems.extend(state.problems(earlier))


def _other_separator(header: list[str]) -> str | None:
    """'semicolons' or 'tabs' when a one-cell header is the required columns split by another character."""
    if len(header) != 1:
        return None
    for character, called in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars ('|')")):
        parts = {part.strip().lower() for part in header[0].split(character)}
        if set(_REQUIRED) <= parts:
            return called
    return None


def _closest_raw(word: str, options: list[str]) -> str | None:
    found = closest_word(word, options)  # column names are a fixed vocabulary, named in the same message
    return found.strip("'") if found else None


def _decode_problem(exc: Exception, path: str | Path, name: str, line: int) -> Problem:
    """Where a CSV file could not be read: the exact byte, or the line (and field) the CSV reader stopped on.

    The text is decoded in blocks ahead of the CSV reader, so its line count
    says nothing about where a bad byte is: the file is scanned for it.
    """
    if isinstance(exc, UnicodeDecodeError):
        found = _first_bad_byte(path)
        if found is None:  # pragma: no cover - the decoder failed, so the scan finds the byte
            return Problem("this file is not UTF-8 text: save it as 'CSV UTF-8'", file=name)
        line, column, byte = found
        if (line, column) == (1, 1) and byte in (b"\xff", b"\xfe"):  # the byte order mark of UTF-16
            return Problem("this file is UTF-16 text (Excel's 'Unicode Text'): save it as 'CSV UTF-8'", file=name,
                           line=1, column=1)
        guess = byte.decode("cp1252", errors="replace")
        hint = (f" (the byte {byte.hex()} here is '{guess}' in a Windows or Latin-1 file)"
                if guess.isprintable() and guess != "\ufffd" else f" (the byte {byte.hex()} here)")
        return Problem(f"this file is not UTF-8 text{hint}: save it as 'CSV UTF-8'", file=name, line=line,
                       column=column)
    # csv counts the line it stopped on (the last line of a value that spans lines).
    if "field larger than field limit" in str(exc):
        raw = _read_lines(path, {line}).get(line, "")
        starts = _field_columns(raw)
        ends = [*starts[1:], len(raw) + 2]
        column = next((start for start, end in zip(starts, ends, strict=True) if end - start - 1 > csv.field_size_limit()),
                      1)
        return Problem(f"this value is longer than {csv.field_size_limit():,} characters: is this a figures file?",
                       file=name, line=line, column=column)
    return Problem(f"this is not a valid CSV file: {exc}", file=name, line=line)


def _first_bad_byte(path: str | Path) -> tuple[int, int, bytes] | None:
    """The line, character column and value of the first byte that is not UTF-8, read in blocks."""
    line, tail, pending, first = 1, b"", b"", True
    with open_regular(path) as handle:
        while True:
            chunk = handle.read(1 << 20)
            data = pending + chunk
            if first:
                data, first = data.removeprefix(b"\xef\xbb\xbf"), False
            try:
                data.decode("utf-8")
                good, pending = data, b""
            except UnicodeDecodeError as exc:
                if chunk and exc.end == len(data) and exc.reason == "unexpected end of data":
                    good, pending = data[: exc.start], data[exc.start :]  # a character split between blocks
                else:
                    before = data[: exc.start]
                    start = before.rfind(b"\n")
                    current = before[start + 1 :] if start >= 0 else tail + before
                    column = len(current.decode("utf-8", errors="replace")) + 1
                    return line + before.count(b"\n"), column, data[exc.start : exc.start + 1]
            line += good.count(b"\n")
            newline = good.rfind(b"\n")
            tail = good[newline + 1 :] if newline >= 0 else tail + good
            if not chunk:
                return None


def _entry_value(item: Any) -> Any:
    """A figure of an entry: text as :func:`parse_value` reads it; JSON numbers checked the same way."""
    if isinstance(item, str):
        return parse_value(item)
    if isinstance(item, bool):
        raise ValueError(f"the value '{str(item).lower()}' is not a number")
    if isinstance(item, int | float):
        if not 0 <= item <= MAX_FIGURE:  # negative, NaN, infinite or too large: parse_value explains
            return parse_value(str(item))
        return float(item) + 0.0  # -0.0 is nought
    return item  # a list or mapping: the model says what is wrong



class FigureEntry(BaseModel):
    """One entry of a JSON figures file (or a rule test's inline figures)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    area: str = Field(min_length=1, description="The area.", examples=["harborough"])
    measure: str = Field(min_length=1, description="The measure's id (or source).", examples=["domestic-burglary"])
    period: str | None = Field(default=None, description="The month (YYYY-MM) of a single value.",
                               examples=["2014-03"])
    value: float | None = Field(default=None, ge=0, le=MAX_FIGURE, allow_inf_nan=False, description="A single month's value.",
                                examples=[22])
    from_: str | None = Field(default=None, alias="from", description="The first month of a run of values.",
                              examples=["2013-04"])
    values: list[float | None] | None = Field(
        default=None, description="Consecutive monthly values starting at 'from'; null for a missing month.",
        examples=[[20, 21, None, 19]])

    @model_validator(mode="before")
    @classmethod
    def _text_values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("value") is not None:
            data["value"] = _entry_value(data["value"])
        if isinstance(data.get("values"), list):
            data["values"] = [None if item is None else _entry_value(item) for item in data["values"]]
        for key in ("period", "from"):
            if data.get(key) is not None and not isinstance(data[key], str):
                data[key] = str(data[key])
        return data

    @model_validator(mode="after")
    def _shape(self) -> FigureEntry:
        single = self.period is not None
        run = self.from_ is not None or self.values is not None
        if single and run:
            raise ValueError("give either period and value, or from and values, not both")
        if run and (self.from_ is None or self.values is None):
            raise ValueError("a run of figures needs both 'from' (the first month) and 'values'")
        if not single and not run:
            raise ValueError("give period and value (one month) or from and values (a run of months)")
        for month in (self.period, self.from_):
            if month is not None:
                parse_month(month)
        if self.values is not None and any(v is not None and v < 0 for v in self.values):
            raise ValueError("values must not be negative")
        if self.values is not None and any(v is not None and not v <= MAX_FIGURE for v in self.values):
            raise ValueError(f"values must be numbers of at most {MAX_FIGURE:,.0f}")
        if self.from_ is not None and self.values is not None \
                and parse_month(self.from_) + len(self.values) - 1 > parse_month(f"{LAST_YEAR}-12"):
            raise ValueError(f"this run of {len(self.values)} months starting {self.from_} goes past "
                             f"{LAST_YEAR}-12, the last month accepted")
        return self

    def months(self) -> list[tuple[int, float | None]]:
        """(month index, value) pairs."""
        if self.period is not None:
            return [(parse_month(self.period), self.value)]
        start = parse_month(self.from_)
        return [(start + offset, value) for offset, value in enumerate(self.values or [])]


def figures_from_entries(located: Located, *, path: tuple[str | int, ...] = ()) -> tuple[FigureSet, list[Problem]]:
    """Validate a list of :class:`FigureEntry` (plain data with positions) into figures."""
    from pydantic import RootModel

    class _Entries(RootModel[list[FigureEntry]]):
        pass

    node = located.data
    for segment in path:
        node = node[segment]
    quick = _plain_entries(node)
    if quick is not None:
        return quick, []
    sub_positions = Positions(located.positions.file,
                              {k[len(path):]: v for k, v in located.positions.values.items() if k[: len(path)] == path},
                              {k[len(path):]: v for k, v in located.positions.keys.items() if k[: len(path)] == path})
    model, problems = validate_located(_Entries, Located(node, sub_positions))
    result = FigureSet()
    if model is None:
        return result, [_reroot(p, path) for p in problems]
    first: dict[tuple[str, str, int], int] = {}
    for index, entry in enumerate(model.root):
        area, measure = normalise_name(entry.area), normalise_name(entry.measure)
        if not area or not measure:
            which = "area" if not area else "measure"
            problems.append(_reroot(sub_positions.problem((index, which), f"the {which} is empty"), path))
            continue
        for month, value in entry.months():
            if value is None:
                continue
            key = (area, measure, month)
            if key in first:
                line, _ = sub_positions.locate((first[key],))
                problems.append(_reroot(sub_positions.problem(
                    (index,), f"{area} {measure} {format_month(month)} is given twice (first at line {line}): keep one"),
                    path))
                continue
            first[key] = index
            result.add(area, measure, month, value)
    return result, problems


def _plain_entries(node: Any) -> FigureSet | None:
    """The figures of a list of well-formed entries, without a model per entry; None at anything unusual.

    A national JSON file holds hundreds of thousands of entries: checking each
    plain one directly is ten times faster than validating a model for it.
    Any entry this does not accept (a mistake, a duplicate, an unusual shape)
    sends the whole list through the models, which say what is wrong and where.
    """
    if not isinstance(node, list):
        return None
    result = FigureSet()
    series_of: dict[tuple[object, object], dict[int, float]] = {}
    months: dict[object, int] = {}
    try:
        for entry in node:
            if type(entry) is not dict or len(entry) != 4:
                return None
            pair = (entry.get("area"), entry.get("measure"))
            series = series_of.get(pair)
            if series is None:
                area, measure = pair
                if type(area) is not str or type(measure) is not str:
                    return None
                area, measure = normalise_name(area), normalise_name(measure)
                if not area or not measure:
                    return None
                series = series_of[pair] = result.series_for_update(area, measure)
            period = entry.get("period")
            values: Any
            if period is not None:
                if "value" not in entry:
                    return None
                values = [entry["value"]]
            else:
                period, values = entry.get("from"), entry.get("values")
                if type(values) is not list:
                    return None
            start = months.get(period)
            if start is None:
                if type(period) is not str:
                    return None
                start = months[period] = parse_month(period)
            if start + len(values) - 1 > _LAST_MONTH:  # a run past the last month accepted: the models explain
                return None
            for offset, value in enumerate(values):
                if value is None:
                    continue
                if type(value) not in (int, float) or not 0 <= value <= MAX_FIGURE or start + offset in series:
                    return None
                series[start + offset] = float(value) + 0.0  # -0.0 is nought
    except (TypeError, ValueError, OverflowError):  # unhashable, an unreadable month, a huge number: the models explain
        return None
    return result


_LAST_MONTH = parse_month(f"{LAST_YEAR}-12")


def _reroot(problem: Problem, path: tuple[str | int, ...]) -> Problem:
    return Problem(problem.message, file=problem.file, line=problem.line, column=problem.column,
                   path=(*path, *problem.path), suggestion=problem.suggestion, severity=problem.severity)


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth_over(data: Any, limit: int) -> bool:
    """Whether lists and mappings nest more than ``limit`` deep (a figures file needs three levels)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _too_deep(text: str, name: str) -> Problem:
    """The refusal for JSON nested past MAX_DEPTH, at the bracket that goes one level too deep (as for YAML)."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            if depth >= MAX_DEPTH:
                before = text[: token.start()]
                line = before.count("\n") + 1
                column = token.start() - (before.rfind("\n") + 1) + 1
                return Problem(f"lists and mappings are nested more than {MAX_DEPTH} deep here, far deeper than "
                               "any csp-monitor file needs: check the brackets and indentation", file=name,
                               line=line, column=column)
            depth += 1
        elif char in "]}":
            depth -= 1
    return Problem(f"lists and mappings are nested more than {MAX_DEPTH} deep: check the brackets", file=name)


def _load_json(path: str | Path, name: str, result: FigureSet, problems: list[Problem]) -> None:
    try:
        raw = read_regular(path, MAX_FIGURES_BYTES)
    except OSError as exc:
        problems.append(Problem(f"cannot be read: {exc.strerror}", file=name))
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        problems.append(Problem("this file is not UTF-8 text: save it as UTF-8", file=name, line=line,
                                column=column))
        return
    del raw
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        found = dict(items)
        if len(found) != len(items):
            duplicated = True
        return found

    try:
        # NaN and Infinity stay text, so that they are refused as "not a number" like any other word.
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=str, parse_int=json_number)
    except json.JSONDecodeError as exc:
        problems.append(Problem(f"this is not valid JSON: {exc.msg}", file=name, line=exc.lineno, column=exc.colno))
        return
    except RecursionError:  # thousands of nested brackets: placed below
        problems.append(_too_deep(text, name))
        return
    if _depth_over(data, MAX_DEPTH):
        problems.append(_too_deep(text, name))
        return
    if duplicated:
        problems.extend(json_positions(text, name)[1])
        return
    path_in: tuple[str | int, ...] = ()
    if isinstance(data, dict):
        if set(data) != {"figures"}:
            problems.append(Problem(
                'a JSON figures file is a list of figures, or an object with one key "figures"',
                file=name, line=1, column=1))
            return
        path_in = ("figures",)
    # Validate first without positions (fast); index them only to place the problems found.
    figures, found = figures_from_entries(Located(data, Positions(name)), path=path_in)
    if found:
        positions, _ = json_positions(text, name)
        figures, found = figures_from_entries(Located(data, positions), path=path_in)
    problems.extend(found)
    for area, measure in figures.series_keys():
        series = result.series_for_update(area, measure)
        for month, value in figures.series(area, measure).items():
            if month in series:
                problems.append(Problem(f"{area} {measure} {format_month(month)} is also given in an "
                                        "earlier figures file: keep one", file=name))
                continue
            series[month] = value


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """The line and character column of a byte offset (the characters before it decoded as UTF-8)."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column
