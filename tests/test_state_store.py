"""The SQLite state store: created safely, migrated in order, refused when foreign, damaged or newer, atomic."""

from __future__ import annotations

import sqlite3
import sys
import types
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from csp_monitor.alerts import decide_and_record, open_store
from csp_monitor.errors import InputError, StateError
from csp_monitor.state import migrations
from csp_monitor.state.store import MAX_SILENCE
from tests.alert_fixtures import NOW, evaluation, result, rules_with
from tests.delivery_fixtures import as_before_queueing

OFF_TARGET = "alerts:\n  - id: off-target\n    when: {status: [red]}\n    notify: [owner, board]\n"


def sqlite_value(path: Path, sql: str) -> object:
    """One value read with the standard library's sqlite3, independent of the store."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def make_store_with_history(path: Path) -> None:
    """A real store holding a year of decisions, then closed."""
    rules = rules_with(OFF_TARGET)
    with open_store(path) as store:
        for month in range(1, 13):
            period = f"2013-{month:02d}"
            decide_and_record(store, rules, evaluation(period, result("red" if month % 3 else "green"),
                                                       result("amber", measure="damage")), now=NOW)


def test_a_new_store_is_created_with_wal_and_a_schema_version(tmp_path: Path) -> None:
    """The first open creates the file in WAL mode with every component at its latest version."""
    path = tmp_path / "state.db"
    with open_store(path) as store:
        versions = store.schema_versions()
        with store.transaction() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert versions == {name: len(steps) for name, steps in migrations.load_migrations().items()}
    assert versions["alerts"] == 2
    assert sqlite_value(path, "PRAGMA journal_mode") == "wal"


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    """A second open finds every migration applied and keeps the recorded data."""
    path = tmp_path / "state.db"
    make_store_with_history(path)
    applied = sqlite_value(path, "SELECT applied_at FROM schema_version WHERE component = 'alerts'")
    with open_store(path, create=False) as store:
        assert store.evaluation_count() == 24
    assert sqlite_value(path, "SELECT applied_at FROM schema_version WHERE component = 'alerts'") == applied


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    """Random bytes in place of a store give a clear error, and the file is not changed."""
    path = tmp_path / "state.db"
    original = b"PK\x03\x04 this is a zip file, not a database" * 50
    path.write_bytes(original)
    with pytest.raises(StateError) as info:
        open_store(path)
    assert info.value.message == (
        f"{path} is not a csp-monitor state store: it is not a SQLite database (it may be damaged, or another kind "
        "of file); it was left as it is: restore it from a backup, or give a new file name")
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_a_damaged_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A store whose pages are overwritten is reported as damaged before anything is written."""
    path = tmp_path / "state.db"
    make_store_with_history(path)
    damaged = bytearray(path.read_bytes())
    page_size = int.from_bytes(damaged[16:18], "big")
    assert len(damaged) >= 4 * page_size
    damaged[2 * page_size: 4 * page_size] = b"\xff" * (2 * page_size)
    path.write_bytes(bytes(damaged))
    with pytest.raises(StateError) as info:
        open_store(path)
    assert "it was left as it is" in info.value.message
    assert info.value.message.startswith(f"{path} ")
    assert path.read_bytes() == bytes(damaged)


def test_a_store_from_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A component version above what this csp-monitor knows is refused, byte for byte untouched."""
    path = tmp_path / "state.db"
    make_store_with_history(path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE schema_version SET version = 7 WHERE component = 'alerts'")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StateError) as info:
        open_store(path)
    assert info.value.message == (
        f"{path} was written by a newer csp-monitor (its 'alerts' schema is version 7, this csp-monitor knows up "
        "to 2); it was left as it is: upgrade csp-monitor to use it")
    assert path.read_bytes() == before


def test_a_store_with_an_unknown_component_is_refused(tmp_path: Path) -> None:
    """A component this csp-monitor has never heard of means a newer csp-monitor wrote the store."""
    path = tmp_path / "state.db"
    open_store(path).close()
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO schema_version VALUES ('forecasts', 1, '2030-01-01T00:00:00Z')")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match="its 'forecasts' schema is version 1, this csp-monitor knows up to 0"):
        open_store(path)
    assert path.read_bytes() == before


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    """A SQLite database without csp-monitor's schema_version is not taken over."""
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StateError) as info:
        open_store(path)
    assert info.value.message == (
        f"{path} is a database but not a csp-monitor state store (it has the tables invoices); it was left as it "
        "is: give the name of a new file")
    assert path.read_bytes() == before


@pytest.mark.parametrize(("setup", "expected"), [
    pytest.param("folder", "is a folder: give the path of a state store file", id="a-folder"),
    pytest.param("missing-folder", "does not exist", id="missing-folder"),
    pytest.param("no-create", "there is no state store at", id="not-created-when-asked"),
])
def test_paths_that_cannot_be_a_store(tmp_path: Path, setup: str, expected: str) -> None:
    """A folder, a missing folder, or a missing file when creating is not allowed, are plain errors."""
    target = {"folder": tmp_path, "missing-folder": tmp_path / "nowhere" / "state.db",
              "no-create": tmp_path / "state.db"}[setup]
    with pytest.raises(StateError, match=expected):
        open_store(target, create=setup != "no-create")
    assert not (tmp_path / "state.db").exists()


def test_a_url_that_is_not_a_url_is_a_plain_error() -> None:
    """A malformed SQLAlchemy URL is reported, not raised as a traceback."""
    with pytest.raises(StateError, match="is neither a file path nor a database URL"):
        open_store("postgresql+psycopg://user@host:notaport/db")


def test_a_decisions_notices_are_recorded_as_still_to_be_queued(tmp_path: Path) -> None:
    """Deciding records each notice due with no queued time, so that the next delivery run queues it."""
    from sqlalchemy import select

    from csp_monitor.state.alert_tables import notifications

    with open_store(tmp_path / "state.db") as store:
        decision = decide_and_record(store, rules_with(OFF_TARGET), evaluation("2014-03", result("red")), now=NOW)
        with store.transaction() as connection:
            rows = connection.execute(select(notifications.c.key, notifications.c.queued_at)).all()
    assert [(row.key, row.queued_at) for row in rows] == [(n.key, None) for n in decision.notifications]
    assert len(rows) == 1


def test_notices_decided_before_the_upgrade_are_not_queued_after_it(tmp_path: Path) -> None:
    """A store from before queueing was tracked has its notices stamped queued when migrated, never resent."""
    from sqlalchemy import select

    from csp_monitor.state.alert_tables import notifications

    path = tmp_path / "state.db"
    with open_store(path) as store:
        decide_and_record(store, rules_with(OFF_TARGET), evaluation("2014-03", result("red")), now=NOW)
    as_before_queueing(path)
    with open_store(path) as store:
        assert store.schema_versions()["alerts"] == 2
        with store.transaction() as connection:
            rows = connection.execute(select(notifications.c.decided_at, notifications.c.queued_at)).all()
    assert len(rows) == 1 and rows[0].queued_at == rows[0].decided_at == "2014-04-10T07:00:00Z"


@pytest.fixture
def extra_component(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A component of another layer, registered as other engineers register theirs."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, text

    module = types.ModuleType("csp_monitor_test_component")
    own = MetaData()
    table = Table("test_forecasts", own, Column("id", Integer, primary_key=True), Column("label", String))
    module.MIGRATIONS = (  # type: ignore[attr-defined]
        migrations.Migration(1, "forecasts", migrations.create_tables(table)),
        migrations.Migration(2, "a column more", lambda connection: connection.execute(
            text("ALTER TABLE test_forecasts ADD COLUMN model TEXT"))),
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(migrations.COMPONENTS, "forecasts", f"{module.__name__}:MIGRATIONS")
    yield module


def test_another_components_migrations_are_applied_in_order(tmp_path: Path, extra_component: types.ModuleType
                                                            ) -> None:
    """A registered component's migrations run once, in version order, and its version is recorded."""
    path = tmp_path / "state.db"
    with open_store(path) as store:
        assert store.schema_versions()["forecasts"] == 2
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(test_forecasts)")]
    assert columns == ["id", "label", "model"]
    open_store(path).close()
    assert sqlite_value(path, "SELECT version FROM schema_version WHERE component = 'forecasts'") == 2


def test_a_component_added_later_is_migrated_into_an_existing_store(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A store made before a component existed gains its tables on the next open, data kept."""
    path = tmp_path / "state.db"
    make_store_with_history(path)
    from sqlalchemy import Column, Integer, MetaData, Table

    module = types.ModuleType("csp_monitor_late_component")
    module.MIGRATIONS = (migrations.Migration(1, "late", migrations.create_tables(  # type: ignore[attr-defined]
        Table("late_table", MetaData(), Column("id", Integer, primary_key=True)))),)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(migrations.COMPONENTS, "late", f"{module.__name__}:MIGRATIONS")
    with open_store(path) as store:
        assert store.schema_versions()["late"] == 1
        assert store.evaluation_count() == 24


def test_migrations_must_be_numbered_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A component whose versions skip or repeat is a programming error, caught before any store changes."""
    module = types.ModuleType("csp_monitor_bad_component")
    module.MIGRATIONS = (migrations.Migration(2, "skips one", lambda connection: None),)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(migrations.COMPONENTS, "bad", f"{module.__name__}:MIGRATIONS")
    with pytest.raises(RuntimeError, match=r"the migrations of 'bad' must be numbered 1, 2, 3 \.\.\., not \[2\]"):
        open_store(tmp_path / "state.db")
    assert not (tmp_path / "state.db").exists() or (tmp_path / "state.db").stat().st_size == 0


def test_silences_are_limited_and_explained(tmp_path: Path) -> None:
    """A silence needs a matcher, an author, a reason and an end within 90 days; all problems at once."""
    with open_store(tmp_path / "state.db") as store, pytest.raises(InputError) as info:
        store.add_silence(until=NOW + MAX_SILENCE + timedelta(days=1), author=" ", reason="", now=NOW)
    assert [str(p) for p in info.value.problems] == [
        "--by: say who is adding the silence (--by)",
        "--reason: say why you are adding the silence (--reason)",
        "--until: a silence can last at most 90 days (until 2014-07-09), so that no alert is forgotten: add a new "
        "one when it ends if it is still needed",
        "<silence>: a silence must name what it silences: give --alert, --area or --measure (or several)",
    ]


def test_a_silence_in_the_past_or_ended_twice_is_refused(tmp_path: Path) -> None:
    """An end before now is refused; ending a silence twice or one that does not exist is explained."""
    with open_store(tmp_path / "state.db") as store:
        with pytest.raises(InputError, match="before it starts"):
            store.add_silence(until=NOW - timedelta(days=1), author="Jo", reason="x", now=NOW, alert="a")
        added = store.add_silence(until=NOW + timedelta(days=7), author="Jo", reason="x", now=NOW, alert="a")
        ended = store.expire_silence(added.id, by="Sam", now=NOW + timedelta(days=1))
        assert ended.expired_by == "Sam" and not ended.active_at(NOW + timedelta(days=1))
        with pytest.raises(InputError, match=f"silence {added.id} has already ended"):
            store.expire_silence(added.id, by="Sam", now=NOW + timedelta(days=2))
        with pytest.raises(InputError, match="there is no silence number 99"):
            store.expire_silence(99, by="Sam", now=NOW)
        assert [s.id for s in store.silences(now=NOW + timedelta(days=2))] == []
        assert [s.id for s in store.silences(now=NOW + timedelta(days=2), include_ended=True)] == [added.id]


def test_history_is_the_audit_trail_newest_first(tmp_path: Path) -> None:
    """History lists notices (with recipients and rule hash), state changes and silences, newest first."""
    rules = rules_with(OFF_TARGET)
    with open_store(tmp_path / "state.db") as store:
        decide_and_record(store, rules, evaluation("2014-02", result("red")), now=NOW)
        store.add_silence(until=NOW + timedelta(days=3), author="Jo", reason="briefed", now=NOW + timedelta(hours=1),
                          measure="burglary")
        decide_and_record(store, rules, evaluation("2014-03", result("green")), now=NOW + timedelta(days=5))
        entries = store.history()
    assert [(e.event, e.period, e.detail.split(":")[0]) for e in entries] == [
        ("notified", "2014-03", "resolved (medium)"),
        ("changed", "2014-03", "firing -> resolved"),
        ("silence-added", None, "silence 1 until 2014-04-13T07"),
        ("notified", "2014-02", "firing (medium)"),
        ("changed", "2014-02", "new -> firing"),
    ]
    assert entries[0].recipients == ("lead@example.org", "board@example.org", "analyst@example.org")
    assert entries[0].rule_hash == rules.content_hash and entries[2].by == "Jo"


def test_every_evaluation_is_kept_with_its_figures_and_rule_hash(tmp_path: Path) -> None:
    """Each decide keeps a row per result (reruns too): month, status, figures, summary, rule hash, time."""
    import json

    path = tmp_path / "state.db"
    rules = rules_with(OFF_TARGET)
    with open_store(path) as store:
        for hours in (0, 1):
            decide_and_record(store, rules, evaluation("2014-03", result("red", current=130, baseline=100)),
                              now=NOW + timedelta(hours=hours))
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT as_of, area, measure, status, current, baseline, change_pct, rule_hash, "
                              "recorded_at, result FROM evaluations ORDER BY id").fetchall()
    connection.close()
    assert [row[:9] for row in rows] == [
        ("2014-03", "town", "burglary", "red", 130.0, 100.0, 30.0, rules.content_hash, "2014-04-10T07:00:00Z"),
        ("2014-03", "town", "burglary", "red", 130.0, 100.0, 30.0, rules.content_hash, "2014-04-10T08:00:00Z")]
    assert json.loads(rows[0][9])["summary"] == "Burglary in town is red"
