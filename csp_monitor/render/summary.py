"""The risk summary as data: what the templates show, worked out once.

:func:`build_summary` turns an evaluation (and the one a month earlier) into
a :class:`RiskSummary`: a headline, the exceptions first, the full Figure 3
table grouped by priority, and the charts. Every number is formatted here, and
small counts of ``sensitive`` measures are suppressed here, before any
template sees them: an overriding template cannot show what the view-model
does not carry.

The models are the contract for people who write their own templates; every
field is described. Nothing here reads files, the clock or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.evaluation.wording import format_number, format_pct
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.results import STATUS_ORDER, Evaluation, MeasureResult
from csp_monitor.models.rules import RuleSet, Unit
from csp_monitor.periods import month_name, parse_month
from csp_monitor.render.chart_data import FEWER_THAN, SMALL_COUNT, Chart, charts_for, suppress

__all__ = [
    "STATUS_LABELS",
    "ExceptionItem",
    "Headline",
    "MeasureRow",
    "PriorityGroup",
    "RiskSummary",
    "build_summary",
    "full_stop",
    "measure_row",
    "previous_evaluation",
]

WITHHELD = "not shown"

STATUS_LABELS: dict[str, str] = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "no_target": "Monitored",
    "no_data": "No data",
}
_DIRECTION_LABELS = {"improving": "improving", "worsening": "worsening", "no_change": "no change", "unknown": ""}


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureRow(_View):
    """One measure in one area, every value formatted for reading (and suppressed where needed)."""

    area: str = Field(description="The area id.")
    area_name: str = Field(description="The area's name as the board reads it.")
    measure: str = Field(description="The measure id.")
    name: str = Field(description="The measure's name.")
    priority: str = Field(description="The priority id.")
    priority_title: str = Field(description="The priority's title.")
    owner: str | None = Field(description="Who answers for the measure.")
    target: str = Field(description="The target as written ('-13%', 'at least 85%'), or '' when monitored only.")
    current: str = Field(description="The year-to-date figure, formatted.")
    baseline: str = Field(description="The same months last year, formatted.")
    difference: str = Field(description="The difference with a sign ('+100'), or '-'.")
    change: str = Field(description="The % change with a sign ('+65.4%'), or '-'.")
    status: str = Field(description="green, amber, red, no_target or no_data.")
    status_label: str = Field(description="Green, Amber, Red, Monitored or No data.")
    direction: str = Field(description="improving, worsening, no_change or unknown.")
    direction_label: str = Field(description="The direction in words ('' when unknown).")
    sentence: str = Field(description="One plain-English sentence saying what the result means.")
    significance: str | None = Field(default=None, description="Whether the change is more than chance, in words.")
    significance_verdict: str | None = Field(
        default=None, description="significant_increase, significant_decrease or no_significant_change.")
    projection: str | None = Field(default=None, description="The projected year-end position, in words.")
    projection_status: str | None = Field(default=None, description="The projected year-end status.")
    spc: str | None = Field(default=None, description="The SPC (Making Data Count) reading of the latest month.")
    peers: str | None = Field(default=None, description="The comparison with the most similar group, in words.")
    previous_status: str | None = Field(default=None, description="The status a month earlier, if known.")
    suspect: str | None = Field(
        default=None,
        description=("Which figures the comparison rests on are suspect, in words ('last year's figure for "
                     "2020-03'); null when none is. The status is then shown but not reliable."))
    coverage: str | None = Field(
        default=None, description="'7 of 12 months' when only part of the year to date is compared; null otherwise.")
    sensitive: bool = Field(description="Whether the measure is marked sensitive.")
    suppressed: bool = Field(description="Whether a small count was withheld from this row.")


class ExceptionItem(_View):
    """A measure that needs attention, with every reason it was picked out."""

    row: MeasureRow = Field(description="The measure.")
    reasons: tuple[str, ...] = Field(
        description="Why it is picked out besides its status: 'significant rise', 'special cause', 'projected miss'...")
    sentences: tuple[str, ...] = Field(description="Plain-English sentences explaining the reasons.")


class PriorityGroup(_View):
    """A priority's heading and its measures, for the Figure 3 table."""

    area: str = Field(description="The area id.")
    area_name: str = Field(description="The area's name as the board reads it.")
    priority: str = Field(description="The priority id.")
    title: str = Field(description="The priority's title.")
    rows: tuple[MeasureRow, ...] = Field(description="Its measures, in rule order.")


class Headline(_View):
    """The first thing a reader sees."""

    red: int = Field(description="How many measures are red.")
    amber: int = Field(description="How many are amber.")
    green: int = Field(description="How many are green.")
    monitored: int = Field(description="How many are monitored without a target.")
    no_data: int = Field(description="How many have no data.")
    suspect: int = Field(default=0, description="How many rest on suspect figures (counted in their status too).")
    partial: int = Field(default=0, description="How many compare only part of the year to date.")
    sentence: str = Field(description="The counts in one sentence.")
    changes: tuple[str, ...] = Field(description="What changed status since the month before, one sentence each.")
    changes_sentence: str = Field(description="A one-line summary of the changes since the month before.")


class RiskSummary(_View):
    """Everything the risk summary templates show."""

    partnership: str = Field(description="The partnership's name.")
    as_of: str = Field(description="The as-of month, YYYY-MM.")
    as_of_label: str = Field(description="The as-of month in words: 'March 2014'.")
    reporting_year: str = Field(description="The reporting year: '2013/14'.")
    period_label: str = Field(description="The year to date in words: 'April 2013 to March 2014'.")
    baseline_label: str = Field(description="The baseline in words: 'April 2012 to March 2013'.")
    previous_label: str | None = Field(description="The month compared with for changes, in words.")
    headline: Headline = Field(description="The counts and changes.")
    exceptions: tuple[ExceptionItem, ...] = Field(description="Measures needing attention, worst first.")
    groups: tuple[PriorityGroup, ...] = Field(description="The full table, grouped by area and priority.")
    empty_priorities: tuple[str, ...] = Field(description="Titles of priorities with no measure.")
    charts: tuple[Chart, ...] = Field(description="The charts, in the order shown.")
    areas: tuple[str, ...] = Field(description="The areas covered.")
    sensitive: bool = Field(description="Whether any sensitive measure is included (the email is marked).")
    suppressed: bool = Field(description="Whether any small count was withheld.")
    warnings: tuple[str, ...] = Field(description="Things worth knowing about the figures.")
    coverage_sentence: str | None = Field(
        default=None,
        description=("When months are missing, which months are compared with which, in one sentence; "
                     "null when the whole year to date is compared."))
    figure_notes: tuple[str, ...] = Field(
        default=(), description="What the 'suspect figures' and 'n of 12 months' marks mean, when any is shown.")

    @property
    def rows(self) -> list[MeasureRow]:
        """Every row of the table, in order."""
        return [row for group in self.groups for row in group.rows]


def _shown(value: float | None, unit: Unit, sensitive: bool) -> str:
    return FEWER_THAN if suppress(value, unit, sensitive) else format_number(value, unit)


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    text = format_number(value, "count")
    return f"+{text}" if value > 0 and text != "0" else text


def _stat(result: MeasureResult, name: str) -> Any:
    """A statistics field of a result, when the engine provides it (None otherwise)."""
    return getattr(result, name, None)


def _text(obj: Any, *names: str) -> str | None:
    for name in names:
        value = getattr(obj, name, None) if not isinstance(obj, Mapping) else obj.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def full_stop(text: str) -> str:
    """The text as a sentence a board reads: ending with a full stop (or the ? or ! it has)."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "?", "!")) else f"{text}."


def measure_row(result: MeasureResult, previous: MeasureResult | None = None) -> MeasureRow:
    """One result as a table row, formatted and with small counts of sensitive measures withheld."""
    sensitive = result.sensitive
    hide_current = suppress(result.current, result.unit, sensitive)
    hide_baseline = suppress(result.baseline, result.unit, sensitive)
    hidden = hide_current or hide_baseline
    status_label = STATUS_LABELS[result.status]
    if hidden:
        sentence = (f"{result.name}: the figures include a count of fewer than {SMALL_COUNT}, which is not "
                    f"shown to protect the people involved; the status is {status_label.lower()}.")
    else:
        sentence = full_stop(result.summary)
    significance = _stat(result, "significance")
    projection = _stat(result, "projection")
    spc = _stat(result, "spc")
    peers = _stat(result, "peers")
    projection_status = _field(projection, "status")
    return MeasureRow(
        area=result.area,
        area_name=result.area_label,
        measure=result.measure,
        name=result.name,
        priority=result.priority,
        priority_title=result.priority_title,
        owner=result.owner,
        target=result.target.text if result.target else "",
        current=_shown(result.current, result.unit, sensitive),
        baseline=_shown(result.baseline, result.unit, sensitive),
        difference=WITHHELD if hidden else _signed(result.difference),
        change=WITHHELD if hidden else (
            "-" if result.change_pct is None else
            ("+" if result.change_pct > 0 and format_pct(result.change_pct) != "0.0" else "")
            + format_pct(result.change_pct) + "%"),
        status=result.status,
        status_label=status_label,
        direction=result.direction,
        direction_label=_DIRECTION_LABELS[result.direction],
        sentence=sentence,
        significance=_text(significance, "explanation", "summary") if significance is not None else None,
        significance_verdict=_field(significance, "verdict"),
        projection=None if hidden or (sensitive and suppress(_field(projection, "value"), result.unit, True))
        else (_text(projection, "explanation") if projection else None),
        projection_status=projection_status if isinstance(projection_status, str) else None,
        spc=(_spc_words(spc) if sensitive else _text(spc, "explanation")) if spc is not None else None,
        peers=_text(peers, "explanation", "summary") if peers is not None else None,
        previous_status=previous.status if previous is not None else None,
        suspect=result.suspect.text if result.suspect is not None else None,
        coverage=f"{len(result.compared_months)} of {result.months_expected} months" if result.partial else None,
        sensitive=sensitive,
        suppressed=hidden,
    )


_VARIATION_WORDS = {
    "common_cause": "common-cause variation, nothing unusual",
    "special_cause_improvement": "special-cause variation, an improvement",
    "special_cause_concern": "special-cause variation, a concern",
    "special_cause_neutral_high": "special-cause variation, unusually high",
    "special_cause_neutral_low": "special-cause variation, unusually low",
}
_ASSURANCE_WORDS = {
    "consistently_passing": "it will consistently meet its target",
    "consistently_failing": "it will consistently miss its target unless something changes",
    "hit_and_miss": "it will meet its target in some months and miss it in others",
}


def _spc_words(spc: Any) -> str:
    """The SPC reading without numbers: the statistics' own sentence quotes the latest month's value."""
    variation = _VARIATION_WORDS.get(str(_field(spc, "variation")), "no clear reading")
    text = f"The latest month shows {variation}"
    assurance = _ASSURANCE_WORDS.get(str(_field(spc, "assurance")))
    return text + (f"; {assurance}." if assurance else ".")


def _worse(now: str, before: str | None) -> bool:
    return before is not None and now in STATUS_ORDER and before in STATUS_ORDER \
        and STATUS_ORDER[now] > STATUS_ORDER[before]


def _exception(row: MeasureRow, result: MeasureResult, as_of_label: str, previous_label: str | None
               ) -> ExceptionItem | None:
    reasons: list[str] = []
    sentences: list[str] = [row.sentence]
    if row.suspect:
        reasons.append("suspect figures")
    if _worse(row.status, row.previous_status) and previous_label:
        reasons.append("worse than last month")
        sentences.append(f"It was {STATUS_LABELS[row.previous_status or 'no_data'].lower()} in {previous_label}.")
    if row.status == "no_target" and row.direction == "worsening":
        reasons.append("worsening")
    verdict = row.significance_verdict
    bad = "significant_increase" if result.better == "lower" else "significant_decrease"
    if verdict == bad:
        reasons.append("significant rise" if bad == "significant_increase" else "significant fall")
        if row.significance:
            sentences.append(row.significance)
    spc = _stat(result, "spc")
    variation = _field(spc, "variation")
    if isinstance(variation, str) and "concern" in variation:
        reasons.append("special cause")
        if row.spc:
            sentences.append(row.spc)
    if row.projection_status in {"red", "amber"} and row.status not in {"red", "amber"}:
        reasons.append("projected miss")
        if row.projection:
            sentences.append(row.projection)
    if reasons == ["suspect figures"] and row.status not in {"red", "amber"}:
        return None
    if not reasons and row.status not in {"red", "amber"}:
        return None
    return ExceptionItem(row=row, reasons=tuple(reasons), sentences=tuple(sentences))


def _no_new_figures(results: Sequence[MeasureResult], as_of: str | None) -> str | None:
    """The latest month with figures, in words, when it is before the month before ``as_of`` (else None)."""
    latest = max((month for result in results for month in result.compared_months), default=None)
    if as_of is None or latest is None or parse_month(latest) >= parse_month(as_of) - 1:
        return None
    return month_name(parse_month(latest))


def _headline(results: Sequence[MeasureResult], rows: Sequence[MeasureRow], previous_label: str | None,
              as_of: str | None = None) -> Headline:
    counts = {"red": 0, "amber": 0, "green": 0, "no_target": 0, "no_data": 0}
    for result in results:
        counts[result.status] += 1
    judged = counts["red"] + counts["amber"] + counts["green"]
    parts = [f"{counts['red']} red", f"{counts['amber']} amber", f"{counts['green']} green"]
    sentence = f"Of {judged} measure{'s' if judged != 1 else ''} with a target, {', '.join(parts[:-1])} and {parts[-1]}"
    extras = []
    if counts["no_target"]:
        extras.append(f"{counts['no_target']} more {'are' if counts['no_target'] != 1 else 'is'} monitored without a target")
    if counts["no_data"]:
        extras.append(f"{counts['no_data']} {'have' if counts['no_data'] != 1 else 'has'} no data")
    sentence += ("; " + " and ".join(extras) if extras else "") + "."
    suspect = sum(1 for result in results if result.suspect is not None)
    partial = sum(1 for result in results if result.partial)
    if suspect:
        sentence += (f" {suspect} {'rest' if suspect != 1 else 'rests'} on suspect figures (likely data faults), "
                     f"so {'their' if suspect != 1 else 'its'} status is not reliable.")
    if partial:
        sentence += (f" {partial} {'compare' if partial != 1 else 'compares'} only part of the year, "
                     "as months are missing.")
    changes: list[str] = []
    for row in rows:
        if row.previous_status is None or row.previous_status == row.status:
            continue
        before = STATUS_LABELS[row.previous_status].lower()
        now = STATUS_LABELS[row.status].lower()
        area = f" ({row.area_name})" if len({r.area for r in rows}) > 1 else ""
        changes.append(f"{row.name}{area} is now {now}; it was {before} in {previous_label}.")
    if previous_label is None:
        changes_sentence = "There is no earlier month to compare with."
    elif not changes and (stale := _no_new_figures(results, as_of)) is not None:
        # Nothing could change: "no measure changed status since February 2023" would suggest it was looked at.
        changes_sentence = (f"There are no new figures since {stale}, so nothing has changed since "
                            f"{previous_label}.")
    elif not changes:
        changes_sentence = f"No measure changed status since {previous_label}."
    else:
        changes_sentence = (f"{len(changes)} measure{'s' if len(changes) != 1 else ''} changed status "
                            f"since {previous_label}.")
    return Headline(red=counts["red"], amber=counts["amber"], green=counts["green"],
                    monitored=counts["no_target"], no_data=counts["no_data"], suspect=suspect, partial=partial,
                    sentence=sentence,
                    changes=tuple(changes), changes_sentence=changes_sentence)


def build_summary(rules: RuleSet, figures: FigureSet, evaluation: Evaluation, *,
                  previous: Evaluation | None = None, charts: bool = True) -> RiskSummary:
    """The risk summary of ``evaluation``, compared with ``previous`` (the month before).

    With ``charts`` the chart images are drawn (matplotlib, imported only then).
    """
    as_of = parse_month(evaluation.as_of)
    previous_label = month_name(parse_month(previous.as_of)) if previous is not None else None
    as_of_label = month_name(as_of)
    rows: list[MeasureRow] = []
    exceptions: list[tuple[int, int, ExceptionItem, MeasureResult]] = []
    for index, result in enumerate(evaluation.results):
        before = previous.get(result.area, result.measure) if previous is not None else None
        row = measure_row(result, before)
        rows.append(row)
        item = _exception(row, result, as_of_label, previous_label)
        if item is not None:
            rank = {"red": 0, "amber": 1}.get(row.status, 2)
            exceptions.append((rank, index, item, result))
    exceptions.sort(key=lambda entry: (entry[0], entry[1]))

    groups: list[PriorityGroup] = []
    for row in rows:
        if groups and groups[-1].area == row.area and groups[-1].priority == row.priority:
            last = groups[-1]
            groups[-1] = last.model_copy(update={"rows": (*last.rows, row)})
        else:
            groups.append(PriorityGroup(area=row.area, area_name=row.area_name, priority=row.priority, title=row.priority_title, rows=(row,)))
    empty = tuple(priority.title for priority in rules.priorities if not priority.measures)

    specs = charts_for(rules, figures, evaluation, [result for _, _, _, result in exceptions])
    drawn = _draw(specs) if charts else specs

    first = evaluation.results[0] if evaluation.results else None
    period_label = _span(first.period_start, first.period_end) if first else as_of_label
    baseline_label = _span(first.baseline_start, first.baseline_end) if first else ""
    partial = next((result for result in evaluation.results if result.partial), None)
    if partial is not None:
        # Never say "compared with April 2021 to March 2022" when only April to October were compared.
        baseline_label = _months_span([parse_month(month) - 12 for month in partial.compared_months])
        # ...nor "the year to date, April 2022 to March 2023, compared with April 2021 to October 2021".
        period_label = _months_span([parse_month(month) for month in partial.compared_months])
    areas = tuple(dict.fromkeys(result.area for result in evaluation.results))
    return RiskSummary(
        partnership=evaluation.partnership,
        as_of=evaluation.as_of,
        as_of_label=as_of_label,
        reporting_year=evaluation.reporting_year,
        period_label=period_label,
        baseline_label=baseline_label,
        previous_label=previous_label,
        headline=_headline(evaluation.results, rows, previous_label, evaluation.as_of),
        exceptions=tuple(item for _, _, item, _ in exceptions),
        groups=tuple(groups),
        empty_priorities=empty,
        charts=tuple(drawn),
        areas=areas,
        sensitive=any(result.sensitive for result in evaluation.results),
        suppressed=any(row.suppressed for row in rows) or any(
            FEWER_THAN in cell for chart in drawn for line in chart.rows for cell in line),
        warnings=evaluation.warnings,
        coverage_sentence=_coverage_sentence(evaluation),
        figure_notes=_figure_notes(evaluation),
    )


def _coverage_sentence(evaluation: Evaluation) -> str | None:
    """Which months are compared, when missing months leave only part of the year to date."""
    partial = next((result for result in evaluation.results if result.partial), None)
    if partial is None:
        return None
    present = [parse_month(month) for month in partial.compared_months]
    last_year = partial.baseline_months_present
    return (f"Figures cover {partial.months_present} of {partial.months_expected} months of the year to date"
            + (f" and {last_year} of {partial.months_expected} of the year before" if last_year is not None else "")
            + f", so only {_months_span(present)} {'is' if len(present) == 1 else 'are'} compared, with "
            f"{_months_span([month - 12 for month in present])}.")


def _months_span(months: Sequence[int]) -> str:
    """``April 2022 to October 2022``, or the months listed when they are not one run."""
    if months and months[-1] - months[0] == len(months) - 1:
        return _span_of(months[0], months[-1])
    return ", ".join(month_name(month) for month in months)


def _span_of(start: int, end: int) -> str:
    return month_name(start) if start == end else f"{month_name(start)} to {month_name(end)}"


def _figure_notes(evaluation: Evaluation) -> tuple[str, ...]:
    notes = []
    if evaluation.suspect_results():
        notes.append("Suspect figures: the result rests on figures flagged as likely data faults (the months are "
                     "named). Its status is shown but is not reliable, its change is not tested for "
                     "significance, and it raises no alert unless the alert rule says fire_on_suspect: true.")
    if evaluation.partial_results():
        notes.append("n of 12 months: months are missing, so only the months with figures in both years are "
                     "compared.")
    return tuple(notes)


def _span(first: str, last: str) -> str:
    return _span_of(parse_month(first), parse_month(last))


def _draw(charts: Iterable[Chart]) -> list[Chart]:
    from csp_monitor.render.charts import draw

    return [chart.model_copy(update={"png": draw(chart.spec, width=chart.width, height=chart.height)})
            for chart in charts]


def previous_evaluation(rules: RuleSet, figures: FigureSet, evaluation: Evaluation) -> Evaluation | None:
    """The same rules and figures judged a month earlier (None when there were no figures then)."""
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.periods import format_month

    previous = evaluate(rules, figures, as_of=format_month(parse_month(evaluation.as_of) - 1))
    if all(result.status == "no_data" for result in previous.results):
        return None
    return previous
