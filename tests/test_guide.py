"""The guide for partnership leads never goes stale: every file it shows is checked and every command is run.

``docs/guide-for-partnership-leads.md`` holds two kinds of fenced block:

* ```yaml (or ```csv) blocks are files a reader writes; their first line names the file
  (``# file: rules/my-rules.yaml``). They are written into a sandbox (holding copies of
  the shipped rules, example figures and schemas) in the order they appear. A rule file
  must load, a rule test file must be valid, unless it sits under ``mistakes/``, where it
  shows a mistake on purpose and the next command shows its message.
* ```console blocks hold commands (``$ csp-monitor ...``), each followed by exactly what
  it prints (errors and warnings in the order a terminal shows them). Each command is run
  in the sandbox and its output compared. It must exit 0 unless the block is preceded
  by ``<!-- exit code: N -->``.

Set CSP_MONITOR_UPDATE_GOLDEN=1 to rewrite the outputs in the guide after a deliberate
change, then read every difference.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "guide-for-partnership-leads.md"
UPDATE = os.environ.get("CSP_MONITOR_UPDATE_GOLDEN") == "1"
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\n", re.M | re.S)
EXIT_CODE = re.compile(r"<!-- exit code: (\d+) -->\s*$")


@dataclass
class Block:
    """One fenced block of the guide."""

    language: str
    text: str
    start: int
    end: int
    line: int
    exit_code: int = 0


@dataclass
class Command:
    """One ``$ csp-monitor ...`` line and the output the guide shows for it."""

    argv: list[str]
    shown: str
    block: Block
    extra: dict[str, str] = field(default_factory=dict)


def blocks(text: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        code = EXIT_CODE.search(before)
        found.append(Block(match.group(1), match.group(2), match.start(2), match.end(2), before.count("\n") + 2,
                           int(code.group(1)) if code else 0))
    return found


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    for line in block.text.splitlines(keepends=True):
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            assert argv[0] == "csp-monitor", f"line {block.line}: the guide may only run csp-monitor: {line}"
            found.append(Command(argv[1:], "", block))
        else:
            assert found, f"line {block.line}: a console block must start with a '$ ' command"
            found[-1].shown += line
    return found


def run(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run csp-monitor in-process, with errors and output in one stream, as a terminal shows them."""
    from csp_monitor.cli import run as run_cli

    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(""))
        patch.setattr(sys, "stderr", sys.stdout)
        code = run_cli(argv)
    return code, capsys.readouterr().out


def check_file(path: Path, relative: str) -> None:
    """A file the guide shows must be valid, unless it is a deliberate mistake."""
    if relative.startswith("mistakes/"):
        return
    if relative.endswith(".test.yaml"):
        from csp_monitor.authoring.rule_tests import load_rule_test_file

        load_rule_test_file(path)
    elif relative == ".pre-commit-config.yaml":
        config = yaml.safe_load(path.read_text())
        hook_ids = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
        used = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
        assert used <= hook_ids, used - hook_ids
    elif relative.endswith(".yaml"):
        from csp_monitor.load.rules import load_rule_files

        load_rule_files([path])
    elif relative.endswith(".csv"):
        from csp_monitor.load.figures import load_figures

        load_figures(path)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder like a partnership's: the shipped rules, the example figures and the schemas."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules", ignore=shutil.ignore_patterns("conftest.py", "__pycache__"))
    shutil.copytree(ROOT / "examples" / "harborough", tmp_path / "examples" / "harborough",
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    shutil.copytree(ROOT / "docs" / "schema", tmp_path / "docs" / "schema")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def test_the_guide_has_files_and_commands() -> None:
    """The guide shows files to write and commands to run, and nothing in another kind of block."""
    found = blocks(GUIDE.read_text(encoding="utf-8"))
    assert {block.language for block in found} <= {"yaml", "console", "csv"}
    assert sum(block.language == "console" for block in found) >= 10
    assert sum(block.language == "yaml" for block in found) >= 5


def test_every_file_and_command_in_the_guide_works(sandbox: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file in the guide is valid (or a deliberate mistake) and each command prints what the guide shows."""
    text = GUIDE.read_text(encoding="utf-8")
    replacements: list[tuple[int, int, str]] = []
    mismatches: list[str] = []
    exit_codes: list[str] = []
    for block in blocks(text):
        if block.language in {"yaml", "csv"}:
            first = block.text.splitlines()[0]
            assert first.startswith("# file: "), f"line {block.line}: a {block.language} block must name its file"
            relative = first.removeprefix("# file: ").strip()
            path = sandbox / relative
            assert path.resolve().is_relative_to(sandbox.resolve()), f"line {block.line}: {relative} is outside"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
            check_file(path, relative)
            continue
        new_text = ""
        for command in commands(block):
            code, output = run(command.argv, capsys, monkeypatch)
            new_text += f"$ csp-monitor {shlex.join(command.argv)}\n{output}"
            if code != block.exit_code:
                exit_codes.append(f"line {block.line}: csp-monitor {shlex.join(command.argv)} exited {code}, "
                                  f"not {block.exit_code}:\n{output}")
            elif output != command.shown:
                mismatches.append(f"line {block.line}: csp-monitor {shlex.join(command.argv)} printed:\n{output}"
                                  f"but the guide shows:\n{command.shown}")
        replacements.append((block.start, block.end, new_text))
    assert not exit_codes, "\n\n".join(exit_codes)
    if UPDATE:
        for start, end, new_text in reversed(replacements):
            text = text[:start] + new_text + text[end:]
        GUIDE.write_text(text, encoding="utf-8")
        return
    assert not mismatches, "\n\n".join(mismatches)
