"""Random files never crash a figures loader: each is read, or refused with located problems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
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
