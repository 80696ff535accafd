"""The evaluation table as an xlsx workbook with red/amber/green fills."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from csp_monitor.errors import CspMonitorError
from csp_monitor.render.xlsx_table import COLUMNS, STATUS_FILLS, write_xlsx_table

ROWS = [
    {"priority": "Serious acquisitive crime", "name": "Domestic Burglary", "target": "-13%", "current": 253,
     "baseline": 153, "difference": 100, "change_pct": 65.359, "status": "red",
     "summary": "Domestic Burglary is up 65.4% (100 more than last year) against a target of a 13% reduction: red"},
    {"priority": "Serious acquisitive crime", "name": "Theft From Motor Vehicle", "target": "-14%", "current": 284,
     "baseline": 335, "difference": -51, "change_pct": -15.2, "status": "green", "summary": "…: green"},
    {"priority": "Serious acquisitive crime", "name": "Violence with injury", "target": "-2%", "current": 176,
     "baseline": 163, "difference": 13, "change_pct": 1.0, "status": "amber", "summary": "…: amber"},
    {"priority": "Anti-social behaviour", "name": "Criminal damage", "target": None, "current": 412,
     "baseline": 490, "difference": -78, "change_pct": -15.9, "status": "no_target", "summary": "monitored"},
    {"priority": "Anti-social behaviour", "name": "Hate crime", "target": None, "current": None,
     "baseline": None, "difference": None, "change_pct": None, "status": "no_data", "summary": "no figures"},
]


def test_statuses_are_filled_red_amber_green_and_grey(tmp_path: Path) -> None:
    """Each status cell carries its RAG fill and a word (colour is never the only signal)."""
    out = write_xlsx_table(ROWS, tmp_path / "table.xlsx", title="Harborough CSP 2013/14")
    sheet = load_workbook(out).active
    assert sheet is not None
    status_column = [key for key, _ in COLUMNS].index("status") + 1
    cells = [sheet.cell(row=4 + i, column=status_column) for i in range(len(ROWS))]
    assert [c.value for c in cells] == ["Red", "Green", "Amber", "No target", "No data"]
    assert [c.fill.fgColor.rgb[-6:] for c in cells] == [STATUS_FILLS[s] for s in
                                                       ("red", "green", "amber", "no_target", "no_data")]


def test_the_header_is_frozen_and_numbers_stay_numbers(tmp_path: Path) -> None:
    """The header row is frozen, figures are numeric cells with formats, missing values are empty."""
    sheet = load_workbook(write_xlsx_table(ROWS, tmp_path / "table.xlsx")).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == [heading for _, heading in COLUMNS]
    assert sheet.freeze_panes == "A2"
    assert sheet["D2"].value == 253 and sheet["G2"].value == pytest.approx(65.359)
    assert sheet["G2"].number_format == '+0.0"%";-0.0"%";0.0"%"'
    assert sheet["D6"].value is None
    assert sheet.column_dimensions["I"].width > sheet.column_dimensions["C"].width


def test_writing_is_atomic_and_refuses_a_missing_folder(tmp_path: Path) -> None:
    """No temporary file is left behind, and a missing folder is a plain error."""
    write_xlsx_table(ROWS, tmp_path / "table.xlsx")
    assert os.listdir(tmp_path) == ["table.xlsx"]
    with pytest.raises(CspMonitorError, match=r"table\.xlsx: the folder does not exist"):
        write_xlsx_table(ROWS, tmp_path / "missing" / "table.xlsx")
