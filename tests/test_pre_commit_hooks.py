"""The pre-commit hooks: each runs a real csp-monitor command on the files pre-commit would pass it."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import ROOT, CliResult

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
SHIPPED = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "rules").glob("*.yaml"))


def hook(hook_id: str) -> dict[str, object]:
    return next(h for h in HOOKS if h["id"] == hook_id)


def files_for(hook_id: str) -> list[str]:
    """The shipped rule files pre-commit would pass to a hook, by its files/exclude patterns."""
    spec = hook(hook_id)
    exclude = spec.get("exclude")
    return [path for path in SHIPPED if re.search(str(spec["files"]), path)
            and not (exclude and re.search(str(exclude), path))]


def test_the_hooks_are_well_formed() -> None:
    """Both hooks exist, run csp-monitor as a Python hook, and name what they are for."""
    assert [h["id"] for h in HOOKS] == ["csp-monitor-rules-check", "csp-monitor-rules-test"]
    for spec in HOOKS:
        assert spec["language"] == "python"
        assert str(spec["entry"]).startswith("csp-monitor rules ")
        assert spec["name"] and spec["description"]


def test_the_check_hook_passes_the_shipped_rule_files(cli: Callable[..., CliResult]) -> None:
    """The check hook gets the rule files but not the test files, and passes them."""
    files = files_for("csp-monitor-rules-check")
    assert files == ["rules/harborough-2013-14.yaml", "rules/harborough-alerts.yaml"]
    entry = shlex.split(str(hook("csp-monitor-rules-check")["entry"]))[1:]
    result = cli(*entry, *(ROOT / f for f in files))
    assert result.exit_code == 0, result.stderr


def test_the_test_hook_runs_the_shipped_rule_tests(cli: Callable[..., CliResult]) -> None:
    """The test hook gets the *.test.yaml files only, and they pass."""
    files = files_for("csp-monitor-rules-test")
    assert files == ["rules/harborough-2013-14.test.yaml"]
    entry = shlex.split(str(hook("csp-monitor-rules-test")["entry"]))[1:]
    result = cli(*entry, *(ROOT / f for f in files))
    assert result.exit_code == 0, result.stdout


def test_the_check_hook_fails_a_commit_with_a_mistake(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """A rule file with a typo makes the check hook exit 1 with the located message."""
    path = tmp_path / "rules.yaml"
    path.write_text("partnership: X\nprioritys: []\n")
    entry = shlex.split(str(hook("csp-monitor-rules-check")["entry"]))[1:]
    result = cli(*entry, path)
    assert result.exit_code == 1
    assert f"{path}:2:1: unknown key 'prioritys' (did you mean 'priorities'?)" in result.stderr
