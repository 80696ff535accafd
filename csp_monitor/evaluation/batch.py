"""Every area's result for every measure in one pass: the engine's fast path for national runs.

:func:`~csp_monitor.evaluation.engine.evaluate_measure` judges one series and
works everything out afresh: the measure's target, tolerance, owner and
statistics settings, and every result model validated field by field. A
national run (hundreds of areas x tens of measures) repeats that per-measure
work thousands of times, and the validation costs more than the arithmetic.
Here the per-measure work is done once (:class:`_Plan`) and the models are
filled without validating again (their fields are floats, labels and models
the engine itself made), for the common case: a series of floats with no
suspect figures and a control chart without rebasing. Anything else goes
through :func:`evaluate_measure` as before.

The arithmetic is the reference path's, step for step, so the results are
the same to the last bit: tests/test_evaluation_batch.py checks, on random
rules and figures, that every result equals (and dumps to the same JSON as)
the reference path's.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from csp_monitor.evaluation.engine import _month, _summary, _suspects, evaluate_measure
from csp_monitor.evaluation.rag import direction_of, judge
from csp_monitor.evaluation.statistics import (
    _counts_summed,
    _labels,
    _monthly_target,
    _spc,
    significance_clause,
)
from csp_monitor.evaluation.wording import months_phrase, target_text
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import MeasureResult, Status, TargetSummary, YearEndProjection
from csp_monitor.models.rules import Measure, Priority, RuleSet
from csp_monitor.models.statistics import StatisticsRules
from csp_monitor.names import display_name
from csp_monitor.statistics import (
    PeerComparison,
    Significance,
    SpcResult,
    SpcSettings,
    project_year_end,
    significance_of_change,
)
from csp_monitor.statistics._prevalidated import prevalidated
from csp_monitor.statistics.spc import analyse_spc_prevalidated

__all__ = ["evaluate_all"]

_FLOAT = {float}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every area's result for one measure shares, worked out once."""

    priority: Priority
    measure: Measure
    statistics: StatisticsRules
    tolerance: float | None
    owner: str | None
    target: TargetSummary | None
    spc_settings: SpcSettings | None  # None: no chart, or one the reference path draws (rebasing)


def evaluate_all(rules: RuleSet, figures: FigureSet, areas: Sequence[str], as_of: int, year_start: int,
                 statistics: Mapping[str, StatisticsRules],
                 peers: Mapping[tuple[str, str], PeerComparison]) -> list[MeasureResult]:
    """Every measure of every area (area by area, in rule order), as :func:`evaluate_measure` judges each."""
    plans = [_plan(rules, priority, measure, statistics[measure.id]) for priority, measure in rules.measures()]
    any_suspect = bool(figures.suspects)
    given = rules.area_names()
    results: list[MeasureResult] = []
    for area in areas:
        area_name = given.get(area) or display_name(area)
        for plan in plans:
            measure = plan.measure
            series = figures.series(area, measure.figures_measure)
            suspects = _suspects(figures, area, measure.figures_measure) if any_suspect else {}
            peer = peers.get((area, measure.id))
            if suspects or not set(map(type, series.values())) <= _FLOAT:
                results.append(evaluate_measure(rules, plan.priority, measure, area, series, as_of, year_start,
                                                suspects=suspects, statistics=plan.statistics, peers=peer,
                                                area_name=area_name))
            else:
                results.append(_result(rules, plan, area, area_name, series, as_of, year_start, peer))
    return results


def _plan(rules: RuleSet, priority: Priority, measure: Measure, statistics: StatisticsRules) -> _Plan:
    target = None
    if measure.target is not None:
        target = TargetSummary(kind=measure.target.kind, value=measure.target.value,
                               text=target_text(measure.target, measure.unit))
    spc = statistics.spc
    return _Plan(priority=priority, measure=measure, statistics=statistics,
                 tolerance=rules.tolerance_for(priority, measure), owner=rules.owner_for(priority, measure),
                 target=target,
                 spc_settings=spc.settings((), lowest=0.0 if measure.unit == "count" else None)
                 if spc.enabled and not spc.rebase_at else None)


def _result(rules: RuleSet, plan: _Plan, area: str, area_name: str, series: Mapping[int, float], as_of: int,
            year_start: int, peers: PeerComparison | None) -> MeasureResult:
    """:func:`evaluate_measure` for a series of floats with no suspect figures."""
    measure = plan.measure
    months = range(year_start, as_of + 1)
    present = [m for m in months if m in series]
    missing = [m for m in months if m not in series]
    current: float | None
    baseline: float | None
    missing_baseline: list[int]
    if measure.aggregate == "latest":
        current = series.get(as_of)
        baseline = series.get(as_of - 12)
        missing_baseline = [as_of - 12] if baseline is None else []
        compared = [as_of] if current is not None and baseline is not None else []
    elif measure.aggregate == "mean":
        # sum over map adds in the same order as the reference's generator: the same float.
        current = sum(map(series.__getitem__, present)) / len(present) if present else None
        baseline_used = [m - 12 for m in present if m - 12 in series]
        missing_baseline = [m - 12 for m in present if m - 12 not in series]
        baseline = sum(map(series.__getitem__, baseline_used)) / len(baseline_used) if baseline_used else None
        compared = [m + 12 for m in baseline_used]
    else:
        current = sum(map(series.__getitem__, present)) if present else None
        missing_baseline = [m - 12 for m in present if m - 12 not in series]
        baseline = (sum(map(series.__getitem__, [m - 12 for m in present])) if present and not missing_baseline
                    else None)
        compared = present if baseline is not None else []
    partial = measure.aggregate != "latest" and bool(compared) and len(compared) < len(months)

    difference = current - baseline if current is not None and baseline is not None else None
    change_pct = difference / baseline * 100 if difference is not None and baseline else None
    tolerance = plan.tolerance
    status = judge(measure.target, measure.better, tolerance, current=current, change_pct=change_pct,
                   baseline=baseline)
    statistics = plan.statistics

    significance = None
    if statistics.significance and _counts_summed(measure) and current is not None and baseline is not None:
        significance = _significance(current, baseline, statistics.confidence)
    projection = None
    if statistics.projection and measure.aggregate == "sum" and current is not None and present:
        projection = _projection(measure, series, year_start, present, current, baseline, tolerance)
    spc = None
    if statistics.spc.enabled:
        spc = _chart(plan, series, as_of, baseline, len(present))

    summary = _summary(measure, status, current=current, baseline=baseline, difference=difference,
                       change_pct=change_pct, tolerance=tolerance, missing=missing,
                       missing_baseline=missing_baseline, suspect=[], area=area_name, first=year_start,
                       last=as_of)
    summary += significance_clause(significance, difference, status)
    if partial:
        summary += (f"; only the {len(compared)} of {len(months)} months with figures in both years "
                    f"({months_phrase(compared)}) are compared")
    return prevalidated(MeasureResult, {
        "area": area,
        "area_name": area_name,
        "measure": measure.id,
        "name": measure.name,
        "priority": plan.priority.id,
        "priority_title": plan.priority.title,
        "owner": plan.owner,
        "better": measure.better,
        "aggregate": measure.aggregate,
        "unit": measure.unit,
        "sensitive": measure.sensitive,
        "period_start": _month(year_start),
        "period_end": _month(as_of),
        "baseline_start": _month(year_start - 12),
        "baseline_end": _month(as_of - 12),
        "months_present": len(present),
        "months_expected": len(months),
        "missing_months": tuple(map(_month, missing)),
        "missing_baseline_months": tuple(map(_month, missing_baseline)),
        "suspect_months": (),
        "baseline_months_present": sum(map(series.__contains__, range(year_start - 12, as_of - 11))),
        "compared_months": tuple(map(_month, compared)),
        "partial": partial,
        "suspect": None,
        "not_tested": None,
        "current": current,
        "baseline": baseline,
        "difference": difference,
        "change_pct": change_pct,
        "target": plan.target,
        "tolerance": tolerance,
        "status": status,
        "direction": direction_of(difference, measure.better),
        "summary": summary,
        "significance": significance,
        "projection": projection,
        "spc": spc,
        "peers": peers,
    })


def _significance(current: float, baseline: float, confidence: float) -> Significance | None:
    """:func:`significance_of_change` of the two counts, or None where it finds no whole counts."""
    try:
        return significance_of_change(current, baseline, confidence=confidence)
    except ValueError:  # a count that is not a whole number: not a count of events
        return None


def _projection(measure: Measure, series: Mapping[int, float], year_start: int, present: Sequence[int],
                current: float, baseline: float | None, tolerance: float | None) -> YearEndProjection:
    """The reference path's projection (evaluation.statistics), its result model filled unvalidated."""
    last_year = list(map(series.get, range(year_start - 12, year_start)))
    full_year = None if None in last_year else math.fsum(last_year)  # type: ignore[arg-type]
    projected = project_year_end(current, len(present), baseline=baseline, baseline_full_year=full_year)
    change_pct = (projected.value - full_year) / full_year * 100 if full_year else None
    status: Status = judge(measure.target, measure.better, tolerance, current=projected.value,
                           change_pct=change_pct, baseline=full_year)
    return prevalidated(YearEndProjection, {
        "value": projected.value,
        "method": projected.method,
        "status": status,
        "explanation": projected.explanation,
    })


def _chart(plan: _Plan, series: Mapping[int, float], as_of: int, baseline: float | None,
           months_present: int) -> SpcResult | None:
    """The control chart of the months up to ``as_of``, as the reference path draws it."""
    measure = plan.measure
    target = _monthly_target(measure, baseline, months_present)
    if plan.spc_settings is None or (target is not None and not math.isfinite(target)):
        # Rebasing, or a target the chart refuses: the reference path draws (or refuses) it.
        return _spc(measure, plan.statistics, series, as_of, baseline, months_present)
    months = sorted(series)
    del months[bisect.bisect_right(months, as_of):]
    count = len(months)
    if count < 2:
        return None
    # Every month from the first to the last (the usual national series): one tuple of labels
    # shared by every such chart, rather than one each.
    labels = _span_labels(months[0], months[-1]) if months[-1] - months[0] == count - 1 else tuple(_labels(months))
    return analyse_spc_prevalidated(labels, tuple(map(series.__getitem__, months)),
                                    settings=plan.spc_settings, better=measure.better, target=target)


@functools.lru_cache(maxsize=256)
def _span_labels(first: int, last: int) -> tuple[str, ...]:
    """The labels of the months ``first`` to ``last``."""
    return tuple(_labels(list(range(first, last + 1))))
