#!/usr/bin/env python3
"""Set up and run csp-monitor on a fresh machine that has only python3.

    python3 dev.py demo    # set up, then run the main job on the bundled Harborough example
    python3 dev.py test    # set up, then run the whole test suite (ruff, mypy, pytest)

Both create ./.venv on first use and install csp-monitor into it (editable,
with every extra and the test tools); later runs reuse it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".csp-monitor-installed"


def _run(*args: str | Path, **kwargs: object) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def setup(extras: str) -> None:
    """Create the virtual environment and install csp-monitor with ``extras``, once."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    quiet = [] if os.environ.get("VERBOSE") else ["-q"]
    _run(BIN / "python", "-m", "pip", "install", *quiet, "--disable-pip-version-check", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", *quiet, "--disable-pip-version-check", "-e", f".[{extras}]")
    STAMP.write_text(wanted)


def demo(args: list[str]) -> int:
    """Run the main job on the bundled Harborough example: evaluate, decide, render, deliver to a folder."""
    setup("all")
    example = ROOT / "examples" / "harborough"
    steps = [
        [str(BIN / "csp-monitor"), "evaluate", "rules/harborough-2013-14.yaml",
         "--figures", "examples/harborough/figures.csv", "--as-of", "2014-03"],
        [str(BIN / "csp-monitor"), "run-once", "--config", "examples/harborough/csp-monitor.yaml",
         "--as-of", "2014-03", *args],
    ]
    for step in steps:
        print("+", " ".join(step), flush=True)
        code = subprocess.run(step, cwd=ROOT).returncode
        if code != 0:
            return code
    print(f"\nThe risk summary and alert emails are in {example / 'outbox'}: open the .html files in a "
          "browser, or the .eml files in a mail client.\nRun the demo again and nothing is sent twice; "
          f"delete {example / 'csp-monitor.db'} to start afresh.")
    return 0


def test(args: list[str]) -> int:
    """Lint, type-check and run every test."""
    setup("all,test")
    steps = [
        [str(BIN / "ruff"), "check", "csp_monitor", "tests", "benchmarks", "rules"],
        [str(BIN / "mypy"), "csp_monitor"],
        [str(BIN / "python"), "-m", "pytest", *args],
    ]
    for step in steps:
        print("+", " ".join(step), flush=True)
        code = subprocess.run(step, cwd=ROOT).returncode
        if code != 0:
            return code
    return 0


def main() -> int:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__.strip())
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
