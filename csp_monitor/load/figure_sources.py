"""Read every figures source a monitor configuration names, as one set of figures.

The sources of ``figures:`` (see :mod:`csp_monitor.models.figure_sources`)
are read in three steps, at every run:

1. **Files and patterns**, all together: a figure given twice is a mistake,
   reported at both places (as ever).
2. **police.uk archives**, counted in memory by the importer, suspect
   figures marked. A figure that another source also gives is a mistake.
3. **Drop folders**, last: every matching file, oldest first (by
   modification time, then name). A dropped file may **revise** a figure
   given before it, by an earlier dropped file or by any other source: the
   partnership's figures are revised, sometimes late, and the file dropped
   last is the one the partner meant. The revision's suspect mark (or none)
   replaces the earlier one. Within one file a figure given twice is still a
   mistake, and an empty value never withdraws a figure.

Every problem of every source is reported at once, at file:line:col.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass

from csp_monitor.errors import FiguresError, InputError, Problem
from csp_monitor.load.config import config_problem, figure_files
from csp_monitor.models.config import MonitorConfig
from csp_monitor.models.figure_sources import DropFolder, PoliceUkArchives
from csp_monitor.models.figures import FigureSet
from csp_monitor.periods import format_month, parse_month

__all__ = [
    "DroppedFile",
    "LoadedFigures",
    "Revision",
    "drop_folders",
    "dropped_files",
    "figures_listing",
    "load_dropped",
    "load_sources",
]


@dataclass(frozen=True, slots=True, order=True)
class DroppedFile:
    """A file in a drop folder, as it is now: sorted by when it arrived (modification time, then path)."""

    mtime_ns: int
    path: str
    size: int

    @property
    def name(self) -> str:
        """The file's name, without its folder."""
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:
        """The drop folder it is in."""
        return os.path.dirname(self.path)


@dataclass(frozen=True, slots=True)
class Revision:
    """A figure a dropped file changed."""

    area: str
    measure: str
    period: str
    previous: float
    value: float
    file: str

    def __str__(self) -> str:
        return (f"{self.area} {self.measure} {self.period}: {_number(self.previous)} revised to "
                f"{_number(self.value)} by {self.file}")


@dataclass(frozen=True)
class LoadedFigures:
    """The figures of every source, with the dropped files read and the revisions they made."""

    figures: FigureSet
    dropped: tuple[DroppedFile, ...] = ()
    revisions: tuple[Revision, ...] = ()
    notes: tuple[str, ...] = ()
    """Warnings worth logging at each run (police.uk rows skipped, districts not in the lookup)."""


def drop_folders(config: MonitorConfig) -> list[tuple[int, DropFolder]]:
    """The configuration's drop folders, with their places in ``figures:``."""
    return [(index, source) for index, source in enumerate(config.figures) if isinstance(source, DropFolder)]


def dropped_files(source: DropFolder) -> list[DroppedFile]:
    """The files in a drop folder that match its pattern now, oldest first.

    Hidden files and Office lock files (``~$...``) are left alone; names are
    matched without regard to case (``MAY.CSV`` matches ``*.csv``). Raises
    :class:`OSError` when the folder cannot be listed.
    """
    pattern = source.pattern.lower()
    found: list[DroppedFile] = []
    with os.scandir(source.drop_folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~$")) or not fnmatch.fnmatchcase(name.lower(), pattern):
                continue
            try:
                if not entry.is_file():
                    continue
                stat = entry.stat()
            except FileNotFoundError:  # removed while we looked
                continue
            found.append(DroppedFile(stat.st_mtime_ns, entry.path, stat.st_size))
    return sorted(found)


def figures_listing(config: MonitorConfig) -> tuple[DroppedFile, ...]:
    """Every file the figures sources would read now, listed as the drop-folder watcher lists a folder.

    Each file by path, size and modification time, so two listings that are equal mean nothing was
    written in between (:func:`csp_monitor.schedule.jobs.wait_for_settled_figures`). Files that cannot be
    listed are left out: reading the figures reports them.
    """
    paths: list[str] = []
    for source in config.figures:
        patterns = [source] if isinstance(source, str) else (
            list(source.police_uk) if isinstance(source, PoliceUkArchives) else [])
        for pattern in patterns:
            paths.extend(glob.glob(pattern) if glob.has_magic(pattern) else [pattern])
    found: set[DroppedFile] = set()
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            continue
        found.add(DroppedFile(stat.st_mtime_ns, path, stat.st_size))
    for _, folder in drop_folders(config):
        try:
            found.update(dropped_files(folder))
        except OSError:
            continue
    return tuple(sorted(found))


def load_dropped(files: Sequence[DroppedFile], figures: FigureSet | None = None
                 ) -> tuple[FigureSet, list[Revision], list[Problem]]:
    """Read dropped files in order into ``figures`` (a new set if None), later ones revising earlier figures."""
    from csp_monitor.load.figures import load_figures

    result = figures if figures is not None else FigureSet()
    revisions: list[Revision] = []
    problems: list[Problem] = []
    for file in files:
        try:
            part = load_figures(file.path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        for area, measure in part.series_keys():
            for month, value in part.series(area, measure).items():
                previous = result.revise(area, measure, month, value, part.suspect(area, measure, month))
                if previous is not None and previous != value:
                    revisions.append(Revision(area, measure, format_month(month), previous, value, file.path))
    return result, revisions, problems


def load_sources(config: MonitorConfig) -> LoadedFigures:
    """The figures of every source the configuration names, read now; :class:`FiguresError` with every problem."""
    from csp_monitor.load.figures import read_figures

    problems: list[Problem] = []
    figures = FigureSet()
    notes: list[str] = []
    if any(isinstance(source, str) for source in config.figures):
        try:
            figures = read_figures(figure_files(config))  # police.uk counts and drop folders are added below
        except InputError as exc:
            problems.extend(exc.problems)
    for index, source in enumerate(config.figures):
        if not isinstance(source, PoliceUkArchives):
            continue
        try:
            counted, found_notes = _police_uk(config, index, source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        notes.extend(found_notes)
        problems.extend(_merge_new(config, index, figures, counted))
    dropped: list[DroppedFile] = []
    for index, folder in drop_folders(config):
        try:
            dropped.extend(dropped_files(folder))
        except FileNotFoundError:
            problems.append(config_problem(config, ("figures", index, "drop_folder"),
                                           f"the drop folder {folder.drop_folder} does not exist"))
        except OSError as exc:
            problems.append(config_problem(config, ("figures", index, "drop_folder"),
                                           f"the drop folder {folder.drop_folder} cannot be read: {exc.strerror}"))
    dropped.sort()
    figures, revisions, found = load_dropped(dropped, figures)
    problems.extend(found)
    if problems:
        raise FiguresError(problems)
    return LoadedFigures(figures, tuple(dropped), tuple(revisions), tuple(notes))


def _police_uk(config: MonitorConfig, index: int, source: PoliceUkArchives) -> tuple[FigureSet, list[str]]:
    """Count the archives of one police.uk source into figures, suspect ones marked."""
    from csp_monitor.importers.police_uk import import_police_uk

    paths: list[str] = []
    problems: list[Problem] = []
    for position, pattern in enumerate(source.police_uk):
        where = ("figures", index, "police_uk", position)
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern))
            if not matches:
                problems.append(config_problem(config, where, f"no police.uk archive matches {pattern}"))
        elif os.path.exists(pattern):
            matches = [pattern]
        else:
            matches = []
            problems.append(config_problem(config, where, f"the police.uk archive {pattern} does not exist"))
        paths.extend(match for match in matches if match not in paths)
    if problems:
        raise FiguresError(problems)
    try:
        # One worker: the daemon runs jobs on a thread, and forking a threaded process is not safe.
        imported = import_police_uk(paths, lookup=source.lookup, skip_malformed=source.skip_malformed, workers=1)
    except FiguresError as exc:
        raise FiguresError([_in_config(config, index, problem) for problem in exc.problems]) from None
    figures = FigureSet()
    for (area, measure, period), value in imported.figures.items():
        month = parse_month(period)
        figures.add(area, measure, month, float(value))
        reasons = imported.suspects.get((area, measure, period))
        if reasons:
            figures.mark_suspect(area, measure, month, "; ".join(reasons))
    notes = [f"{p.location()}: {p.message}" for p in imported.warnings if not p.message.startswith("skipped: ")]
    if imported.rows_malformed:
        first = next((f"{p.location()}: {p.message}" for p in imported.warnings
                      if p.message.startswith("skipped: ")), "")
        notes.append(f"police.uk archives: {imported.rows_malformed:,} malformed "
                     f"row{'s' if imported.rows_malformed != 1 else ''} skipped (skip_malformed is true)"
                     + (f", the first: {first}" if first else ""))
    return figures, notes


def _in_config(config: MonitorConfig, index: int, problem: Problem) -> Problem:
    """The importer's closing "N malformed rows" (worded for the command line) said for the configuration."""
    if problem.file == "<input>" and "malformed row" in problem.message:
        count = problem.message.split(" ", 1)[0]
        return config_problem(config, ("figures", index, "police_uk"),
                              f"{count} malformed row{'' if count == '1' else 's'} in these police.uk archives: "
                              "download them again, or skip such rows with skip_malformed: true")
    return problem


def _merge_new(config: MonitorConfig, index: int, figures: FigureSet, counted: FigureSet) -> list[Problem]:
    """Add police.uk's figures; those another source also gives are one problem, at the source."""
    clashes: list[tuple[str, str, int]] = []
    for area, measure in counted.series_keys():
        series = figures.series_for_update(area, measure)
        for month, value in counted.series(area, measure).items():
            if month in series:
                clashes.append((area, measure, month))
                continue
            series[month] = value
            reason = counted.suspect(area, measure, month)
            if reason:
                figures.mark_suspect(area, measure, month, reason)
    if not clashes:
        return []
    area, measure, month = min(clashes)
    count = len(clashes)
    return [config_problem(
        config, ("figures", index, "police_uk"),
        f"{count} figure{'s' if count != 1 else ''} counted from these police.uk archives "
        f"{'are' if count != 1 else 'is'} also given by another figures source (for example {area} {measure} "
        f"{format_month(month)}): give each figure once, from one source (a drop folder may revise them)")]


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"
