"""Shared fixtures: paths to the project and to ../shared, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HARBOROUGH_RULES = ROOT / "rules" / "harborough-2013-14.yaml"
HARBOROUGH_FIGURES = ROOT / "examples" / "harborough" / "figures.csv"
HARBOROUGH_ALERTS = ROOT / "rules" / "harborough-alerts.yaml"


@dataclass
class CliResult:
    """What a CLI run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``csp-monitor`` in-process, exactly as the console script does."""
    from csp_monitor.cli import run

    def invoke(*args: str | Path) -> CliResult:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def shared() -> Path:
    """The shared data folder beside the project (skips when it is absent)."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing: CI must provide ../shared")
        pytest.skip(f"{SHARED} is not present")
    return SHARED
