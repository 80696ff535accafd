"""The evaluation engine: a pure function of rules, figures and an as-of month.

Why year to date: partnerships set annual targets, but figures arrive every
month, so each month they compare the year so far (April to the as-of month)
with the same months of the previous year. Comparing like months with like
removes the seasonal pattern that a month-on-month comparison would mistake
for change.

No I/O and no clock here: the same inputs always give the same results, which
is what lets the daemon, the CLI, rule tests and backtests share one path.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any
from warnings import warn

from csp_monitor.arguments import check_areas, check_as_of, check_kind
from csp_monitor.errors import ArgumentError, FiguresError, Problem
from csp_monitor.evaluation.collection_pause import paused_collection
from csp_monitor.evaluation.coverage import nothing_to_judge
from csp_monitor.evaluation.rag import direction_of, judge
from csp_monitor.evaluation.statistics import (
    measure_statistics,
    peer_comparisons,
    significance_clause,
    statistics_warnings,
)
from csp_monitor.evaluation.wording import (
    format_number,
    format_pct,
    months_phrase,
    span_phrase,
    target_phrase,
    target_text,
)
from csp_monitor.load.validation import closest
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import (
    Evaluation,
    MeasureResult,
    NotTested,
    Side,
    Status,
    SuspectFigures,
    TargetSummary,
)
from csp_monitor.models.rules import Measure, Priority, RuleSet
from csp_monitor.models.statistics import StatisticsRules
from csp_monitor.names import display_name
from csp_monitor.periods import (
    format_month,
    parse_month,
    reporting_year_label,
    reporting_year_start,
)
from csp_monitor.statistics import PeerComparison

__all__ = ["default_as_of", "evaluate", "evaluate_measure", "evaluate_month"]

# A national run labels tens of thousands of months: each label is made once and shared.
_month = functools.cache(format_month)


def default_as_of(rules: RuleSet, figures: FigureSet) -> int | None:
    """The latest month with a figure for any measure the rules read."""
    wanted = {measure.figures_measure for _, measure in rules.measures()}
    latest: int | None = None
    for area, measure in figures.series_keys():
        if measure in wanted and (rules.area is None or area == rules.area):
            series = figures.series(area, measure)
            if series:
                top = max(series)
                latest = top if latest is None else max(latest, top)
    return latest


_UNSET: Any = object()


def evaluate(rules: RuleSet, figures: FigureSet, _as_of: str | date | None = _UNSET, /, *,
             as_of: str | date | None = None, areas: Collection[str] | None = None) -> Evaluation:
    """Judge every measure of every area as of one month.

    ``as_of`` (keyword-only: ``"YYYY-MM"`` or a :class:`datetime.date`) defaults to
    the latest month with figures for the rules' measures. ``areas`` (a list of
    names, matched as slugs) limits the areas judged; by default the rules'
    ``area``, or every area that has figures for a measure the rules read.
    Giving ``as_of`` positionally still works but is deprecated.
    """
    if _as_of is not _UNSET:
        warn("evaluate(rules, figures, as_of) is deprecated: write evaluate(rules, figures, as_of=...)",
             DeprecationWarning, stacklevel=2)
        if as_of is not None:
            raise ArgumentError("as_of is given twice, positionally and by keyword", argument="as_of")
        as_of = _as_of
    check_kind(rules, RuleSet, argument="rules", made_by="from load_rules or rules_from_data")
    check_kind(figures, FigureSet, argument="figures", made_by="from load_figures or FigureSet.from_figures")
    return evaluate_month(rules, figures, check_as_of(as_of), areas=check_areas(areas))


def evaluate_month(rules: RuleSet, figures: FigureSet, as_of: str | int | None = None, *,
                   areas: Sequence[str] | None = None) -> Evaluation:
    """:func:`evaluate` with its arguments already checked; ``as_of`` may be a month index (internal)."""
    chosen = areas if areas is not None else [rules.area] if rules.area is not None else []
    nothing = nothing_to_judge(rules, figures, chosen)
    if nothing is not None:
        raise FiguresError([nothing])
    if as_of is None:
        month = default_as_of(rules, figures)
        if month is None:
            raise FiguresError([Problem(
                "there are no figures for any measure in the rules, so there is nothing to evaluate", file="<figures>")])
    elif isinstance(as_of, int):
        month = as_of
    else:
        try:
            month = parse_month(as_of)
        except ValueError as exc:
            raise FiguresError([Problem(f"as-of month: {exc}", file="<arguments>")]) from None
    year_start = reporting_year_start(month, rules.year_start_month)
    warnings: list[str] = []
    wanted = {measure.figures_measure for _, measure in rules.measures()}

    if areas is None:
        if rules.area is not None:
            areas = [rules.area]
        else:
            areas = sorted({area for area, measure in figures.series_keys() if measure in wanted})
    known_areas = figures.areas()
    for area in areas:
        if not any(figures.series(area, m) for m in wanted):
            hint = closest(area, known_areas)
            warnings.append(
                f"there are no figures for the area '{area}'"
                + (f" (did you mean {hint}?)" if hint else "")
                + (f"; the figures have {', '.join(known_areas[:8])}" if known_areas and not hint else ""))

    unused = sorted({measure for area, measure in figures.series_keys()
                     if measure not in wanted and (rules.area is None or area in areas)})
    unread = []
    for measure in unused:
        hint = closest(measure, sorted(wanted))
        if hint:
            warnings.append(f"figures for the measure '{measure}' are ignored: no rule reads it (did you mean {hint}?)")
        else:
            unread.append(measure)
    if len(unread) == 1:
        warnings.append(f"figures for the measure '{unread[0]}' are ignored: no rule reads it")
    elif unread:
        # Rules for part of a partnership's measures read a shared figures file: one line, not one per measure.
        warnings.append(f"figures for {len(unread)} measures are ignored, as no rule reads them: {', '.join(unread)}")

    if rules.year_starts is not None:
        stated = parse_month(rules.year_starts)
        if stated != year_start:
            warnings.append(
                f"the rules are for the reporting year {reporting_year_label(stated)}, but {format_month(month)} "
                f"falls in {reporting_year_label(year_start)}: check the targets still apply")

    statistics = {measure.id: rules.statistics_for(measure) for _, measure in rules.measures()}
    warnings.extend(statistics_warnings(rules, statistics))
    # The fast path shares each measure's work across areas; it judges as evaluate_measure does.
    # It builds on this module, so it is imported here.
    from csp_monitor.evaluation.batch import evaluate_all

    with paused_collection():  # the results hold no reference cycles for the collector to look for
        peers = peer_comparisons(rules, figures, statistics, areas, month, year_start)
        results = evaluate_all(rules, figures, areas, month, year_start, statistics, peers)
    return Evaluation(
        partnership=rules.partnership,
        as_of=format_month(month),
        reporting_year=reporting_year_label(year_start),
        year_start=format_month(year_start),
        results=tuple(results),
        warnings=tuple(warnings),
    )


def _suspects(figures: FigureSet, area: str, measure: str) -> Mapping[int, str]:
    if not figures.suspects:
        return {}
    return {month: reason for (a, m, month), reason in figures.suspects.items() if a == area and m == measure}


def evaluate_measure(rules: RuleSet, priority: Priority, measure: Measure, area: str,
                     series: Mapping[int, float], as_of: int, year_start: int, *,
                     suspects: Mapping[int, str] | None = None,
                     statistics: StatisticsRules | None = None,
                     peers: PeerComparison | None = None,
                     area_name: str | None = None) -> MeasureResult:
    """Judge one measure in one area (``series`` maps month index to value).

    ``statistics`` defaults to the rules' settings for the measure; ``peers``
    is the area's most-similar-group comparison, which needs every area's
    figures and so is worked out by :func:`evaluate`; ``area_name`` defaults to
    the name the rules give the area, else one made from its id.
    """
    if area_name is None:
        area_name = rules.area_names().get(area) or display_name(area)
    months = range(year_start, as_of + 1)
    present = [m for m in months if m in series]
    missing = [m for m in months if m not in series]
    current: float | None
    baseline: float | None
    missing_baseline: list[int]
    # The months each side of the comparison is made of: the suspect check reads them.
    current_used: list[int]
    baseline_used: list[int]
    if measure.aggregate == "latest":
        current = series.get(as_of)
        baseline = series.get(as_of - 12)
        missing_baseline = [as_of - 12] if baseline is None else []
        current_used = [as_of] if current is not None else []
        baseline_used = [as_of - 12] if baseline is not None else []
        compared = [as_of] if current is not None and baseline is not None else []
    elif measure.aggregate == "mean":
        # Last year's mean is over the same months as this year's, never over a fuller year.
        current = sum(series[m] for m in present) / len(present) if present else None
        baseline_used = [m - 12 for m in present if m - 12 in series]
        missing_baseline = [m - 12 for m in present if m - 12 not in series]
        baseline = sum(series[m] for m in baseline_used) / len(baseline_used) if baseline_used else None
        current_used = present
        compared = [m + 12 for m in baseline_used]
    else:
        current = sum(series[m] for m in present) if present else None
        missing_baseline = [m - 12 for m in present if m - 12 not in series]
        baseline = sum(series[m - 12] for m in present) if present and not missing_baseline else None
        current_used = present
        baseline_used = [m - 12 for m in present] if baseline is not None else []
        compared = present if baseline is not None else []
    partial = measure.aggregate != "latest" and bool(compared) and len(compared) < len(months)

    suspect = _suspect_figures(suspects or {}, current_used, baseline_used)
    difference = current - baseline if current is not None and baseline is not None else None
    change_pct = difference / baseline * 100 if difference is not None and baseline else None
    tolerance = rules.tolerance_for(priority, measure)
    status = judge(measure.target, measure.better, tolerance, current=current, change_pct=change_pct,
                   baseline=baseline)
    direction = direction_of(difference, measure.better)
    suspect_months = sorted(m for m in (suspects or {})
                            if year_start - 12 <= m <= as_of and (m in months or m + 12 in months))
    target = None
    if measure.target is not None:
        target = TargetSummary(kind=measure.target.kind, value=measure.target.value,
                               text=target_text(measure.target, measure.unit))
    significance, projection, spc = measure_statistics(
        rules, measure, statistics or rules.statistics_for(measure), series, as_of, year_start,
        present=present, current=current, baseline=baseline, tolerance=tolerance,
        excluded=tuple(sorted(suspects or {})))
    not_tested: NotTested | None = None
    if suspect is not None and significance is not None:
        # A test of a count that lost most of its crimes to a data fault would report the fault as a real change.
        significance, not_tested = None, "suspect_figures"
    used = {*current_used, *baseline_used}
    summary = _summary(measure, status, current=current, baseline=baseline, difference=difference,
                       change_pct=change_pct, tolerance=tolerance, missing=missing,
                       missing_baseline=missing_baseline, suspect=[m for m in suspect_months if m not in used],
                       area=area_name, first=year_start, last=as_of)
    if suspect is not None:
        summary += (f"; {suspect.text} {'is' if _one_month(suspect) else 'are'} suspect (likely a data fault), "
                    "so the status is not reliable")
        if not_tested is not None:
            summary += " and the change was not tested for significance"
    else:
        summary += significance_clause(significance, difference, status)
    if partial:
        summary += (f"; only the {len(compared)} of {len(months)} months with figures in both years "
                    f"({months_phrase(compared)}) are compared")
    return MeasureResult(
        area=area,
        area_name=area_name,
        measure=measure.id,
        name=measure.name,
        priority=priority.id,
        priority_title=priority.title,
        owner=rules.owner_for(priority, measure),
        better=measure.better,
        aggregate=measure.aggregate,
        unit=measure.unit,
        sensitive=measure.sensitive,
        period_start=_month(year_start),
        period_end=_month(as_of),
        baseline_start=_month(year_start - 12),
        baseline_end=_month(as_of - 12),
        months_present=len(present),
        months_expected=len(months),
        baseline_months_present=sum(1 for m in months if m - 12 in series),
        compared_months=tuple(map(_month, compared)),
        partial=partial,
        suspect=suspect,
        not_tested=not_tested,
        missing_months=tuple(map(_month, missing)),
        missing_baseline_months=tuple(map(_month, missing_baseline)),
        suspect_months=tuple(map(_month, suspect_months)),
        current=current,
        baseline=baseline,
        difference=difference,
        change_pct=change_pct,
        target=target,
        tolerance=tolerance,
        status=status,
        direction=direction,
        summary=summary,
        significance=significance,
        projection=projection,
        spc=spc,
        peers=peers,
    )


def _summary(measure: Measure, status: Status, *, current: float | None, baseline: float | None,
             difference: float | None, change_pct: float | None, tolerance: float | None,
             missing: list[int], missing_baseline: list[int], suspect: list[int], area: str,
             first: int, last: int) -> str:
    name, unit = measure.name, measure.unit
    if current is None:
        if measure.aggregate == "latest":
            text = f"There is no figure for {name} in {area} for {format_month(last)}"
        else:
            text = f"There are no figures for {name} in {area} for {span_phrase(first, last)}"
        return text + ": no data"

    if measure.aggregate == "latest" or (measure.target is not None and measure.target.kind != "change"):
        text = f"{name} is {format_number(current, unit)}"
        if difference is not None:
            text += f" ({_compared(difference, unit)} last year)"
    elif difference is None or baseline is None:
        text = f"{name} is {format_number(current, unit)}"
    elif change_pct is None:
        text = f"{name} is {format_number(current, unit)} against none in the same months last year"
    elif abs(difference) < 1e-9:
        text = f"{name} is unchanged on last year at {format_number(current, unit)}"
    else:
        word = "up" if difference > 0 else "down"
        text = f"{name} is {word} {format_pct(abs(change_pct))}% ({_compared(difference, unit)} last year)"

    target = measure.target
    if target is None:
        text += "; it is monitored without a target"
    elif target.kind == "change":
        text += f" against {target_phrase(target, measure.better, unit)}"
    else:
        gap = current - target.value
        if abs(gap) < 1e-9:
            text += f", exactly on {target_phrase(target, measure.better, unit)}"
        else:
            points = "points " if unit == "percent" else ""
            side = "above" if gap > 0 else "below"
            text += f", {format_number(abs(gap), 'count')} {points}{side} {target_phrase(target, measure.better, unit)}"

    if missing_baseline and baseline is not None and measure.aggregate == "mean":
        text += f"; last year's figures for {months_phrase(missing_baseline)} are missing, so last year's average " \
                "leaves them out"
    elif missing_baseline and current is not None and (target is None or target.kind == "change"):
        text += f"; last year's figures for {months_phrase(missing_baseline)} are missing, so there is no comparison"
    elif change_pct is None and difference is not None and target is not None and target.kind == "change":
        text += "; with none last year a percentage change cannot be worked out"
        if measure.better == "higher":
            text += ", but any figure meets a target set against none"
        elif status == "red":
            text += ", but any rise from none misses a reduction target"
        else:
            text += ", but none again meets the target"
    if missing and measure.aggregate != "latest":
        text += f" (figures for {months_phrase(missing)} are missing)"
    if suspect:
        text += f" (figures for {months_phrase(suspect)} look like data faults: treat with caution)"
    return f"{text}: {status.replace('_', ' ')}"


def _one_month(suspect: SuspectFigures) -> bool:
    return len(suspect.current_months) + len(suspect.baseline_months) == 1


def _suspect_figures(suspects: Mapping[int, str], current: Sequence[int], baseline: Sequence[int]
                     ) -> SuspectFigures | None:
    """Which months of each side of the comparison are suspect, or None when none is."""
    if not suspects:
        return None
    this_year = [m for m in current if m in suspects]
    last_year = [m for m in baseline if m in suspects]
    if not this_year and not last_year:
        return None
    parts = []
    if this_year:
        parts.append(f"this year's figure{'s' if len(this_year) > 1 else ''} for {months_phrase(this_year)}")
    if last_year:
        parts.append(f"last year's figure{'s' if len(last_year) > 1 else ''} for {months_phrase(last_year)}")
    sides: list[Side] = []
    if this_year:
        sides.append("current")
    if last_year:
        sides.append("baseline")
    return SuspectFigures(
        sides=tuple(sides),
        current_months=tuple(format_month(m) for m in this_year),
        baseline_months=tuple(format_month(m) for m in last_year),
        reasons=tuple(dict.fromkeys(suspects[m] for m in (*this_year, *last_year))),
        text=" and ".join(parts))


def _compared(difference: float, unit: str) -> str:
    amount = format_number(abs(difference), "count")
    if unit == "percent":
        return f"{amount} points {'higher' if difference > 0 else 'lower'} than"
    if abs(difference) < 1e-9:
        return "the same as"
    return f"{amount} {'more' if difference > 0 else 'fewer'} than"
