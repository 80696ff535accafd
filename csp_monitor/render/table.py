"""The evaluation as a terminal table, JSON or CSV.

The table follows Figure 3 of the Harborough annual review: measures grouped
by priority, with target, current position, difference and % change, plus the
red/amber/green status (coloured when the terminal supports it).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from csp_monitor.evaluation.wording import format_number, format_pct
from csp_monitor.models.results import RESULTS_SCHEMA_VERSION, Evaluation, MeasureResult

__all__ = ["STATUS_LABELS", "evaluation_rows", "render_csv", "render_json", "render_table"]

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
            "target": result.target.text if result.target else "",
            "current": result.current,
            "baseline": result.baseline,
            "difference": result.difference,
            "change_pct": None if result.change_pct is None else round(result.change_pct, 1),
            "status": result.status,
            "direction": result.direction,
            "summary": result.summary,
        })
    return rows


def render_json(evaluation: Evaluation) -> str:
    """The whole evaluation as one JSON object."""
    return json.dumps({"schema_version": RESULTS_SCHEMA_VERSION, **evaluation.model_dump(mode="json")}, indent=2,
                      ensure_ascii=False)


def render_csv(evaluation: Evaluation) -> str:
    """One CSV row per result; values unrounded except the percentage."""
    buffer = io.StringIO()
    rows = evaluation_rows(evaluation)
    fields = ["area", "priority", "measure", "name", "target", "current", "baseline", "difference",
              "change_pct", "status", "direction", "summary"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
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
    widths = [len(h) for h in headers]
    for result in evaluation.results:
        for index, cell in enumerate(_cells(result)):
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
    first = evaluation.results[0] if evaluation.results else None
    if first is not None:
        out.append(f"Year to date {first.period_start} to {first.period_end} ({evaluation.reporting_year}), "
                   f"compared with {first.baseline_start} to {first.baseline_end}")
    else:
        out.append(f"As of {evaluation.as_of} ({evaluation.reporting_year}): no measures to show")
    areas = sorted({r.area for r in evaluation.results}, key=[r.area for r in evaluation.results].index)
    for area in areas:
        out.append("")
        if len(areas) > 1:
            out.append(f"== {area} ==")
        out.append(line(headers))
        out.append("  ".join("-" * w for w in widths))
        priority = None
        for result in evaluation.results:
            if result.area != area:
                continue
            if result.priority != priority:
                priority = result.priority
                out.append(f"[{_clean(result.priority_title)}]")
            out.append(line(_cells(result), result.status))
        counts = {"red": 0, "amber": 0, "green": 0, "no_target": 0, "no_data": 0}
        for result in evaluation.results:
            if result.area == area:
                counts[result.status] += 1
        out.append("")
        out.append(f"{counts['red']} red, {counts['amber']} amber, {counts['green']} green, "
                   f"{counts['no_target']} monitored, {counts['no_data']} without data")
    if any(r.significance is not None for r in evaluation.results):
        out.append("Change real?: the exact test of this year's count against last year's; 'chance' means a "
                   "change this size is within normal variation. Year end: the projected status at the year's end.")
    for warning in evaluation.warnings if warnings else ():
        out.append(f"warning: {_clean(warning)}")
    return "\n".join(out) + "\n"
