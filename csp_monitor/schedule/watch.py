"""The drop-folder watcher: alerts go out when figures arrive, not only on the calendar.

The daemon looks in each drop folder every ``watch_seconds`` (a listing of
names, sizes and modification times: no inotify, so it works on network
shares). A file is **picked up** when

1. it is new, changed or gone since the files the store remembers
   (:mod:`csp_monitor.schedule.pickups`);
2. the folder looked exactly the same at the previous look, so a file still
   being written (growing, or touched) waits for the next look; and
3. every new or changed file can be read as figures. One that cannot (cut
   short, or simply wrong) is logged once, plainly, and waits until the
   partner replaces it.

Then the ``alerts`` job runs once for the latest month, through the run
ledger under the job id :data:`FIGURES_JOB` and an occurrence key made from
the files themselves: the same files noticed twice (two looks, a restart, a
crash mid-run) do the work once. The files are remembered as picked up when
the run has ended, however it ended (a failure is in the ledger and the log,
and the next scheduled run tries again). A folder met for the first time is
remembered as it is: files already there are not news.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from csp_monitor.errors import InputError
from csp_monitor.load.figure_sources import DroppedFile, drop_folders, dropped_files
from csp_monitor.models.schedule import Schedule
from csp_monitor.schedule import pickups
from csp_monitor.schedule.jobs import JobResult, run_job
from csp_monitor.schedule.occurrences import Occurrence

if TYPE_CHECKING:
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.models.figure_sources import DropFolder
    from csp_monitor.schedule.pickups import PickedUp
    from csp_monitor.state.store import StateStore

__all__ = ["FIGURES_JOB", "WATCH_JOB", "Arrival", "DropFolderWatcher", "watch_interval"]

log = logging.getLogger("csp_monitor.watch")

FIGURES_JOB = "csp-monitor:new-figures"
"""The run ledger's job id for alerts runs started by new figures (a colon: never a schedule id)."""

WATCH_JOB = "csp-monitor:watch"
"""The daemon's polling job."""

_EARLY = 0.5  # a look due within this many seconds is taken now, so scheduler jitter never skips one


def watch_interval(config: MonitorConfig) -> int | None:
    """How often the polling job runs: the shortest ``watch_seconds``; None without drop folders."""
    seconds = [source.watch_seconds for _, source in drop_folders(config)]
    return min(seconds) if seconds else None


@dataclass(frozen=True)
class Arrival:
    """What changed in one drop folder since its files were last picked up."""

    folder: str
    files: tuple[DroppedFile, ...]
    new: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    def describe(self) -> str:
        """``new figures in /x/incoming: 2014-04.csv (new), 2014-02.csv (changed)``."""
        parts = [f"{name} (new)" for name in self.new] + [f"{name} (changed)" for name in self.changed]
        parts += [f"{name} (removed)" for name in self.removed]
        return f"new figures in {self.folder}: {', '.join(parts)}"

    def fresh(self) -> list[DroppedFile]:
        """The new and changed files."""
        wanted = set(self.new) | set(self.changed)
        return [file for file in self.files if file.name in wanted]


def _arrival(folder: str, files: tuple[DroppedFile, ...], known: dict[str, PickedUp]) -> Arrival | None:
    names = {file.name for file in files}
    new = tuple(file.name for file in files if file.name not in known)
    changed = tuple(file.name for file in files if file.name in known and not known[file.name].same_as(file))
    removed = tuple(sorted(name for name in known if name not in names))
    if not (new or changed or removed):
        return None
    return Arrival(folder, files, new, changed, removed)


def occurrence_key(arrivals: Sequence[Arrival]) -> str:
    """The run ledger's key for picking these files up: the same files give the same key."""
    state = [[arrival.folder, [[f.name, f.size, f.mtime_ns] for f in arrival.files], list(arrival.removed)]
             for arrival in sorted(arrivals, key=lambda a: a.folder)]
    digest = hashlib.sha256(json.dumps(state, separators=(",", ":")).encode("utf-8")).hexdigest()
    return f"files {digest[:40]}"


class DropFolderWatcher:
    """Looks in the drop folders and runs the alerts job when complete, readable new files are there.

    It keeps the previous look at each folder in memory (to see a file still
    being written); what has been picked up is kept in the state store.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._looked: dict[str, tuple[DroppedFile, ...]] = {}
        self._due: dict[str, float] = {}
        self._logged: dict[str, str] = {}  # folder -> the last problem logged, so it is logged once

    def poll(self, config: MonitorConfig, store: StateStore, *, stop: Callable[[], bool] | None = None,
             now: datetime | None = None) -> JobResult | None:
        """Look in every folder that is due; run the alerts job once for what has arrived complete."""
        moment = now or datetime.now(UTC)
        arrivals: list[Arrival] = []
        for _, source in drop_folders(config):
            folder = source.drop_folder
            if self._clock() + _EARLY < self._due.get(folder, 0.0):
                continue
            self._due[folder] = self._clock() + source.watch_seconds
            arrival = self._look(store, source, now=moment)
            if arrival is not None and self._readable(arrival):
                arrivals.append(arrival)
        if not arrivals or (stop is not None and stop()):
            return None
        key = occurrence_key(arrivals)
        note = "; ".join(arrival.describe() for arrival in arrivals)
        if not any(schedule.run == "alerts" for schedule in config.schedules):
            log.info("%s; there is no alerts schedule, so they are used at the next scheduled run", note,
                     extra={"event": "figures.arrived", "job": FIGURES_JOB, "occurrence": key})
            self._remember(store, arrivals, key, moment)
            return None
        log.info("%s; running the alerts job", note,
                 extra={"event": "figures.arrived", "job": FIGURES_JOB, "occurrence": key})
        schedule = Schedule.model_construct(id=FIGURES_JOB, run="alerts", cron=None, interval_seconds=None, to=None)
        result = run_job(config, store, schedule, Occurrence(FIGURES_JOB, moment, key), reason="new-figures",
                         stop=stop, note=note)
        self._remember(store, arrivals, key, moment)
        return result

    def _look(self, store: StateStore, source: DropFolder, *, now: datetime) -> Arrival | None:
        """One look at a folder: what has arrived, once the folder is the same as at the previous look."""
        folder = source.drop_folder
        try:
            files = tuple(dropped_files(source))
        except OSError as exc:
            self._looked.pop(folder, None)
            self._log_once(folder, f"the drop folder {folder} cannot be read ({exc.strerror}); it is looked at "
                                   "again in a while", event="figures.folder_unreadable")
            return None
        previous = self._looked.get(folder)
        self._looked[folder] = files
        if previous != files:
            if previous is not None:
                log.debug("%s: files are arriving or changing; they are picked up once they stay the same",
                          folder, extra={"event": "figures.changing", "folder": folder})
            return None
        if pickups.watched_since(store, folder) is None:
            pickups.start_watching(store, folder, files, now=now)
            log.info("watching the drop folder %s: %d file%s already there (read at every run); new and changed "
                     "files from now on start the alerts job", folder, len(files), "" if len(files) == 1 else "s",
                     extra={"event": "figures.watching", "folder": folder})
            return None
        return _arrival(folder, files, pickups.picked_up(store, folder))

    def _readable(self, arrival: Arrival) -> bool:
        """Whether every new or changed file can be read as figures (logged once when not)."""
        from csp_monitor.load.figures import load_figures

        problems: list[str] = []
        for file in arrival.fresh():
            try:
                load_figures(file.path)
            except InputError as exc:
                problems.extend(str(problem) for problem in exc.problems)
        if problems:
            names = ", ".join(file.name for file in arrival.fresh())
            self._log_once(arrival.folder, f"new figures in {arrival.folder} cannot be used yet ({names}): "
                                           f"{'; '.join(problems)}. They are picked up once the file is complete "
                                           "and can be read", event="figures.invalid")
            return False
        self._logged.pop(arrival.folder, None)
        return True

    def _log_once(self, folder: str, message: str, *, event: str) -> None:
        if self._logged.get(folder) != message:
            self._logged[folder] = message
            log.warning("%s", message, extra={"event": event, "folder": folder})

    def _remember(self, store: StateStore, arrivals: Sequence[Arrival], key: str, now: datetime) -> None:
        for arrival in arrivals:
            pickups.record_pickup(store, arrival.folder, arrival.files, key, now=now)
