"""A daemon told to reload a hostile configuration (nested hundreds deep) refuses it and keeps its old one running."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.daemon_fixtures import DaemonProcess, add_month, wait_for, write_partnership


def _deep_list(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def _refused_at(text: str) -> str:
    """``line:column`` of the bracket that would open a 41st level (the document's own mapping is the first)."""
    start = text.index("[[")
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"{line}:{column + 39}"


def test_a_400_deep_configuration_on_sighup_is_refused_and_the_old_schedules_run_on(tmp_path: Path) -> None:
    """SIGHUP with a configuration nested 400 deep (as YAML, then as JSON) is refused with its place, the daemon
    stays up, and the old summary schedule keeps running."""
    config = write_partnership(tmp_path)
    good = config.read_text(encoding="utf-8")
    add_month(tmp_path, "2020-04")
    daemon = DaemonProcess(config, tmp_path / "daemon.log").wait_started()
    try:
        hostile = {
            "yaml": good.replace("figures: [figures/*.csv]", f"figures: {_deep_list(400, 'figures/*.csv')}"),
            "json": json.dumps({"rules": ["rules.yaml"], "figures": json.loads(_deep_list(400, '"figures/*.csv"')),
                                "state": "state.db"}),
        }
        for kind, text in hostile.items():
            seen = len(daemon.logged("config.refused"))
            config.write_text(text, encoding="utf-8")
            daemon.signal(signal.SIGHUP)
            wait_for(lambda seen=seen: len(daemon.logged("config.refused")) > seen, 30,  # type: ignore[misc]
                     f"the {kind} configuration to be refused")
            assert daemon.process.poll() is None, daemon.text()
            problems = [e["message"] for e in daemon.logged("config.problem")]
            assert any(message.startswith(f"{config}:{_refused_at(text)}: lists and mappings are nested more than 40 deep")
                       for message in problems), problems
            refused_at = len(daemon.events())
            wait_for(lambda refused_at=refused_at: any(  # type: ignore[misc]
                e.get("event") == "job.finished" and e.get("job") == "summary-every-2s"
                for e in daemon.events()[refused_at:]), 20, f"the old summary schedule to run on after the {kind} one")
        assert not daemon.logged("config.reloaded")
        assert "RecursionError" not in daemon.text() and "Traceback" not in daemon.text()
        config.write_text(good, encoding="utf-8")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        daemon.stop()
