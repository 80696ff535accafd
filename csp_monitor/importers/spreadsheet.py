"""Import the wide tables partnerships keep: one row per measure, one column per month.

A typical sheet::

    Harborough CSP performance 2013/14          <- title rows are skipped
    Measure              Apr-13  May-13  Jun-13 ... Target  Notes
    Domestic Burglary        21      18      25     -13%
    Theft From Motor Veh.    30      22      27     -14%

The header row is the first with at least two month headings (``2013-04``,
``Apr-13``, ``April 2013``, ``04/2013``, or a date cell in Excel); the
measure column is headed Measure / Indicator / Name (or is the first text
column); an Area / District / CSP / Partnership column gives each row's
area, or the whole sheet's area is given as an option. Other columns
(targets, totals, notes) are ignored. Empty cells, ``-``, ``n/a`` and
``..`` are no figure (a missing month is not a zero). Anything else that is
not a number is reported with its cell: ``file.xlsx:Sheet1!C7: ...`` for
workbooks, ``file.csv:LINE:COL: ...`` for CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from csp_monitor.errors import FiguresError, Problem, shown_value
from csp_monitor.files import FileTooLarge, open_regular, read_regular
from csp_monitor.importers.figures_csv import FigureRow, check_output, write_figures_csv
from csp_monitor.load.figures import MAX_FIGURE
from csp_monitor.names import slug as slugify
from csp_monitor.periods import format_month

__all__ = ["SpreadsheetImport", "import_spreadsheet", "parse_month_heading"]

_MONTHS = {name: index for index, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")]) for name in names}
_NAMED = re.compile(r"^([a-z]+)\.?[\s\-/']*(\d{2}|\d{4})$")
_NAMED_YEAR_FIRST = re.compile(r"^(\d{4})[\s\-/]*([a-z]+)\.?$")
_NUMERIC = re.compile(r"^(\d{4})[-/.](\d{1,2})$|^(\d{1,2})[-/.](\d{4})$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ t]00:00(?::00)?)?$|^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MISSING = {"", "-", "–", "—", "n/a", "na", "..", ".", "x", "*", "nil return"}
_MEASURE_HEADINGS = ("measure", "indicator", "name", "crime type", "category", "description", "measure name")
_AREA_HEADINGS = ("area", "district", "csp", "partnership", "local authority", "la")
_HEADER_SEARCH_ROWS = 30
_MAX_PROBLEMS = 200
_MAX_CSV_BYTES = 16 * 1024 * 1024
# A partnership's wide table is a few hundred rows by a few hundred months; these
# bounds are far above that and far below what would exhaust memory.
_MAX_ROWS = 100_000
_MAX_COLUMNS = 1_000
_MAX_CELLS = 2_000_000
_MAX_CELLS_SEEN = 20_000_000
_MAX_XLSX_INFLATED = 128 * 1024 * 1024
# openpyxl parses a workbook's other XML parts (styles, the workbook, its relations) whole into
# element trees, several times their size in memory, and keeps every shared string: these parts
# of a real workbook are a few hundred kilobytes.
_MAX_XLSX_PART = 8 * 1024 * 1024
_MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
_MAX_SHARED_STRINGS = 300_000
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?si[\s/>]")


def _year(text: str) -> int:
    year = int(text)
    return year + (2000 if year < 70 else 1900) if len(text) == 2 else year


def parse_month_heading(value: object) -> int | None:
    """The month index of a column heading (``2013-04``, ``Apr-13``, ``April 2013``, a date), or None."""
    if isinstance(value, dt.datetime | dt.date):
        return value.year * 12 + value.month - 1
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text:
        return None
    match = _NUMERIC.match(text)
    if match:
        year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        number = int(month)
        return int(year) * 12 + number - 1 if 1 <= number <= 12 else None
    match = _NAMED.match(text)
    if match and match.group(1) in _MONTHS:
        return _year(match.group(2)) * 12 + _MONTHS[match.group(1)]
    match = _NAMED_YEAR_FIRST.match(text)
    if match and match.group(2) in _MONTHS:
        return int(match.group(1)) * 12 + _MONTHS[match.group(2)]
    match = _FULL_DATE.match(text)
    if match:
        if match.group(1):
            year, month = int(match.group(1)), int(match.group(2))
        else:  # day/month/year, as written in the UK
            year, month = int(match.group(6)), int(match.group(5))
        return year * 12 + month - 1 if 1 <= month <= 12 else None
    return None


@dataclass(frozen=True)
class SpreadsheetImport:
    """The figures read from a wide table."""

    figures: dict[tuple[str, str, str], float]
    """(area, measure, period) -> value."""
    source: str
    sheet: str | None
    header_row: int
    areas: tuple[str, ...]
    measures: tuple[str, ...]
    months: tuple[str, ...]
    empty_cells: int
    ignored_columns: tuple[str, ...]

    def figure_rows(self) -> Iterator[FigureRow]:
        """The figures in file order (area, measure, period)."""
        for key in sorted(self.figures):
            yield FigureRow(*key, value=self.figures[key])

    def write(self, out: str | Path) -> int:
        """Write the figures CSV atomically; return how many figures were written."""
        return write_figures_csv(self.figure_rows(), out)

    def summary(self) -> list[str]:
        """A few plain-English lines about what was read."""
        where = f"{self.source}" + (f", sheet '{self.sheet}'" if self.sheet else "")
        months = f"{self.months[0]} to {self.months[-1]}" if self.months else "none"
        lines = [
            f"Read {where}: header on row {self.header_row}.",
            f"Areas: {', '.join(self.areas)}; measures: {len(self.measures)}; months: {len(self.months)} ({months}).",
            f"Figures: {len(self.figures)}; empty cells (no figure): {self.empty_cells}.",
        ]
        if self.ignored_columns:
            lines.append(f"Columns ignored (not months): {', '.join(self.ignored_columns)}.")
        return lines


class _Table:
    """Rows of cells with a way to name any cell in an error message."""

    def __init__(self, name: str, rows: list[list[object]], sheet: str | None,
                 raw_lines: dict[int, str] | None = None) -> None:
        self.name = name
        self.rows = rows
        self.sheet = sheet
        self.raw_lines = raw_lines or {}

    def problem(self, message: str, row: int, column: int | None) -> Problem:
        """A problem at a 1-based row and column (None: the whole row)."""
        if self.sheet is not None:
            from openpyxl.utils import get_column_letter

            cell = f"{get_column_letter(column)}{row}" if column is not None else f"{row}:{row}"
            return Problem(message, file=f"{self.name}:{self.sheet}!{cell}")
        character = 1
        if column is not None:
            starts = _field_starts(self.raw_lines.get(row, ""))
            character = starts[column - 1] if column - 1 < len(starts) else 1
        return Problem(message, file=self.name, line=row, column=character)


def _field_starts(line: str) -> list[int]:
    starts, quoted = [1], False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(index + 2)
    return starts


def import_spreadsheet(path: str | Path, *, area: str | None = None, sheet: str | None = None,
                       out: str | Path | None = None) -> SpreadsheetImport:
    """Read a wide table (xlsx or CSV) into long figures; write them to ``out`` if given."""
    name = str(path)
    file = Path(path)
    if out is not None:
        check_output(out, [path])
    if not file.exists():
        raise FiguresError([Problem("no such file", file=name)])
    if file.is_dir():
        raise FiguresError([Problem("this is a folder, not a spreadsheet", file=name)])
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(file, name, sheet)
    elif suffix in (".csv", ".txt"):
        if sheet is not None:
            raise FiguresError([Problem("a CSV file has no sheets: leave out --sheet", file=name)])
        table = _read_csv(file, name)
    elif suffix == ".xls":
        raise FiguresError([Problem("old Excel 97-2003 (.xls) files cannot be read: save it as .xlsx or CSV",
                                    file=name)])
    else:
        raise FiguresError([Problem(f"cannot read '{suffix or 'this'}' files: give an .xlsx or .csv table",
                                    file=name)])
    result = _figures(table, area)
    if out is not None:
        result.write(out)
    return result


def _read_xlsx(file: Path, name: str, sheet: str | None) -> _Table:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is the xlsx extra
        raise FiguresError([Problem(
            "reading .xlsx needs openpyxl: pip install 'csp-monitor[xlsx]' (or save the sheet as CSV)",
            file=name)]) from None
    try:
        handle = open_regular(file)
    except OSError as exc:
        raise FiguresError([Problem(f"cannot be read: {exc.strerror}", file=name)]) from None
    with handle:
        _check_inflated_size(handle, name)
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        # SyntaxError: bad XML; TypeError, AttributeError, IndexError: openpyxl building its objects from XML
        # with attributes or elements it does not expect (a damaged styles.xml: RgbColor given 'r').
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError, TypeError, AttributeError,
                IndexError) as exc:
            raise FiguresError([Problem(
                f"not a readable .xlsx workbook ({exc}): is it damaged, or another format?", file=name)]) from None
        try:
            names = list(workbook.sheetnames)
            if not names:  # a damaged workbook whose sheets openpyxl could not find
                raise FiguresError([Problem("this workbook has no sheet that can be read: is it damaged?",
                                            file=name)])
            if sheet is None:
                chosen = names[0]
            elif sheet in names:
                chosen = sheet
            else:
                lowered = {n.lower(): n for n in names}
                if sheet.lower() in lowered:
                    chosen = lowered[sheet.lower()]
                else:
                    raise FiguresError([Problem(
                        f"the workbook has no sheet '{sheet}': its sheets are {', '.join(repr(n) for n in names)}",
                        file=name)])
            rows = _bounded_rows(workbook[chosen], name, chosen)
        finally:
            workbook.close()
    return _Table(name, rows, chosen)


def _check_inflated_size(handle: BinaryIO, name: str) -> None:
    """Refuse a workbook whose parts inflate past any partnership's table, before openpyxl reads any.

    openpyxl holds a workbook's shared strings and styles in memory, and
    zipfile stops every part at the size its archive declares, so the declared
    sizes (and the count of shared strings) bound what reading can cost.
    """
    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
            declared = sum(info.file_size for info in parts)
            if declared <= _MAX_XLSX_INFLATED:
                for info in parts:
                    _check_part(archive, info, name)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FiguresError([Problem(f"not a readable .xlsx workbook ({exc}): is it damaged, or another format?",
                                    file=name)]) from None
    finally:
        handle.seek(0)
    if declared > _MAX_XLSX_INFLATED:
        raise FiguresError([Problem(
            f"this workbook inflates to {declared / 2**20:,.0f} MiB, more than any partnership's table "
            f"({_MAX_XLSX_INFLATED // 2**20} MiB): copy the table to a new workbook and import that", file=name)])


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a styles, workbook or shared-strings part far beyond a real workbook's (each is parsed whole)."""
    part = info.filename.lower()
    if part.startswith("xl/worksheets/") or not part.endswith((".xml", ".rels")):
        return  # sheets are read row by row and bounded there; pictures are never read
    shared = part.endswith("sharedstrings.xml")
    most = _MAX_SHARED_STRINGS_BYTES if shared else _MAX_XLSX_PART
    if info.file_size > most:
        raise FiguresError([Problem(
            f"this workbook's part {info.filename} inflates to {info.file_size / 2**20:,.1f} MiB, more than any "
            f"partnership's workbook ({most // 2**20} MiB): copy the table to a new workbook and import that",
            file=name)])
    if not shared:
        return
    count = 0
    tail = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(2**20)
            block = tail + chunk
            # A match starting in the last 64 bytes may run on into the next chunk: count it then.
            keep = len(block) - 64 if chunk else len(block)
            count += sum(1 for match in _SHARED_STRING.finditer(block) if match.start() < keep)
            tail = block[keep:]
            if count > _MAX_SHARED_STRINGS:
                raise FiguresError([Problem(
                    f"this workbook holds more than {_MAX_SHARED_STRINGS:,} different texts, more than any "
                    "partnership's table: copy the table to a new workbook and import that", file=name)])
            if not chunk:
                return


def _bounded_rows(worksheet: Any, name: str, sheet: str) -> list[list[object]]:
    """The sheet's rows, refusing a sheet beyond a partnership table's size before it fills memory.

    The sheet's own ``dimension`` is not trusted: a 5 KB file can declare
    A1:XFD1048576, and openpyxl pads every row to the declared width. Rows are
    read as stored, each as wide as its last cell; empty cells past the limits
    (formatting) are dropped, a value past them is refused.
    """
    from openpyxl.utils import get_column_letter

    def refuse(message: str, row: int, column: int | None = None) -> FiguresError:
        cell = f"{get_column_letter(column)}{row}" if column is not None else f"{row}:{row}"
        return FiguresError([Problem(message, file=f"{name}:{sheet}!{cell}")])

    worksheet.reset_dimensions()
    rows: list[list[object]] = []
    cells = 0
    seen = 0
    for number, row in enumerate(_readable_rows(worksheet, refuse), start=1):
        seen += len(row) + 1
        if seen > _MAX_CELLS_SEEN:
            raise refuse(f"this sheet holds more cells than a partnership's table ({_MAX_CELLS_SEEN:,} read): "
                         "copy the table to a new sheet and import that", number)
        if len(row) > _MAX_COLUMNS:
            beyond = row[_MAX_COLUMNS:]
            if beyond.count(None) != len(beyond):
                column = _MAX_COLUMNS + next(i for i, v in enumerate(beyond) if v is not None) + 1
                raise refuse(f"this sheet has a value in column {get_column_letter(column)}, beyond the first "
                             f"{_MAX_COLUMNS:,} columns (A to {get_column_letter(_MAX_COLUMNS)}): a partnership's "
                             "table is not so wide; delete the cells beyond the table, or copy the table to a new "
                             "sheet", number, column)
            row = row[:_MAX_COLUMNS]
        if number > _MAX_ROWS:
            if any(value is not None for value in row):
                column = next(i for i, v in enumerate(row) if v is not None) + 1
                raise refuse(f"this sheet has a value on row {number:,}, beyond row {_MAX_ROWS:,}: a partnership's "
                             "table is not so long; delete the cells below the table, or copy the table to a new "
                             "sheet", number, column)
            continue
        cells += len(row)
        if cells > _MAX_CELLS:
            raise refuse(f"this sheet holds more than {_MAX_CELLS:,} cells, more than a partnership's table: "
                         "copy the table to a new sheet and import that", number)
        rows.append(list(row))
    while rows and not any(value is not None for value in rows[-1]):
        rows.pop()
    return rows


def _readable_rows(worksheet: Any, refuse: Callable[[str, int], FiguresError]) -> Iterator[tuple[object, ...]]:
    """The sheet's rows as openpyxl reads them; a cell it cannot read (a number of 5,000 digits) is refused."""
    rows = worksheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except SyntaxError as exc:  # the sheet's XML is broken (ElementTree's ParseError)
            raise refuse(f"this sheet cannot be read past here: the workbook is damaged ({exc})", number + 1) from None
        except ValueError:  # openpyxl's int() of a cell's text: Python refuses more than 4,300 digits
            raise refuse("a cell on this row is marked as a number but cannot be read as one (such as NaN, or "
                         f"thousands of digits): a figure is a number of at most {MAX_FIGURE:,.0f}",
                         number + 1) from None
        number += 1
        yield row


def _read_csv(file: Path, name: str) -> _Table:
    try:
        data = read_regular(file, _MAX_CSV_BYTES)
    except FileTooLarge:
        raise FiguresError([Problem(f"this table is larger than {_MAX_CSV_BYTES // 2**20} MiB, far too large for a "
                                    "partnership's sheet", file=name)]) from None
    except OSError as exc:
        raise FiguresError([Problem(f"cannot be read: {exc.strerror}", file=name)]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FiguresError([Problem("this file is UTF-16 text (Excel's 'Unicode Text'): save the sheet as "
                                    "'CSV UTF-8' or as a workbook (.xlsx)", file=name, line=1, column=1)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows is cp1252, not UTF-8.
        text = data.decode("cp1252", errors="replace")
    del data
    lines = text.splitlines()
    # csv builds a whole row before giving it: count the commas first, so that a
    # line of millions of them is refused before it becomes millions of cells.
    cells = 0
    for number, line in enumerate(lines, start=1):
        commas = line.count(",")
        if commas >= _MAX_COLUMNS:
            position = -1
            for _ in range(_MAX_COLUMNS):
                position = line.index(",", position + 1)
            raise FiguresError([Problem(
                f"this row has more than {_MAX_COLUMNS:,} columns: a partnership's table is not so wide",
                file=name, line=number, column=position + 2)])
        cells += commas + 1
        if cells > _MAX_CELLS:
            raise FiguresError([Problem(f"this table holds more than {_MAX_CELLS:,} cells, more than a "
                                        "partnership's table", file=name, line=number, column=1)])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows: list[list[object]] = [list(row) for row in reader]
    except csv.Error as exc:
        reason = (f"a value here is longer than {csv.field_size_limit():,} characters: is this a partnership's "
                  "table?" if "field limit" in str(exc) else f"not a readable CSV file: {exc}")
        raise FiguresError([Problem(reason, file=name, line=reader.line_num or 1, column=1)]) from None
    raw = {number: line for number, line in enumerate(lines, start=1)}
    if any('\n' in str(cell) for row in rows for cell in row):
        raw = {}  # quoted line breaks: line numbers of rows no longer match; columns fall back to 1
    return _Table(name, rows, None, raw)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _find_header(table: _Table) -> tuple[int, dict[int, int]]:
    for index, row in enumerate(table.rows[:_HEADER_SEARCH_ROWS]):
        months = {column: month for column, value in enumerate(row)
                  if (month := parse_month_heading(value)) is not None}
        if len(months) >= 2:
            return index, months
    raise FiguresError([table.problem(
        "no header row with month columns found in the first 30 rows: head each month's column "
        "like 2013-04, Apr-13 or April 2013", 1, None)])


def _figures(table: _Table, area: str | None) -> SpreadsheetImport:
    header_index, month_columns = _find_header(table)
    header = [_text(value) for value in table.rows[header_index]]
    header_row = header_index + 1
    problems: list[Problem] = []
    seen_months: dict[int, int] = {}
    for column, month in sorted(month_columns.items()):
        if month in seen_months:
            problems.append(table.problem(
                f"{format_month(month)} heads two columns ({_column_name(table, seen_months[month])} and this one)",
                header_row, column + 1))
        seen_months.setdefault(month, column)
    text_columns = [c for c in range(len(header)) if c not in month_columns]
    lowered = {c: header[c].lower() for c in text_columns}
    area_column = next((c for c in text_columns if lowered[c] in _AREA_HEADINGS), None)
    measure_column = next((c for c in text_columns if lowered[c] in _MEASURE_HEADINGS), None)
    if measure_column is None:
        candidates = [c for c in text_columns if c != area_column and header[c]] or [
            c for c in text_columns if c != area_column]
        measure_column = candidates[0] if candidates else None
    if measure_column is None:
        raise FiguresError([table.problem("no measure column: put the measure names in a column headed Measure",
                                          header_row, None)])
    if area_column is None and not area:
        raise FiguresError([table.problem(
            "the table has no Area column: give the area it covers (--area harborough)", header_row, None)])
    ignored = tuple(header[c] or f"column {c + 1}" for c in text_columns if c not in (area_column, measure_column))
    figures: dict[tuple[str, str, str], float] = {}
    first_row: dict[tuple[str, str], int] = {}
    empty = 0
    for index in range(header_index + 1, len(table.rows)):
        row = table.rows[index]
        number = index + 1
        cells = [_text(v) for v in row]
        if not any(cells):
            continue
        label = cells[measure_column] if measure_column < len(cells) else ""
        if not label:
            if any(cells[c] for c in month_columns if c < len(cells)):
                problems.append(table.problem("this row has figures but no measure name", number,
                                              measure_column + 1))
            continue
        measure = slugify(label)
        row_area = slugify(cells[area_column]) if area_column is not None and area_column < len(cells) else ""
        if area_column is not None and not row_area:
            if not area:
                problems.append(table.problem("this row has no area", number, area_column + 1))
                continue
            row_area = slugify(area)
        elif area_column is None:
            row_area = slugify(area or "")
        if not measure or not row_area:
            problems.append(table.problem(f"'{label}' cannot be used as a measure name", number, measure_column + 1))
            continue
        key = (row_area, measure)
        if key in first_row:
            problems.append(table.problem(
                f"'{label}' for {row_area} is also on row {first_row[key]}: give each measure once", number,
                measure_column + 1))
            continue
        first_row[key] = number
        for column, month in sorted(month_columns.items()):
            if seen_months.get(month) != column:
                continue
            raw = row[column] if column < len(row) else None
            value, message = _cell_value(raw)
            if message is not None:
                problems.append(table.problem(message, number, column + 1))
            elif value is None:
                empty += 1
            else:
                figures[(row_area, measure, format_month(month))] = value
        if len(problems) >= _MAX_PROBLEMS:
            problems.append(table.problem(f"more than {_MAX_PROBLEMS} problems: stopped reading", number, None))
            break
    if problems:
        raise FiguresError(problems)
    if not figures:
        raise FiguresError([table.problem("the table holds no figures under its month columns", header_row, None)])
    return SpreadsheetImport(
        figures=figures, source=table.name, sheet=table.sheet, header_row=header_row,
        areas=tuple(sorted({k[0] for k in figures})), measures=tuple(sorted({k[1] for k in figures})),
        months=tuple(sorted({k[2] for k in figures})), empty_cells=empty, ignored_columns=ignored)


def _column_name(table: _Table, column: int) -> str:
    if table.sheet is not None:
        from openpyxl.utils import get_column_letter

        return f"column {get_column_letter(column + 1)}"
    return f"column {column + 1}"


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _cell_value(raw: object) -> tuple[float | None, str | None]:
    """A cell's figure, None for no figure, or a reason it is not one."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, f"'{raw}' is not a number"
    if isinstance(raw, int | float):
        if isinstance(raw, int) and abs(raw) > MAX_FIGURE:  # float() of a 400-digit integer overflows
            return None, f"the value is too large: figures must be at most {MAX_FIGURE:,.0f}"
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            return None, "the cell is not a finite number"
        if value < 0:
            return None, f"{_text(raw)} is negative: figures are counts, rates or percentages"
        if value > MAX_FIGURE:
            return None, f"the value {raw:g} is too large: figures must be at most {MAX_FIGURE:,.0f}"
        return value, None
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return None, f"the cell holds a date ({raw}), not a figure"
    text = str(raw).strip()
    if text.lower() in _MISSING:
        return None, None
    if text.startswith("#"):
        return None, f"the cell holds the spreadsheet error {text}: fix its formula"
    if text.startswith("="):
        return None, "the cell holds a formula with no saved value: open and save the file in Excel"
    cleaned = text[:-1].strip() if text.endswith("%") else text
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.match(cleaned):
        return None, f"'{shown_value(text)}' is not a number (leave the cell empty when there is no figure)"
    value = float(cleaned)
    if value < 0:
        return None, f"{text} is negative: figures are counts, rates or percentages"
    if value > MAX_FIGURE:
        return None, f"the value is too large: figures must be at most {MAX_FIGURE:,.0f}"
    return value, None
