"""Several csp-monitor processes deciding the same month against one SQLite store at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT


def test_concurrent_decides_notify_each_notice_exactly_once(tmp_path: Path) -> None:
    """Four processes started together: every notice is printed by exactly one of them, and recorded once."""
    state = tmp_path / "state.db"
    command = [str(Path(sys.executable).parent / "csp-monitor"), "decide", str(HARBOROUGH_RULES),
               str(ROOT / "rules" / "harborough-alerts.yaml"), "--figures", str(HARBOROUGH_FIGURES), "--as-of",
               "2014-03", "--state", str(state), "--format", "json", "--now", "2014-04-10T07:00"]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "NO_COLOR": "1"}) for _ in range(4)]
    outputs = [process.communicate(timeout=180) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], [err for _, err in outputs]
    keys = [n["key"] for out, _ in outputs for n in json.loads(out)["notifications"]]
    assert len(keys) == 5 and len(set(keys)) == 5
    assert sorted(len(json.loads(out)["notifications"]) for out, _ in outputs) == [0, 0, 0, 5]
    history = subprocess.run([command[0], "history", "--state", str(state), "--format", "json"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert sorted(e["event"] for e in json.loads(history.stdout)).count("notified") == 5
