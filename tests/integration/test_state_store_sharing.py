"""A SQLite state store shared by a long-running process and short ones (the daemon and status)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from csp_monitor.schedule import lock
from csp_monitor.state import open_store
from tests.conftest import ROOT


def test_a_short_process_closing_the_store_leaves_a_daemons_connections_working(tmp_path: Path) -> None:
    """Regression: opening the store a second time in the daemon (each run does) once read the file with
    open(), which drops the daemon's SQLite locks; `csp-monitor status` closing it then deleted the WAL
    under the daemon ("disk I/O error")."""
    path = tmp_path / "state.db"
    with open_store(path) as daemon_store:
        lease = lock.acquire(daemon_store)  # the daemon's long-lived connection, in WAL mode
        open_store(path).close()  # what every job run does in the daemon's process
        closing = subprocess.run([sys.executable, "-c", "import sys; from csp_monitor.state import open_store; "
                                  "open_store(sys.argv[1]).close()", str(path)], cwd=ROOT, capture_output=True,
                                 text=True, timeout=60)
        assert closing.returncode == 0, closing.stderr
        assert (tmp_path / "state.db-wal").exists()
        assert lock.renew(daemon_store, lease) is True
        with open_store(path) as again:
            holder = lock.current_holder(again)
            assert holder is not None and holder.token == lease.token
