"""The drop-folder watcher: complete, readable new files run the alerts job once; nothing else does.

Run in this process with a real SQLite store, delivery into a folder and a
clock the test moves on (one look per minute).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.load.config import load_config
from csp_monitor.models.config import MonitorConfig
from csp_monitor.schedule import ledger
from csp_monitor.schedule.jobs import JobResult
from csp_monitor.schedule.status import read_status, render_status
from csp_monitor.schedule.watch import FIGURES_JOB, DropFolderWatcher
from csp_monitor.state import open_store
from csp_monitor.state.store import StateStore
from tests.daemon_fixtures import add_month, write_partnership

WEEKLY_ALERTS = """\
timezone: Europe/London
schedules:
  - id: weekly-alerts
    cron: "30 8 * * mon"
    run: alerts
"""
MAY = "area,measure,period,value\ntestshire,satisfaction-b,2020-05,90\ntestshire,satisfaction-a,2020-05,70\n"


class Clock:
    """Seconds that move on only when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Watching:
    """A watcher over Testshire's drop folder, looked through once a minute."""

    def __init__(self, folder: Path, schedules: str = WEEKLY_ALERTS) -> None:
        self.folder = folder
        self.path = write_partnership(folder, schedules=schedules)
        self.path.write_text(self.path.read_text(encoding="utf-8").replace(
            "figures: [figures/*.csv]", "figures: [figures/*.csv, {drop_folder: incoming/, watch_seconds: 60}]"),
            encoding="utf-8")
        self.incoming = folder / "incoming"
        self.incoming.mkdir(exist_ok=True)
        add_month(folder, "2020-04")
        self.config: MonitorConfig = load_config(self.path)
        self.store: StateStore = open_store(self.config.state)
        self.clock = Clock()
        self.watcher = DropFolderWatcher(clock=self.clock)

    def look(self, times: int = 1) -> list[JobResult | None]:
        """Look ``times`` times, a minute apart."""
        found = []
        for _ in range(times):
            self.clock.now += 60
            found.append(self.watcher.poll(self.config, self.store))
        return found

    def restart(self) -> None:
        """A new daemon: the watcher's memory is gone, the store's is not."""
        self.watcher = DropFolderWatcher(clock=self.clock)

    def runs(self) -> list[ledger.RunRecord]:
        return ledger.runs_of(self.store, FIGURES_JOB)

    def messages(self) -> list[str]:
        return [message.subject for message in list_messages(self.store)]


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Watching]:
    """Testshire with April's figures, a drop folder already watched (empty) and no message sent yet."""
    found = Watching(tmp_path)
    assert found.look(2) == [None, None]
    yield found
    found.store.close()


def test_files_already_there_when_the_folder_is_first_watched_are_not_news(tmp_path: Path) -> None:
    """A folder met for the first time is remembered as it is: no run, nothing sent."""
    found = Watching(tmp_path)
    (found.incoming / "2020-05.csv").write_text(MAY, encoding="utf-8")
    try:
        assert found.look(4) == [None] * 4
        assert found.runs() == [] and found.messages() == []
        (state,) = read_status(found.path).drop_folders
        assert state.watched_since is not None and state.waiting == () and state.last_picked_up_at is None
    finally:
        found.store.close()


def test_a_new_file_runs_the_alerts_job_once_when_it_has_stopped_changing(watching: Watching) -> None:
    """Seen once it waits; seen the same again it is picked up: the alerts go out once, for the new month."""
    (watching.incoming / "2020-05.csv").write_text(MAY, encoding="utf-8")
    first, second = watching.look(2)
    assert first is None
    assert second is not None and second.outcome == "succeeded"
    assert second.detail == (f"new figures in {watching.incoming}: 2020-05.csv (new); as of 2020-05, queued 3 (3 alerts), sent 3 (3 alerts)")
    assert sorted(watching.messages()) == ["Testshire Community Safety Partnership: alert, Satisfaction A (May 2020)"] * 3
    (run,) = watching.runs()
    assert (run.reason, run.run, run.outcome) == ("new-figures", "alerts", "succeeded")
    assert watching.look(3) == [None] * 3
    watching.restart()
    assert watching.look(3) == [None] * 3
    assert len(watching.runs()) == 1 and len(watching.messages()) == 3


def test_a_file_still_being_written_is_not_acted_on(watching: Watching) -> None:
    """A file that grows between two looks waits; the run that follows reads it whole."""
    path = watching.incoming / "2020-05.csv"
    lines = MAY.splitlines(keepends=True)
    path.write_text("".join(lines[:2]), encoding="utf-8")  # satisfaction-b only: on target
    assert watching.look() == [None]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines[2])  # satisfaction-a arrives: off target
    assert watching.look() == [None]
    assert watching.runs() == []
    (result,) = watching.look()
    assert result is not None and result.outcome == "succeeded"
    assert set(watching.messages()) == {"Testshire Community Safety Partnership: alert, Satisfaction A (May 2020)"}


def test_a_file_that_cannot_be_read_waits_and_is_logged_once(watching: Watching,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A cut-short file is not acted on, its problem logged plainly once; replaced whole, it is picked up."""
    path = watching.incoming / "2020-05.csv"
    path.write_text("area,measure,per", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="csp_monitor.watch"):
        assert watching.look(4) == [None] * 4
    (warning,) = [r for r in caplog.records if getattr(r, "event", None) == "figures.invalid"]
    assert warning.getMessage() == (
        f"new figures in {watching.incoming} cannot be used yet (2020-05.csv): {path}:1:1: the header must name "
        "the columns area, measure, period and value; period, value are missing ('per' looks like a misspelling "
        "of 'period'). They are picked up once the file is complete and can be read")
    assert watching.runs() == [] and watching.messages() == []
    assert read_status(watching.path).drop_folders[0].waiting == ("2020-05.csv",)
    path.write_text(MAY, encoding="utf-8")
    results = watching.look(2)
    assert results[0] is None and results[1] is not None and results[1].outcome == "succeeded"
    assert len(watching.messages()) == 3


def test_the_same_files_after_a_crash_do_their_work_once(watching: Watching) -> None:
    """Killed after the run but before the files were remembered: the next daemon finds the run done."""
    (watching.incoming / "2020-05.csv").write_text(MAY, encoding="utf-8")
    assert watching.look(2)[1] is not None
    with watching.store.transaction() as connection:
        connection.exec_driver_sql("DELETE FROM dropped_files WHERE name = '2020-05.csv'")
    watching.restart()
    first, second = watching.look(2)
    assert first is None and second is not None and second.outcome == "already-done"
    assert len(watching.runs()) == 1 and len(watching.messages()) == 3
    assert watching.look(2) == [None, None]  # remembered now


def test_a_changed_or_removed_file_is_news_too(watching: Watching) -> None:
    """A partner's corrected file runs the alerts again (the decision sends only what is newly due)."""
    path = watching.incoming / "2020-05.csv"
    path.write_text(MAY, encoding="utf-8")
    watching.look(2)
    path.write_text(MAY.replace("satisfaction-a,2020-05,70", "satisfaction-a,2020-05,71"), encoding="utf-8")
    changed = watching.look(2)[1]
    assert changed is not None and changed.detail.startswith(
        f"new figures in {watching.incoming}: 2020-05.csv (changed); as of 2020-05, queued 0")
    path.unlink()
    removed = watching.look(2)[1]
    assert removed is not None and removed.detail.startswith(
        f"new figures in {watching.incoming}: 2020-05.csv (removed); as of 2020-04")
    assert [run.outcome for run in watching.runs()] == ["succeeded"] * 3


def test_without_an_alerts_schedule_files_are_remembered_and_nothing_runs(tmp_path: Path) -> None:
    """Alerts go out only where the configuration schedules them; the new file waits for the calendar."""
    found = Watching(tmp_path, schedules="schedules:\n  - {id: monthly-summary, cron: '0 7 10 * *', run: summary}\n")
    try:
        found.look(2)
        (found.incoming / "2020-05.csv").write_text(MAY, encoding="utf-8")
        assert found.look(3) == [None] * 3
        assert found.runs() == [] and found.messages() == []
        (state,) = read_status(found.path).drop_folders
        assert state.last_picked_up == ("2020-05.csv",) and state.last_run is None and state.waiting == ()
    finally:
        found.store.close()


def test_status_shows_each_drop_folder_and_what_was_picked_up(watching: Watching) -> None:
    """The folder, its files, the last pickup with the run it started, and what is waiting."""
    (watching.incoming / "2020-05.csv").write_text(MAY, encoding="utf-8")
    watching.look(2)
    (watching.incoming / "2020-06.csv").write_text("area,measure,period,value\n", encoding="utf-8")
    status = read_status(watching.path)
    (state,) = status.drop_folders
    assert (state.folder, state.pattern, state.watch_seconds, state.files) == (str(watching.incoming), "*.csv", 60, 2)
    assert state.last_picked_up == ("2020-05.csv",) and state.waiting == ("2020-06.csv",)
    assert state.last_run is not None and state.last_run.outcome == "succeeded"
    text = render_status(status)
    assert f"drop folders\n{watching.incoming}  (*.csv, looked at every 60 s)\n  files      2\n  picked up  " in text
    assert ": 2020-05.csv; alerts run succeeded\n  waiting    2020-06.csv (picked up once complete and readable)\n" in text
