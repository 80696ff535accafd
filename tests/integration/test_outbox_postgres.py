"""The outbox on PostgreSQL (CSP_MONITOR_TEST_POSTGRES, an SQLAlchemy URL): the same guarantees as on SQLite."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp_monitor.delivery.outbox import list_messages
from csp_monitor.delivery.run import send_once
from csp_monitor.load.config import load_config
from csp_monitor.state import open_store
from tests.delivery_fixtures import NOW, write_config


def test_send_queues_once_and_delivers_once_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """Decisions and messages commit together; a rerun queues and sends nothing new."""
    config = load_config(write_config(tmp_path, """
        delivery:
          from: "Harborough CSP monitor <csp-monitor@example.org>"
          folder: sent/
        """))
    config = config.model_copy(update={"state": postgres_url})
    first = send_once(config, as_of="2014-03", now=NOW)
    second = send_once(config, as_of="2014-03", now=NOW + timedelta(hours=1))
    assert first.queued and len(first.sent) == len(first.queued)
    assert not second.queued and not second.attempts
    with open_store(postgres_url, create=False) as store:
        rows = list_messages(store)
    assert len(rows) == len(first.queued) and {row.status for row in rows} == {"sent"}
    assert len(list((tmp_path / "sent").glob("*.eml"))) == len(rows)
