"""Read-only transactions of the state store, on SQLite and PostgreSQL: the database refuses a write in one,
and a dry run (which reads in one) shows a correction without recording anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from csp_monitor.delivery.run import send_once
from csp_monitor.errors import StateError
from csp_monitor.load.config import load_config
from csp_monitor.state import open_store
from csp_monitor.state.store import StateStore
from csp_monitor.state.summary_tables import summary_figures
from tests.delivery_fixtures import NOW, write_config

ROW = {"partnership": "P", "period": "2014-03", "digest": "0" * 64, "figures": "[]", "outbox_key": None,
       "recorded_at": "2014-04-10T07:00:00Z"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "csp-monitor.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


def _rows(store: StateStore) -> int:
    with store.transaction(read_only=True) as connection:
        return int(connection.execute(select(func.count()).select_from(summary_figures)).scalar() or 0)


def test_a_read_only_transaction_refuses_writes_and_leaves_the_store_writable(store_target: str) -> None:
    """A write in transaction(read_only=True) fails with a StateError and adds no row; the next ordinary
    transaction (on the same pooled connection) writes as usual."""
    with open_store(store_target) as store:
        for _attempt in range(2):
            with pytest.raises(StateError), store.transaction(read_only=True) as connection:
                connection.execute(insert(summary_figures).values(**ROW))
            assert _rows(store) == 0
        with store.transaction() as connection:
            connection.execute(insert(summary_figures).values(**ROW))
        assert _rows(store) == 1


def test_a_dry_run_shows_a_correction_and_records_nothing(store_target: str, tmp_path: Path) -> None:
    """With March's summary sent and a figure revised, send_once(dry_run=...) plans the correction and adds no
    row to any of the store's tables; the real run then queues exactly that correction."""
    from sqlalchemy import inspect

    config = load_config(write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n"))
    config = config.model_copy(update={"state": store_target})
    send_once(config, as_of="2014-03", now=NOW)
    figures = tmp_path / "figures" / "harborough.csv"
    text = figures.read_text(encoding="utf-8")
    assert text.count("total-crime,2014-03,228\n") == 1
    figures.write_text(text.replace("total-crime,2014-03,228\n", "total-crime,2014-03,229\n"), encoding="utf-8")

    def counts() -> dict[str, int]:
        with open_store(store_target, create=False) as store, store.transaction(read_only=True) as connection:
            from sqlalchemy import table

            names = inspect(connection).get_table_names()
            return {name: int(connection.execute(select(func.count()).select_from(table(name))).scalar() or 0)
                    for name in names}

    before = counts()
    dry = send_once(config, as_of="2014-03", now=NOW, dry_run=tmp_path / "dry")
    assert counts() == before
    corrections = [message for message in dry.queued if message.correction]
    assert [(m.period, m.changes) for m in corrections] == [("2014-03", ("harborough total-crime 2014-03: 228 -> 229",))]
    real = send_once(config, as_of="2014-03", now=NOW)
    assert [m.message_id for m in real.queued if m.correction] == [corrections[0].message_id]
