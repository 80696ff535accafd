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
from tests.delivery_fixtures import NOW, as_before_queueing, write_config

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


def _folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file beside the store (the store, any journal), with its bytes and modification time."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir() if path.is_file()}


def test_a_dry_run_on_an_older_sqlite_store_changes_nothing_and_shows_what_a_real_run_would_send(
        tmp_path: Path) -> None:
    """csp-monitor send --dry-run and preview (processes of their own) on a store written by an older csp-monitor
    leave its folder byte for byte and time for time as it was, and list what the dry run on an upgraded store
    lists; the real run after them upgrades it."""
    import shutil

    from tests.security.bounded_cli import run_cli

    config_path = write_config(tmp_path / "p", "delivery:\n  from: m@example.org\n  folder: sent/\n")
    config = load_config(config_path)
    send_once(config, as_of="2014-02", now=NOW)
    as_before_queueing(tmp_path / "p" / "csp-monitor.db")
    upgraded = tmp_path / "upgraded"
    upgraded.mkdir()
    shutil.copy(tmp_path / "p" / "csp-monitor.db", upgraded / "csp-monitor.db")
    open_store(upgraded / "csp-monitor.db").close()
    expected = send_once(config.model_copy(update={"state": str(upgraded / "csp-monitor.db")}), as_of="2014-03",
                         now=NOW, dry_run=tmp_path / "expected")
    assert [m.kind for m in expected.queued] == ["summary"]
    before = _folder_state(tmp_path / "p")
    dry = run_cli("send", "--config", config_path, "--as-of", "2014-03", "--now", "2014-04-10T07:00",
                  "--dry-run", tmp_path / "dry")
    preview = run_cli("preview", "--config", config_path, "--as-of", "2014-03", "--now", "2014-04-10T07:00",
                      "--out", tmp_path / "preview")
    assert (dry.exit_code, preview.exit_code) == (0, 0), dry.output + preview.output
    assert _folder_state(tmp_path / "p") == before
    for message in expected.queued:
        assert f"would send {message.kind} '{message.subject}'" in dry.stdout
        assert f"{message.kind} '{message.subject}'" in preview.stdout
    assert len(list((tmp_path / "dry").glob("*.eml"))) == len(expected.queued)
    with open_store(tmp_path / "p" / "csp-monitor.db", read_only=True) as store:  # still the old schema
        assert store.location == str(tmp_path / "p" / "csp-monitor.db")
    with open_store(tmp_path / "p" / "csp-monitor.db") as store:
        assert store.schema_versions()["alerts"] == 2


def test_a_dry_run_on_an_older_postgresql_store_is_refused_and_changes_nothing(postgres_url: str,
                                                                                tmp_path: Path) -> None:
    """A PostgreSQL store that needs upgrading: the dry run exits 3 saying a real run upgrades it; its schema
    is still the old one."""
    from tests.security.bounded_cli import run_cli

    config_path = write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n")
    config_path.write_text(config_path.read_text(encoding="utf-8").replace("state: csp-monitor.db",
                                                                          f"state: '{postgres_url}'"),
                           encoding="utf-8")
    send_once(load_config(config_path), as_of="2014-02", now=NOW)
    as_before_queueing(postgres_url)
    run = run_cli("send", "--config", config_path, "--dry-run", tmp_path / "dry")
    assert run.exit_code == 3, run.output
    assert "was written by an older csp-monitor and needs upgrading (schema versions 'alerts' 1 of 2)" in run.stderr
    assert "run csp-monitor send (or let the daemon run) once, which upgrades it" in run.stderr
    assert "Traceback" not in run.output
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version FROM schema_version WHERE component = 'alerts'")).scalar() == 1
    engine.dispose()


def test_a_dry_run_and_a_check_on_an_empty_postgresql_database_see_a_new_store(postgres_url: str,
                                                                                tmp_path: Path) -> None:
    """Regression: a brand-new, empty PostgreSQL database (the first day of an install) was refused by a dry
    run as "written by an older csp-monitor and needs upgrading". It is now read as a store not yet created:
    the dry run shows every message, ``check`` passes the store, and no table is created by either."""
    from sqlalchemy import create_engine, inspect

    from tests.security.bounded_cli import run_cli

    config_path = write_config(tmp_path, "delivery:\n  from: m@example.org\n  folder: sent/\n")
    config_path.write_text(config_path.read_text(encoding="utf-8").replace("state: csp-monitor.db",
                                                                          f"state: '{postgres_url}'"),
                           encoding="utf-8")
    dry = run_cli("send", "--config", config_path, "--as-of", "2014-03", "--now", "2014-04-10T07:00",
                  "--dry-run", tmp_path / "dry")
    assert dry.exit_code == 0, dry.output
    expected = send_once(load_config(config_path).model_copy(update={"state": str(tmp_path / "new.db")}),
                         as_of="2014-03", now=NOW, dry_run=tmp_path / "expected")
    assert len(list((tmp_path / "dry").glob("*.eml"))) == len(expected.queued) > 0
    check = run_cli("check", "--config", config_path, "--now", "2014-04-10T07:00")
    assert check.exit_code == 0, check.output
    assert "an empty database; the first run creates csp-monitor's tables" in check.stdout
    engine = create_engine(postgres_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
