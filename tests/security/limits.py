"""Run the real CLI in a child process with a memory limit and a time guard.

Hostile-input tests build a small file, run ``csp-monitor`` on it in a fresh
process limited to 300 MB of address space, and expect a clear refusal: exit 1
or 3, a ``file:`` or ``file:line:col:`` message, no traceback, nothing written.
The 10-second timeout is a guard against a hang, not a speed assertion.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

__all__ = ["MEMORY_LIMIT", "TIMEOUT", "Refusal", "files_under", "run_limited"]

MEMORY_LIMIT = 300 * 2**20
TIMEOUT = 10.0

# Modules hidden from the child, as if not installed: pyarrow's allocator reserves
# more address space than the whole limit when it is imported (its own limit is
# tested with RLIMIT_DATA instead).
_HIDDEN = ("pyarrow",)


@dataclass(frozen=True)
class Refusal:
    """What the limited child printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    def assert_refused(self, location: str) -> None:
        """Exit 1 or 3 with a message at ``location`` (a regular expression), never a traceback or internal error."""
        assert self.exit_code in (1, 3), (self.exit_code, self.stderr)
        assert "Traceback" not in self.stderr, self.stderr
        assert "internal error" not in self.stderr, self.stderr
        assert "MemoryError" not in self.stderr, self.stderr
        assert re.search(location, self.stderr, re.MULTILINE), (location, self.stderr)


def _limit(kind: int) -> None:
    resource.setrlimit(kind, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(*args: str | Path, cwd: Path, hide: Sequence[str] = _HIDDEN, limit: str = "AS",
                env: dict[str, str] | None = None) -> Refusal:
    """Run ``csp-monitor ARGS`` in ``cwd`` under the memory limit (RLIMIT_AS, or RLIMIT_DATA) and the time guard."""
    kind = resource.RLIMIT_AS if limit == "AS" else resource.RLIMIT_DATA
    code = (
        "import sys\n"
        f"for name in {tuple(hide)!r}:\n"
        "    sys.modules[name] = None\n"
        "from csp_monitor.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("CSP_MONITOR_DEBUG", None)
    # Paths inside cwd are given relative to it, as a user in that folder would type them.
    given = [str(a.relative_to(cwd)) if isinstance(a, Path) and a.is_relative_to(cwd) else str(a) for a in args]
    completed = subprocess.run(
        [sys.executable, "-c", code, *given], cwd=cwd, env=environment,
        preexec_fn=lambda: _limit(kind), capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return Refusal(completed.returncode, completed.stdout, completed.stderr)


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time (to show nothing was written)."""
    found: dict[str, tuple[int, int]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            info = path.lstat()
            found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return found
