"""Importing partnership spreadsheets (wide tables, xlsx or CSV) and the police-uk/spreadsheet CLI."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from csp_monitor.cli.import_cmd import import_group
from csp_monitor.errors import FiguresError
from csp_monitor.importers.spreadsheet import import_spreadsheet, parse_month_heading
from tests.police_uk_fixtures import CITY_OF_LONDON, LOOKUP, needs_shared
from tests.spreadsheet_fixtures import write_workbook


def _harborough_sheet(tmp_path: Path, cell: object = 25) -> Path:
    return write_workbook(tmp_path / "performance.xlsx", [
        ["Harborough CSP performance 2013/14"],
        [],
        ["Measure", dt.datetime(2013, 4, 1), dt.datetime(2013, 5, 1), "Jun-13", "Target", "Notes"],
        ["Domestic Burglary", 21, 18, cell, "-13%", "rising"],
        ["Theft From Motor Vehicle", 30, None, 27, "-14%", None],
        ["User Satisfaction", "88%", "-", 86.5, "85%", None],
    ])


@pytest.mark.parametrize(("heading", "expected"), [
    ("2013-04", "2013-04"), ("2013/4", "2013-04"), ("04/2013", "2013-04"), ("Apr-13", "2013-04"),
    ("Apr 13", "2013-04"), ("April 2013", "2013-04"), ("Sept 2013", "2013-09"), ("apr-2013", "2013-04"),
    ("2013 Apr", "2013-04"), ("01/04/2013", "2013-04"), ("2013-04-01", "2013-04"),
    (dt.datetime(2013, 4, 1), "2013-04"), (dt.date(2014, 3, 1), "2014-03"),
])
def test_month_headings_in_the_forms_partnerships_use(heading: object, expected: str) -> None:
    """ISO months, Excel's Apr-13, month names, UK dates and date cells all read as months."""
    month = parse_month_heading(heading)
    assert month is not None and f"{month // 12}-{month % 12 + 1:02d}" == expected


@pytest.mark.parametrize("heading", ["Target", "2013/14 Total", "13-13", "Smarch 2013", "2013-13", "", None, 2013])
def test_other_headings_are_not_months(heading: object) -> None:
    """Targets, totals and nonsense are not month columns."""
    assert parse_month_heading(heading) is None


def test_an_xlsx_table_becomes_long_figures(tmp_path: Path) -> None:
    """Title rows are skipped, date and text headings read, other columns ignored, percentages parsed."""
    result = import_spreadsheet(_harborough_sheet(tmp_path), area="Harborough")
    assert result.figures == {
        ("harborough", "domestic-burglary", "2013-04"): 21, ("harborough", "domestic-burglary", "2013-05"): 18,
        ("harborough", "domestic-burglary", "2013-06"): 25,
        ("harborough", "theft-from-motor-vehicle", "2013-04"): 30,
        ("harborough", "theft-from-motor-vehicle", "2013-06"): 27,
        ("harborough", "user-satisfaction", "2013-04"): 88, ("harborough", "user-satisfaction", "2013-06"): 86.5,
    }
    assert result.header_row == 3 and result.sheet == "Sheet1"
    assert result.empty_cells == 2
    assert result.ignored_columns == ("Target", "Notes")


def test_a_csv_table_with_an_area_column(tmp_path: Path) -> None:
    """An Area column gives each row's area; thousands separators are read."""
    path = tmp_path / "table.csv"
    path.write_text("Area,Measure,Apr-13,May-13\nHarborough,Total crime,\"1,159\",230\nBlaby,Total crime,310,n/a\n",
                    encoding="utf-8-sig")
    result = import_spreadsheet(path)
    assert result.figures == {("harborough", "total-crime", "2013-04"): 1159,
                              ("harborough", "total-crime", "2013-05"): 230,
                              ("blaby", "total-crime", "2013-04"): 310}
    assert result.areas == ("blaby", "harborough")


def test_a_windows_excel_csv_in_cp1252_is_read(tmp_path: Path) -> None:
    """Excel's plain CSV on Windows is cp1252: read, with its £ and en dash intact."""
    path = tmp_path / "table.csv"
    path.write_bytes("Measure,Apr-13,May-13\nCost £,10,\u2013\n".encode("cp1252"))
    result = import_spreadsheet(path, area="melton")
    assert result.figures == {("melton", "cost", "2013-04"): 10}


def test_bad_xlsx_cells_are_reported_with_their_sheet_and_cell(tmp_path: Path) -> None:
    """Every bad cell is named as file.xlsx:Sheet!C4, all at once."""
    path = write_workbook(tmp_path / "bad.xlsx", [
        ["Measure", "Apr-13", "May-13", "Jun-13"],
        ["Burglary", 3, "#DIV/0!", "twelve"],
        ["Robbery", -2, 1, 1],
    ], sheet="Data")
    with pytest.raises(FiguresError) as caught:
        import_spreadsheet(path, area="harborough")
    assert str(caught.value).splitlines() == [
        f"{path}:Data!B3: -2 is negative: figures are counts, rates or percentages",
        f"{path}:Data!C2: the cell holds the spreadsheet error #DIV/0!: fix its formula",
        f"{path}:Data!D2: 'twelve' is not a number (leave the cell empty when there is no figure)",
    ]


def test_bad_csv_cells_are_reported_with_line_and_column(tmp_path: Path) -> None:
    """In a CSV a bad cell is file:line:column, the column counted in characters."""
    path = tmp_path / "bad.csv"
    path.write_text("Measure,Apr-13,May-13\nBurglary,12,lots\n")
    with pytest.raises(FiguresError) as caught:
        import_spreadsheet(path, area="harborough")
    assert str(caught.value) == (f"{path}:2:13: 'lots' is not a number (leave the cell empty when there is no "
                                 "figure)")


def test_a_table_without_area_needs_the_area_option(tmp_path: Path) -> None:
    """With no Area column and no --area the import says what to do."""
    with pytest.raises(FiguresError, match=r"no Area column: give the area it covers \(--area harborough\)"):
        import_spreadsheet(_harborough_sheet(tmp_path))


def test_an_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    """Asking for a sheet the workbook lacks names the sheets it has."""
    with pytest.raises(FiguresError, match="has no sheet 'Summary': its sheets are 'Sheet1'"):
        import_spreadsheet(_harborough_sheet(tmp_path), area="h", sheet="Summary")


def test_a_measure_given_twice_is_an_error(tmp_path: Path) -> None:
    """The same measure on two rows for one area is refused, naming the first row."""
    path = tmp_path / "twice.csv"
    path.write_text("Measure,Apr-13,May-13\nBurglary,1,2\nburglary,3,4\n")
    with pytest.raises(FiguresError, match="'burglary' for harborough is also on row 2"):
        import_spreadsheet(path, area="harborough")


def test_a_month_heading_twice_is_an_error(tmp_path: Path) -> None:
    """Two columns for one month would make the figures ambiguous: refused."""
    path = tmp_path / "twice.csv"
    path.write_text("Measure,Apr-13,2013-04\nBurglary,1,2\n")
    with pytest.raises(FiguresError, match="2013-04 heads two columns"):
        import_spreadsheet(path, area="harborough")


def test_a_table_without_month_columns_is_an_error(tmp_path: Path) -> None:
    """A sheet whose headings are not months gets a plain explanation."""
    path = tmp_path / "none.csv"
    path.write_text("Measure,Q1,Q2\nBurglary,1,2\n")
    with pytest.raises(FiguresError, match="no header row with month columns"):
        import_spreadsheet(path, area="harborough")


def test_an_old_xls_or_a_damaged_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    """Files that are not readable workbooks are refused with the reason."""
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(FiguresError, match=r"save it as \.xlsx or CSV"):
        import_spreadsheet(old, area="h")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(_harborough_sheet(tmp_path).read_bytes()[:300])
    with pytest.raises(FiguresError, match=r"not a readable \.xlsx workbook"):
        import_spreadsheet(damaged, area="h")


def test_spreadsheet_figures_load_with_the_core_loader(tmp_path: Path) -> None:
    """The long CSV written from a sheet is read back by the figures loader."""
    from csp_monitor.load.figures import load_figures

    out = tmp_path / "figures.csv"
    import_spreadsheet(_harborough_sheet(tmp_path), area="harborough", out=out)
    figures = load_figures(out)
    assert figures.series("harborough", "domestic-burglary") == {2013 * 12 + 3: 21, 2013 * 12 + 4: 18,
                                                                 2013 * 12 + 5: 25}


# --- the CLI -----------------------------------------------------------------------------------------


def test_cli_spreadsheet_writes_figures_and_a_summary(tmp_path: Path) -> None:
    """`import spreadsheet` writes the figures and says what it read on stderr."""
    out = tmp_path / "figures.csv"
    result = CliRunner().invoke(import_group, ["spreadsheet", str(_harborough_sheet(tmp_path)), "--area",
                                               "harborough", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 7 figures" in result.stderr and result.stdout == ""
    with out.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 7


@needs_shared
def test_cli_police_uk_imports_and_summarises(tmp_path: Path) -> None:
    """`import police-uk` writes the figures and reports the gap, unallocated rows and left-out areas."""
    out = tmp_path / "figures.csv"
    result = CliRunner().invoke(import_group, ["police-uk", str(CITY_OF_LONDON), "--lookup", str(LOOKUP),
                                               "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Months: 18 (2016-01 to 2017-06)" in result.stderr
    assert "Unallocated (no location): 465 rows" in result.stderr
    assert "Publication gaps (left out, not zero): city-of-london 2017-05 anti-social-behaviour" in result.stderr
    assert "tower-hamlets (201)" in result.stderr
    assert out.exists()


@needs_shared
def test_cli_police_uk_by_force_gives_the_force_total(tmp_path: Path) -> None:
    """--area-by force counts every row of the force, located or not."""
    out = tmp_path / "figures.csv"
    result = CliRunner().invoke(import_group, ["police-uk", str(CITY_OF_LONDON), "--area-by", "force",
                                               "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["measure"] == "total-crime"]
    assert rows[0] == {"area": "city-of-london", "measure": "total-crime", "period": "2016-01", "value": "381",
                       "flag": "", "reason": ""}


def test_cli_errors_are_figures_errors_and_nothing_is_written(tmp_path: Path) -> None:
    """A bad input raises the project's FiguresError (the main CLI prints it, exit 1) and writes nothing."""
    bad = tmp_path / "2020-01-test-street.csv"
    bad.write_text("not,a,street,file\n")
    out = tmp_path / "figures.csv"
    result = CliRunner().invoke(import_group, ["police-uk", str(bad), "--out", str(out)])
    assert isinstance(result.exception, FiguresError)
    assert "not a police.uk street-level file" in str(result.exception)
    assert sorted(os.listdir(tmp_path)) == [bad.name]


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    """A missing --out is a usage error."""
    result = CliRunner().invoke(import_group, ["police-uk", str(CITY_OF_LONDON)])
    assert result.exit_code == 2 and "--out" in result.output


def test_the_progress_bar_shows_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No progress callback when stderr is not a terminal or --no-progress is given; one when it is."""
    import io
    import sys

    from csp_monitor.cli.import_cmd import _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with _progress(True) as update:
        assert update is None
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _progress(False) as update:
        assert update is None
    with _progress(True) as update:
        assert update is not None
        update(0, 100)
        update(100, 100)
    assert "Counting" in terminal.getvalue()
