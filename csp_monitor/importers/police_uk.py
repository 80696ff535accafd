"""Import police.uk street-level crime files as monthly figures per area and crime type.

Every force publishes a street-level CSV a month; police.uk hands them out
as zip archives of ``YYYY-MM/YYYY-MM-<force>-street.csv``. This module
counts their rows per month, area and crime type (the measures are
police.uk's category slugs, plus ``total-crime``: every type but
anti-social behaviour) and writes the long figures CSV the rules read.

What the counts mean, and what they do not:

- The area is the district at the start of the LSOA name (``Harborough
  012B`` -> ``harborough``), or its Community Safety Partnership when the
  ONS lookup is given. Rows with no location ("unallocated") belong to no
  area: they are counted and reported, never spread over districts.
- A month whose file exists gives every area of its force a figure for
  every type, zero where there were no rows. A month with no file is
  *missing*, reported and never filled: a missing month is not a zero.
- A type absent from a whole month of a force, while its neighbouring
  months hold many, is a publication gap (the City of London published no
  anti-social behaviour for May 2017): reported and left out, and so is
  that month's ``total-crime`` when a crime type is missing.
- Districts outside the force's own area (the few rows police.uk places
  across the border) are left out and reported: a handful of rows is not
  that district's crime. The ONS lookup makes this exact.
- Malformed rows stop the import, with file and line, and nothing is
  written; ``skip_malformed=True`` skips and reports them instead.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, field
from pathlib import Path

from csp_monitor.arguments import check_path, check_paths
from csp_monitor.errors import ArgumentError, FiguresError, Problem, shown_value
from csp_monitor.frozen import FrozenDict
from csp_monitor.importers._street_counting import (
    ENGINES,
    FileCount,
    count_street_file,
    default_engine,
)
from csp_monitor.importers._street_files import StreetFile, close_archives, find_street_files
from csp_monitor.importers.areas import AreaLookup, load_area_lookup
from csp_monitor.importers.crime_types import (
    ANTI_SOCIAL_BEHAVIOUR,
    CRIME_TYPES,
    TOTAL_CRIME,
)
from csp_monitor.importers.figures_csv import FigureRow, check_output, write_figures_csv
from csp_monitor.importers.quality import (
    QualityFinding,
    check_force_changes,
    check_repeats,
    check_series,
    check_unallocated,
    check_unallocated_shifts,
    find_publication_gaps,
    suspect_figures,
)
from csp_monitor.periods import format_month

__all__ = ["AREA_BY", "PoliceUkImport", "Progress", "import_police_uk"]

AREA_BY = ("district", "force")

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) as files are counted."""

_PARALLEL_BYTES = 48 * 1024 * 1024
_ARROW_BYTES = 96 * 1024 * 1024
_OUTSIDE_SHARE = 0.001
_LISTED_FINDINGS = 40
_STANDARD_SLUGS = frozenset(CRIME_TYPES.values())


@dataclass(frozen=True)
class PoliceUkImport:
    """The counted figures of a police.uk import, and everything worth knowing about them."""

    figures: Mapping[tuple[str, str, str], int]
    """(area, measure, period) -> count."""
    suspects: Mapping[tuple[str, str, str], tuple[str, ...]]
    """The figures the data-quality checks mark suspect, with the evidence."""
    findings: tuple[QualityFinding, ...]
    warnings: tuple[Problem, ...]
    rows_read: int
    rows_malformed: int
    unallocated: Mapping[str, int]
    """Rows with no location, per month (all forces)."""
    months: tuple[str, ...]
    areas: tuple[str, ...]
    forces: tuple[str, ...]
    files: int
    engine: str
    seconds: float
    missing_months: tuple[tuple[str, str], ...] = ()
    """(force, period) with no file between the force's first and last month."""
    publication_gaps: tuple[tuple[str, str, str], ...] = ()
    """(force, period, measure) left out because the type is absent from the whole month."""
    outside_areas: Mapping[str, int] = field(default_factory=dict)
    """Areas left out as outside every force's own area -> their rows."""

    def __post_init__(self) -> None:
        # A result a council tool keeps: its mappings refuse changes, like the models' (FrozenDict still pickles).
        for name in ("figures", "suspects", "unallocated", "outside_areas"):
            value = getattr(self, name)
            if not isinstance(value, FrozenDict):
                object.__setattr__(self, name, FrozenDict(value))

    def figure_rows(self) -> Iterator[FigureRow]:
        """The figures in file order (area, measure, period), suspect ones with their reasons."""
        for key in sorted(self.figures):
            reasons = self.suspects.get(key)
            yield FigureRow(*key, value=self.figures[key], reason="; ".join(reasons) if reasons else None)

    def write(self, out: str | Path) -> int:
        """Write the figures CSV atomically; return the number of figures written."""
        return write_figures_csv(self.figure_rows(), out)

    def summary(self) -> list[str]:
        """A few plain-English lines for a person reading the import's output."""
        months = f"{self.months[0]} to {self.months[-1]}" if self.months else "none"
        unallocated = sum(self.unallocated.values())
        share = f" ({unallocated / self.rows_read:.1%})" if self.rows_read else ""
        rate = f", {self.rows_read / self.seconds:,.0f} rows/s" if self.seconds > 0 else ""
        lines = [
            f"Read {self.rows_read:,} rows from {self.files} files in {self.seconds:.1f} s "
            f"({self.engine}{rate}).",
            f"Months: {len(self.months)} ({months}); forces: {', '.join(self.forces) or 'none'}.",
            f"Areas: {len(self.areas)}; figures: {len(self.figures):,}.",
            f"Unallocated (no location): {unallocated:,} rows{share}, counted in no area.",
        ]
        if self.rows_malformed:
            lines.append(f"Malformed rows skipped: {self.rows_malformed:,}.")
        if self.missing_months:
            gaps = ", ".join(f"{force} {period}" for force, period in self.missing_months)
            lines.append(f"Missing months (not filled): {gaps}.")
        if self.outside_areas:
            outside = ", ".join(f"{area} ({rows})" for area, rows in sorted(self.outside_areas.items()))
            lines.append(f"Left out, outside the forces' own areas: {outside}.")
        if self.publication_gaps:
            gaps = ", ".join(f"{force} {period} {measure}" for force, period, measure in self.publication_gaps)
            lines.append(f"Publication gaps (left out, not zero): {gaps}.")
        listed = [f for f in self.findings if f.kind not in ("outside-area", "missing-month")]
        lines.append(f"Data-quality findings: {len(listed)}; suspect figures: {len(self.suspects)}.")
        lines.extend(f"  - {finding.message}" for finding in listed[:_LISTED_FINDINGS])
        if len(listed) > _LISTED_FINDINGS:
            lines.append(f"  ... and {len(listed) - _LISTED_FINDINGS} more (see the import's findings).")
        return lines


def import_police_uk(
    paths: str | Path | Sequence[str | Path],
    *,
    out: str | Path | None = None,
    lookup: str | Path | AreaLookup | None = None,
    skip_malformed: bool = False,
    area_by: str = "district",
    keep_outside_areas: bool = False,
    engine: str = "auto",
    workers: int | None = None,
    progress: Progress | None = None,
) -> PoliceUkImport:
    """Count police.uk street files into monthly figures; write them to ``out`` if given.

    Raises :class:`~csp_monitor.errors.FiguresError` with every problem
    found, before writing anything, when the input cannot be imported.
    """
    started = time.perf_counter()
    paths = check_paths(paths)
    if not isinstance(area_by, str) or area_by not in AREA_BY:
        raise ArgumentError(f"area_by must be one of {', '.join(AREA_BY)}, not {shown_value(repr(area_by))}",
                            argument="area_by")
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ArgumentError(f"engine must be one of {', '.join(ENGINES)}, not {shown_value(repr(engine))}",
                            argument="engine")
    if lookup is not None and not isinstance(lookup, AreaLookup):
        lookup = check_path(lookup, argument="lookup")
    if out is not None:
        out = check_path(out, argument="out")
        check_output(out)
    area_lookup = load_area_lookup(lookup) if isinstance(lookup, (str, Path)) else lookup
    files, problems = find_street_files(paths)
    if not files and not problems:
        problems.append(Problem("no police.uk street files given", file="<input>"))
    if problems:
        raise FiguresError(problems)
    if out is not None:
        lookups = [lookup] if isinstance(lookup, (str, Path)) else []
        check_output(out, [*paths, *lookups, *(file.path for file in files)])
    total_bytes = sum(file.size for file in files)
    if engine == "auto":
        engine = default_engine() if total_bytes >= _ARROW_BYTES else "python"
    try:
        counted = _count_all(files, engine, workers, progress, total_bytes)
    finally:
        close_archives()
    errors = [p for c in counted for p in c.problems if c.fatal]
    malformed = [p for c in counted if not c.fatal for p in c.problems]
    if errors or (malformed and not skip_malformed):
        if malformed and not skip_malformed:
            count = sum(c.malformed for c in counted)
            malformed.append(Problem(
                f"{count} malformed row{'s' if count != 1 else ''} found: nothing was written "
                "(fix the file, or skip such rows with --skip-malformed)", file="<input>"))
        raise FiguresError(errors + malformed)
    warnings = [_as_warning(p) for p in malformed]
    result = _assemble(counted, area_lookup, area_by, keep_outside_areas, warnings)
    engines = sorted({c.engine for c in counted})
    result = dataclasses.replace(result, engine="+".join(engines) or engine,
                                 seconds=time.perf_counter() - started)
    if out is not None:
        result.write(out)
    return result


def _as_warning(problem: Problem) -> Problem:
    return Problem(f"skipped: {problem.message}", file=problem.file, line=problem.line,
                   column=problem.column, severity="warning")


def _count_all(files: list[StreetFile], engine: str, workers: int | None, progress: Progress | None,
               total_bytes: int) -> list[FileCount]:
    if workers is None:
        workers = min(os.cpu_count() or 1, len(files)) if total_bytes >= _PARALLEL_BYTES else 1
    done = 0
    results: list[FileCount] = []
    if progress is not None:
        progress(0, total_bytes)
    if workers <= 1 or len(files) <= 1:
        for file in files:
            results.append(count_street_file(file, engine))
            done += file.size
            if progress is not None:
                progress(done, total_bytes)
        return results
    pool = _pool(engine, workers)
    try:
        # Largest first, so that no worker is left with a big file at the end.
        futures: dict[Future[FileCount], StreetFile] = {
            pool.submit(count_street_file, file, engine, False): file
            for file in sorted(files, key=lambda f: -f.size)}
        for future in as_completed(futures):
            results.append(future.result())
            done += futures[future].size
            if progress is not None:
                progress(done, total_bytes)
    except BaseException:
        # Ctrl-C (or a failure) stops the files not yet started rather than waiting for them all.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    results.sort(key=lambda c: c.file.label)
    return results


def _pool(engine: str, workers: int) -> Executor:
    """Threads for Arrow (it and zlib release the GIL); forked processes for the pure-Python counter."""
    if engine != "arrow" and sys.platform == "linux":
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(max_workers=workers)


def _assemble(counted: list[FileCount], lookup: AreaLookup | None, area_by: str,
              keep_outside_areas: bool, warnings: list[Problem]) -> PoliceUkImport:
    """Turn per-file counts into figures, gaps and findings."""
    area_counts: dict[tuple[str, int, str], int] = defaultdict(int)  # (area, month, slug)
    force_area_rows: dict[str, Counter[str]] = defaultdict(Counter)
    type_totals: dict[str, dict[int, Counter[str]]] = defaultdict(dict)
    unallocated: dict[str, Counter[int]] = defaultdict(Counter)
    crimes_of: dict[str, Counter[int]] = defaultdict(Counter)
    unallocated_crimes: dict[str, Counter[int]] = defaultdict(Counter)
    slugs_of: dict[str, set[str]] = defaultdict(lambda: set(_STANDARD_SLUGS))
    findings: list[QualityFinding] = []
    unknown_districts: Counter[str] = Counter()
    rows_read = sum(c.rows for c in counted)
    rows_malformed = sum(c.malformed for c in counted)
    for count in counted:
        force = count.file.force
        if count.empty:
            # No force has a month without a single crime: an empty file is a month not
            # published, so it is treated as missing, not as zeros.
            if count.file.month is not None:
                findings.append(QualityFinding(
                    kind="empty-month", period=format_month(count.file.month),
                    message=(f"{force} {format_month(count.file.month)}: the file has no rows at all "
                             f"({count.file.label}): a publication fault, treated as a missing month")))
            continue
        file_months = {count.file.month} if count.file.month is not None else {m for m, _, _ in count.counts}
        for month in file_months:
            type_totals[force].setdefault(month, Counter())
            crimes_of[force][month] += 0
        for (month, district, slug), number in count.counts.items():
            type_totals[force].setdefault(month, Counter())[slug] += number
            slugs_of[force].add(slug)
            if slug != ANTI_SOCIAL_BEHAVIOUR:
                crimes_of[force][month] += number
                if not district:
                    unallocated_crimes[force][month] += number
            if area_by == "force":
                area = force
            elif not district:
                unallocated[force][month] += number
                continue
            elif lookup is not None:
                partnership = lookup.partnership(district)
                if partnership is None:
                    unknown_districts[district] += number
                    partnership = district
                area = partnership
            else:
                area = district
            if not district:
                unallocated[force][month] += number
            area_counts[(area, month, slug)] += number
            force_area_rows[force][area] += number
    if unknown_districts:
        names = ", ".join(f"{d} ({n} rows)" for d, n in sorted(unknown_districts.items()))
        warnings.append(Problem(f"districts not in the lookup, kept under their own names: {names}",
                                file=lookup.source if lookup else "<lookup>", severity="warning"))

    home, outside = _home_forces(force_area_rows, lookup if area_by == "district" else None)
    if keep_outside_areas:
        for area in outside:
            home[area] = max(force_area_rows, key=lambda f: force_area_rows[f][area])
        outside = {}
    for area, rows in sorted(outside.items()):
        findings.append(QualityFinding(
            kind="outside-area", area=area,
            message=(f"{area}: {rows} row{'s' if rows != 1 else ''}, all from forces whose own area it is not "
                     "(border or mislocated crimes): left out, as they are not the area's crime")))

    crimes_by_area: dict[str, Counter[int]] = defaultdict(Counter)
    for (area, month, slug), number in area_counts.items():
        if slug != ANTI_SOCIAL_BEHAVIOUR:
            crimes_by_area[area][month] += number
    missing: list[tuple[str, str]] = []
    jumps: list[tuple[str, QualityFinding]] = []
    gaps: set[tuple[str, int, str]] = set()
    for force in sorted(type_totals):
        months = sorted(type_totals[force])
        for month in range(months[0], months[-1] + 1):
            if month not in type_totals[force]:
                missing.append((force, format_month(month)))
                findings.append(QualityFinding(
                    kind="missing-month", period=format_month(month),
                    message=(f"{force} {format_month(month)}: no file for this month: "
                             "its figures are missing (not zero)")))
        for month, slug, usual in find_publication_gaps(type_totals[force], sorted(slugs_of[force])):
            gaps.add((force, month, slug))
            period = format_month(month)
            also = "" if slug == ANTI_SOCIAL_BEHAVIOUR else f", and so is {TOTAL_CRIME}"
            findings.append(QualityFinding(
                kind="publication-gap", measure=slug, period=period,
                message=(f"{force} {period}: no {slug} rows at all, against a usual {usual:.0f} a month "
                         f"in the months around it: a publication gap, not a zero; the figure is "
                         f"left out{also}")))
        area_crimes = {area: Counter(crimes_by_area[area]) for area, f in home.items() if f == force}
        for month in type_totals[force]:
            for crimes in area_crimes.values():
                crimes[month] += 0  # a month of the force's with no crime in an area is a zero there
        jump_months: set[int] = set()
        for month, finding in check_unallocated(force, unallocated_crimes[force], crimes_of[force], area_crimes,
                                                whole_force=area_by == "force"):
            findings.append(finding)
            jump_months.add(month)
            if finding.suspect and finding.kind == "unallocated-jump":  # every area short
                jumps.append((force, finding))
        findings.extend(check_unallocated_shifts(force, unallocated_crimes[force], crimes_of[force],
                                                 skip=jump_months))

    figures: dict[tuple[str, str, str], int] = {}
    by_month: dict[tuple[str, str, int], int] = {}
    for area, force in sorted(home.items()):
        for month in sorted(type_totals[force]):
            period = format_month(month)
            missing_types = {slug for slug in slugs_of[force] if (force, month, slug) in gaps}
            total = 0
            for slug in sorted(slugs_of[force]):
                value = area_counts.get((area, month, slug), 0)
                if slug != ANTI_SOCIAL_BEHAVIOUR:
                    total += value
                if slug in missing_types:
                    continue
                figures[(area, slug, period)] = value
                by_month[(area, slug, month)] = value
            if not missing_types - {ANTI_SOCIAL_BEHAVIOUR}:
                figures[(area, TOTAL_CRIME, period)] = total
                by_month[(area, TOTAL_CRIME, month)] = total

    series_findings = check_series(by_month)
    findings.extend(series_findings)
    widespread = {(f.measure, f.period) for f in series_findings if f.kind == "widespread-change"}
    by_force: dict[str, dict[tuple[str, str, int], int]] = defaultdict(dict)
    for series_key, value in by_month.items():
        by_force[home[series_key[0]]][series_key] = value
    for force in sorted(type_totals):
        findings.extend(f for f in check_force_changes(force, type_totals[force], by_force[force])
                        if (f.measure, f.period) not in widespread)
    findings.extend(check_repeats(by_month))
    suspects = dict(suspect_figures(findings))
    # A fault of the rows with no location makes every crime figure of the areas it hit suspect.
    hit = [(area, finding) for force, finding in jumps for area in sorted(a for a, f in home.items() if f == force)]
    hit += [(finding.area, finding) for finding in findings if finding.kind == "unallocated-area" and finding.area]
    for area, finding in hit:
        for key in [k for k in figures
                    if k[0] == area and k[2] == finding.period and k[1] != ANTI_SOCIAL_BEHAVIOUR]:
            suspects[key] = (*suspects.get(key, ()), finding.message)
    all_unallocated: Counter[str] = Counter()
    for force_counts in unallocated.values():
        for month, number in force_counts.items():
            all_unallocated[format_month(month)] += number
    all_months = sorted({m for totals in type_totals.values() for m in totals})
    return PoliceUkImport(
        figures=figures,
        suspects=dict(sorted(suspects.items())),
        findings=tuple(findings),
        warnings=tuple(warnings),
        rows_read=rows_read,
        rows_malformed=rows_malformed,
        unallocated=dict(sorted(all_unallocated.items())),
        months=tuple(format_month(m) for m in all_months),
        areas=tuple(sorted(home)),
        forces=tuple(sorted(type_totals)),
        files=len(counted),
        engine="",
        seconds=0.0,
        missing_months=tuple(missing),
        publication_gaps=tuple((f, format_month(m), s) for f, m, s in sorted(gaps)),
        outside_areas=dict(sorted(outside.items())),
    )


def _home_forces(force_area_rows: Mapping[str, Counter[str]], lookup: AreaLookup | None
                 ) -> tuple[dict[str, str], dict[str, int]]:
    """Each area's home force, and the areas that are inside no force's own area (with their rows).

    With the ONS lookup, a force's own area is the police force area most of
    its located rows fall in, and an area is inside it when the lookup puts
    it there. Without it, an area is inside a force that gives it at least
    0.1% of its located rows.
    """
    inside: dict[str, dict[str, int]] = defaultdict(dict)
    all_areas: Counter[str] = Counter()
    for force, rows in force_area_rows.items():
        located = sum(rows.values())
        force_area: str | None = None
        if lookup is not None:
            weights: Counter[str] = Counter()
            for area, number in rows.items():
                known = lookup.force_area(area)
                if known:
                    weights[known] += number
            force_area = weights.most_common(1)[0][0] if weights else None
        for area, number in rows.items():
            all_areas[area] += number
            known = lookup.force_area(area) if lookup is not None else None
            if force_area is not None and known is not None:
                is_inside = known == force_area
            else:
                is_inside = located > 0 and number / located >= _OUTSIDE_SHARE
            if is_inside:
                inside[area][force] = number
    home = {area: max(forces, key=lambda f: (forces[f], f)) for area, forces in inside.items()}
    outside = {area: number for area, number in all_areas.items() if area not in home}
    return home, outside
