"""A backtest as a month-by-month grid of statuses and a list of the alerts that would have gone out."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from csp_monitor.authoring.backtest import Backtest
from csp_monitor.periods import MONTH_NAMES, parse_month

__all__ = ["render_backtest_json", "render_backtest_table"]

_LETTER = {"green": "G", "amber": "A", "red": "R", "no_target": "-", "no_data": "."}


def _clean(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def render_backtest_table(result: Backtest) -> str:
    """Rows of measures, columns of months, R/A/G letters; then each notification with its recipients."""
    if not result.months:
        return "No months to show.\n"
    first = result.months[0].evaluation
    months = [parse_month(month.evaluation.as_of) for month in result.months]
    rows: dict[tuple[str, str], list[str]] = {}
    names: dict[tuple[str, str], str] = {}
    places: dict[str, str] = {}  # area id -> its name as the board reads it
    for month in result.months:
        for measure in month.evaluation.results:
            names.setdefault(measure.key, measure.name)
            places.setdefault(measure.area, measure.area_label)
            rows.setdefault(measure.key, [" "] * len(months))
    for column, month in enumerate(result.months):
        for measure in month.evaluation.results:
            # A status resting on suspect figures is marked, never shown as plain fact.
            rows[measure.key][column] = (_LETTER[measure.status] + ("?" if measure.suspect is not None else "")
                                         + ("*" if measure.partial else ""))
    several_areas = len({area for area, _ in rows}) > 1
    labels = {key: _clean(f"{names[key]} ({places[key[0]]})" if several_areas else names[key]) for key in rows}
    width = max([len("Measure"), *(len(label) for label in labels.values())])
    years = " " * width + " " + "".join(
        (str(m // 12) if index == 0 or m % 12 == 0 else "").ljust(4) for index, m in enumerate(months)).rstrip()
    header = "Measure".ljust(width) + " " + "".join(MONTH_NAMES[m % 12][:3].ljust(4) for m in months).rstrip()
    lines = [f"{_clean(result.partnership)}: backtest {first.as_of} to {result.months[-1].evaluation.as_of}",
             "R red, A amber, G green, - monitored, . no data"
             + ("; ? suspect figures (likely a data fault): the status is not reliable and raises no alert unless the rule sets fire_on_suspect"
                if any("?" in cell for cells in rows.values() for cell in cells) else "")
             + ("; * part of the year: months are missing, so only the months with figures are compared"
                if any("*" in cell for cells in rows.values() for cell in cells) else ""),
             "", years, header]
    for key, cells in rows.items():
        lines.append(labels[key].ljust(width) + " " + "".join(cell.ljust(4) for cell in cells).rstrip())
    lines.append("")
    if not result.alerts_decided:
        lines.append("No alerts were decided: the rules have no alert rules.")
    else:
        lines.append("Alerts that would have gone out:")
        count = 0
        for month in result.months:
            for notice in month.notifications:
                count += 1
                name = names.get((notice.area, notice.measure), notice.measure)
                where = f" ({places.get(notice.area, notice.area)})" if several_areas else ""
                lines.append(f"  {month.evaluation.as_of}  {notice.alert} {notice.kind}: {_clean(name + where)} "
                             f"-> {', '.join(notice.recipients)}")
        if count == 0:
            lines.append("  none")
        lines.append(f"{count} notification{'s' if count != 1 else ''} in {len(months)} month"
                     f"{'s' if len(months) != 1 else ''}.")
    return "\n".join(lines) + "\n"


def render_backtest_json(result: Backtest) -> str:
    """The backtest as JSON: per month, each result's status and figures, and the notifications."""
    data: dict[str, Any] = {
        "partnership": result.partnership,
        "alerts_decided": result.alerts_decided,
        "months": [{
            "as_of": month.evaluation.as_of,
            "results": [{"area": r.area, "measure": r.measure, "status": r.status, "current": r.current,
                         "baseline": r.baseline, "change_pct": r.change_pct, "partial": r.partial,
                         "suspect": r.suspect.model_dump(mode="json") if r.suspect is not None else None}
                        for r in month.evaluation.results],
            "notifications": [{"alert": n.alert, "kind": n.kind, "area": n.area, "measure": n.measure,
                               "recipients": list(n.recipients), "message": n.message}
                              for n in month.notifications],
        } for month in result.months],
        "warnings": list(result.warnings),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
