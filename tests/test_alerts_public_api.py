"""The alerts package's public API: small, sorted, typed, and light to import."""

from __future__ import annotations

import subprocess
import sys

import csp_monitor.alerts as alerts
from tests.conftest import ROOT


def test_all_is_sorted_and_every_name_exists() -> None:
    """__all__ is sorted and each name is importable from csp_monitor.alerts."""
    assert alerts.__all__ == sorted(alerts.__all__)
    assert [name for name in alerts.__all__ if not hasattr(alerts, name)] == []
    assert {"Decision", "Notification", "AlertStatus", "decide", "decide_and_record", "evaluate_and_decide",
            "group_by_recipient", "open_store"} <= set(alerts.__all__)


def test_importing_the_alerts_api_does_not_import_sqlalchemy() -> None:
    """SQLAlchemy is imported only when a store is opened."""
    code = "import sys, csp_monitor.alerts; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
