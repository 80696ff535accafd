"""Builder of small real .xlsx workbooks for the spreadsheet importer's tests."""

from __future__ import annotations

from pathlib import Path


def write_workbook(path: Path, rows: list[list[object]], sheet: str = "Sheet1") -> Path:
    """A real .xlsx at ``path`` whose one sheet, named ``sheet``, holds ``rows``."""
    # Imported on use, so that only the tests that write a workbook need openpyxl.
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    workbook.save(path)
    return path
