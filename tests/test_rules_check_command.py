"""``csp-monitor rules check``: OK totals, figure coverage warnings and file-by-file checking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import HARBOROUGH_ALERTS, HARBOROUGH_FIGURES, HARBOROUGH_RULES, CliResult


def test_ok_line_counts_files_measures_and_alerts(cli: Callable[..., CliResult]) -> None:
    """A valid rule set prints one OK line with its totals, in correct English."""
    result = cli("rules", "check", HARBOROUGH_RULES, HARBOROUGH_ALERTS)
    assert result.exit_code == 0
    assert result.stdout == "OK: 2 files, 6 priorities, 10 measures (6 with targets, 4 monitored), 3 alerts\n"


def test_figures_covering_every_measure_give_no_warning(cli: Callable[..., CliResult]) -> None:
    """With figures for every measure, --figures adds nothing to the OK line."""
    result = cli("rules", "check", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("OK: 1 file,")


def test_a_measure_without_figures_is_a_located_warning(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A target whose id the figures never mention is a warning at the id, with a suggestion; exit stays 0."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(HARBOROUGH_RULES.read_text().replace("id: domestic-burglary", "id: domestic-burglery"))
    result = cli("rules", "check", rules, "--figures", HARBOROUGH_FIGURES)
    assert result.exit_code == 0
    assert result.stderr == (
        f"{rules}:53:13: warning: 'domestic-burglery' has a target, but the figures have nothing for "
        "'domestic-burglery': it will be judged 'no data' every month and never alert anyone "
        "(did you mean 'domestic-burglary'?)\n")
    assert result.stdout.startswith("OK (1 warning): 1 file,")


def test_each_file_checks_files_that_only_make_sense_together(cli: Callable[..., CliResult]) -> None:
    """--each-file accepts an alerts-only file that cannot be a rule set on its own."""
    assert cli("rules", "check", HARBOROUGH_ALERTS).exit_code == 1
    result = cli("rules", "check", "--each-file", HARBOROUGH_ALERTS, HARBOROUGH_RULES)
    assert result.exit_code == 0
    assert result.stdout == "OK: 2 files checked one by one\n"


def test_each_file_still_reports_mistakes_in_every_file(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """--each-file reports the mistakes of all files at once, located."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("partnership: A\ntolerence: 5\n")
    second.write_text("partnership: B\npriorities:\n  - id: p\n    titel: P\n")
    result = cli("rules", "check", "--each-file", first, second)
    assert result.exit_code == 1
    assert f"{first}:2:1: unknown key 'tolerence' (did you mean 'tolerance'?)" in result.stderr
    assert f"{second}:4:5: unknown key 'titel' (did you mean 'title'?)" in result.stderr


def test_each_file_with_figures_is_a_usage_error(cli: Callable[..., CliResult]) -> None:
    """Coverage needs one rule set, so --each-file with --figures is refused as a usage error."""
    result = cli("rules", "check", "--each-file", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES)
    assert result.exit_code == 2
    assert "--figures needs the files as one rule set" in result.stderr
