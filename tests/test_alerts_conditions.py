"""Alert conditions on the statistics: significance, projection, SPC variation and assurance, on real results."""

from __future__ import annotations

import pytest

from csp_monitor import evaluate, load_figures, load_rules, rules_from_text
from csp_monitor.alerts import RememberedState, decide
from csp_monitor.alerts.conditions import condition_holds
from csp_monitor.models.alerts import Condition
from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet
from csp_monitor.statistics.significance import Significance
from tests.alert_fixtures import NOW, evaluation, result, rules_with
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

RULES_TEXT = HARBOROUGH_RULES.read_text(encoding="utf-8")


def harborough(alert_yaml: str) -> RuleSet:
    """The Harborough rules with one alert added."""
    return rules_from_text(RULES_TEXT + "alerts:\n" + alert_yaml, "harborough.yaml")


def fired(rules: RuleSet, as_of: str) -> list[str]:
    """The measures an alert fires for on the Harborough figures, deciding from an empty store."""
    ev = evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of=as_of)
    return [n.measure for n in decide(ev, rules, RememberedState(), now=NOW).decision.notifications]


def harborough_results(as_of: str) -> Evaluation:
    return evaluate(load_rules(HARBOROUGH_RULES), load_figures(HARBOROUGH_FIGURES), as_of=as_of)


def test_a_significant_rise_fires_for_domestic_burglary_only() -> None:
    """Of Figure 3's rises only domestic burglary (153 -> 253, p < 0.00001) is significant; theft of motor
    vehicles (38 -> 54, p = 0.117) is the classic trap and stays quiet."""
    rules = harborough("  - id: real-rise\n    when: {significance: significant_increase}\n    notify: [owner]\n")
    assert fired(rules, "2014-03") == ["domestic-burglary"]


def test_significant_falls_match_figure_3() -> None:
    """Figure 3's falls with p < 0.05: ASB (p = 0.027), criminal damage (0.010), theft from vehicles (0.044)."""
    rules = harborough("  - id: real-fall\n    when: {significance: [significant_decrease]}\n    notify: [owner]\n")
    assert fired(rules, "2014-03") == ["asb-incidents", "criminal-damage", "theft-from-motor-vehicle"]


def test_the_issue_minimum_real_rise_alert_tells_the_board() -> None:
    """The issue's real-rise alert (scoped to serious acquisitive crime) tells the board about domestic burglary."""
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_RULES.parent / "harborough-alerts.yaml"])
    ev = evaluate(rules, load_figures(HARBOROUGH_FIGURES), as_of="2014-03")
    notices = decide(ev, rules, RememberedState(), now=NOW).decision.notifications
    rises = [(n.measure, n.recipients) for n in notices if n.alert == "real-rise"]
    assert rises == [("domestic-burglary", ("csp-board@example.org", "analyst@example.org"))]


@pytest.mark.parametrize(("as_of", "condition", "read"), [
    pytest.param("2013-10", "{projected_status: [red]}", lambda r: r.projection and r.projection.status == "red",
                 id="projected-red"),
    pytest.param("2013-10", "{variation: special_cause_concern}",
                 lambda r: r.spc and r.spc.variation == "special_cause_concern", id="spc-concern"),
    pytest.param("2014-03", "{variation: [special_cause_improvement]}",
                 lambda r: r.spc and r.spc.variation == "special_cause_improvement", id="spc-improvement"),
    pytest.param("2014-03", "{assurance: [consistently_failing, consistently_passing]}",
                 lambda r: r.spc and r.spc.assurance in ("consistently_failing", "consistently_passing"),
                 id="assurance"),
    pytest.param("2014-03", "{status: [red], variation: [common_cause]}",
                 lambda r: r.status == "red" and r.spc and r.spc.variation == "common_cause",
                 id="red-but-within-normal-variation"),
])
def test_conditions_on_statistics_fire_exactly_where_the_results_say(as_of: str, condition: str, read) -> None:  # type: ignore[no-untyped-def]
    """An alert on a statistic fires for exactly the (non-empty set of) measures whose result carries it."""
    rules = harborough(f"  - id: watch\n    when: {condition}\n    notify: [owner]\n")
    expected = [r.measure for r in harborough_results(as_of).results if read(r)]
    assert expected, "the example must exercise the condition"
    assert fired(rules, as_of) == expected


def test_assurance_fires_only_where_the_chart_judges_a_target() -> None:
    """In March 2014 the chart says domestic burglary and theft of motor vehicles will consistently fail."""
    rules = harborough("  - id: failing\n    when: {assurance: consistently_failing}\n    notify: [owner]\n")
    assert fired(rules, "2014-03") == ["domestic-burglary", "theft-of-motor-vehicle"]


def test_a_missing_statistic_cannot_tell() -> None:
    """With no significance on a result (a percentage, too few events), the condition says neither yes nor no."""
    condition = Condition(significance=["significant_increase"])
    assert condition_holds(condition, result("red"), None) is None
    significant = Significance(p_value=0.001, verdict="significant_increase", confidence=0.95,
                               explanation="unlikely to be chance")
    assert condition_holds(condition, result("red", significance=significant), None) is True
    quiet = significant.model_copy(update={"verdict": "no_significant_change", "p_value": 0.5})
    assert condition_holds(condition, result("red", significance=quiet), None) is False


def test_an_alert_whose_statistic_disappears_keeps_firing() -> None:
    """A firing significance alert is not resolved when a later result has no significance at all."""
    rules = rules_with("alerts:\n  - id: real-rise\n    when: {significance: significant_increase}\n"
                       "    notify: [board]\n")
    significant = Significance(p_value=0.001, verdict="significant_increase", confidence=0.95,
                               explanation="unlikely to be chance")
    first = decide(evaluation("2014-02", result("red", significance=significant)), rules, RememberedState(), now=NOW)
    remembered = RememberedState(records={r.key: r for r in first.records})
    second = decide(evaluation("2014-03", result("red")), rules, remembered, now=NOW)
    assert [(a.state, a.since) for a in second.decision.alerts] == [("firing", "2014-02")]
    assert second.decision.notifications == ()
