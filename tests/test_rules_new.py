"""``csp-monitor rules new``: a commented rule file from flags or questions, never over an existing file."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from csp_monitor.load.rules import load_rules
from tests.conftest import CliResult

HARBOROUGH = "Harborough District Community Safety Partnership"


class _Terminal(io.StringIO):
    """Typed answers, on what looks like a terminal."""

    def isatty(self) -> bool:
        return True


def test_flags_make_a_file_that_loads(cli: Callable[..., CliResult], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The new file holds the answers, loads without a problem and starts with the schema modeline."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    result = cli("rules", "new", "--partnership", HARBOROUGH, "--area", "Harborough", "--year-starts", "2025-04",
                 "--tolerance", "3", "--owner", "lead@example.org", "--out", "rules/harborough-2025-26.yaml")
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "rules" / "harborough-2025-26.yaml"
    assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=../docs/schema/rules.schema.json"
    rules = load_rules(path)
    assert (rules.partnership, rules.area, rules.year_starts, rules.tolerance) == (
        HARBOROUGH, "harborough", "2025-04", 3)
    assert rules.priorities[0].owner == "lead@example.org"
    assert [m.id for _, m in rules.measures()] == ["domestic-burglary", "commercial-burglary", "user-satisfaction"]
    assert result.stdout.startswith("wrote rules/harborough-2025-26.yaml: check it with")


def test_every_line_of_the_example_is_explained(cli: Callable[..., CliResult]) -> None:
    """The file explains itself: the sign of a change, monitored measures, levels and alerts have comments."""
    text = cli("rules", "new", "--partnership", HARBOROUGH, "--year-starts", "2025-04").stdout
    for words in ["Always write the sign", "monitored only", "at least 85%", "Alerts tell people",
                  "csp-monitor rules check", "Reporting year: April 2025 to March 2026"]:
        assert words in text


def test_an_existing_file_is_never_overwritten(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """Asking for a file that exists fails with exit 1 and leaves the file exactly as it was."""
    path = tmp_path / "rules.yaml"
    path.write_text("partnership: Mine\n")
    result = cli("rules", "new", "--partnership", HARBOROUGH, "--out", path)
    assert result.exit_code == 1
    assert f"{path} already exists: csp-monitor never overwrites a rule file" in result.stderr
    assert path.read_text() == "partnership: Mine\n"


def test_without_out_the_file_is_printed(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    """Without --out the new file is printed, and what is printed loads as rules."""
    result = cli("rules", "new", "--partnership", HARBOROUGH, "--year-starts", "2014-04")
    assert result.exit_code == 0
    (tmp_path / "printed.yaml").write_text(result.stdout)
    assert load_rules(tmp_path / "printed.yaml").year_starts == "2014-04"


def test_questions_are_asked_in_a_terminal(cli: Callable[..., CliResult], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal without flags it asks for the partnership, area, year, tolerance and owner."""
    monkeypatch.setattr("sys.stdin", _Terminal(f"{HARBOROUGH}\nharborough\n2024-04\n4\nlead@example.org\n"))
    result = cli("rules", "new", "--out", tmp_path / "asked.yaml")
    assert result.exit_code == 0, result.stderr + result.stdout
    rules = load_rules(tmp_path / "asked.yaml")
    assert (rules.partnership, rules.area, rules.year_starts, rules.tolerance) == (
        HARBOROUGH, "harborough", "2024-04", 4)
    assert "The partnership's name" in result.stdout


def test_without_a_terminal_the_partnership_is_required(cli: Callable[..., CliResult],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """In a script (no terminal) a missing --partnership is a usage error, not a hung prompt."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = cli("rules", "new")
    assert result.exit_code == 2
    assert "give --partnership NAME" in result.stderr


@pytest.mark.parametrize("name", ['Blaby "District": CSP #1', "Hinckley & Bosworth {CSP}", "<b>Melton</b>: 'x'"])
def test_names_with_yaml_characters_are_kept_exactly(cli: Callable[..., CliResult], tmp_path: Path,
                                                     name: str) -> None:
    """Quotes, colons, hashes, braces and markup in a name are written safely and read back unchanged."""
    assert cli("rules", "new", "--partnership", name, "--out", tmp_path / "r.yaml").exit_code == 0
    assert load_rules(tmp_path / "r.yaml").partnership == name


@pytest.mark.parametrize(("flags", "message"), [
    (["--partnership", "A\npriorities: []"], "<answers>: the partnership's name must be one line of text"),
    (["--partnership", "A", "--owner", "Jo Bloggs"], "<answers>: the owner: 'Jo Bloggs' is not an email address"),
    (["--partnership", "A", "--year-starts", "April"], "<answers>: the first month of the reporting year: 'April'"),
])
def test_bad_answers_are_refused_before_anything_is_written(cli: Callable[..., CliResult], tmp_path: Path,
                                                            flags: list[str], message: str) -> None:
    """A multi-line name, a non-email owner or a bad month is refused, and no file is created."""
    result = cli("rules", "new", *flags, "--out", tmp_path / "r.yaml")
    assert result.exit_code == 1
    assert message in result.stderr
    assert not (tmp_path / "r.yaml").exists()


def test_the_guides_first_command_works_in_a_new_folder(tmp_path: Path) -> None:
    """`rules new ... --out rules/my-rules.yaml` (a process of its own) in a folder with no rules/ yet, as the
    guide's first step runs it: the folder is made and the file loads (it was 'Could not open file', exit 1)."""
    from tests.security.bounded_cli import run_cli

    run = run_cli("rules", "new", "--partnership", "Melton Community Safety Partnership", "--area", "melton",
                  "--year-starts", "2021-04", "--out", "rules/my-rules.yaml", cwd=tmp_path)
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith("wrote rules/my-rules.yaml: check it with  csp-monitor rules check "
                                 "rules/my-rules.yaml\n")
    assert load_rules(tmp_path / "rules" / "my-rules.yaml").partnership == "Melton Community Safety Partnership"
