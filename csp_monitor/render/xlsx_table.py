"""The evaluation table as an Excel workbook, with red/amber/green fills.

Partnership boards pass performance tables round as spreadsheets; this
writes the same table the terminal shows, one row per measure grouped by
priority, the status cell filled green, amber, red or grey (no target, no
data), the header frozen and the columns sized to their contents. It takes
plain dict rows, so it needs nothing from the engine but its numbers. The
file is written under a temporary name and moved into place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from csp_monitor.extras import require
from csp_monitor.files import write_bytes_atomically

__all__ = ["COLUMNS", "STATUS_FILLS", "write_xlsx_table"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("priority", "Priority"),
    ("name", "Measure"),
    ("target", "Target"),
    ("current", "This year"),
    ("baseline", "Last year"),
    ("difference", "Difference"),
    ("change_pct", "% change"),
    ("status", "Status"),
    ("figures", "Figures"),
    ("summary", "Summary"),
)

STATUS_FILLS: dict[str, str] = {
    "green": "C6EFCE",
    "amber": "FFEB9C",
    "red": "FFC7CE",
    "no_target": "D9D9D9",
    "no_data": "D9D9D9",
}
"""Excel's own "good / neutral / bad" fills, and grey for measures without a target or figures."""

_STATUS_TEXT = {"green": "Green", "amber": "Amber", "red": "Red", "no_target": "No target", "no_data": "No data"}
_NUMBER_FORMATS = {"current": "#,##0.##", "baseline": "#,##0.##", "difference": "+#,##0.##;-#,##0.##;0",
                   "change_pct": '+0.0"%";-0.0"%";0.0"%"'}
_MAX_WIDTH = {"summary": 90, "name": 40, "priority": 40}


def write_xlsx_table(rows: Sequence[Mapping[str, Any]], out: str | Path, *, title: str | None = None,
                     sheet: str = "Performance") -> Path:
    """Write the rows (keys as in :data:`COLUMNS`) to an .xlsx file atomically; return its path."""
    require("openpyxl", purpose="writing an .xlsx workbook")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet[:31]
    first = 1
    if title:
        _put(worksheet, 1, 1, title).font = Font(bold=True, size=13)
        first = 3
    bold = Font(bold=True)
    for column, (_, heading) in enumerate(COLUMNS, start=1):
        cell = _put(worksheet, first, column, heading)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    widths = [len(heading) for _, heading in COLUMNS]
    fills = {status: PatternFill("solid", fgColor=colour) for status, colour in STATUS_FILLS.items()}
    wrap = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(rows, start=1):
        number = first + offset
        for column, (key, _) in enumerate(COLUMNS, start=1):
            value = row.get(key)
            if key == "status":
                status = str(value or "no_data")
                cell = _put(worksheet, number, column, _STATUS_TEXT.get(status, status))
                if status in fills:
                    cell.fill = fills[status]
                cell.font = bold
            else:
                cell = _put(worksheet, number, column, _cell(value))
                if key in _NUMBER_FORMATS and isinstance(cell.value, int | float):
                    cell.number_format = _NUMBER_FORMATS[key]
                if key == "summary":
                    cell.alignment = wrap
            shown = len(str(cell.value)) if cell.value is not None else 0
            widths[column - 1] = max(widths[column - 1], shown)
    for column, (key, _) in enumerate(COLUMNS, start=1):
        worksheet.column_dimensions[get_column_letter(column)].width = min(
            widths[column - 1] + 2, _MAX_WIDTH.get(key, 18))
    worksheet.freeze_panes = worksheet.cell(row=first + 1, column=1)
    worksheet.auto_filter.ref = f"A{first}:{get_column_letter(len(COLUMNS))}{first + len(rows)}"
    return _save(workbook, Path(out))


def _put(worksheet: Any, row: int, column: int, value: object) -> Any:
    """Write one cell; text is always stored as text.

    openpyxl stores a string starting with ``=`` as a formula, so a measure
    named ``=HYPERLINK(...)`` would run in the reader's Excel: the cell's type
    is set back to text. Characters XML cannot hold are dropped.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = worksheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _cell(value: object) -> object:
    """Numbers stay numbers (so Excel can sum them); None stays empty; anything else is text."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if isinstance(value, int | float):
        return value
    return str(value)


def _save(workbook: Any, target: Path) -> Path:
    """Build the workbook in memory, then write it in one step: a full disk leaves nothing half-written, and
    openpyxl's zip file is never left open to fail a second time when it is collected."""
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    write_bytes_atomically(target, buffer.getvalue())
    return target
