"""Is there anything to judge? Rules with no measures, or figures with nothing for the rules' area, are errors.

Judged anyway, such rules give a table of "no data" rows and exit 0: a board
report that says nothing, and a daemon that never alerts anyone. So evaluation
refuses them, naming what the figures do have.
"""

from __future__ import annotations

from collections.abc import Sequence

from csp_monitor.errors import Problem
from csp_monitor.load.validation import closest
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.rules import RuleSet

__all__ = ["listed", "nothing_to_judge"]

_LISTED_AT_MOST = 12


def listed(names: Sequence[str]) -> str:
    """``a, b, c`` (the first dozen, then how many more), for a message that names what there is."""
    shown = ", ".join(names[:_LISTED_AT_MOST])
    more = len(names) - _LISTED_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")


def nothing_to_judge(rules: RuleSet, figures: FigureSet, areas: Sequence[str]) -> Problem | None:
    """Why evaluating ``rules`` for ``areas`` (empty: every area) would judge nothing at all, or None."""
    file = rules.files[0] if rules.files else "<rules>"
    if not rules.measures():
        return Problem("the rules have no measures, so there is nothing to evaluate: list each priority's "
                       "measures under 'measures:' (csp-monitor rules new writes an example)", file=file)
    wanted = sorted({measure.figures_measure for _, measure in rules.measures()})
    judged = areas or figures.areas()  # no area named: every area the figures have
    if any(figures.series(area, measure) for area in judged for measure in wanted):
        return None
    known_areas = figures.areas()
    if not known_areas:
        return Problem("the figures are empty, so there is nothing to evaluate", file="<figures>")
    missing = [area for area in areas if area not in known_areas]
    if missing:
        area = missing[0]
        hint = closest(area, known_areas)
        return Problem(
            f"the figures have nothing for the area '{area}', so every measure would be 'no data': the figures "
            f"cover {listed(known_areas)}" + ("" if hint is None else f" (did you mean {hint}?)"),
            file=file)
    if areas:
        have = sorted({measure for area, measure in figures.series_keys() if area in areas})
        return Problem(
            f"the figures for {', '.join(areas)} have none of the rules' measures ({listed(wanted)}), so every "
            f"measure would be 'no data': they have {listed(have)}", file=file)
    return Problem(
        f"the figures have none of the rules' measures ({listed(wanted)}), so there is nothing to evaluate: "
        f"they have {listed(figures.measures())}, for the areas {listed(known_areas)}", file=file)
