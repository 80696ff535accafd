"""What each chart shows, as plain data and as a table of its numbers.

A chart is worked out here (values, labels, limits, alt text and the table
that repeats its numbers for screen readers and for anyone who would rather
read than look) and drawn by :mod:`csp_monitor.render.charts`. Small counts
of sensitive measures are withheld here, so they are neither drawn nor listed.

* **trend** (the seed's Figure 2): the year-to-date figure of the same
  months in each reporting year, up to six years, with this year's target;
* **spc**: the monthly series with its mean and process limits, special
  causes marked (when the engine's statistics provide the limits);
* **peers** (the seed's Figure 1): the rate per 1,000 of each area in the
  most similar group, with the group average (when peers are configured).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.evaluation.wording import format_number, span_phrase
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet
from csp_monitor.names import display_name
from csp_monitor.periods import (
    MONTH_NAMES,
    format_month,
    month_name,
    parse_month,
    reporting_year_label,
)

__all__ = ["SMALL_COUNT", "Chart", "ChartSpec", "charts_for", "suppress"]

SMALL_COUNT = 5
"""Counts below this are shown as "fewer than 5" for sensitive measures."""

FEWER_THAN = f"fewer than {SMALL_COUNT}"
_TREND_YEARS = 6
_SPC_MONTHS = 36
_DOMAIN = "csp-monitor.invalid"


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChartSpec(_View):
    """What a chart shows, as plain data."""

    kind: Literal["trend", "spc", "peers"] = Field(description="trend, spc or peers.")
    title: str = Field(description="The chart's title.")
    labels: tuple[str, ...] = Field(description="The x-axis labels (years, months or areas).")
    values: tuple[float | None, ...] = Field(description="The values; None where withheld or missing.")
    highlight: tuple[bool, ...] = Field(description="Which bars or points are emphasised.")
    suspect: tuple[bool, ...] = Field(
        default=(),
        description=("Which bars or points rest on suspect figures (likely data faults): drawn hatched or hollow, "
                     "never as real; empty when none does."))
    reference: float | None = Field(default=None, description="A target or group average line.")
    reference_label: str | None = Field(default=None, description="What the reference line is.")
    mean: float | None = Field(default=None, description="The SPC mean.")
    lower_limit: float | None = Field(default=None, description="The SPC lower process limit.")
    upper_limit: float | None = Field(default=None, description="The SPC upper process limit.")
    segments: tuple[tuple[int, int, float, float | None, float | None], ...] = Field(
        default=(), description="SPC limits per rebase group: (first index, end index, mean, lower, upper).")
    y_label: str = Field(default="", description="The y-axis label.")
    percent: bool = Field(default=False, description="Whether the values are percentages.")


class Chart(_View):
    """A chart as an image plus the same numbers as a table."""

    content_id: str = Field(description="The Content-ID of the inline image (use as 'cid:' + content_id).")
    kind: str = Field(description="trend, spc or peers.")
    measure: str = Field(description="The measure id the chart is about.")
    area: str = Field(description="The area the chart is about.")
    title: str = Field(description="The chart's title.")
    alt: str = Field(description="Alternative text describing the chart and its numbers.")
    columns: tuple[str, ...] = Field(description="The headings of the chart's data table.")
    rows: tuple[tuple[str, ...], ...] = Field(description="The chart's numbers as table rows.")
    spec: ChartSpec = Field(description="What to draw.")
    png: bytes = Field(default=b"", repr=False, description="The PNG image (empty until drawn).")
    width: int = Field(default=520, description="The display width in CSS pixels.")
    height: int = Field(default=250, description="The display height in CSS pixels.")

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI, for the standalone report."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def suppress(value: float | None, unit: str, sensitive: bool) -> bool:
    """Whether a value must be withheld: a count below 5 of a sensitive measure."""
    return sensitive and unit == "count" and value is not None and value < SMALL_COUNT


def _shown(value: float | None, result: MeasureResult) -> str:
    if value is None:
        return "no figure"
    return FEWER_THAN if suppress(value, result.unit, result.sensitive) else format_number(value, result.unit)


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _span_of_months(first: int, count: int) -> str:
    """'April to March' (month names only, for a span that repeats every year)."""
    start = MONTH_NAMES[first % 12]
    end = MONTH_NAMES[(first + count - 1) % 12]
    return start if count == 1 else f"{start} to {end}"


def _compared_offsets(result: MeasureResult, year_start: int) -> tuple[int, ...]:
    """The compared months of a partial result, as months from the start of the year (empty when whole)."""
    if not result.partial or not result.compared_months:
        return ()
    return tuple(parse_month(month) - year_start for month in result.compared_months)


def _months_label(year_start: int, offsets: Sequence[int]) -> str:
    """'April to October' for a run of months; 'April, May and July' when the run has gaps."""
    if list(offsets) == list(range(offsets[0], offsets[0] + len(offsets))):
        return _span_of_months(year_start + offsets[0], len(offsets))
    names = [MONTH_NAMES[(year_start + offset) % 12] for offset in offsets]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def charts_for(rules: RuleSet, figures: FigureSet, evaluation: Evaluation,
               results: Sequence[MeasureResult]) -> list[Chart]:
    """The charts for the exception measures ``results``.

    Each gets its multi-year trend; an SPC chart where the latest month shows
    special-cause variation (the chart is what makes that case); and the
    peer comparison where peers are configured.
    """
    charts: list[Chart] = []
    as_of = parse_month(evaluation.as_of)
    year_start = parse_month(evaluation.year_start)
    for result in results:
        found = rules.measure(result.measure)
        source = found[1].figures_measure if found else result.measure
        series = {m: v for m, v in figures.series(result.area, source).items() if m <= as_of}
        if not series:
            continue
        suspects = {m for m in series if figures.suspect(result.area, source, m) is not None}
        trend = _trend(result, series, as_of, year_start, rules.year_start_month, suspects)
        if trend is not None:
            charts.append(trend)
        spc = _spc(result, series, as_of) if _special(result) else None
        if spc is not None:
            charts.append(spc)
        peers = _peers(result)
        if peers is not None:
            charts.append(peers)
    return charts


def _special(result: MeasureResult) -> bool:
    variation = _field(getattr(result, "spc", None), "variation")
    return isinstance(variation, str) and variation.startswith("special_cause")


def _content_id(kind: str, result: MeasureResult) -> str:
    return f"{kind}-{result.area}-{result.measure}@{_DOMAIN}"


def _aggregate(result: MeasureResult, series: Mapping[int, float], months: Sequence[int]) -> float | None:
    if result.aggregate == "latest":
        return series.get(months[-1])
    present = [series[m] for m in months if m in series]
    if result.aggregate == "mean":
        return sum(present) / len(present) if present else None
    return sum(present) if len(present) == len(months) else None


def _trend(result: MeasureResult, series: Mapping[int, float], as_of: int, year_start: int,
           start_month: int, suspects: frozenset[int] | set[int] = frozenset()) -> Chart | None:
    # The months each year's bar adds up: the year to date, or, when months are missing, only the months
    # the result compared, so the bars and the target line (worked out from the compared baseline) agree.
    offsets = _compared_offsets(result, year_start) or tuple(range(as_of - year_start + 1))
    first_year = min(series)
    first_year = first_year - ((first_year - (start_month - 1)) % 12)
    starts = list(range(max(first_year, year_start - 12 * (_TREND_YEARS - 1)), year_start + 1, 12))
    labels: list[str] = []
    values: list[float | None] = []
    rows: list[tuple[str, ...]] = []
    previous: float | None = None
    previous_hidden = False
    suspect: list[bool] = []
    for start in starts:
        months = [start + offset for offset in offsets]
        value = _aggregate(result, series, months)
        hidden = suppress(value, result.unit, result.sensitive)
        labels.append(reporting_year_label(start))
        values.append(None if hidden else value)
        suspect.append(value is not None and any(m in suspects for m in months))
        if value is None or previous is None:
            change = "-"
        elif hidden or previous_hidden:
            change = "not shown"
        else:
            change = _signed(value - previous)
        shown = _shown(value, result) if value is not None else "incomplete"
        rows.append((reporting_year_label(start), shown + (" (suspect figures)" if suspect[-1] else ""), change))
        previous, previous_hidden = value, hidden
    if sum(v is not None for v in values) == 0:
        return None
    span = _months_label(year_start, offsets)
    reference: float | None = None
    reference_text = ""
    target = result.target
    if target is not None:
        if target.kind == "change" and result.baseline is not None:
            reference = result.baseline * (1 + target.value / 100)
        elif target.kind != "change":
            reference = target.value
        if reference is not None and not suppress(reference, result.unit, result.sensitive):
            reference_text = f" The target for {labels[-1]} is {format_number(reference, result.unit)}."
        else:
            reference = None
    word = {"sum": "total", "mean": "average", "latest": "figure"}[result.aggregate]
    what = f"{span} {word}" if result.aggregate != "latest" else f"{MONTH_NAMES[as_of % 12]} figure"
    listed = "; ".join(f"{row[0]}: {row[1]}" for row in rows)
    alt = (f"Bar chart of {result.name} in {result.area_label}, the {what} of each reporting year. "
           f"{listed}.{reference_text}"
           + (" Hatched bars rest on suspect figures (likely data faults)." if any(suspect) else ""))
    title = f"{result.name}: {what} by reporting year"
    spec = ChartSpec(kind="trend", title=title, labels=tuple(labels), values=tuple(values),
                     highlight=tuple(index == len(labels) - 1 for index in range(len(labels))),
                     suspect=tuple(suspect) if any(suspect) else (),
                     reference=reference, reference_label="target" if reference is not None else None,
                     y_label=_unit_label(result), percent=result.unit == "percent")
    return Chart(content_id=_content_id("trend", result), kind="trend", measure=result.measure, area=result.area,
                 title=title, alt=alt, columns=("Reporting year", what[0].upper() + what[1:], "Change"),
                 rows=tuple(rows), spec=spec, height=220)


def _signed(value: float) -> str:
    text = format_number(value, "count")
    return f"+{text}" if value > 0 and text != "0" else text


def _unit_label(result: MeasureResult) -> str:
    return {"count": "count", "percent": "%", "rate": "rate", "number": ""}[result.unit]


_RULE_WORDS = {
    "outside_limits": "outside the limits",
    "trend": "part of a trend",
    "two_of_three": "two of three near a limit",
    "shift": "part of a shift",
}


def _spc(result: MeasureResult, series: Mapping[int, float], as_of: int) -> Chart | None:
    spc = getattr(result, "spc", None)
    if spc is None:
        return None
    mean, lower, upper = _field(spc, "mean"), _field(spc, "lower_limit"), _field(spc, "upper_limit")
    if not all(isinstance(v, (int, float)) for v in (mean, lower, upper)):
        return None
    periods = _field(spc, "periods")
    if periods:
        months = [parse_month(period) for period in periods]
    else:
        months = list(range(max(min(series), as_of - _SPC_MONTHS + 1), as_of + 1))
    months = months[-_SPC_MONTHS:]
    offset = len(periods or ()) - len(months) if periods else 0
    flagged: dict[int, str] = {}
    for cause in _field(spc, "special_causes") or ():
        try:
            month = parse_month(_field(cause, "period"))
        except ValueError:
            continue
        rule = str(_field(cause, "rule"))
        flagged[month] = _RULE_WORDS.get(rule, rule.replace("_", " "))
    segments: list[tuple[int, int, float, float | None, float | None]] = []
    for group in _field(spc, "groups") or ():
        start = int(_field(group, "start") or 0) - offset
        end = start + int(_field(group, "points") or 0)
        start, end = max(start, 0), min(end, len(months))
        if end > start and isinstance(_field(group, "mean"), (int, float)):
            segments.append((start, end, float(_field(group, "mean")), _field(group, "lower_limit"),
                             _field(group, "upper_limit")))
    if not segments:
        segments = [(0, len(months), float(mean), float(lower), float(upper))]
    excluded = {parse_month(period) for period in _field(spc, "excluded") or ()}
    for month in excluded:
        flagged.pop(month, None)
    values: list[float | None] = []
    rows: list[tuple[str, ...]] = []
    for month in months:
        value = series.get(month)
        hidden = suppress(value, result.unit, result.sensitive)
        values.append(None if hidden else value)
        signal = "suspect: left out of the limits" if month in excluded else flagged.get(month, "")
        rows.append((format_month(month), _shown(value, result), signal))
    unit = result.unit
    causes = [f"{month_name(m)} ({flagged[m]})" for m in months if m in flagged]
    variation = _field(spc, "variation")
    variation_text = (f" The latest month shows {str(variation).replace('_', ' ')}."
                      if isinstance(variation, str) else "")
    trial = " The limits are trial limits: there are fewer than 12 points." if _field(spc, "trial_limits") else ""
    alt = (f"Statistical process control chart of {result.name} in {result.area_label}, monthly from "
           f"{month_name(months[0])} to {month_name(months[-1])}: mean {format_number(float(mean), unit)}, "
           f"process limits {format_number(float(lower), unit)} to {format_number(float(upper), unit)}. "
           + (f"Special causes: {', '.join(causes)}." if causes else "No special causes.") + variation_text + trial
           + (f" Suspect months, drawn hollow and left out of the limits: "
              f"{', '.join(month_name(m) for m in months if m in excluded)}."
              if any(m in excluded for m in months) else ""))
    title = f"{result.name}: monthly, with process limits"
    spec = ChartSpec(kind="spc", title=title, labels=tuple(format_month(m) for m in months), values=tuple(values),
                     highlight=tuple(m in flagged for m in months),
                     suspect=tuple(m in excluded for m in months) if any(m in excluded for m in months) else (),
                     mean=float(mean), lower_limit=float(lower),
                     upper_limit=float(upper), segments=tuple(segments), y_label=_unit_label(result),
                     percent=unit == "percent")
    return Chart(content_id=_content_id("spc", result), kind="spc", measure=result.measure, area=result.area,
                 title=title, alt=alt, columns=("Month", "Value", "Signal"), rows=tuple(rows), spec=spec,
                 height=240)


def _peers(result: MeasureResult) -> Chart | None:
    peers = getattr(result, "peers", None)
    if peers is None:
        return None
    rates = _field(peers, "rates")
    if not isinstance(rates, Mapping) or len(rates) < 2:
        return None
    entries = sorted(((str(area), float(rate)) for area, rate in rates.items()), key=lambda entry: (entry[1], entry[0]))
    average = _field(peers, "group_average")
    avg = float(average) if isinstance(average, (int, float)) else None
    low, high = _field(peers, "lower_limit"), _field(peers, "upper_limit")
    position = _field(peers, "position")
    # The rates are of the year to date, which may be months, not a year: say which.
    span = span_phrase(parse_month(result.period_start), parse_month(result.period_end))
    given = _field(peers, "names")
    names = {area: (given.get(area) if isinstance(given, Mapping) else None) or display_name(area)
             for area, _ in entries}  # the ids stay for matching; a board reads names
    names[result.area] = result.area_label
    rows = tuple((str(rank), names[area] + (" (this area)" if area == result.area else ""), f"{rate:.2f}")
                 for rank, (area, rate) in enumerate(entries, start=1))
    placed = {"below": "below", "in_line": "within", "above": "above"}.get(str(position))
    where = f" {result.area_label} is {placed} the group's band." if placed else ""  # not "is in line the group's band"
    band = (f" The in-line band runs from {float(low):.2f} to {float(high):.2f}."
            if isinstance(low, (int, float)) and isinstance(high, (int, float)) else "")
    alt = (f"Bar chart of {result.name}, rate per 1,000 population over {span}, for the {len(entries)} areas "
           "of the most "
           f"similar group, lowest first, with {result.area_label} highlighted."
           + (f" The group average is {avg:.2f}." if avg is not None else "") + band + where)
    title = f"{result.name}: rate per 1,000, {span}, in the most similar group"
    spec = ChartSpec(kind="peers", title=title, labels=tuple(names[area] for area, _ in entries),
                     values=tuple(rate for _, rate in entries),
                     highlight=tuple(area == result.area for area, _ in entries), reference=avg,
                     reference_label="group average" if avg is not None else None,
                     lower_limit=float(low) if isinstance(low, (int, float)) else None,
                     upper_limit=float(high) if isinstance(high, (int, float)) else None, y_label="per 1,000")
    return Chart(content_id=_content_id("peers", result), kind="peers", measure=result.measure, area=result.area,
                 title=title, alt=alt, columns=("Rank", "Area", "Rate per 1,000"), rows=rows, spec=spec,
                 height=max(180, 22 * len(entries) + 50))
