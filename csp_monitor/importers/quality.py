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
  against the force's own recent months. The fault is pinned to the areas
  that have it: an area whose crimes that month fall far below its own
  history, when together such areas' missing crimes account for the extra
  rows with no location, is suspect; the other areas, normal against their
  own history, are not. Only when no area accounts for the rows, or the
  rows left over are both 5 points of the force's crimes and beyond three
  spreads of the short areas' own variation and of the usual rows with no
  location, is every area taken to be short.
- **Collapses and leaps.** A count far from its own recent history, judged
  as a robust z-score of log counts (median and MAD of up to 12 previous
  months; never less spread than Poisson noise allows) that is also beyond
  a Poisson chance of 1 in a million at its usual level, then compared with
  the other areas the same month. Out of line with them: *suspect*, likely
  a data fault. Moving with them: a change across the force (a lockdown, a
  recording change), reported once per measure and month, not suspect.

Context, never suspect, because the figures are right but a reader comparing
them needs to know:

- **Changes across the force**: a type whose force-wide count leaves its own
  recent months far behind while most areas move the same way (April 2020's
  lockdown: anti-social behaviour doubled, burglary fell).
- **Shifts in the share with no location**: a lasting change of level
  (June 2020: from about 7.7% to 0.4%) makes every area's counts before it
  lower than after, by about the difference.
- **Repeated values**: a count of at least 10 unchanged for four months or
  more, possibly carried forward rather than counted.

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
    "check_force_changes",
    "check_repeats",
    "check_series",
    "check_unallocated",
    "check_unallocated_shifts",
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
_SHORT_Z = 3.0
_EXPLAINED_SHARE = 0.5
_EXPLAINED_Z = 3.0
_FORCE_Z = 3.0
_FORCE_HISTORY = 3
_SHIFT_POINTS = 0.02
_SHIFT_RATIO = 2.0
_SHIFT_MONTHS = 3
_REPEAT_MONTHS = 4


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


def check_unallocated(force: str, unallocated: Mapping[int, int], rows: Mapping[int, int],
                      area_crimes: Mapping[str, Mapping[int, int]] | None = None, *,
                      whole_force: bool = False) -> list[tuple[int, QualityFinding]]:
    """Months in which a force's share of crimes with no location jumps, pinned to the areas that lost them.

    ``unallocated`` and ``rows`` count crimes (not anti-social behaviour, which
    police.uk almost always locates) per month; ``area_crimes`` counts each
    area's located crimes per month. Each jump gives one ``unallocated-jump``
    finding, and one suspect ``unallocated-area`` finding per area whose
    crimes fell far below its own history that month. The jump finding is
    itself suspect (every area short) only when no area, or too few,
    account for the extra rows with no location: the rows left over are at
    least 5 points of the force's crimes and three spreads of the noise (the
    short areas' month-to-month spread and the Poisson spread of the usual
    rows with no location). With ``whole_force`` (figures
    counted per force, rows with no location included) nothing is short.
    """
    found: list[tuple[int, QualityFinding]] = []
    for month, share, usual in _unallocated_jumps(unallocated, rows):
        period = format_month(month)
        extra = unallocated.get(month, 0) - usual * rows[month]
        head = (f"{force} {period}: {share:.1%} of crimes have no location against a usual "
                f"{usual:.1%} in the months before (about {extra:,.0f} more than usual)")
        if whole_force:
            found.append((month, QualityFinding(
                kind="unallocated-jump", period=period,
                message=(f"{head}: counted per force, those rows are in the force's own figures, which are "
                         "complete (not suspect); a count per district would be short that month"))))
            continue
        short, normal = _short_areas(month, area_crimes or {})
        missing = sum(j.usual - j.value for j in short.values())
        left = (extra - missing) / rows[month]
        # Rows left over mean every area is short only when they are many (5 points) and beyond noise:
        # a short area's usual is a median its lost month may well have run above, and the usual rows
        # with no location vary too. Without the noise, one large area's ordinary swing above its median
        # would read as every other area short.
        noise = math.sqrt(sum(j.count_spread ** 2 for j in short.values()) + usual * rows[month])
        unexplained = left >= _UNALLOCATED_POINTS and extra - missing >= _EXPLAINED_Z * noise
        if short and missing >= _EXPLAINED_SHARE * extra and not unexplained:
            named = " and ".join(f"{area} ({_number(j.value)} against a usual {_number(j.usual)})"
                                 for area, j in sorted(short.items()))
            fine = ", ".join(f"{area} {_number(j.value)} (usual {_number(j.low)}-{_number(j.high)})"
                             for area, j in sorted(normal.items()))
            message = (f"{head}, matching the about {missing:,.0f} crimes missing from {named}: "
                       "their crime figures that month are suspect"
                       + (f"; the other areas are not far from their own usual level, so not suspect: {fine}"
                          if fine else ""))
            found.append((month, QualityFinding(kind="unallocated-jump", period=period, message=message)))
        else:
            found.append((month, QualityFinding(
                kind="unallocated-jump", period=period, suspect=True,
                message=(f"{head}: every area's crime counts that month are short by about "
                         f"{max(left, 0.0) if short else share - usual:.0%}; likely a data fault"))))
        for area, judgement in sorted(short.items()):
            found.append((month, QualityFinding(
                kind="unallocated-area", area=area, period=period, suspect=True,
                message=(f"{area} {period}: {_number(judgement.value)} crimes against a usual "
                         f"{_number(judgement.low)}-{_number(judgement.high)} (median "
                         f"{_number(judgement.usual)}), while in {force} {share:.1%} of crimes have no location "
                         f"against a usual {usual:.1%} (about {extra:,.0f} more than usual): its crimes were "
                         "likely published without a location; "
                         "every crime figure of the area that month is suspect"))))
    return found


def _unallocated_jumps(unallocated: Mapping[int, int], rows: Mapping[int, int]
                       ) -> list[tuple[int, float, float]]:
    """(month, share, usual share) for each month whose share with no location jumps."""
    shares = _shares(unallocated, rows)
    months = sorted(shares)
    jumps: list[tuple[int, float, float]] = []
    for month in months:
        history = [shares[m] for m in months if month - _HISTORY <= m < month]
        if len(history) < 3:
            continue  # a level is not a jump: judge a month only against the months before it
        usual = median(history)
        share = shares[month]
        if share - usual >= _UNALLOCATED_POINTS and share >= 2 * usual:
            jumps.append((month, share, usual))
    return jumps


def _shares(unallocated: Mapping[int, int], rows: Mapping[int, int]) -> dict[int, float]:
    return {month: unallocated.get(month, 0) / rows[month] for month in sorted(rows) if rows[month] > 0}


def _short_areas(month: int, area_crimes: Mapping[str, Mapping[int, int]]
                 ) -> tuple[dict[str, _Judgement], dict[str, _Judgement]]:
    """The areas whose crimes that month fall far below their own history, and the others."""
    short: dict[str, _Judgement] = {}
    normal: dict[str, _Judgement] = {}
    for area, crimes in area_crimes.items():
        series = {m: float(v) for m, v in crimes.items()}
        if month not in series:
            continue
        judgement = _judge(series, month, sorted(series))
        if judgement is None or judgement.usual < _MIN_LEVEL:
            continue
        if (judgement.value < judgement.usual and judgement.z <= -_SHORT_Z
                and poisson_tail(judgement.value, judgement.usual) < _MAX_TAIL):
            short[area] = judgement
        else:
            normal[area] = judgement
    return short, normal


def check_unallocated_shifts(force: str, unallocated: Mapping[int, int], rows: Mapping[int, int],
                             skip: Iterable[int] = ()) -> list[QualityFinding]:
    """Lasting changes in a force's share of crimes with no location: context for comparing across them.

    The months in ``skip`` (one-month jumps, judged apart) are left out. The
    series is split where the split most reduces the absolute deviations from
    each side's median, again within each side, and a split is kept when
    each side has at least three months and the levels differ by at least 2
    points and a factor of two.
    """
    skipped = set(skip)
    shares = {m: s for m, s in _shares(unallocated, rows).items() if m not in skipped}
    months = sorted(shares)
    findings: list[QualityFinding] = []
    for split in sorted(_splits(months, shares)):
        before = [shares[m] for m in months if split - 2 * _HISTORY <= m < split][-_HISTORY:]
        after = [shares[m] for m in months if m >= split][:_HISTORY]
        old, new = median(before), median(after)
        period = format_month(split)
        direction = "lower" if new < old else "higher"
        findings.append(QualityFinding(
            kind="unallocated-shift", period=period,
            message=(f"{force} {period}: the share of crimes with no location changed from about {old:.1%} "
                     f"(the months before) to {new:.1%} (from {period} on): every area's crime counts before "
                     f"{period} are about {abs(old - new) / (1 - min(old, new)):.0%} {direction} than they "
                     "would be with the later geocoding; a change in publishing, not in crime, so compare "
                     "periods across it with care (not suspect)")))
    return findings


def _splits(months: list[int], shares: Mapping[int, float]) -> list[int]:
    """The first month of each new level of ``shares``, by binary segmentation."""
    if len(months) < 2 * _SHIFT_MONTHS:
        return []

    def cost(part: list[int]) -> float:
        centre = median(shares[m] for m in part)
        return sum(abs(shares[m] - centre) for m in part)

    best: tuple[float, int] | None = None
    for index in range(_SHIFT_MONTHS, len(months) - _SHIFT_MONTHS + 1):
        total = cost(months[:index]) + cost(months[index:])
        if best is None or total < best[0]:
            best = (total, index)
    assert best is not None
    index = best[1]
    left, right = months[:index], months[index:]
    old, new = median(shares[m] for m in left), median(shares[m] for m in right)
    low, high = sorted((old, new))
    if high - low < _SHIFT_POINTS or high < _SHIFT_RATIO * low:
        return []
    return [*_splits(left, shares), months[index], *_splits(right, shares)]


def check_force_changes(force: str, totals: Mapping[int, Mapping[str, int]],
                        area_figures: Mapping[tuple[str, str, int], float]) -> list[QualityFinding]:
    """Types whose force-wide count changes far beyond its recent months while most areas move alike.

    ``totals`` holds each month's rows of each type for the whole force
    (located or not, so an area's rows published without a location do not
    look like a fall); ``area_figures`` holds (area, measure, month) counts.
    Only the first month of a run of such months is reported, with how long
    the run lasted. Context, never suspect: the figures are right.
    """
    months = sorted(totals)
    measures = sorted({measure for month in months for measure in totals[month]})
    by_area: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for (area, measure, month), value in area_figures.items():
        by_area[measure][area][month] = value
    findings: list[QualityFinding] = []
    for measure in measures:
        series = {m: float(totals[m].get(measure, 0)) for m in months}
        moves: dict[int, tuple[float, _Judgement]] = {}
        for month in months:
            history = [m for m in months if month - _HISTORY <= m < month]
            if len(history) < _FORCE_HISTORY:
                continue
            judgement = _judge_against(series, month, history)
            if not (judgement.usual >= _MIN_LEVEL and abs(judgement.z) >= _FORCE_Z
                    and abs(judgement.change) >= math.log(_WIDESPREAD_RATIO)
                    and poisson_tail(judgement.value, judgement.usual) < _MAX_TAIL):
                continue
            changes = [_judge_against(area_series, month, history).change
                       for area_series in by_area[measure].values()
                       if month in area_series and all(m in area_series for m in history)
                       and median(area_series[m] for m in history) >= _MIN_LEVEL / 2]
            alike = [c for c in changes if c * judgement.change > 0]
            if len(changes) >= _MIN_NEIGHBOURS and len(alike) * 2 > len(changes):
                moves[month] = (median(changes), judgement)
        for month, (typical, judgement) in sorted(moves.items()):
            if month - 1 in moves and moves[month - 1][1].change * judgement.change > 0:
                continue  # the run was reported at its first month
            run = 1
            while month + run in moves and moves[month + run][1].change * judgement.change > 0:
                run += 1
            period = format_month(month)
            lasted = f"for {run} months (to {format_month(month + run - 1)})" if run > 1 else "for one month"
            findings.append(QualityFinding(
                kind="force-change", measure=measure, period=period,
                message=(f"{measure} {period}: {force} {_number(judgement.value)} against a usual "
                         f"{_number(judgement.low)}-{_number(judgement.high)} (median {_number(judgement.usual)}) "
                         f"in the months before, {_percent(judgement.change)}, and the typical area moved "
                         f"the same way ({_percent(typical)}) {lasted}: a real change across the force "
                         "(a lockdown, a change in recording), not a data fault (not suspect)")))
    return findings


def _judge_against(series: Mapping[int, float], month: int, history: list[int]) -> _Judgement:
    """A month against the given months of its own series (as :func:`_judge`, with the months chosen)."""
    values = sorted(series[m] for m in history)
    logs = [math.log(v + 1) for v in values]
    centre = median(logs)
    spread = 1.4826 * median(abs(x - centre) for x in logs)
    usual = float(median(values))
    sigma = max(spread, 1 / math.sqrt(usual + 1), _MIN_SPREAD)
    change = math.log(series[month] + 1) - centre
    quarter = max(1, len(values) // 4)
    return _Judgement(value=series[month], usual=usual, low=values[quarter - 1], high=values[-quarter],
                      change=change, z=change / sigma, sigma=sigma)


def check_repeats(figures: Mapping[tuple[str, str, int], float]) -> list[QualityFinding]:
    """Counts of at least 10 repeated unchanged for four months or more: possibly carried forward.

    A Poisson count of 10 or more equals its neighbour with a chance of
    about 1 in 8 or less, so four equal months in a row happen by chance
    rarely (the chance is given); context to check, not suspect.
    """
    by_series: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for (area, measure, month), value in figures.items():
        by_series[(area, measure)][month] = value
    findings: list[QualityFinding] = []
    for (area, measure), series in sorted(by_series.items()):
        months = sorted(series)
        start = 0
        for index in range(1, len(months) + 1):
            if (index < len(months) and months[index] == months[index - 1] + 1
                    and series[months[index]] == series[months[index - 1]]):
                continue
            run = months[start:index]
            value = series[run[0]]
            if len(run) >= _REPEAT_MONTHS and value >= _MIN_LEVEL:
                chance = math.exp(value * math.log(value) - value - math.lgamma(value + 1)) ** (len(run) - 1)
                findings.append(QualityFinding(
                    kind="repeated-value", area=area, measure=measure, period=format_month(run[0]),
                    message=(f"{area} {measure} {format_month(run[0])} to {format_month(run[-1])}: "
                             f"{_number(value)} in each of {len(run)} months in a row (by chance about "
                             f"1 in {1 / chance:,.0f} at that level): check the figures were counted, "
                             "not carried forward (not suspect)")))
            start = index
    return findings


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
    sigma: float  # the spread the z-score divides by, on the log scale

    @property
    def count_spread(self) -> float:
        """The spread in counts around the usual level: d log(v + 1) = dv / (v + 1)."""
        return (self.usual + 1) * self.sigma


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
                      change=change, z=change / sigma, sigma=sigma)


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
