"""The error corpus: realistic mistakes in rule files give exactly the located, plain-English messages expected.

Each case in tests/corpus/rules/ is run through ``csp-monitor rules check``
(or the command in its ``.args`` file) and its output compared with the
golden ``.expected`` file. Set CSP_MONITOR_UPDATE_GOLDEN=1 to rewrite the
golden files after a deliberate change, then read every difference.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, CliResult

CORPUS = ROOT / "tests" / "corpus" / "rules"
UPDATE = os.environ.get("CSP_MONITOR_UPDATE_GOLDEN") == "1"


def _huge_file() -> bytes:
    line = "# " + "x" * 97 + "\n"
    head = "# a rule file padded past the 2 MiB limit\npartnership: Harborough\n"
    return (head + line * (2 * 1024 * 1024 // len(line) + 10)).encode("utf-8")


GENERATED: dict[str, Callable[[], bytes]] = {"71-huge-file": _huge_file}
"""Cases whose input is too large to commit: written into the working copy at test time."""

CASES = sorted({path.stem for path in CORPUS.glob("[0-9]*.expected")}
               | {path.stem for path in CORPUS.glob("[0-9]*.yaml")} | set(GENERATED))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working copy of the corpus, with the generated inputs written."""
    folder = tmp_path_factory.mktemp("corpus") / "rules"
    shutil.copytree(CORPUS, folder)
    for name, make in GENERATED.items():
        (folder / f"{name}.yaml").write_bytes(make())
    return folder


def command(name: str) -> list[str]:
    args = CORPUS / f"{name}.args"
    if args.exists():
        return shlex.split(args.read_text(encoding="utf-8"))
    return ["rules", "check", f"{name}.yaml"]


def transcript(argv: list[str], result: CliResult) -> str:
    return f"$ csp-monitor {shlex.join(argv)}\n{result.stdout}{result.stderr}[exit {result.exit_code}]\n"


def test_the_corpus_has_at_least_40_mistakes() -> None:
    """The corpus covers at least 40 distinct mistakes, each with its golden output."""
    assert len(CASES) >= 40
    assert all((CORPUS / f"{name}.expected").exists() or UPDATE for name in CASES)


@pytest.mark.parametrize("name", CASES)
def test_each_case_says_what_the_mistake_is(name: str) -> None:
    """Every committed case begins with a comment naming the mistake (empty and binary files excepted)."""
    path = CORPUS / f"{name}.yaml"
    if name in GENERATED or path.stat().st_size == 0 or name.endswith("not-utf8"):
        return
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert first.startswith("# ") and len(first) > 10


@pytest.mark.parametrize("name", CASES)
def test_rules_check_output_matches_the_golden_file(name: str, corpus: Path, cli: Callable[..., CliResult],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The mistake gives exactly the messages, locations and exit code recorded for it."""
    monkeypatch.chdir(corpus)
    argv = command(name)
    actual = transcript(argv, cli(*argv))
    golden = CORPUS / f"{name}.expected"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
    assert "Traceback" not in actual and "internal error" not in actual
