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
    if not rules.measures():
        return rules.problem_at("measures", "the rules have no measures, so there is nothing to evaluate: list "
                                "each priority's measures under 'measures:' (csp-monitor rules new writes an "
                                "example)")
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
        message = (f"the figures have nothing for the area '{area}', so every measure would be 'no data': the "
                   f"figures cover {listed(known_areas)}" + ("" if hint is None else f" (did you mean {hint}?)"))
        # The rules' own area is located in the file that sets it; an area asked for is the caller's slip.
        return rules.problem_at("area", message) if area == rules.area else Problem(message, file="<arguments>")
    if areas:
        have = sorted({measure for area, measure in figures.series_keys() if area in areas})
        return rules.problem_at(
            "measures", f"the figures for {', '.join(areas)} have none of the rules' measures ({listed(wanted)}), "
            f"so every measure would be 'no data': they have {listed(have)}")
    return rules.problem_at(
        "measures", f"the figures have none of the rules' measures ({listed(wanted)}), so there is nothing to "
        f"evaluate: they have {listed(figures.measures())}, for the areas {listed(known_areas)}")
