"""Loading alert rules: the issue's minimum, where they may be written, and every mistake located."""

from __future__ import annotations

from pathlib import Path

import pytest

from csp_monitor import RulesError, load_rules
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_RULES

MINIMUM = """\
recipients:
  board: [csp-board@example.org, analyst@example.org]
alerts:
  - id: off-target
    when: {status: [red]}
    severity: high
    notify: [owner, board]
    message: "{{ result.summary }}"
  - id: slipping
    when: {status: [amber]}
    for: 2
    notify: [owner]
  - id: real-rise
    when: {significance: significant_increase}
    scope: {priorities: [serious-acquisitive-crime]}
    repeat: 3
    notify: [board]
"""

RULES = """\
partnership: Test Community Safety Partnership
area: testshire
priorities:
  - id: serious-acquisitive-crime
    title: To reduce serious acquisitive crime
    owner: acquisitive.crime@example.org
    measures:
      - {id: domestic-burglary, name: Domestic Burglary, better: lower, target: {change: -13%}}
      - {id: vehicle-crime, name: Vehicle Crime, better: lower}
  - id: anti-social-behaviour
    title: To tackle anti-social behaviour
    measures:
      - {id: asb-incidents, name: ASB incidents, better: lower, owner: asb@example.org}
  - id: road-safety
    title: To improve road safety
"""


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def alert_problems(tmp_path: Path, alerts: str, rules: str = RULES) -> list[str]:
    """The rendered problems of an alerts file loaded beside ``rules``."""
    paths = [write(tmp_path, rules, "rules.yaml"), write(tmp_path, alerts, "alerts.yaml")]
    with pytest.raises(RulesError) as info:
        load_rules(paths)
    return [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_the_issue_minimum_loads_as_written_beside_the_harborough_rules() -> None:
    """The shipped harborough-alerts.yaml holds the issue's minimum and loads beside the Harborough rules."""
    assert HARBOROUGH_ALERTS.read_text(encoding="utf-8").split("recipients:", 1)[1] == MINIMUM.split(
        "recipients:", 1)[1]
    rules = load_rules([HARBOROUGH_RULES, HARBOROUGH_ALERTS])
    assert rules.recipients == {"board": ("csp-board@example.org", "analyst@example.org")}
    assert [a.id for a in rules.alerts] == ["off-target", "slipping", "real-rise"]
    off_target, slipping, real_rise = rules.alerts
    assert off_target.when.status == ("red",) and off_target.severity == "high"
    assert off_target.notify == ("owner", "board") and off_target.message == "{{ result.summary }}"
    assert slipping.for_periods == 2 and slipping.repeat is None and slipping.severity == "medium"
    assert real_rise.when.significance == ("significant_increase",) and real_rise.repeat == 3
    assert real_rise.scope is not None and real_rise.scope.priorities == ("serious-acquisitive-crime",)
    assert real_rise.for_periods == 1


def test_alerts_may_be_top_level_keys_of_the_rule_file(tmp_path: Path) -> None:
    """recipients: and alerts: written inside the rule file itself load the same."""
    rules = load_rules(write(tmp_path, RULES.replace("area: testshire\n", "area: testshire\n" + MINIMUM), "r.yaml"))
    assert [a.id for a in rules.alerts] == ["off-target", "slipping", "real-rise"]


def test_a_file_of_alerts_alone_is_not_a_rule_set(tmp_path: Path) -> None:
    """An alerts file loads only beside a file that names the partnership."""
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, MINIMUM, "alerts.yaml"))
    assert [p.message for p in info.value.problems] == [
        "no file names the partnership: add a line such as 'partnership: Harborough District Community "
        "Safety Partnership'"]


def test_the_rule_hash_covers_the_alerts_file(tmp_path: Path) -> None:
    """Changing an alert changes the rule set's content hash."""
    rules_path = write(tmp_path, RULES, "rules.yaml")
    first = load_rules([rules_path, write(tmp_path, MINIMUM, "alerts.yaml")]).content_hash
    second = load_rules([rules_path, write(tmp_path, MINIMUM.replace("repeat: 3", "repeat: 4"),
                                           "alerts.yaml")]).content_hash
    assert first != second


@pytest.mark.parametrize(("alerts", "expected"), [
    pytest.param(
        "alerts:\n  - id: a\n    when: {status: [rde]}\n    notify: [owner]\n",
        ["alerts.yaml:3:21: 'rde' is not allowed for 'status': use one of 'green', 'amber', 'red', "
         "'no_target', 'no_data' (did you mean 'red'?)"], id="unknown-status"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {significance: significant_rise}\n    notify: [owner]\n",
        ["alerts.yaml:3:26: 'significant_rise' is not allowed for 'significance': use one of "
         "'significant_increase', 'significant_decrease', 'no_significant_change' "
         "(did you mean 'significant_increase'?)"], id="unknown-verdict"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {}\n    notify: [owner]\n",
        ["alerts.yaml:3:11: this condition is empty: give at least one of status, worse_than_previous, "
         "projected_status, significance, variation, assurance, current or change_pct"], id="empty-condition"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {change_pct: {abve: 3}}\n    notify: [owner]\n",
        ["alerts.yaml:3:25: unknown key 'abve' (did you mean 'above'?)"], id="misspelt-threshold"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {status: red, worse_than_previous: maybe}\n    notify: [owner]\n",
        ["alerts.yaml:3:46: 'worse_than_previous' must be true or false, not 'maybe'"], id="not-a-boolean"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {status: red}\n    for: 0\n    repeat: often\n    severity: urgent\n"
        "    notify: []\n",
        ["alerts.yaml:4:10: 'for' must be at least 1, not '0'",
         "alerts.yaml:5:13: 'repeat' must be a number, not 'often'",
         "alerts.yaml:6:15: 'urgent' is not allowed for 'severity': use one of 'low', 'medium', 'high'",
         "alerts.yaml:7:13: 'notify' must not be empty"], id="every-field-at-once"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {status: red}\n    notify: [owner]\n    frequency: 3\n",
        ["alerts.yaml:5:5: unknown key 'frequency': the keys allowed here are description, fire_on_suspect, for, id, message, "
         "notify, repeat, scope, severity, when"], id="unknown-key"),
    pytest.param(
        "alerts:\n  - id: a\n    when: {status: red}\n    notify: [owner, owner]\n",
        ["alerts.yaml:4:21: 'owner' is listed twice in notify: list it once"], id="notify-twice"),
    pytest.param(
        "recipients:\n  board: [csp-board@example.org, not-an-email]\n",
        ["alerts.yaml:2:34: 'not-an-email' is not an email address: write it as name@example.org or "
         "'Full Name <name@example.org>'"], id="bad-email"),
    pytest.param(
        "recipients:\n  Board Members: [a@example.org]\n",
        ["alerts.yaml:2:3: 'Board Members' is not a valid id: use lower-case letters, digits and hyphens, "
         "for example 'board-members'"], id="bad-list-name"),
    pytest.param(
        "recipients:\n  board: []\n",
        ["alerts.yaml:2:10: 'board' must not be empty"], id="empty-list"),
])
def test_malformed_alerts_are_located(tmp_path: Path, alerts: str, expected: list[str]) -> None:
    """Each malformed alert file gives exactly these located plain-English problems."""
    assert alert_problems(tmp_path, alerts) == expected


@pytest.mark.parametrize(("message", "expected"), [
    pytest.param("'{% if %}'", "alerts.yaml:4:14: the message template is not valid: Expected an expression, "
                 "got 'end of statement block'", id="syntax"),
    pytest.param("'{{ reslt.summary }}'", "alerts.yaml:4:14: the message uses 'reslt', which is not known "
                 "(did you mean 'result'?): a message can use result, alert, kind, area, area_name, measure, period, "
                 "partnership, previous_status", id="unknown-variable"),
    pytest.param("'{{ result.summry }}'", "alerts.yaml:4:14: the message uses 'result.summry', but a result "
                 "has no 'summry' (did you mean 'result.summary'?)", id="unknown-field"),
    pytest.param("|\n      line one\n      {{ result.summary }\n", "alerts.yaml:4:14: the message template is "
                 "not valid: unexpected '}' (line 2 of the message)", id="syntax-on-line-two"),
])
def test_a_broken_message_template_is_a_located_rule_error(tmp_path: Path, message: str, expected: str) -> None:
    """A message template that cannot render is refused where the message is written."""
    alerts = f"alerts:\n  - id: a\n    when: {{status: red}}\n    message: {message}\n    notify: [owner]\n"
    assert alert_problems(tmp_path, alerts) == [expected]


def test_references_to_unknown_names_are_located_with_suggestions(tmp_path: Path) -> None:
    """Unknown measures, priorities, areas and recipients lists are each reported where written."""
    alerts = (
        "recipients:\n  board: [board@example.org]\n"
        "alerts:\n"
        "  - id: a\n    when: {status: red}\n    notify: [owner, bord]\n"
        "    scope: {measures: [domestic-burglry], priorities: [serious-acquisitve-crime], areas: [testshir]}\n")
    assert alert_problems(tmp_path, alerts) == [
        "alerts.yaml:6:21: the alert 'a' notifies 'bord', which is neither 'owner' nor a recipients list: "
        "the recipients lists are board (did you mean 'board'?)",
        "alerts.yaml:7:24: the alert 'a' watches the measure 'domestic-burglry', which the rules do not have "
        "(did you mean 'domestic-burglary'?)",
        "alerts.yaml:7:56: the alert 'a' watches the priority 'serious-acquisitve-crime', which the rules do not "
        "have (did you mean 'serious-acquisitive-crime'?)",
        "alerts.yaml:7:91: the alert 'a' watches the area 'testshir', but the rules are for 'testshire' only "
        "(did you mean 'testshire'?)",
    ]


def test_notify_names_a_list_when_none_are_defined(tmp_path: Path) -> None:
    """A notify naming a list when there are no lists says how to define one."""
    alerts = "alerts:\n  - id: a\n    when: {status: red}\n    scope: {measures: [asb-incidents]}\n" \
             "    notify: [board]\n"
    assert alert_problems(tmp_path, alerts) == [
        "alerts.yaml:5:14: the alert 'a' notifies 'board', which is neither 'owner' nor a recipients list: "
        "no recipients lists are defined (add a 'recipients:' section)"]


def test_an_alert_that_would_reach_nobody_names_the_measures(tmp_path: Path) -> None:
    """notify: [owner] over a measure with no owner (nor a priority owner) is an error naming it."""
    rules = RULES.replace("      - {id: vehicle-crime", "  - id: unowned\n    title: Unowned\n    measures:\n"
                          "      - {id: vehicle-crime")
    alerts = "alerts:\n  - id: a\n    when: {status: red}\n    notify: [owner]\n"
    assert alert_problems(tmp_path, alerts, rules) == [
        "alerts.yaml:4:14: the alert 'a' would tell nobody about vehicle-crime: it has no owner (on the measure "
        "or its priority); give an owner, narrow the alert's scope, or add a recipients list to notify"]


def test_an_owner_alert_scoped_to_owned_measures_loads(tmp_path: Path) -> None:
    """notify: [owner] is fine when every measure in scope has an owner."""
    rules_path = write(tmp_path, RULES, "rules.yaml")
    alerts = "alerts:\n  - id: a\n    when: {status: red}\n    notify: [owner]\n"
    assert [a.id for a in load_rules([rules_path, write(tmp_path, alerts, "alerts.yaml")]).alerts] == ["a"]


def test_a_scope_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    """A scope over a priority with no measures would never alert, and says why."""
    alerts = "alerts:\n  - id: road\n    when: {status: red}\n    scope: {priorities: [road-safety]}\n" \
             "    notify: [owner]\n"
    assert alert_problems(tmp_path, alerts) == [
        "alerts.yaml:4:5: the scope of the alert 'road' matches no measure: the priority 'road-safety' has no "
        "measures"]


def test_duplicate_alert_ids_and_list_names_across_files(tmp_path: Path) -> None:
    """An alert id or recipients list defined in two files is reported like a duplicate measure id."""
    rules = RULES + "recipients:\n  board: [a@example.org]\nalerts:\n  - id: off-target\n" \
                    "    when: {status: red}\n    notify: [board]\n"
    assert alert_problems(tmp_path, MINIMUM, rules) == [
        "alerts.yaml:2:3: the recipients list 'board' is already defined in rules.yaml at line 17: names must "
        "be unique",
        "alerts.yaml:4:9: the alert id 'off-target' is already used in rules.yaml at line 19: ids must be unique",
    ]


def test_duplicate_alert_ids_within_one_file(tmp_path: Path) -> None:
    """Two alerts with one id in the same file are reported at the second."""
    alerts = "alerts:\n  - id: a\n    when: {status: red}\n    notify: [owner]\n" \
             "  - id: a\n    when: {status: amber}\n    notify: [owner]\n"
    assert alert_problems(tmp_path, alerts) == [
        "alerts.yaml:5:9: the alert id 'a' is already used in alerts.yaml at line 2: ids must be unique"]


def test_cli_rules_check_reports_alert_problems(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """rules check exits 1 with the located alert problems and a count."""
    rules_path = write(tmp_path, RULES, "rules.yaml")
    alerts_path = write(tmp_path, "alerts:\n  - id: a\n    when: {status: [rde]}\n    notify: [owner]\n",
                        "alerts.yaml")
    result = cli("rules", "check", rules_path, alerts_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{alerts_path}:3:21: 'rde' is not allowed for 'status': use one of 'green', 'amber', 'red', "
        "'no_target', 'no_data' (did you mean 'red'?)", "1 problem found."]
