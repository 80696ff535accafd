"""Data-quality checks on imported monthly counts: is this a change in crime or a fault in the data?

Open data has faults: a force leaves a crime type out of a month, geocoding
fails and rows lose their location, a district's file is cut short. A
partnership must not celebrate a 90% fall in burglary that is really a
missing upload, so every import runs these checks and each finding says
what was seen, against what, and what it probably means.

- **Publication gaps.** A type with no rows at all in a force's month, while
  the neighbouring months hold many, is a gap, not a zero: with a usual
  count of at least 7, a Poisson count of 0 has a chance under 1 in 1,000.
  The importer leaves such figures out (a missing month is not a zero).
- **Unallocated rows.** A month whose share of rows with no location jumps
  against the force's own recent months: every district is undercounted.
- **Collapses and leaps.** A count far from its own recent history, judged
  as a robust z-score of log counts (median and MAD of up to 12 previous
  months; never less spread than Poisson noise allows) that is also beyond
  a Poisson chance of 1 in a million at its usual level, then compared with
  the other areas the same month. Out of line with them: *suspect*, likely
  a data fault. Moving with them: a change across the force (a lockdown, a
  recording change), reported once per measure and month, not suspect.

All functions here are pure: counts in, findings out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import median

from csp_monitor.periods import format_month

__all__ = [
    "GAP_MIN_USUAL",
    "QualityFinding",
    "check_series",
    "check_unallocated",
    "find_publication_gaps",
    "poisson_tail",
    "suspect_figures",
]

GAP_MIN_USUAL = 7.0
"""A type missing from a month is a publication gap when its neighbouring months usually hold this many."""

_MIN_HISTORY = 6
_HISTORY = 12
_MIN_LEVEL = 10.0
_Z_LIMIT = 4.0
_MAX_TAIL = 1e-6
_MIN_RATIO = 2.0
_MIN_SPREAD = 0.1
_MIN_NEIGHBOURS = 3
_EXTREME_RATIO = 4.0
_EXTREME_Z = 6.0
_WIDESPREAD_RATIO = 1.25
_UNALLOCATED_POINTS = 0.05


@dataclass(frozen=True, slots=True)
class QualityFinding:
    """One data-quality finding, in plain English, with the figure it concerns when there is one."""

    kind: str
    message: str
    area: str | None = None
    measure: str | None = None
    period: str | None = None
    suspect: bool = False

    def __str__(self) -> str:
        return self.message


def suspect_figures(findings: Iterable[QualityFinding]) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """Every (area, measure, period) a finding marks suspect, with the reasons."""
    reasons: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for finding in findings:
        if finding.suspect and finding.area and finding.measure and finding.period:
            reasons[(finding.area, finding.measure, finding.period)].append(finding.message)
    return {key: tuple(value) for key, value in sorted(reasons.items())}


def _neighbour_months(month: int, months: list[int], per_side: int) -> list[int]:
    before = [m for m in months if m < month][-per_side:]
    after = [m for m in months if m > month][:per_side]
    return before + after


def find_publication_gaps(totals: Mapping[int, Mapping[str, int]], measures: Iterable[str], *,
                          per_side: int = 3) -> list[tuple[int, str, float]]:
    """(month, measure, usual count) for each type absent from a month its neighbours fill.

    ``totals`` holds, for each month whose file exists, the rows of each type
    (every row of the force, located or not).
    """
    months = sorted(totals)
    gaps: list[tuple[int, str, float]] = []
    for measure in measures:
        for month in months:
            if totals[month].get(measure, 0):
                continue
            around = _neighbour_months(month, months, per_side)
            if len(around) < 2:
                continue
            usual = float(median(totals[m].get(measure, 0) for m in around))
            if usual >= GAP_MIN_USUAL:
                gaps.append((month, measure, usual))
    return gaps


def check_unallocated(force: str, unallocated: Mapping[int, int], rows: Mapping[int, int]
                      ) -> list[tuple[int, QualityFinding]]:
    """Months in which a force's share of crimes with no location jumps against its previous months.

    ``unallocated`` and ``rows`` count crimes (not anti-social behaviour, which
    police.uk almost always locates) per month.
    """
    shares = {month: unallocated.get(month, 0) / rows[month] for month in sorted(rows) if rows[month] > 0}
    months = sorted(shares)
    found: list[tuple[int, QualityFinding]] = []
    for month in months:
        history = [shares[m] for m in months if month - _HISTORY <= m < month]
        if len(history) < 3:
            continue  # a level is not a jump: judge a month only against the months before it
        usual = median(history)
        share = shares[month]
        if share - usual >= _UNALLOCATED_POINTS and share >= 2 * usual:
            period = format_month(month)
            found.append((month, QualityFinding(
                kind="unallocated-jump", period=period,
                message=(f"{force} {period}: {share:.1%} of crimes have no location against a usual "
                         f"{usual:.1%} in the months before: every area's crime counts that month are "
                         f"short by about {share - usual:.0%}; likely a data fault"))))
    return found


def _nearest(month: int, months: list[int]) -> list[int]:
    others = sorted((m for m in months if m != month), key=lambda m: (abs(m - month), m > month))
    return others[:_HISTORY]


@dataclass(frozen=True, slots=True)
class _Judgement:
    value: float
    usual: float
    low: float
    high: float
    change: float  # log(value + 1) - the reference centre
    z: float


def _judge(series: Mapping[int, float], month: int, months: list[int]) -> _Judgement | None:
    history = [m for m in months if month - _HISTORY <= m < month]
    if len(history) < _MIN_HISTORY:
        history = _nearest(month, months)
    if len(history) < _MIN_HISTORY:
        return None
    values = sorted(series[m] for m in history)
    logs = [math.log(v + 1) for v in values]
    centre = median(logs)
    spread = 1.4826 * median(abs(x - centre) for x in logs)
    usual = float(median(values))
    poisson = 1 / math.sqrt(usual + 1)
    sigma = max(spread, poisson, _MIN_SPREAD)
    value = series[month]
    change = math.log(value + 1) - centre
    quarter = max(1, len(values) // 4)
    return _Judgement(value=value, usual=usual, low=values[quarter - 1], high=values[-quarter],
                      change=change, z=change / sigma)


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _can_be_flagged(values: Iterable[float]) -> bool:
    """Whether any point of a series could be a collapse or leap at all (most cannot: skip them fast)."""
    ordered = sorted(values)
    if len(ordered) <= _MIN_HISTORY or ordered[-1] < _MIN_LEVEL:
        return False
    return ordered[-1] + 1 > _MIN_RATIO * (ordered[0] + 1)


def check_series(figures: Mapping[tuple[str, str, int], float]) -> list[QualityFinding]:
    """Collapses and leaps of each (area, measure) series, judged against history and other areas."""
    by_series: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for (area, measure, month), value in figures.items():
        by_series[(area, measure)][month] = value
    months_of = {key: sorted(series) for key, series in by_series.items()}
    areas_of: dict[str, list[str]] = defaultdict(list)
    for area, measure in by_series:
        areas_of[measure].append(area)
    # First the points far from their own history; only then judge the other areas those months.
    flagged: dict[tuple[str, int], dict[str, _Judgement]] = defaultdict(dict)
    for (area, measure), series in by_series.items():
        if not _can_be_flagged(series.values()):
            continue
        for month in months_of[(area, measure)]:
            judgement = _judge(series, month, months_of[(area, measure)])
            if judgement is not None and _far(judgement):
                flagged[(measure, month)][area] = judgement
    findings: list[QualityFinding] = []
    for (measure, month), far in sorted(flagged.items(), key=lambda item: (item[0][1], item[0][0])):
        by_area = dict(far)
        for area in areas_of[measure]:
            series = by_series[(area, measure)]
            if area not in by_area and month in series:
                judgement = _judge(series, month, months_of[(area, measure)])
                if judgement is not None:
                    by_area[area] = judgement
        findings.extend(_findings(measure, month, far, by_area))
    return findings


def _far(judgement: _Judgement) -> bool:
    return (judgement.usual >= _MIN_LEVEL and abs(judgement.z) >= _Z_LIMIT
            and abs(judgement.change) >= math.log(_MIN_RATIO)
            and poisson_tail(judgement.value, judgement.usual) < _MAX_TAIL)


def poisson_tail(value: float, usual: float) -> float:
    """The chance of a Poisson count at least this far from ``usual`` on its side: P(X <= value) or P(X >= value)."""
    count = math.floor(value) if value < usual else math.ceil(value)

    def pmf(k: int) -> float:
        return math.exp(k * math.log(usual) - usual - math.lgamma(k + 1)) if usual > 0 else float(k == 0)

    if value < usual:
        return min(1.0, sum(pmf(k) for k in range(count + 1)))
    total = 0.0
    k = count
    while True:
        term = pmf(k)
        total += term
        if term < 1e-17 * max(total, 1e-300) or k > count + 10 * (usual + 10):
            return min(1.0, total)
        k += 1


def _findings(measure: str, month: int, far: Mapping[str, _Judgement], by_area: Mapping[str, _Judgement]
              ) -> list[QualityFinding]:
    period = format_month(month)
    findings: list[QualityFinding] = []
    widespread: list[str] = []
    for area, judgement in sorted(far.items()):
        others = [j.change for a, j in by_area.items() if a != area and j.usual >= _MIN_LEVEL / 2]
        kind = "collapse" if judgement.change < 0 else "leap"
        evidence = (f"{area} {measure} {period}: {_number(judgement.value)} against a usual "
                    f"{_number(judgement.low)}-{_number(judgement.high)} "
                    f"(median {_number(judgement.usual)})")

        def found(suspect: bool, why: str, kind: str = kind, evidence: str = evidence, area: str = area) -> None:
            findings.append(QualityFinding(kind=kind if suspect else "unusual", area=area, measure=measure,
                                           period=period, suspect=suspect, message=f"{evidence}; {why}"))

        if len(others) < _MIN_NEIGHBOURS:
            if abs(judgement.change) >= math.log(_EXTREME_RATIO) and abs(judgement.z) >= _EXTREME_Z:
                found(True, "too few other areas to compare with, and far outside its own history: "
                            "possibly a data fault")
            else:
                found(False, "too few other areas to compare with to tell a data fault from a real change")
            continue
        typical = median(others)
        others_spread = max(1.4826 * median(abs(c - typical) for c in others), _MIN_SPREAD)
        apart = judgement.change - typical
        if abs(apart) >= math.log(_MIN_RATIO) and abs(apart) / others_spread >= _Z_LIMIT:
            found(True, f"other areas {_percent(typical)} on their usual that month: likely a data fault")
        elif typical * judgement.change > 0 and abs(typical) >= math.log(_WIDESPREAD_RATIO):
            widespread.append(area)
        else:
            found(False, f"other areas {_percent(typical)} on their usual but vary too much that month "
                         "to tell a data fault from a real change")
    if widespread:
        typical = median(j.change for j in by_area.values())
        findings.append(QualityFinding(
            kind="widespread-change", measure=measure, period=period,
            message=(f"{measure} {period}: {', '.join(widespread)} far from the usual level, "
                     f"and the typical area moved the same way ({_percent(typical)} on its usual, "
                     f"{len(by_area)} areas): a change across the force (lockdown, recording practice), "
                     "not a fault in one area")))
    return findings


def _percent(log_change: float) -> str:
    """A change on the log scale in words: ``up 12%``, ``down 45%``, ``unchanged``."""
    ratio = math.exp(log_change) - 1
    if abs(ratio) < 0.005:
        return "unchanged"
    return f"{'up' if ratio > 0 else 'down'} {abs(ratio):.0%}"
