"""The standalone HTML risk report of one evaluation, as ``csp-monitor report`` writes it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from csp_monitor.arguments import check_kind, check_path
from csp_monitor.errors import ArgumentError

if TYPE_CHECKING:
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.results import Evaluation
    from csp_monitor.models.rules import RuleSet

__all__ = ["render_report"]


def render_report(rules: RuleSet, figures: FigureSet, evaluation: Evaluation, *, charts: bool = True,
                  templates: str | os.PathLike[str] | None = None) -> str:
    """The risk report of ``evaluation`` as one HTML page (images embedded, no scripts), compared with the month before.

    ``charts=False`` leaves the charts out (matplotlib is then never imported); ``templates`` is a folder
    of templates overriding the built-in ones.
    """
    from csp_monitor.models.figures import FigureSet
    from csp_monitor.models.results import Evaluation
    from csp_monitor.models.rules import RuleSet
    from csp_monitor.render.messages import render_report as render_summary_report
    from csp_monitor.render.summary import build_summary, previous_evaluation

    check_kind(rules, RuleSet, argument="rules", made_by="from load_rules or rules_from_data")
    check_kind(figures, FigureSet, argument="figures", made_by="from load_figures or FigureSet.from_figures")
    check_kind(evaluation, Evaluation, argument="evaluation", made_by="from evaluate")
    if not isinstance(charts, bool):
        raise ArgumentError(f"charts must be True or False, not {type(charts).__name__}", argument="charts")
    if templates is not None:
        templates = check_path(templates, argument="templates")
    summary = build_summary(rules, figures, evaluation, previous=previous_evaluation(rules, figures, evaluation),
                            charts=charts)
    return render_summary_report(summary, templates=templates)
