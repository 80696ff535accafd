"""The evaluation as a terminal table, JSON or CSV.

The table follows Figure 3 of the Harborough annual review: measures grouped
by priority, with target, current position, difference and % change, plus the
red/amber/green status (coloured when the terminal supports it).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any, BinaryIO

from csp_monitor.evaluation.wording import format_number, format_pct, months_phrase, span_phrase
from csp_monitor.models.results import (
    RESULTS_SCHEMA_VERSION,
    SPC_SERIES_FIELDS,
    Evaluation,
    MeasureResult,
)
from csp_monitor.periods import parse_month

__all__ = [
    "STATUS_LABELS",
    "coverage_text",
    "evaluation_rows",
    "evaluation_title",
    "period_heading",
    "render_csv",
    "render_json",
    "render_table",
    "suspect_text",
    "write_json",
]

STATUS_LABELS = {
    "green": "GREEN",
    "amber": "AMBER",
    "red": "RED",
    "no_target": "monitored",
    "no_data": "no data",
}
_COLOURS = {"green": "\x1b[1;32m", "amber": "\x1b[1;33m", "red": "\x1b[1;31m", "no_data": "\x1b[2m"}
_RESET = "\x1b[0m"
_DIRECTION = {"improving": "improving", "worsening": "worsening", "no_change": "no change", "unknown": ""}


def _clean(text: str) -> str:
    """Drop control characters so a figure's name cannot drive the terminal."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def evaluation_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """One flat dict per result, for CSV and spreadsheets."""
    rows = []
    for result in evaluation.results:
        rows.append({
            "area": result.area,
            "priority": result.priority_title,
            "measure": result.measure,
            "name": result.name,
            "target": _target_words(result),
            "current": result.current,
            "baseline": result.baseline,
            "difference": result.difference,
            "change_pct": None if result.change_pct is None else round(result.change_pct, 1),
            "status": result.status,
            "direction": result.direction,
            "summary": result.summary,
            "months_compared": len(result.compared_months),
            "months_expected": result.months_expected,
            "partial": result.partial,
            "suspect": suspect_text(result),
            "figures": "; ".join(text for text in (coverage_text(result), suspect_text(result)) if text),
        })
    return rows


def _target_words(result: MeasureResult) -> str:
    """The target in words: ``13% reduction``, ``rise of no more than 5%``, ``at least 85%``.

    A change target written ``-13%`` starts with a minus sign, which a
    spreadsheet reads as the start of a formula: in words it needs no
    protective apostrophe and reads better to a board.
    """
    target = result.target
    if target is None:
        return ""
    if target.kind != "change":
        return target.text
    size = f"{abs(target.value):g}%"
    lower = result.better == "lower"
    if target.value < 0:
        return f"{size} reduction" if lower else f"fall of no more than {size}"
    if target.value > 0:
        return f"rise of no more than {size}" if lower else f"{size} increase"
    return "no increase" if lower else "no fall"


def evaluation_title(evaluation: Evaluation) -> str:
    """``Harborough ...: April 2013 to March 2014 (reporting year 2013/14), compared with April 2012 to March 2013``."""
    first, last = parse_month(evaluation.year_start), parse_month(evaluation.as_of)
    partial = next((result for result in evaluation.results if result.partial), None)
    if partial is None:
        return (f"{evaluation.partnership}: {span_phrase(first, last)} (reporting year "
                f"{evaluation.reporting_year}), compared with {span_phrase(first - 12, last - 12)}")
    # Months missing: name the months compared, never the whole year to date beside them.
    compared = [parse_month(month) for month in partial.compared_months]
    return (f"{evaluation.partnership}: {_months_words(compared)} (reporting year {evaluation.reporting_year}, "
            f"{len(compared)} of {partial.months_expected} months with figures), compared with "
            f"{_months_words([month - 12 for month in compared])}")


def _months_words(months: list[int]) -> str:
    """``April 2022 to October 2022`` for a run of months, else ``2022-04 to 2022-06 and 2022-08``."""
    if months == list(range(months[0], months[0] + len(months))):
        return span_phrase(months[0], months[-1])
    return months_phrase(months)




_SIDE_WORDS = {"current": "this year", "baseline": "last year"}


def suspect_text(result: MeasureResult) -> str:
    """``suspect: last year 2020-03``: which side of the comparison rests on suspect figures ('' when none)."""
    suspect = result.suspect
    if suspect is None:
        return ""
    parts = []
    if suspect.current_months:
        parts.append(f"this year {', '.join(suspect.current_months)}")
    if suspect.baseline_months:
        parts.append(f"last year {', '.join(suspect.baseline_months)}")
    return "suspect: " + "; ".join(parts)


def coverage_text(result: MeasureResult) -> str:
    """``7/12 months`` when only part of the year to date is compared ('' when all of it is)."""
    if not result.partial:
        return ""
    return f"{len(result.compared_months)}/{result.months_expected} months"


def period_heading(evaluation: Evaluation) -> str:
    """The period line: the year to date and what it is compared with, saying so when only part is."""
    first = evaluation.results[0] if evaluation.results else None
    if first is None:
        return f"As of {evaluation.as_of} ({evaluation.reporting_year}): no measures to show"
    text = f"Year to date {first.period_start} to {first.period_end} ({evaluation.reporting_year})"
    partial = next((r for r in evaluation.results if r.partial), None)
    if partial is None:
        return f"{text}, compared with {first.baseline_start} to {first.baseline_end}"
    compared = [parse_month(month) for month in partial.compared_months]
    expected = partial.months_expected
    last_year = partial.baseline_months_present if partial.baseline_months_present is not None else expected
    return (f"{text}: figures for {partial.months_present} of {expected} months this year and {last_year} of "
            f"{expected} last year ({partial.baseline_start} to {partial.baseline_end}), so only "
            f"{months_phrase(compared)} are compared with the same {len(compared)} months a year earlier "
            f"({months_phrase([m - 12 for m in compared])})")


# A chart's monthly series (its values and every month's label) is for drawing it, not for the
# judgement: left out of JSON unless asked for, so a national run's output stays a few MB rather
# than tens, and the labels (worked out when read) are not worked out for nothing.
_SERIES_FIELDS = {"results": {"__all__": {"spc": set(SPC_SERIES_FIELDS)}}}


# The schema version leads the object, so a reader can check it before the results.
_VERSIONED = f'{{\n  "schema_version": {RESULTS_SCHEMA_VERSION},'


def render_json(evaluation: Evaluation, *, include_series: bool = False) -> str:
    """The whole evaluation as one JSON object; each SPC chart's monthly series only with ``include_series``."""
    # pydantic writes the JSON itself, without a dict of every result first: a national run's
    # JSON costs a sixth of the CPU and no copy of the results. Numbers are the same numbers;
    # only a small one's exponent is written 1e-7 rather than Python's 1e-07.
    text = evaluation.model_dump_json(indent=2, exclude=None if include_series else _SERIES_FIELDS)
    return _VERSIONED + text[1:]


def write_json(evaluation: Evaluation, stream: BinaryIO, *, include_series: bool = False,
               chunk: int = 500) -> None:
    """Write :func:`render_json`'s text to a binary stream as UTF-8, a few hundred results at a time.

    A national run's JSON is tens of MB: written in pieces it is never held whole, neither as
    text nor as bytes, so the command's memory stays that of the results.
    """
    from pydantic import TypeAdapter

    skeleton = (_VERSIONED + evaluation.model_copy(update={"results": ()}).model_dump_json(indent=2)[1:]).encode()
    head, _, tail = skeleton.partition(b'"results": []')
    if not evaluation.results:
        stream.write(skeleton)
        return
    adapter = TypeAdapter(list[MeasureResult])
    exclude = None if include_series else _SERIES_FIELDS["results"]
    stream.write(head + b'"results": [')
    for start in range(0, len(evaluation.results), chunk):
        # A chunk is a list of results one level less deep than in the whole: strip its
        # brackets and indent each line two more spaces.
        piece = adapter.dump_json(list(evaluation.results[start : start + chunk]), indent=2, exclude=exclude)
        stream.write((b"," if start else b"") + piece[1:-2].replace(b"\n", b"\n  "))
    stream.write(b"\n  ]" + tail)


def render_csv(evaluation: Evaluation) -> str:
    """One CSV row per result; values unrounded except the percentage."""
    buffer = io.StringIO()
    rows = evaluation_rows(evaluation)
    fields = ["area", "priority", "measure", "name", "target", "current", "baseline", "difference",
              "change_pct", "status", "direction", "summary", "months_compared", "months_expected", "partial",
              "suspect"]
    # "figures" (the spreadsheet's one-column reading of partial and suspect) is in the CSV's own columns.
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else _spreadsheet_safe(v)) for k, v in row.items()})
    return buffer.getvalue()


def _spreadsheet_safe(value: Any) -> Any:
    """Keep a name like ``=HYPERLINK(...)`` from running as a formula in Excel."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


_VERDICTS = {"significant_increase": "real rise", "significant_decrease": "real fall",
             "no_significant_change": "chance"}
_PROJECTION = {"green": "green", "amber": "amber", "red": "red", "no_target": "", "no_data": ""}


def _significance(result: MeasureResult) -> str:
    """``real rise (p<0.001)``, ``chance (p=0.117)`` or blank where no test applies."""
    test = result.significance
    if result.not_tested == "suspect_figures":
        return "not tested: suspect figures"
    if test is None:
        return ""
    p = "p<0.001" if test.p_value < 0.001 else f"p={test.p_value:.3f}"
    return f"{_VERDICTS.get(test.verdict, test.verdict)} ({p})"


def _cells(result: MeasureResult) -> list[str]:
    return [
        _clean(result.name),
        result.target.text if result.target else "",
        format_number(result.current, result.unit),
        format_number(result.baseline, result.unit),
        _signed(result.difference, result.unit),
        format_pct(result.change_pct) if result.change_pct is not None else "-",
        STATUS_LABELS[result.status],
        _DIRECTION[result.direction],
        _significance(result),
        _PROJECTION[result.projection.status] if result.projection is not None else "",
        "; ".join(text for text in (coverage_text(result), suspect_text(result)) if text),
    ]


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = format_number(value, "count")
    return f"+{text}" if value > 0 and text != "0" else text


def render_table(evaluation: Evaluation, *, colour: bool = False, warnings: bool = True) -> str:
    """A Figure 3 style table, grouped by area and priority.

    ``warnings=False`` leaves the evaluation's warnings out (the CLI prints them on stderr).
    """
    headers = ["Measure", "Target", "Current", "Last year", "Difference", "% change", "Status", "Direction",
               "Change real?", "Year end"]
    # The Figures column (suspect or partial) appears only when a result needs it.
    marked = any(r.suspect is not None or r.partial for r in evaluation.results)
    if marked:
        headers.append("Figures")

    def cells_of(result: MeasureResult) -> list[str]:
        cells = _cells(result)
        return cells if marked else cells[:-1]

    widths = [len(h) for h in headers]
    for result in evaluation.results:
        for index, cell in enumerate(cells_of(result)):
            widths[index] = max(widths[index], len(cell))
    right = {2, 3, 4, 5}

    def line(cells: list[str], status: str | None = None) -> str:
        parts = []
        for index, cell in enumerate(cells):
            text = cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
            if colour and status in _COLOURS and index == 6:
                text = f"{_COLOURS[status]}{text}{_RESET}"
            parts.append(text)
        return "  ".join(parts).rstrip()

    out: list[str] = []
    title = f"{_clean(evaluation.partnership)}: performance against targets"
    out.append(title)
    out.append(period_heading(evaluation))
    areas = sorted({r.area for r in evaluation.results}, key=[r.area for r in evaluation.results].index)
    for area in areas:
        out.append("")
        if len(areas) > 1:
            out.append(f"== {_clean(next(r.area_label for r in evaluation.results if r.area == area))} ==")
        out.append(line(headers))
        out.append("  ".join("-" * w for w in widths))
        priority = None
        for result in evaluation.results:
            if result.area != area:
                continue
            if result.priority != priority:
                priority = result.priority
                out.append(f"[{_clean(result.priority_title)}]")
            out.append(line(cells_of(result), result.status))
        counts = {"red": 0, "amber": 0, "green": 0, "no_target": 0, "no_data": 0}
        for result in evaluation.results:
            if result.area == area:
                counts[result.status] += 1
        out.append("")
        in_area = [r for r in evaluation.results if r.area == area]
        suspect = sum(1 for r in in_area if r.suspect is not None)
        partial = sum(1 for r in in_area if r.partial)
        out.append(f"{counts['red']} red, {counts['amber']} amber, {counts['green']} green, "
                   f"{counts['no_target']} monitored, {counts['no_data']} without data"
                   + (f"; {suspect} on suspect figures" if suspect else "")
                   + (f"; {partial} on part of the year" if partial else ""))
    if any(r.significance is not None for r in evaluation.results):
        out.append("Change real?: the exact test of this year's count against last year's; 'chance' means a "
                   "change this size is within normal variation. Year end: the projected status at the year's end.")
    if evaluation.suspect_results():
        out.append("Figures 'suspect': the result rests on figures flagged as likely data faults, on the side and in "
                   "the months named; its status is shown but is not reliable, its change is not tested for "
                   "significance, and it raises no alert unless the alert rule says fire_on_suspect: true.")
    if evaluation.partial_results():
        out.append("Figures 'n/12 months': months are missing, so only the n months with figures in both years "
                   "are compared.")
    for warning in evaluation.warnings if warnings else ():
        out.append(f"warning: {_clean(warning)}")
    return "\n".join(out) + "\n"
