"""Do the figures cover the rules? Warnings, located in the rule files, before anything goes live.

A target on a measure with no figures is judged "no data" every month, so it
never turns red and never alerts anyone: almost always a misspelt id or
``source``, or a figures feed that has not been set up yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from csp_monitor.errors import Problem
from csp_monitor.evaluation.coverage import nothing_to_judge
from csp_monitor.load.rules import LoadedRuleFile
from csp_monitor.load.validation import closest
from csp_monitor.models.figures import FigureSet
from csp_monitor.models.rules import RuleSet

__all__ = ["figures_coverage", "figures_problems"]


def figures_coverage(files: Sequence[LoadedRuleFile], rules: RuleSet, figures: FigureSet) -> list[Problem]:
    """A warning for the rules' area when the figures lack it, and for each measure they have nothing for."""
    warnings: list[Problem] = []
    areas = [rules.area] if rules.area is not None else figures.areas()
    known_areas = figures.areas()
    if rules.area is not None and rules.area not in known_areas:
        for file in files:
            if file.model.area is not None:
                shown = ", ".join(known_areas[:8]) if known_areas else "no area at all"
                warnings.append(file.source.positions.problem(
                    ("area",), f"the figures have nothing for the area '{rules.area}': they cover {shown}",
                    suggestion=closest(rules.area, known_areas), severity="warning"))
        return warnings
    measures_with_figures = sorted({measure for area, measure in figures.series_keys() if area in areas})
    for file in files:
        for p_index, priority in enumerate(file.model.priorities):
            for m_index, measure in enumerate(priority.measures):
                wanted = measure.figures_measure
                if wanted in measures_with_figures:
                    continue
                key = "source" if measure.source is not None else "id"
                where = ("priorities", p_index, "measures", m_index, key)
                what = "has a target, but" if measure.target is not None else "is monitored, but"
                judged = (" it will be judged 'no data' every month and never alert anyone"
                          if measure.target is not None else "")
                hint = closest(wanted, measures_with_figures)
                listed = ""
                if hint is None and measures_with_figures:
                    shown = ", ".join(measures_with_figures[:8]) + (" ..." if len(measures_with_figures) > 8 else "")
                    listed = f" (the figures have {shown})"
                warnings.append(file.source.positions.problem(
                    where, f"'{measure.id}' {what} the figures have nothing for '{wanted}'{listed}:"
                    f"{judged or ' it will show no data'}", suggestion=hint, severity="warning"))
    return warnings


def figures_problems(files: Sequence[LoadedRuleFile], rules: RuleSet, figures: FigureSet) -> list[Problem]:
    """An error, located in the files, when these figures would leave nothing to judge (as ``evaluate`` refuses)."""
    problem = nothing_to_judge(rules, figures, [rules.area] if rules.area is not None else [])
    return [] if problem is None or not files else [problem]
