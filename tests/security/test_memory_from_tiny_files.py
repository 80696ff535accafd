"""Tiny hostile files cannot exhaust memory: each is refused clearly within 300 MB and 10 seconds."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.security.hostile_files import far_cell_workbook, write_config, zip_bomb
from tests.security.limits import Refusal, files_under, run_limited


def _import(table: Path) -> Refusal:
    """``import spreadsheet`` of ``table`` into figures.csv beside it, under the memory and time limits."""
    return run_limited("import", "spreadsheet", table, "--area", "harborough", "--out", "figures.csv",
                       cwd=table.parent)


def _assert_import_refused(table: Path, message: str) -> None:
    """Importing ``table`` is refused with ``message`` (a pattern) and writes no figures file."""
    _import(table).assert_refused(message)
    assert not (table.parent / "figures.csv").exists()


def test_a_workbook_with_a_value_at_xfd1048576_is_refused_at_that_cell(tmp_path: Path) -> None:
    """A 5 KB workbook with one value at XFD1048576 is refused at that cell, not padded into a MemoryError."""
    workbook = far_cell_workbook(tmp_path / "far.xlsx", "XFD1048576")
    assert workbook.stat().st_size < 10_000
    _assert_import_refused(workbook, r"^far\.xlsx:Sheet!XFD1048576: this sheet has a value in column XFD, "
                                     r"beyond the first 1,000 columns")


def test_a_workbook_with_a_value_on_its_last_row_is_refused_at_that_cell(tmp_path: Path) -> None:
    """A value on row 1,048,576 (column A) is refused at A1048576 as beyond a table's length."""
    workbook = far_cell_workbook(tmp_path / "long.xlsx", "A1048576")
    _assert_import_refused(workbook, r"^long\.xlsx:Sheet!A1048576: this sheet has a value on row 1,048,576, "
                                     r"beyond row 100,000")


def test_a_workbook_declaring_a_huge_dimension_is_read_as_stored(tmp_path: Path) -> None:
    """A sheet whose declared dimension is A1:XFD1048576 but whose cells are few imports its two figures."""
    workbook = far_cell_workbook(tmp_path / "declared.xlsx", "", dimension="A1:XFD1048576")
    result = _import(workbook)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "figures.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "harborough,burglary,2013-04,1,,", "harborough,burglary,2013-05,2,,"]


@pytest.mark.parametrize("hide", [("pyarrow",), ("pyarrow", "isal")], ids=["isal", "pure-python"])
def test_a_zip_member_inflating_past_its_declared_size_is_refused(tmp_path: Path, hide: tuple[str, ...]) -> None:
    """A 1.5 MB archive whose member claims 1,000 bytes but inflates to 1.5 GB is refused as damaged."""
    archive = zip_bomb(tmp_path / "bomb.zip")
    assert archive.stat().st_size < 2 * 2**20
    result = run_limited("import", "police-uk", archive, "--out", "figures.csv", cwd=tmp_path, hide=hide)
    result.assert_refused(r"^bomb\.zip/2020-01/2020-01-leicestershire-street\.csv: the archive is damaged or "
                          r"incomplete \(.*(inflates to more than the 1,000 bytes|Bad CRC-32)")
    assert not (tmp_path / "figures.csv").exists()


def test_a_zip_member_declaring_gigabytes_is_refused_unread(tmp_path: Path) -> None:
    """A member that honestly declares 1.5 GB is refused before it is inflated (no street file is so large)."""
    archive = zip_bomb(tmp_path / "huge.zip", claimed=None)
    result = run_limited("import", "police-uk", archive, "--out", "figures.csv", cwd=tmp_path)
    result.assert_refused(r"^huge\.zip: 2020-01/2020-01-leicestershire-street\.csv claims 1,572,864,129 bytes, "
                          r"more than any police\.uk street file \(256 MiB\)")
    assert not (tmp_path / "figures.csv").exists()


@pytest.mark.parametrize("command", [["send", "--dry-run", "out"], ["run-once"]], ids=["send", "run-once"])
def test_a_zip_bomb_in_a_daemon_figures_source_is_refused(tmp_path: Path, command: list[str]) -> None:
    """A police.uk source of the configuration holding the bomb fails the run plainly, with pyarrow loaded: by
    send, and by run-once (the daemon's own job)."""
    zip_bomb(tmp_path / "bomb.zip")
    config = write_config(tmp_path, "timezone: Europe/London\nschedules:\n"
                                    '  - {id: monthly-summary, cron: "0 7 10 * *", run: alerts}\n',
                          figures="[{police_uk: bomb.zip}]")
    before = files_under(tmp_path)
    # pyarrow reserves address space beyond 300 MB: limit the data it writes instead.
    result = run_limited(command[0], "--config", config, *command[1:], cwd=tmp_path, hide=(), limit="DATA")
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert "Traceback" not in output and "internal error" not in output and "MemoryError" not in output
    assert re.search(r"bomb\.zip/2020-01/2020-01-leicestershire-street\.csv: the archive is damaged or "
                     r"incomplete \(.*inflates to more than the 1,000 bytes", output), output
    if command[0] == "send":
        assert files_under(tmp_path) == before


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_password_file_that_never_ends_is_refused(tmp_path: Path, kind: str) -> None:
    """password_file: /dev/zero (or a named pipe) is refused at the key instead of read for ever."""
    if kind == "device":
        password = "/dev/zero"
        expected = "this is a device, not a file"
    else:
        password = str(tmp_path / "password")
        os.mkfifo(password)
        expected = r"this is a named pipe \(FIFO\), not a file"
    config = write_config(tmp_path, delivery=(
        "  smtp: {host: 127.0.0.1, port: 2525, security: none, username: monitor, "
        f"password_file: {password}}}\n"))
    before = files_under(tmp_path)
    result = run_limited("send", "--config", config, cwd=tmp_path)
    result.assert_refused(rf"^csp-monitor\.yaml:6:\d+: the password file cannot be read: {expected}")
    assert files_under(tmp_path) == before


def test_sixty_megabytes_of_commas_are_refused_by_size(tmp_path: Path) -> None:
    """A 60 MB spreadsheet CSV of commas is refused unread, as too large for a partnership's table."""
    table = tmp_path / "commas.csv"
    table.write_bytes(b"," * 60_000_000)
    _assert_import_refused(table, r"^commas\.csv: this table is larger than 16 MiB")


def test_a_line_of_ten_million_commas_is_refused_at_its_thousand_and_first_column(tmp_path: Path) -> None:
    """A row of ten million commas is refused at the character where its 1,001st column starts."""
    table = tmp_path / "wide.csv"
    table.write_bytes(b"Measure,Apr-13,May-13\nBurglary,1,2\n" + b"," * 10_000_000 + b"\n")
    _assert_import_refused(table, r"^wide\.csv:3:1001: this row has more than 1,000 columns")


def test_a_table_of_millions_of_cells_is_refused_where_it_passes_the_limit(tmp_path: Path) -> None:
    """A 12 MB CSV of a million nine-cell rows is refused on the line that passes two million cells."""
    table = tmp_path / "long.csv"
    table.write_bytes(b"Measure,Apr-13,May-13\n" + b"x,1,2,,,,,,\n" * 1_000_000)
    # 3 cells on line 1, then 9 a line: line 222,223 takes the count past 2,000,000.
    _assert_import_refused(table, r"^long\.csv:222223:1: this table holds more than 2,000,000 cells")


def test_a_workbook_inflating_past_any_table_is_refused_unread(tmp_path: Path) -> None:
    """A small workbook with a part that inflates to 200 MiB is refused before openpyxl reads it."""
    import zipfile

    workbook = far_cell_workbook(tmp_path / "inflating.xlsx", "")
    with zipfile.ZipFile(workbook, "a", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/padding.xml", "w", force_zip64=True) as part:
        for _ in range(200):
            part.write(b" " * 2**20)
    assert workbook.stat().st_size < 2 * 2**20
    _assert_import_refused(workbook, r"^inflating\.xlsx: this workbook inflates to 200 MiB, more than any "
                                     r"partnership's table \(128 MiB\)")
