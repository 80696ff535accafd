"""The statistics of a result: is the change real, where is the year heading, is the month unusual?

The engine judges a measure red, amber or green against its target; this
module adds the questions a careful analyst asks next, from
:mod:`csp_monitor.statistics`, as pure functions of the same series:

* significance: only for counts summed over the year to date (the exact
  test is about numbers of events), with the same months present in both
  years so the periods are equal;
* projection: only for sums (a year-end rate or latest value is not a sum
  of months), judged against the target with the engine's own RAG function;
* SPC: for every measure, on the months observed up to the as-of month
  (missing months are left out, never filled);
* peers: only for counts summed over the year to date, and only for areas
  in a configured group, every member with the whole year to date.

Each is None where it does not apply, and the rules can turn each off.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

from csp_monitor.evaluation.rag import judge
from csp_monitor.evaluation.wording import span_phrase
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import Status, YearEndProjection
from csp_monitor.models.rules import Measure, RuleSet
from csp_monitor.models.statistics import StatisticsRules
from csp_monitor.periods import format_month
from csp_monitor.statistics import (
    PeerComparison,
    Significance,
    SpcResult,
    analyse_spc_columns,
    compare_group,
    compare_with_peers,
    project_year_end,
    significance_of_change,
)

__all__ = [
    "MeasureStatistics",
    "measure_statistics",
    "peer_comparisons",
    "significance_clause",
    "statistics_warnings",
]

MeasureStatistics = tuple[Significance | None, YearEndProjection | None, SpcResult | None]
"""What :func:`measure_statistics` gives: significance, projection, SPC."""

# Month labels are asked for hundreds of thousands of times in a national run.
_LABELS: dict[int, str] = {}


def _labels(months: list[int]) -> list[str]:
    try:
        return list(map(_LABELS.__getitem__, months))
    except KeyError:
        _LABELS.update((month, format_month(month)) for month in months)
        return list(map(_LABELS.__getitem__, months))


def _counts_summed(measure: Measure) -> bool:
    return measure.aggregate == "sum" and measure.unit == "count"


def measure_statistics(
    rules: RuleSet,
    measure: Measure,
    statistics: StatisticsRules,
    series: Mapping[int, float],
    as_of: int,
    year_start: int,
    *,
    present: Sequence[int],
    current: float | None,
    baseline: float | None,
    tolerance: float | None,
    excluded: Sequence[int] = (),
) -> MeasureStatistics:
    """Significance, year-end projection and SPC for one measure in one area.

    ``excluded`` are months whose figures are suspect: the control chart
    draws them but leaves them out of its limits and rules.
    """
    significance = None
    if (
        statistics.significance
        and _counts_summed(measure)
        and current is not None
        and baseline is not None
    ):
        try:
            significance = significance_of_change(
                current, baseline, confidence=statistics.confidence
            )
        except ValueError:  # a count that is not a whole number: not a count of events
            significance = None

    projection = None
    if statistics.projection and measure.aggregate == "sum" and current is not None and present:
        projection = _projection(measure, series, year_start, present, current, baseline, tolerance)

    spc = None
    if statistics.spc.enabled:
        spc = _spc(measure, statistics, series, as_of, baseline, len(present), excluded)
    return significance, projection, spc


def _projection(
    measure: Measure,
    series: Mapping[int, float],
    year_start: int,
    present: Sequence[int],
    current: float,
    baseline: float | None,
    tolerance: float | None,
) -> YearEndProjection:
    """The year-end total, and the status it would have against the target."""
    last_year = [series.get(month) for month in range(year_start - 12, year_start)]
    full_year = None if any(value is None for value in last_year) else math.fsum(last_year)  # type: ignore[arg-type]
    # ``baseline`` covers the same months as ``current`` (those present), so
    # the seasonal scale stays right when a month is missing.
    projected = project_year_end(
        current, len(present), baseline=baseline, baseline_full_year=full_year
    )
    change_pct = (projected.value - full_year) / full_year * 100 if full_year else None
    status: Status = judge(
        measure.target, measure.better, tolerance, current=projected.value, change_pct=change_pct,
        baseline=full_year,
    )
    return YearEndProjection(
        value=projected.value,
        method=projected.method,
        status=status,
        explanation=projected.explanation,
    )


def _spc(
    measure: Measure,
    statistics: StatisticsRules,
    series: Mapping[int, float],
    as_of: int,
    baseline: float | None,
    months_present: int,
    excluded: Sequence[int] = (),
) -> SpcResult | None:
    months = sorted(series)
    del months[bisect.bisect_right(months, as_of) :]
    if len(months) < 2:
        return None
    rules = statistics.spc
    positions: tuple[int, ...] = ()
    if rules.rebase_at:
        # A rebase month with no figure starts the group at the next month observed.
        found = {bisect.bisect_left(months, month) for month in rules.rebase_months()}
        positions = tuple(sorted(p for p in found if 0 < p < len(months)))
    return analyse_spc_columns(
        _labels(months),
        list(map(series.__getitem__, months)),
        settings=rules.settings(positions, lowest=0.0 if measure.unit == "count" else None),
        better=measure.better,
        target=_monthly_target(measure, baseline, months_present),
        exclude=_labels([month for month in excluded if month in series and month <= as_of]),
    )


def _monthly_target(measure: Measure, baseline: float | None, months_present: int) -> float | None:
    """The target as a level of the monthly series, for the SPC assurance, where one exists.

    A level target (``at_least`` / ``at_most``) of a ``latest`` or ``mean``
    measure is already a monthly level. A ``change`` target becomes the
    monthly level it implies: last year's monthly average moved by the
    target's percentage (for ``sum``; last year's value for the others). A
    level target on a year-to-date sum has no monthly equivalent.
    """
    target = measure.target
    if target is None:
        return None
    if target.kind == "change":
        if baseline is None:
            return None
        level = (
            baseline / months_present if measure.aggregate == "sum" and months_present else baseline
        )
        return level * (1 + target.value / 100)
    if measure.aggregate == "sum":
        return None
    return target.value


def peer_comparisons(
    rules: RuleSet,
    figures: FigureSet,
    statistics: Mapping[str, StatisticsRules],
    areas: Sequence[str],
    as_of: int,
    year_start: int,
) -> dict[tuple[str, str], PeerComparison]:
    """The most-similar-group comparison of every evaluated area, by (area, measure id).

    Rates compare whole years to date, so a member missing a month of the
    year to date is left out of its group rather than counted low.
    """
    comparisons: dict[tuple[str, str], PeerComparison] = {}
    evaluated = set(areas)
    months = range(year_start, as_of + 1)
    period = span_phrase(year_start, as_of)  # a rate over part of a year must not be read as a year's
    names = rules.area_names()
    for _, measure in rules.measures():
        peers = statistics[measure.id].peers
        if peers is None or not _counts_summed(measure):
            continue
        settings = peers.settings()
        for members in peers.groups.values():
            wanted = [area for area in members if area in evaluated]
            if not wanted:
                continue
            group: dict[str, tuple[float, float]] = {}
            for area in members:
                if area not in peers.populations:
                    continue
                series = figures.series(area, measure.figures_measure)
                values = list(map(series.get, months))
                if None not in values:
                    group[area] = (math.fsum(values), peers.populations[area])  # type: ignore[arg-type]
            if len(group) < 2:
                continue
            found = [area for area in wanted if area in group]
            if len(found) > 1:
                every = compare_group(group, settings, period=period, names=names)
                for area in found:
                    comparisons[area, measure.id] = every[area]
            elif found:
                comparisons[found[0], measure.id] = compare_with_peers(group, found[0], settings, period=period,
                                                                          names=names)
    return comparisons


def statistics_warnings(rules: RuleSet, statistics: Mapping[str, StatisticsRules]) -> list[str]:
    """Settings that leave a statistic unable to do its job, worded for the person who wrote them."""
    warnings: list[str] = []
    for _, measure in rules.measures():
        peers = statistics[measure.id].peers
        if peers is None:
            continue
        if not _counts_summed(measure):
            continue
        for problem in peers.problems():
            warnings.append(f"peers for '{measure.id}': {problem}")
    return warnings


def significance_clause(
    significance: Significance | None, difference: float | None, status: Status
) -> str:
    """``, but the rise is within normal variation (p = 0.117)``: what the test adds to a status."""
    if significance is None or difference is None or difference == 0:
        return ""
    change = "rise" if difference > 0 else "fall"
    p = _p_text(significance.p_value)
    if significance.verdict != "no_significant_change":
        return f", and the {change} is statistically significant ({p})"
    joiner = {"red": "but", "amber": "but", "green": "though"}.get(status, "and")
    return f", {joiner} the {change} is within normal variation ({p})"


def _p_text(p_value: float) -> str:
    if p_value < 0.001:
        return "p < 0.001"
    if p_value >= 0.9995:
        return "p = 1.0"
    return f"p = {p_value:.3f}"
