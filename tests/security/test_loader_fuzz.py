"""Random files never crash a figures loader: each is read, or refused with located problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csp_monitor.errors import FiguresError
from csp_monitor.importers.spreadsheet import import_spreadsheet
from csp_monitor.load.figures import load_figures

_TOKENS = st.sampled_from([
    b"area", b"measure", b"period", b"value", b"harborough", b"2014-03", b"Apr-13", b"13", b"-1", b"1,159",
    b"88%", b"NaN", b",", b",", b'"', b"\n", b"\r\n", b"#", b" ", b"\t", b"\xff", b"\xc3", b"\xc3\xa9", b"\x00",
    b"\xef\xbb\xbf", b"x" * 70_000,
])
_CSV = st.lists(_TOKENS, max_size=60).map(b"".join)

_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**400), st.floats(allow_nan=True),
                       st.sampled_from(["harborough", "2014-03", "", "  ", "\ufffe", "13", "from", "values"]))
_JSON = st.recursive(_JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=5),
    st.dictionaries(st.sampled_from(["area", "measure", "period", "value", "from", "values", "figures", "x"]),
                    inner, max_size=5)), max_leaves=25)

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"figures{suffix}"
        path.write_bytes(data)
        try:
            load_figures(path)
        except FiguresError as exc:
            assert exc.problems
            assert all(problem.file == str(path) and problem.message for problem in exc.problems)


@_SETTINGS
@given(data=_CSV)
def test_random_csv_files_load_or_are_refused_with_problems(data: bytes) -> None:
    """A figures CSV of random tokens, bad bytes and overlong values loads or raises FiguresError, nothing else."""
    _load(".csv", data)


@_SETTINGS
@given(document=_JSON)
def test_random_json_structures_load_or_are_refused_with_problems(document: Any) -> None:
    """Any JSON structure as a figures file loads or raises FiguresError with problems in that file."""
    _load(".json", json.dumps(document, indent="\t").encode())


@_SETTINGS
@given(data=_CSV)
def test_random_spreadsheet_csv_imports_or_is_refused(data: bytes) -> None:
    """A spreadsheet CSV of random tokens imports or raises FiguresError, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(data)
        try:
            import_spreadsheet(path, area="harborough")
        except FiguresError as exc:
            assert exc.problems


_CELL = st.one_of(st.none(), st.integers(-5, 10**15), st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from(["Measure", "Area", "Apr-13", "2013-05", "April 2013", "Burglary", "harborough",
                                   "-", "n/a", "#DIV/0!", "=1+1", "1,159", "88%", "\ufffe", " ", "é"]),
                  st.text(max_size=12).filter(lambda t: not any(ord(c) < 32 for c in t)))
_SHEET = st.lists(st.lists(_CELL, max_size=8), max_size=12)


@_SETTINGS
@given(rows=_SHEET)
def test_random_workbooks_import_or_are_refused(rows: list[list[object]]) -> None:
    """A workbook of random cells (numbers, texts, months, errors) imports or raises FiguresError, nothing else."""
    from openpyxl import Workbook

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.xlsx"
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        workbook.save(path)
        try:
            import_spreadsheet(path, area="harborough")
        except FiguresError as exc:
            assert exc.problems


_XML_PIECES = st.sampled_from([b"<", b">", b"</c>", b"<v>", b"</v>", b"<row>", b"</row>", b'r="A1"', b't="s"',
                               b"<v>1" + b"0" * 5000 + b"</v>", b"<v>NaN</v>", b"&amp;", b"&#0;", b"\x00", b"\xff",
                               b'<c r="XFD1048576"><v>1</v></c>', b"<si><t>x</t></si>", b"<!DOCTYPE x>"])


@_SETTINGS
@given(part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml",
                             "xl/_rels/workbook.xml.rels"]),
       cut=st.floats(0, 1), pieces=st.lists(_XML_PIECES, max_size=4))
# Found on a fresh clone: openpyxl raised TypeError ("RgbColor got an unexpected keyword argument 'r'").
@example(part="xl/styles.xml", cut=0.8112274430686621, pieces=[b'<c r="XFD1048576"><v>1</v></c>'])
def test_a_workbook_with_a_damaged_part_is_imported_or_refused(part: str, cut: float, pieces: list[bytes]) -> None:
    """A workbook with random XML spliced into one part imports or raises FiguresError, nothing else."""
    from tests.security.hostile_files import far_cell_workbook, rewritten_workbook

    def splice(data: bytes) -> bytes:
        at = int(len(data) * cut)
        return data[:at] + b"".join(pieces) + data[at:]

    with tempfile.TemporaryDirectory() as folder:
        path = rewritten_workbook(far_cell_workbook(Path(folder) / "table.xlsx", ""), {part: splice})
        try:
            import_spreadsheet(path, area="harborough")
        except FiguresError as exc:
            assert exc.problems


_STREET_TOKENS = st.sampled_from([
    b"Crime ID", b"Month", b"Reported by", b"Falls within", b"Longitude", b"Latitude", b"Location", b"LSOA code",
    b"LSOA name", b"Crime type", b"Last outcome category", b"Context", b"2020-01", b"2020-13", b"E01025934",
    b"Harborough 001A", b"Burglary", b"Anti-social behaviour", b"Leicestershire Police", b"-1.2", b"52.4", b"",
    b",", b",", b",", b'"', b"\n", b"\r\n", b"\x00", b"\xff", b"1" * 5000, b"x" * 70_000,
])
_STREET_NAMES = st.sampled_from(["2020-01/2020-01-leicestershire-street.csv", "2020-13/2020-13-x-street.csv",
                                 "2020-01/2020-01-leicestershire-outcomes.csv", "../2020-01-evil-street.csv",
                                 "2020-01/2020-01-Leicestershire-street.CSV", "2020-01/", "/abs-street.csv"])


@pytest.mark.filterwarnings("ignore:Duplicate name")  # a name given twice in an archive is one of the attacks
@_SETTINGS
@given(members=st.lists(st.tuples(_STREET_NAMES, st.lists(_STREET_TOKENS, max_size=40).map(b"".join)), max_size=3),
       header=st.booleans())
def test_random_police_uk_archives_import_or_are_refused(members: list[tuple[str, bytes]], header: bool) -> None:
    """A police.uk archive of random street files (names, headers, rows, bad bytes) imports or raises
    FiguresError, nothing else."""
    import zipfile

    from csp_monitor.importers.police_uk import import_police_uk
    from tests.security.hostile_files import STREET_HEADER

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members:
                archive.writestr(name, (STREET_HEADER if header else b"") + content)
        try:
            import_police_uk(path, engine="python", workers=1)
        except FiguresError as exc:
            assert exc.problems
