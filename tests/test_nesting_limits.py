"""Deeply nested rules, figures and configuration are refused with their place and exit 1, never a RecursionError."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor.errors import ConfigError, FiguresError, RulesError
from csp_monitor.load.config import load_config
from csp_monitor.load.figures import load_figures
from csp_monitor.load.rules import load_rules
from tests.conftest import ROOT, CliResult

REFUSED = "lists and mappings are nested more than 40 deep here, far deeper than any csp-monitor file needs"


def _block_list(depth: int) -> str:
    return "".join("  " * level + "-\n" for level in range(depth))


@pytest.mark.parametrize(("body", "where"), [
    ("priorities: " + "[" * 500 + "]" * 500 + "\n", "2:52"),
    ("priorities:\n" + _block_list(500), "42:79"),
])
def test_rules_nested_500_deep_are_refused_at_their_place(tmp_path: Path, body: str, where: str) -> None:
    """A 500-deep list, in brackets or as indented dashes, is one located problem."""
    path = tmp_path / "deep.yaml"
    path.write_text("partnership: H\n" + body, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{where}: {REFUSED}: check the brackets and indentation"]


@pytest.mark.parametrize("depth", [400, 100_000])
def test_json_figures_nested_deep_are_refused_at_their_place(tmp_path: Path, depth: int) -> None:
    """400 or 100,000 nested brackets in a JSON figures file: located, not a crash."""
    path = tmp_path / "figures.json"
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    with pytest.raises(FiguresError) as caught:
        load_figures(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1:41: {REFUSED}: check the brackets and indentation"]


def test_a_configuration_nested_400_deep_is_refused_at_its_place(tmp_path: Path) -> None:
    """A configuration whose figures list is nested 400 deep: one located problem."""
    path = tmp_path / "csp-monitor.yaml"
    path.write_text("rules: [r.yaml]\nfigures: " + "[" * 400 + "f.csv" + "]" * 400 + "\nstate: s.db\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:2:49: {REFUSED}: check the brackets and indentation"]


def test_the_commands_exit_1_on_deep_input_without_a_traceback(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """rules check, evaluate and config-reading commands say where and exit 1."""
    deep_rules = tmp_path / "deep.yaml"
    deep_rules.write_text("partnership: H\npriorities: " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    deep_figures = tmp_path / "figures.json"
    deep_figures.write_text("[" * 400 + "]" * 400, encoding="utf-8")
    for args in (("rules", "check", deep_rules),
                 ("evaluate", ROOT / "rules" / "harborough-2013-14.yaml", "--figures", deep_figures)):
        result = cli(*args)
        assert result.exit_code == 1, result.stderr
        assert REFUSED in result.stderr and "Traceback" not in result.stderr


def test_a_deep_file_is_refused_in_a_fresh_process_with_a_small_stack(tmp_path: Path) -> None:
    """Run as its own process, a 500-deep rule file exits 1 with the located message (no internal error)."""
    path = tmp_path / "deep.yaml"
    path.write_text("partnership: H\npriorities:\n" + _block_list(500), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "csp_monitor.cli", "rules", "check", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"{path}:42:79: {REFUSED}" in result.stderr
    assert "internal error" not in result.stderr


DEEP_RUNS = [
    ("rules, brackets", "deep.yaml", "partnership: H\npriorities: " + "[" * 500 + "]" * 500 + "\n",
     ["rules", "check", "deep.yaml"], "2:52"),
    ("rules, dashes", "deep.yaml", "partnership: H\npriorities:\n" + _block_list(500), ["rules", "check", "deep.yaml"],
     "42:79"),
    ("alert rules", "alerts.yaml", "recipients: {board: [a@b.org]}\nalerts: " + "[" * 500 + "]" * 500 + "\n",
     ["rules", "check", str(ROOT / "rules" / "harborough-2013-14.yaml"), "alerts.yaml"], "2:48"),
    ("rule tests", "deep.test.yaml", "rules: [r.yaml]\ntests: " + "[" * 500 + "]" * 500 + "\n",
     ["rules", "test", "deep.test.yaml"], "2:47"),
    ("JSON figures", "figures.json", "[" * 400 + "]" * 400,
     ["evaluate", str(ROOT / "rules" / "harborough-2013-14.yaml"), "--figures", "figures.json"], "1:41"),
    ("JSON figures, 100,000", "figures.json", "[" * 100_000 + "]" * 100_000,
     ["evaluate", str(ROOT / "rules" / "harborough-2013-14.yaml"), "--figures", "figures.json"], "1:41"),
    ("configuration", "csp-monitor.yaml", "rules: [r.yaml]\nfigures: " + "[" * 400 + "f.csv" + "]" * 400 +
     "\nstate: s.db\n", ["send", "--config", "csp-monitor.yaml"], "2:49"),
]


@pytest.mark.parametrize(("case", "name", "text", "args", "where"), DEEP_RUNS, ids=[run[0] for run in DEEP_RUNS])
def test_deep_input_is_refused_by_the_cli_within_the_limits(tmp_path: Path, case: str, name: str, text: str,
                                                            args: list[str], where: str) -> None:
    """Each loader, run as the real command within 300 MB and 10 s, refuses deep nesting at its place, exit 1."""
    from tests.security.limits import files_under, run_limited

    (tmp_path / name).write_text(text, encoding="utf-8")
    before = files_under(tmp_path)
    result = run_limited(*args, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert f"{name}:{where}: {REFUSED}" in output, output
    assert "Traceback" not in output and "internal error" not in output and "RecursionError" not in output
    assert files_under(tmp_path) == before
