"""Run the real ``csp-monitor`` command in a child process within the issue's 300 MB and 10 seconds (limits.py)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT
from tests.security.limits import MEMORY_LIMIT, TIMEOUT


@dataclass(frozen=True)
class BoundedRun:
    """What a bounded CLI run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, for assertions on messages."""
        return self.stdout + self.stderr


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> BoundedRun:
    """Run ``python -m csp_monitor.cli ARGS`` within 300 MB; fail the test if it outlives the 10-second guard."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("CSP_MONITOR_DEBUG", None)
    completed = subprocess.run(
        [sys.executable, "-m", "csp_monitor.cli", *(str(a) for a in args)],
        cwd=cwd or ROOT, env=environment, capture_output=True, text=True, timeout=TIMEOUT,
        preexec_fn=_limit_memory, check=False)
    return BoundedRun(completed.returncode, completed.stdout, completed.stderr)


def assert_refused(run: BoundedRun, *, codes: tuple[int, ...] = (1, 3)) -> None:
    """A clear refusal: exit 1 or 3, no traceback, no internal error."""
    assert run.exit_code in codes, run.output
    assert "Traceback" not in run.output, run.output
    assert "internal error" not in run.output, run.output
    assert "MemoryError" not in run.output, run.output
