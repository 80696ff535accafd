"""``csp-monitor rules explain``: every target and alert in plain English, for sign-off by the board."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor.authoring.explain import explain_rules
from csp_monitor.load.rules import rules_from_text
from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_RULES, CliResult


def explained(measure: str, *, tolerance: str = "tolerance: 5", extra: str = "") -> str:
    """The explanation of a one-measure rule file."""
    text = textwrap.dedent(f"""\
        partnership: Test CSP
        {tolerance}
        priorities:
          - id: p
            title: A priority
            measures:
              - {measure}
        """)
    return explain_rules(rules_from_text(text + extra))


def test_harborough_domestic_burglary_reads_as_the_issue_says(cli: Callable[..., CliResult]) -> None:
    """Domestic burglary is explained as its target, amber band and owner, in one sentence."""
    result = cli("rules", "explain", HARBOROUGH_RULES, HARBOROUGH_ALERTS)
    assert result.exit_code == 0
    assert ("  - Domestic Burglary: reduce by 13% compared with the same months last year; amber if the "
            "reduction misses by up to 5 points; the owner is acquisitive.crime@example.org.\n") in result.stdout


def test_every_measure_and_alert_is_explained(cli: Callable[..., CliResult]) -> None:
    """Each of the 10 Harborough measures and 3 alerts gets its own line, and the totals say so."""
    result = cli("rules", "explain", HARBOROUGH_RULES, HARBOROUGH_ALERTS)
    lines = result.stdout.splitlines()
    for name in ["Total Crime", "ASB Reported (Police Data)", "Criminal Damage", "User Satisfaction",
                 "Domestic Burglary", "Commercial Burglary OTD", "Theft From Motor Vehicle",
                 "Theft Of Motor Vehicle", "Violence With Injury", "Domestic Violence With Injury"]:
        assert sum(line.startswith(f"  - {name}:") for line in lines) == 1, name
    for alert in ["off-target", "slipping", "real-rise"]:
        assert sum(line.startswith(f"  - {alert} (") for line in lines) == 1, alert
    assert lines[-1] == "6 priorities, 10 measures (6 with targets, 4 monitored), 3 alerts."


@pytest.mark.parametrize(("measure", "sentence"), [
    ("{id: m, name: Burglary, better: lower, target: {change: -13%}}",
     "Burglary: reduce by 13% compared with the same months last year; amber if the reduction misses by up to "
     "5 points; no owner is named."),
    ("{id: m, name: Burglary, better: lower, target: {change: +5%}}",
     "Burglary: rise by no more than 5% compared with the same months last year; amber if the rise is bigger by "
     "up to 5 points; no owner is named."),
    ("{id: m, name: Hate crime reports, better: higher, target: {change: +10%}}",
     "Hate crime reports: increase by 10% compared with the same months last year; amber if the increase falls "
     "short by up to 5 points; no owner is named."),
    ("{id: m, name: Reports, better: higher, target: {change: -5%}}",
     "Reports: fall by no more than 5% compared with the same months last year; amber if the fall is bigger by "
     "up to 5 points; no owner is named."),
    ("{id: m, name: Satisfaction, better: higher, unit: percent, aggregate: latest, target: {at_least: 85}, "
     "tolerance: 2}",
     "Satisfaction: at least 85%; amber down to 83%; judged on the latest month's figure; no owner is named."),
    ("{id: m, name: Response time, better: lower, unit: number, aggregate: mean, target: {at_most: 12}}",
     "Response time: at most 12; amber up to 17; judged on the average of the months so far this year; "
     "no owner is named."),
    ("{id: m, name: Criminal damage, better: lower, owner: cd@example.org}",
     "Criminal damage: monitored without a target (lower is better); the owner is cd@example.org."),
    ("{id: m, name: Domestic abuse reports, better: higher, source: domestic-abuse, sensitive: true}",
     "Domestic abuse reports: monitored without a target (higher is better); read from the figures as "
     "'domestic-abuse'; counts under 5 are not shown in summaries; no owner is named."),
])
def test_each_kind_of_target_has_its_own_wording(measure: str, sentence: str) -> None:
    """Reductions, capped rises, increases, levels and monitored measures are each worded the way a board says them."""
    assert f"  - {sentence}\n" in explained(measure)


def test_no_tolerance_means_no_amber_band() -> None:
    """Without a tolerance anywhere the explanation says a miss is red straight away."""
    text = explained("{id: m, name: Burglary, better: lower, target: {change: -13%}}", tolerance="")
    assert ("Burglary: reduce by 13% compared with the same months last year; red as soon as the target is "
            "missed (no amber band)") in text


def test_alerts_say_when_whom_and_how_often() -> None:
    """An alert is explained with its condition, periods, scope, recipients, reminders and message."""
    text = explained(
        "{id: domestic-burglary, name: Domestic Burglary, better: lower, target: {change: -13%}, owner: db@example.org}",
        extra=textwrap.dedent("""\
            recipients:
              board: [board@example.org]
            alerts:
              - id: slipping
                when: {status: [amber, red], worse_than_previous: true}
                for: 2
                repeat: 3
                scope: {measures: [domestic-burglary]}
                notify: [owner, board]
                message: "{{ result.name }} needs attention"
            """))
    assert ("  - slipping (medium severity): for Domestic Burglary, when the status is amber or red and the status "
            "is worse than at the previous evaluation for 2 reporting periods in a row, tell the measure's owner "
            "and the 'board' list (board@example.org); remind them every 3 periods while it lasts; the message "
            "reads: {{ result.name }} needs attention.\n") in text
    assert text.endswith("1 priority, 1 measure (1 with a target, 0 monitored), 1 alert.\n")


def test_rules_without_alerts_say_nobody_is_told() -> None:
    """A rule set with no alerts says so, so the board knows nothing is sent automatically."""
    assert "No alerts: nobody is told automatically" in explained("{id: m, name: M, better: lower}")


def test_control_characters_in_names_are_refused_not_explained(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A name carrying terminal escape codes is refused at its place, and the escape never printed."""
    path = tmp_path / "escapes.yaml"
    path.write_text('partnership: X\npriorities:\n  - id: p\n    title: P\n'
                    '    measures: [{id: m, name: "Burglary\\e[31m", better: lower}]\n', encoding="utf-8")
    result = cli("rules", "explain", path)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert f"{path}:5:30: this text contains a control or direction character (U+001B)" in result.stderr


def test_invalid_rules_are_reported_not_explained(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """explain reports a broken rule file at file:line:col and exits 1."""
    path = tmp_path / "broken.yaml"
    path.write_text("partnership: X\npriorities:\n  - id: p\n    titel: P\n", encoding="utf-8")
    result = cli("rules", "explain", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:4:5: unknown key 'titel' (did you mean 'title'?)" in result.stderr


def test_statistics_settings_are_explained() -> None:
    """The rule set's statistics and a measure's own overrides are said in words, for the board to agree."""
    text = explained(
        "{id: m, name: Burglary, better: lower, statistics: {confidence: 90%}}",
        extra="statistics: {confidence: 99%, projection: false, spc: {baseline_points: 12}}\n")
    assert ("Statistics: a change against last year is called significant at 99% confidence; no year-end "
            "projection; a monthly control chart (limits fixed on the first 12 months of figures); no comparison with most "
            "similar groups.\n") in text
    assert ("  - Burglary: monitored without a target (lower is better); its own statistics: a change against "
            "last year is called significant at 90% confidence; no owner is named.\n") in text


def test_one_standard_deviation_is_singular() -> None:
    """A peer band of one standard deviation reads "1 standard deviation" (it said "1 standard deviations")."""
    peers = ("statistics: {peers: {populations: {a: 1000, b: 2000}, groups: {g: [a, b]}}}\n")
    text = explained("{id: m, name: Burglary, better: lower}", extra=peers)
    assert "in line when within 1 standard deviation of the group average." in text
    wide = explained("{id: m, name: Burglary, better: lower}",
                     extra=peers.replace("groups:", "standard_deviations: 2, groups:"))
    assert "in line when within 2 standard deviations of the group average." in wide
