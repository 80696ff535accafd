"""The column-at-a-time CSV reader gives exactly what the row-by-row reader gives, or steps aside."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor.errors import FiguresError, Problem
from csp_monitor.load.figures import MAX_FIGURE, MAX_FIGURES_BYTES, _load_csv, load_figures
from csp_monitor.load.figures_columns import read_csv_columns
from csp_monitor.models.figures import FigureSet

_AREAS = ["Harborough", "harborough", "Blaby", "Hinckley and Bosworth", " blaby ", "", "#note"]
_MEASURES = ["burglary", "Burglary", "asb", ""]
_PERIODS = ["2020-01", "2020-02", "2020-3", "2020-12", "2021-01", "2020-13", "2020-01-05", "March", ""]
_VALUES = ["5", "0", "12.5", "1e3", "-1", "", "nan", "inf", "88%", '"1,159"', "x", " 7 ", "1_000", "-0"]
_FLAGS = ["", "", "", "fall", " "]
_REASONS = ["", "lost 80% of crimes", "boundary"]


_ODD = ([(0, text) for text in _AREAS[5:]] + [(1, text) for text in _MEASURES[3:]]
        + [(2, text) for text in _PERIODS[5:]] + [(3, text) for text in _VALUES[4:]]
        + [(None, line) for line in ["", "# a comment", "harborough,burglary,2020-01", "{row},extra"]])
"""One odd cell (column, text) or one odd line, ``{row}`` standing for the row it replaces."""


@st.composite
def _rows(draw: st.DrawFn, clean: bool) -> list[str]:
    """Rows from a few areas, measures and months; unless ``clean``, with one odd cell or line somewhere."""
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        rows.append([draw(st.sampled_from(_AREAS[:5])), draw(st.sampled_from(_MEASURES[:3])),
                     draw(st.sampled_from(_PERIODS[:5])), draw(st.sampled_from(_VALUES[:4])),
                     draw(st.sampled_from(_FLAGS)), draw(st.sampled_from(_REASONS))])
    lines = [",".join(row) for row in rows]
    if not clean and rows:
        where = draw(st.integers(0, len(rows) - 1))
        column, text = draw(st.sampled_from(_ODD))
        if column is None:
            lines[where] = text.format(row=lines[where])
        else:
            rows[where][column] = text
            lines[where] = ",".join(rows[where])
    return lines


def _slow(*paths: Path) -> tuple[FigureSet, list[Problem]]:
    """The row-by-row reader alone, over the files in turn, as load_figures calls it."""
    result = FigureSet()
    problems: list[Problem] = []
    earlier: list[tuple[str | Path, str]] = []
    for path in paths:
        _load_csv(path, str(path), result, earlier, problems)
        earlier.append((path, str(path)))
    return result, list(FiguresError(problems).problems) if problems else []


def _through_loader(paths: list[Path]) -> tuple[FigureSet | None, list[Problem]]:
    try:
        return load_figures(paths), []
    except FiguresError as exc:
        return None, list(exc.problems)


def _contents(figures: FigureSet) -> tuple[list[tuple[tuple[str, str], list[tuple[int, float]]]], list[object]]:
    """Every series with its months in stored order, and the suspect marks in order."""
    series = [(key, list(figures.series(*key).items())) for key in figures.series_keys()]
    return series, list(figures.suspects.items())


def _write(folder: Path, name: str, header: str, rows: list[str], ending: str) -> Path:
    path = folder / name
    path.write_bytes((header + ending + ending.join(rows) + (ending if rows else "")).encode())
    return path


@settings(max_examples=300, deadline=None)
@given(rows=_rows(clean=False), ending=st.sampled_from(["\n", "\r\n"]),
       header=st.sampled_from(["area,measure,period,value,flag,reason", "Area, Measure ,PERIOD,value,suspect,reason",
                               "# made by hand\narea,measure,period,value,flag,reason"]))
def test_any_file_loads_as_the_row_by_row_reader_loads_it(rows: list[str], ending: str, header: str) -> None:
    """Whatever a file holds, the loader gives the row-by-row reader's figures, suspect marks and problems."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "figures.csv", header.replace("\n", ending), rows, ending)
        expected, problems = _slow(path)
        loaded, found = _through_loader([path])
        assert found == problems
        if not problems:
            assert loaded is not None
            assert _contents(loaded) == _contents(expected)


@settings(max_examples=200, deadline=None)
@given(rows=_rows(clean=True), ending=st.sampled_from(["\n", "\r\n"]))
def test_a_well_formed_file_is_read_by_columns_with_the_same_figures(rows: list[str], ending: str) -> None:
    """A file with no odd row is taken by the column reader, unless it repeats a figure, with the same result."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "figures.csv", "area,measure,period,value,flag,reason", rows, ending)
        expected, problems = _slow(path)
        fast = FigureSet()
        taken = read_csv_columns(path, fast, max_value=MAX_FIGURE, max_bytes=MAX_FIGURES_BYTES)
        assert taken == (not problems)
        if taken:
            assert _contents(fast) == _contents(expected)
        else:
            assert _contents(fast) == ([], [])
            assert all("given twice" in problem.message for problem in problems)


@settings(max_examples=100, deadline=None)
@given(first=_rows(clean=True), second=_rows(clean=True))
def test_two_files_load_as_the_row_by_row_reader_loads_them(first: list[str], second: list[str]) -> None:
    """A figure given again by a second file is refused with the row-by-row reader's problem."""
    with tempfile.TemporaryDirectory() as tmp:
        header = "area,measure,period,value,flag,reason"
        one = _write(Path(tmp), "one.csv", header, first, "\n")
        two = _write(Path(tmp), "two.csv", header, second, "\n")
        expected, problems = _slow(one, two)
        loaded, found = _through_loader([one, two])
        assert found == problems
        if loaded is not None:
            assert _contents(loaded) == _contents(expected)


def test_a_national_file_is_taken_by_the_column_reader(tmp_path: Path) -> None:
    """A grouped file of several areas, measures and months, with a suspect figure, is read by columns."""
    lines = [f"area-{a},measure-{m},20{20 + month // 12}-{month % 12 + 1:02d},{(a * 7 + m * 3 + month) % 50},"
             f"{'fall' if (a, m, month) == (2, 1, 5) else ''},{'' if (a, m, month) != (2, 1, 5) else 'lost crimes'}"
             for a in range(5) for m in range(3) for month in range(24)]
    path = _write(tmp_path, "national.csv", "area,measure,period,value,flag,reason", lines, "\n")
    fast = FigureSet()
    assert read_csv_columns(path, fast, max_value=MAX_FIGURE, max_bytes=MAX_FIGURES_BYTES)
    assert _contents(fast) == _contents(_slow(path)[0])
    assert len(fast) == 5 * 3 * 24
    assert fast.suspect("area-2", "measure-1", 2020 * 12 + 5) == "lost crimes"


def test_figures_of_the_same_text_share_one_number(tmp_path: Path) -> None:
    """Every figure written the same way is one float object, however many rows hold it (a national file's memory)."""
    lines = [f"area-{a},burglary,2020-{month:02d},{7 if month % 2 else 12.5}" for a in range(3) for month in range(1, 13)]
    path = _write(tmp_path, "figures.csv", "area,measure,period,value", lines, "\n")
    figures = FigureSet()
    assert read_csv_columns(path, figures, max_value=MAX_FIGURE, max_bytes=MAX_FIGURES_BYTES)
    numbers = [value for key in figures.series_keys() for value in figures.series(*key).values()]
    assert sorted(set(numbers)) == [7.0, 12.5]
    assert len({id(value) for value in numbers}) == 2


@pytest.mark.parametrize("text", [
    'area,measure,period,value\n"Harborough",burglary,2020-01,5\n',
    "area,measure,period,value\nharborough,burglary,2020-01,5\n\nharborough,burglary,2020-02,6\n",
    "area,measure,period,value\nharborough,burglary,2020-01,\n",
    "area,measure,period,value\nharborough,burglary,2020-01,5\rharborough,burglary,2020-02,6\n",
    "area,measure,period\nharborough,burglary,2020-01\n",
    # A short row and a long row hold as many cells as two good ones: each row is checked, not the total.
    "area,measure,period,value,note\nharborough,burglary,2020-01,5\nx,harborough,burglary,2020-02,6,y\n",
    # Above the largest figure accepted (found merging with the value ranges): the row reader says so.
    "area,measure,period,value\nharborough,burglary,2020-01,5\nharborough,burglary,2020-02,2e12\n",
])
def test_odd_files_are_left_to_the_row_by_row_reader(tmp_path: Path, text: str) -> None:
    """Quotes, blank lines, empty values, lone carriage returns, missing columns, ragged rows go row by row."""
    path = tmp_path / "odd.csv"
    path.write_text(text, newline="")
    untouched = FigureSet()
    assert not read_csv_columns(path, untouched, max_value=MAX_FIGURE, max_bytes=MAX_FIGURES_BYTES)
    assert len(untouched) == 0


def test_a_figure_too_large_is_refused_as_the_row_reader_refuses_it(tmp_path: Path) -> None:
    """A well-formed file with one figure above MAX_FIGURE is refused at its line, not taken by the column reader."""
    path = _write(tmp_path, "figures.csv", "area,measure,period,value",
                  ["harborough,burglary,2020-01,5", "harborough,burglary,2020-02,2000000000000"], "\n")
    with pytest.raises(FiguresError) as caught:
        load_figures(path)
    assert [f"{p.file}:{p.line}" for p in caught.value.problems] == [f"{path}:3"]
    assert "too large" in caught.value.problems[0].message


def test_a_pipe_is_not_read_by_the_column_reader(tmp_path: Path) -> None:
    """A FIFO named like a CSV is left alone (reading it would block), and load_figures refuses it."""
    fifo = tmp_path / "figures.csv"
    os.mkfifo(fifo)
    assert not read_csv_columns(fifo, FigureSet(), max_value=MAX_FIGURE, max_bytes=MAX_FIGURES_BYTES)
    with pytest.raises(FiguresError):
        load_figures(fifo)
