"""Figures the rules do not read: one warning for a shared file's other measures, a hint for a likely typo."""

from __future__ import annotations

from csp_monitor import FigureSet, evaluate, rules_from_text
from csp_monitor.periods import parse_month

RULES = rules_from_text("""\
partnership: Test CSP
area: testshire
priorities:
  - id: p
    title: P
    measures:
      - {id: domestic-burglary, name: Domestic Burglary, better: lower, target: {change: -13%}}
""")


def figures(*measures: str) -> FigureSet:
    result = FigureSet()
    for measure in ("domestic-burglary", *measures):
        result.add("testshire", measure, parse_month("2014-03"), 5)
    return result


def test_measures_a_rule_file_leaves_to_others_share_one_warning() -> None:
    """Rules for some measures of a shared figures file give one warning naming the others, not one each."""
    evaluation = evaluate(RULES, figures("asb-incidents", "criminal-damage", "total-crime"), as_of="2014-03")
    assert evaluation.warnings == (
        "figures for 3 measures are ignored, as no rule reads them: asb-incidents, criminal-damage, total-crime",)


def test_a_likely_typo_keeps_its_own_warning_and_hint() -> None:
    """A measure that looks like a misspelt rule id is warned about on its own, with the suggestion."""
    evaluation = evaluate(RULES, figures("domestic-burglery", "total-crime"), as_of="2014-03")
    assert evaluation.warnings == (
        "figures for the measure 'domestic-burglery' are ignored: no rule reads it (did you mean "
        "'domestic-burglary'?)",
        "figures for the measure 'total-crime' are ignored: no rule reads it",
    )
