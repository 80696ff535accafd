"""Drop folders: every matching file read at each run, oldest first, a later file revising earlier figures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor import evaluate, load_rules
from csp_monitor.errors import FiguresError
from csp_monitor.load.config import load_config
from csp_monitor.load.figure_sources import dropped_files, load_sources
from csp_monitor.models.figure_sources import DropFolder
from csp_monitor.periods import parse_month
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

HEADER = "area,measure,period,value\n"
BURGLARY = ("harborough", "domestic-burglary")


def _drop(folder: Path, name: str, rows: str, *, minutes_ago: float, header: str = HEADER) -> Path:
    """A file dropped ``minutes_ago`` (its modification time says when it arrived)."""
    path = folder / name
    path.write_text(header + rows, encoding="utf-8")
    when = path.stat().st_mtime - minutes_ago * 60
    os.utime(path, (when, when))
    return path


def _config(folder: Path, figures: str) -> Path:
    (folder / "incoming").mkdir(exist_ok=True)
    (folder / "rules.yaml").write_bytes(HARBOROUGH_RULES.read_bytes())
    path = folder / "csp-monitor.yaml"
    path.write_text(f"rules: rules.yaml\nfigures: {figures}\nstate: state.db\n", encoding="utf-8")
    return path


def test_the_file_dropped_last_revises_an_earlier_one(tmp_path: Path) -> None:
    """Files are read in the order they arrived, whatever their names, and the latest value stands."""
    config = load_config(_config(tmp_path, "{drop_folder: incoming/}"))
    incoming = tmp_path / "incoming"
    _drop(incoming, "z-march.csv", "harborough,domestic-burglary,2014-03,22\nharborough,domestic-burglary,2014-02,20\n",
          minutes_ago=30)
    _drop(incoming, "a-correction.csv", "harborough,domestic-burglary,2014-03,25\n", minutes_ago=5)
    loaded = load_sources(config)
    assert [file.name for file in loaded.dropped] == ["z-march.csv", "a-correction.csv"]
    assert dict(loaded.figures.series(*BURGLARY)) == {parse_month("2014-02"): 20, parse_month("2014-03"): 25}
    (revision,) = loaded.revisions
    assert str(revision) == (f"harborough domestic-burglary 2014-03: 22 revised to 25 by {incoming / 'a-correction.csv'}")


def test_a_dropped_file_revises_the_figures_of_other_sources(tmp_path: Path) -> None:
    """A late correction in the drop folder replaces the history file's figure and changes the judgement."""
    (tmp_path / "history.csv").write_bytes(HARBOROUGH_FIGURES.read_bytes())
    config = load_config(_config(tmp_path, "[history.csv, {drop_folder: incoming/}]"))
    rules = load_rules(config.rules)
    before = evaluate(rules, load_sources(config).figures, as_of="2014-03").get("harborough", "domestic-burglary")
    assert before is not None and before.current == 253
    _drop(tmp_path / "incoming", "revised.csv", "harborough,domestic-burglary,2014-03,2\n", minutes_ago=1)
    loaded = load_sources(config)
    after = evaluate(rules, loaded.figures, as_of="2014-03").get("harborough", "domestic-burglary")
    assert after is not None
    march = dict(load_sources(load_config(_config(tmp_path, "history.csv"))).figures.series(*BURGLARY))[
        parse_month("2014-03")]
    assert after.current == 253 - march + 2
    assert [(r.previous, r.value) for r in loaded.revisions] == [(march, 2)]


def test_a_revision_carries_its_own_suspect_mark(tmp_path: Path) -> None:
    """A figure flagged suspect and then resent without a flag is no longer suspect, and the reverse."""
    config = load_config(_config(tmp_path, "{drop_folder: incoming/}"))
    incoming = tmp_path / "incoming"
    header = "area,measure,period,value,flag,reason\n"
    _drop(incoming, "first.csv", "harborough,domestic-burglary,2014-03,0,suspect,upload failed\n"
                                 "harborough,domestic-burglary,2014-02,20,,\n", minutes_ago=10, header=header)
    _drop(incoming, "second.csv", "harborough,domestic-burglary,2014-03,21,,\n"
                                  "harborough,domestic-burglary,2014-02,2,suspect,half the month\n",
          minutes_ago=1, header=header)
    figures = load_sources(config).figures
    assert figures.suspect("harborough", "domestic-burglary", parse_month("2014-03")) is None
    assert figures.suspect("harborough", "domestic-burglary", parse_month("2014-02")) == "half the month"


def test_an_empty_value_in_a_later_file_never_withdraws_a_figure(tmp_path: Path) -> None:
    """A missing month is not a zero, and not a withdrawal either: the earlier figure stays."""
    config = load_config(_config(tmp_path, "{drop_folder: incoming/}"))
    _drop(tmp_path / "incoming", "first.csv", "harborough,domestic-burglary,2014-03,22\n", minutes_ago=10)
    _drop(tmp_path / "incoming", "second.csv", "harborough,domestic-burglary,2014-03,\n", minutes_ago=1)
    loaded = load_sources(config)
    assert dict(loaded.figures.series(*BURGLARY)) == {parse_month("2014-03"): 22}
    assert loaded.revisions == ()


def test_a_figure_twice_in_one_dropped_file_is_still_a_mistake(tmp_path: Path) -> None:
    """Revisions come from later files; within one file a repeat is an error at its line, with the others'."""
    config = load_config(_config(tmp_path, "{drop_folder: incoming/}"))
    bad = _drop(tmp_path / "incoming", "bad.csv", "harborough,domestic-burglary,2014-03,22\n"
                                                  "harborough,domestic-burglary,2014-03,23\n", minutes_ago=5)
    worse = _drop(tmp_path / "incoming", "worse.csv", "harborough,domestic-burglary,2014-04,lots\n", minutes_ago=1)
    with pytest.raises(FiguresError) as caught:
        load_sources(config)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:3:30: harborough domestic-burglary 2014-03 is given twice (first at {bad}:2): keep one",
        f"{worse}:2:38: the value 'lots' is not a number",
    ]


def test_only_matching_visible_files_are_read(tmp_path: Path) -> None:
    """Hidden files, Office lock files, other patterns and sub-folders are left alone; case does not matter."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name in ("MAY.CSV", "june.csv", ".june.csv.swp.csv", "~$june.csv", "notes.txt", "june.csv.part"):
        (incoming / name).write_text(HEADER, encoding="utf-8")
    (incoming / "old.csv").mkdir()
    found = dropped_files(DropFolder(drop_folder=str(incoming)))
    assert sorted(file.name for file in found) == ["MAY.CSV", "june.csv"]


def test_files_of_files_and_patterns_still_may_not_repeat_a_figure(tmp_path: Path) -> None:
    """Only drop folders revise: two history files giving one figure are a mistake, as before."""
    (tmp_path / "a.csv").write_text(HEADER + "harborough,domestic-burglary,2014-03,22\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(HEADER + "harborough,domestic-burglary,2014-03,23\n", encoding="utf-8")
    config = load_config(_config(tmp_path, "[a.csv, b.csv, {drop_folder: incoming/}]"))
    with pytest.raises(FiguresError, match="is given twice"):
        load_sources(config)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["2014-01", "2014-02", "2014-03"]), st.integers(0, 500)),
                min_size=1, max_size=6))
def test_the_latest_file_for_each_month_wins_whatever_the_order(drops: list[tuple[str, int]]) -> None:
    """Any run of single-figure files gives, for each month, the value of the file dropped last."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "incoming").mkdir()
        for order, (month, value) in enumerate(drops):
            _drop(folder / "incoming", f"{len(drops) - order:02d}.csv", f"harborough,domestic-burglary,{month},{value}\n",
                  minutes_ago=len(drops) - order)
        figures = load_sources(load_config(_config(folder, "{drop_folder: incoming/}"))).figures
        expected = {parse_month(month): value for month, value in drops}
        assert dict(figures.series(*BURGLARY)) == expected
