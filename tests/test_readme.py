"""The README's examples run as written, and its commands exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("code", blocks("python"))
def test_python_examples_run(code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each Python example in the README runs from the project folder without error."""
    monkeypatch.chdir(ROOT)
    # The examples' /tmp files go to this test's own folder: runs side by side never share a store.
    exec(compile(code.replace('"/tmp/', f'"{tmp_path}/'), "README.md", "exec"), {})


def test_quick_start_is_exactly_two_commands() -> None:
    """The quick start is two commands: the demo and the test suite."""
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in blocks("sh")[0].splitlines() if line.strip()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
    assert "python3 dev.py demo" in section


def test_every_documented_command_exists(cli) -> None:  # type: ignore[no-untyped-def]
    """Every `csp-monitor <command>` the README shows answers --help."""
    names = sorted(set(re.findall(r"(?:^|`)csp-monitor ([a-z][a-z-]+(?: [a-z][a-z-]+)?)", README, flags=re.M)))
    assert names
    for name in names:
        words = name.split()
        out = cli(*words, "--help")
        if out.exit_code != 0 and len(words) == 2:  # "evaluate RULES" style: the second word is an argument
            out = cli(words[0], "--help")
        assert out.exit_code == 0, (name, out.stderr)


def test_rule_example_in_readme_loads(tmp_path: Path) -> None:
    """The README's rule file example is a valid rule file."""
    from csp_monitor import load_rules

    yaml_text = blocks("yaml")[0]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml_text)
    assert load_rules(path).measure("domestic-burglary") is not None


def test_demo_figures_are_labelled_illustrative() -> None:
    """The example figures file says its monthly split is illustrative."""
    head = (ROOT / "examples" / "harborough" / "figures.csv").read_text().splitlines()[:3]
    assert any("ILLUSTRATIVE" in line for line in head)
    assert os.path.exists(ROOT / "examples" / "harborough" / "make_figures.py")


def test_alerts_example_in_readme_loads_beside_the_harborough_rules(tmp_path: Path) -> None:
    """The README's alerts example is valid beside the shipped Harborough rules."""
    from csp_monitor import load_rules

    alerts = next(block for block in blocks("yaml") if block.startswith("recipients:"))
    path = tmp_path / "alerts.yaml"
    path.write_text(alerts)
    rules = load_rules([ROOT / "rules" / "harborough-2013-14.yaml", path])
    assert [alert.id for alert in rules.alerts] == ["off-target", "slipping", "real-rise"]


def test_configuration_example_in_readme_is_the_shipped_one() -> None:
    """The README's monitor configuration says what examples/harborough/csp-monitor.yaml says."""
    import yaml

    shown = next(block for block in blocks("yaml") if block.startswith("rules: [../../rules"))
    shipped = (ROOT / "examples" / "harborough" / "csp-monitor.yaml").read_text()
    assert yaml.safe_load(shown) == yaml.safe_load(shipped)


def test_python_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """Each Python example in the README type-checks with mypy --strict against the package, as a council tool would."""
    from mypy import api

    files = []
    for index, code in enumerate(blocks("python")):
        path = tmp_path / f"readme_example_{index}.py"
        path.write_text(code, encoding="utf-8")
        files.append(str(path))
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nstrict = True\nplugins = pydantic.mypy\nmypy_path = {ROOT}\n"
                      "[mypy-apscheduler.*,css_inline.*,openpyxl.*,matplotlib.*,pyarrow.*,isal.*]\n"
                      "ignore_missing_imports = True\n", encoding="utf-8")
    stdout, stderr, status = api.run(["--config-file", str(config), "--cache-dir", str(ROOT / ".mypy_cache"),
                                      "--no-error-summary", *files])
    assert files and status == 0, stdout + stderr
