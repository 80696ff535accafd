"""``csp-monitor rules diff``: what a proposed change to the rules would change, measure by measure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult


def proposed(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """The Harborough rules with some text replaced, as a proposed change."""
    text = HARBOROUGH_RULES.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "proposed.yaml"
    path.write_text(text)
    return path


def test_identical_rules_change_nothing(cli: Callable[..., CliResult]) -> None:
    """Comparing the rules with themselves says nothing would change, and exits 0 even with --exit-code."""
    result = cli("rules", "diff", HARBOROUGH_RULES, HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES,
                 "--as-of", "2014-03", "--exit-code")
    assert result.exit_code == 0
    assert result.stdout.endswith("Nothing would change: both judge all 10 measures the same way.\n"
                                  "(No alerts were compared: neither rule set has alert rules.)\n")


def test_a_looser_tolerance_turns_red_to_amber(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """Widening the amber band to 10 points shows each status it changes and each tolerance, measure by measure."""
    new = proposed(tmp_path, ("tolerance: 5 ", "tolerance: 10"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert result.exit_code == 0
    assert ("Total Crime (total-crime)\n  status: red -> amber\n  tolerance: 5 points -> 10 points\n"
            in result.stdout)
    assert ("Violence With Injury (violence-with-injury)\n  status: red -> amber\n"
            "  tolerance: 5 points -> 10 points\n") in result.stdout
    assert "Domestic Burglary (domestic-burglary)\n  tolerance: 5 points -> 10 points\n" in result.stdout
    assert "5 measures would change, 5 would not.\n" in result.stdout


def test_target_and_owner_changes_are_listed(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A softer target that turns green and a new owner are both listed under their measure."""
    new = proposed(tmp_path, ("target: {change: -10%}", "target: {change: +50%}"),
                   ("owner: violence@example.org", "owner: night.time@example.org"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert ("Theft Of Motor Vehicle (theft-of-motor-vehicle)\n  status: red -> green\n"
            "  target: -10% -> +50%\n") in result.stdout
    assert "  owner: violence@example.org -> night.time@example.org\n" in result.stdout


def test_added_and_removed_measures(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A measure only in the old rules is 'removed', one only in the new is 'added'."""
    new = proposed(tmp_path, ("id: criminal-damage\n        name: Criminal Damage",
                              "id: arson\n        name: Arson"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert "Criminal Damage (criminal-damage)\n  measure: monitored -> removed from the new rules\n" in result.stdout
    assert "Arson (arson)\n  measure: not in the old rules -> added (no data)\n" in result.stdout


def test_exit_code_flags_a_difference(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """With --exit-code any difference makes the command exit 1, for scripts and CI."""
    new = proposed(tmp_path, ("tolerance: 5 ", "tolerance: 10"))
    assert cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES,
               "--exit-code").exit_code == 1


def test_json_lists_the_same_changes(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """--format json gives each changed measure with its field, old and new values."""
    new = proposed(tmp_path, ("tolerance: 5 ", "tolerance: 10"))
    data = json.loads(cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES,
                          "--as-of", "2014-03", "--format", "json").stdout)
    assert data["as_of"] == "2014-03" and data["unchanged"] == 5
    total = next(m for m in data["measures"] if m["measure"] == "total-crime")
    assert {"field": "status", "old": "red", "new": "amber"} in total["changes"]


def test_mistakes_in_either_file_are_reported_together(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A broken proposed file is reported at file:line:col with exit 1, before anything is compared."""
    new = proposed(tmp_path, ("better: higher\n        unit: percent", "better: hihger\n        unit: percent"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--figures", HARBOROUGH_FIGURES)
    assert result.exit_code == 1
    assert f"{new}:43:17: 'hihger' is not allowed for 'better'" in result.stderr


def test_alert_recipients_that_would_change(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """Moving a measure to a new owner changes who its off-target alert goes to, and the diff says so."""
    pytest.importorskip("csp_monitor.alerts.decide")
    new = proposed(tmp_path, ("owner: violence@example.org", "owner: night.time@example.org"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--also", HARBOROUGH_ALERTS,
                 "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert result.exit_code == 0, result.stderr
    assert ("  alert off-target recipients: violence@example.org, csp-board@example.org, analyst@example.org -> "
            "night.time@example.org, csp-board@example.org, analyst@example.org\n") in result.stdout


def test_alerts_that_would_stop(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A change that turns a red measure amber stops its off-target alert, and the diff says who is no longer told."""
    pytest.importorskip("csp_monitor.alerts.decide")
    new = proposed(tmp_path, ("tolerance: 5 ", "tolerance: 10"))
    result = cli("rules", "diff", HARBOROUGH_RULES, new, "--also", HARBOROUGH_ALERTS,
                 "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03")
    assert ("  alert off-target: due, to community.safety@example.org, csp-board@example.org, "
            "analyst@example.org -> not due\n") in result.stdout
