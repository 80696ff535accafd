"""The pure decision: deterministic, clock-free, keyed stably, messages written safely, grouped per recipient."""

from __future__ import annotations

from datetime import timedelta

import pytest

from csp_monitor.alerts import (
    RememberedState,
    decide,
    group_by_recipient,
    notification_key,
    recipients_for,
)
from csp_monitor.models.alert_state import Silence
from tests.alert_fixtures import NOW, evaluation, result, rules_with

OFF_TARGET = "alerts:\n  - id: off-target\n    when: {status: [red]}\n    notify: [owner, board]\n"


def test_the_same_inputs_give_the_same_decision() -> None:
    """decide is a pure function: equal inputs, equal plans."""
    rules = rules_with(OFF_TARGET)
    ev = evaluation("2014-03", result("red"), result("red", measure="damage"))
    assert decide(ev, rules, RememberedState(), now=NOW) == decide(ev, rules, RememberedState(), now=NOW)


def test_the_clock_is_an_input_not_read() -> None:
    """Only ``now`` decides whether a silence applies; the decision reads no clock of its own."""
    rules = rules_with(OFF_TARGET)
    silence = Silence(id=1, alert="off-target", author="Jo", reason="known", created_at=NOW,
                      expires_at=NOW + timedelta(days=1))
    remembered = RememberedState(silences=[silence])
    ev = evaluation("2014-03", result("red"))
    during = decide(ev, rules, remembered, now=NOW + timedelta(hours=1)).decision
    after = decide(ev, rules, remembered, now=NOW + timedelta(days=2)).decision
    assert [a.state for a in during.alerts] == ["silenced"] and during.notifications == ()
    assert [a.state for a in after.alerts] == ["firing"] and [n.kind for n in after.notifications] == ["firing"]


def test_the_notification_key_depends_only_on_its_identity() -> None:
    """The key is the same whatever the rule file's text, and differs for any other identity."""
    ev = evaluation("2014-03", result("red"))
    first = decide(ev, rules_with(OFF_TARGET), RememberedState(), now=NOW).decision.notifications[0]
    other_rules = rules_with(OFF_TARGET.replace("notify: [owner, board]", "notify: [board]\n    severity: high"))
    second = decide(ev, other_rules, RememberedState(), now=NOW + timedelta(days=3)).decision.notifications[0]
    assert first.key == second.key == notification_key("off-target", "town", "burglary", "2014-03", "firing")
    assert len(first.key) == 64
    variants = {notification_key(*parts) for parts in [
        ("off-target", "town", "burglary", "2014-03", "firing"), ("off-target", "town", "burglary", "2014-03",
                                                                   "repeat"),
        ("off-target", "town", "burglary", "2014-04", "firing"), ("off-target", "city", "burglary", "2014-03",
                                                                   "firing"),
        ("off-target", "town", "damage", "2014-03", "firing"), ("slipping", "town", "burglary", "2014-03",
                                                                 "firing")]}
    assert len(variants) == 6


def test_a_notice_already_recorded_is_not_due_again() -> None:
    """A key in the remembered notices is not returned again."""
    rules = rules_with(OFF_TARGET)
    ev = evaluation("2014-03", result("red"))
    key = notification_key("off-target", "town", "burglary", "2014-03", "firing")
    plan = decide(ev, rules, RememberedState(notified_keys=frozenset({key})), now=NOW)
    assert plan.decision.notifications == ()
    assert plan.records[0].state == "firing" and plan.records[0].last_notified_period == "2014-03"


def test_recipients_are_owner_then_lists_without_repeats() -> None:
    """The owner comes first, then each list in notify order, and an address is listed once."""
    rules = rules_with(OFF_TARGET.replace("notify: [owner, board]", "notify: [board, owner]"))
    rule = rules.alerts[0]
    assert recipients_for(rule, result(owner="Analyst@Example.org"), rules) == (
        "board@example.org", "analyst@example.org")
    assert recipients_for(rule, result(owner="lead@example.org"), rules) == (
        "board@example.org", "analyst@example.org", "lead@example.org")


def test_notices_are_grouped_into_one_message_per_recipient() -> None:
    """Each recipient gets one batch holding every notice for them, in decision order."""
    rules = rules_with(OFF_TARGET)
    plan = decide(evaluation("2014-03", result("red"), result("red", measure="damage")), rules,
                  RememberedState(), now=NOW)
    batches = group_by_recipient(plan.decision.notifications)
    assert [(b.recipient, [n.measure for n in b.notifications]) for b in batches] == [
        ("analyst@example.org", ["burglary", "damage"]), ("board@example.org", ["burglary", "damage"]),
        ("damage@example.org", ["damage"]), ("lead@example.org", ["burglary"])]
    assert batches[0].keys == tuple(n.key for n in plan.decision.notifications)


def test_the_message_template_is_rendered_with_the_result() -> None:
    """A message template sees result, alert, kind, area, measure, period and partnership."""
    rules = rules_with(OFF_TARGET + "    message: \"{{ kind }} {{ alert.id }} {{ area }}/{{ measure }} {{ period }}: "
                                    "{{ result.current | int }} ({{ partnership }})\"\n")
    plan = decide(evaluation("2014-03", result("red")), rules, RememberedState(), now=NOW)
    assert plan.decision.notifications[0].message == (
        "firing off-target town/burglary 2014-03: 120 (Test Community Safety Partnership)")


def test_template_syntax_in_data_is_printed_not_run() -> None:
    """A measure named '{{ 7*7 }}' appears as written in the message; it is data, not a template."""
    rules = rules_with(OFF_TARGET + "    message: \"Alert: {{ result.name }}\"\n")
    plan = decide(evaluation("2014-03", result("red", name="{{ 7*7 }} <script>")), rules, RememberedState(),
                  now=NOW)
    assert plan.decision.notifications[0].message == "Alert: {{ 7*7 }} <script>"


@pytest.mark.parametrize("template", [
    # The trial render at load (a Harborough sample) passes by this branch; the real result reaches it.
    "{% if result.area == 'town' %}{{ kind.__class__.__mro__ }}{% endif %}",
    "{{ result.current / 0 }}",
])
def test_a_hostile_or_failing_template_falls_back_to_the_summary(template: str) -> None:
    """A template that the sandbox refuses or that fails still sends the alert, with its plain summary."""
    rules = rules_with(OFF_TARGET + f"    message: \"{template}\"\n")
    plan = decide(evaluation("2014-03", result("red")), rules, RememberedState(), now=NOW)
    assert plan.decision.notifications[0].message == "Burglary in town is red"
    assert len(plan.decision.warnings) == 1
    assert plan.decision.warnings[0].startswith(
        "the message of the alert 'off-target' could not be written for burglary in town (")


@pytest.mark.parametrize("template", ["{{ kind.__class__.__mro__ }}", "{{ result['parse_file']('x.json') }}"])
def test_a_template_the_sandbox_refuses_is_refused_when_the_rules_load(template: str) -> None:
    """A message reaching for Python internals or pydantic's methods is refused where it is, not only at run time."""
    from csp_monitor.errors import RulesError

    with pytest.raises(RulesError, match="the message template tries something not allowed: access to attribute"):
        rules_with(OFF_TARGET + f"    message: \"{template}\"\n")


@pytest.mark.parametrize("template", ["{{ 'x' * 100000000 }}", "{{ 9 ** 999999999 }}"])
def test_a_template_beyond_the_limits_is_refused_when_the_rules_load(template: str) -> None:
    """Huge repetitions and powers never reach a decision: the rules are refused where the message is."""
    from csp_monitor.errors import RulesError

    with pytest.raises(RulesError, match="the message template cannot be written within the limits"):
        rules_with(OFF_TARGET + f"    message: \"{template}\"\n")


def test_control_characters_are_dropped_from_messages() -> None:
    """Messages keep line breaks but lose other control characters (no terminal or header tricks)."""
    rules = rules_with(OFF_TARGET + "    message: \"{{ result.name }}\"\n")
    plan = decide(evaluation("2014-03", result("red", name="Bur\x1b[31mglary\x07")), rules, RememberedState(),
                  now=NOW)
    assert plan.decision.notifications[0].message == "Bur[31mglary"


def test_the_decision_json_has_the_issue_shape() -> None:
    """A decision dumps to exactly {as_of, notifications: [...8 keys], alerts: [...5 keys], warnings}."""
    plan = decide(evaluation("2014-03", result("red")), rules_with(OFF_TARGET), RememberedState(), now=NOW)
    dumped = plan.decision.model_dump(mode="json")
    assert list(dumped) == ["as_of", "notifications", "alerts", "warnings"]
    assert list(dumped["notifications"][0]) == ["key", "alert", "kind", "area", "measure", "period", "recipients",
                                                "message"]
    assert list(dumped["alerts"][0]) == ["alert", "area", "measure", "state", "since"]
