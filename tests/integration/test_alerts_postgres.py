"""The alert state store on PostgreSQL (CSP_MONITOR_TEST_POSTGRES, an SQLAlchemy URL): the same promises as SQLite."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from csp_monitor.alerts import Decision, decide_and_record, open_store
from csp_monitor.errors import StateError
from tests.alert_fixtures import NOW, evaluation, result, rules_with

OFF_TARGET = "alerts:\n  - id: off-target\n    when: {status: [red]}\n    repeat: 2\n    notify: [owner, board]\n"



def test_a_month_decided_twice_notifies_once_on_postgres(postgres_url: str) -> None:
    """Decide, rerun, then the next months: firing once, nothing on the rerun, a repeat, then resolved."""
    rules = rules_with(OFF_TARGET)
    with open_store(postgres_url) as store:
        outcomes = [[n.kind for n in decide_and_record(store, rules, evaluation(month, result(status)),
                                                        now=NOW + timedelta(days=day)).notifications]
                    for day, (month, status) in enumerate([("2014-01", "red"), ("2014-01", "red"),
                                                           ("2014-02", "no_data"), ("2014-03", "red"),
                                                           ("2014-04", "green")])]
        assert outcomes == [["firing"], [], [], ["repeat"], ["resolved"]]
        assert [n.kind for n, _, _ in store.notifications()] == ["firing", "repeat", "resolved"]
        assert store.evaluation_count() == 5


def test_the_schema_is_created_once_and_a_newer_one_refused_on_postgres(postgres_url: str) -> None:
    """The first open creates the schema; a second changes nothing; a newer version is refused untouched."""
    from sqlalchemy import create_engine, text

    with open_store(postgres_url) as store:
        versions = store.schema_versions()
    assert versions["alerts"] == 2
    with open_store(postgres_url, create=False) as store:
        assert store.schema_versions() == versions
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE schema_version SET version = 5 WHERE component = 'alerts'"))
    with pytest.raises(StateError, match=r"newer csp-monitor \(its 'alerts' schema is version 5"):
        open_store(postgres_url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT version FROM schema_version WHERE component = 'alerts'")).scalar() == 5
    engine.dispose()


def test_columns_added_by_later_versions_are_added_to_an_older_store_on_postgres(postgres_url: str) -> None:
    """A PostgreSQL store from before the queued, unknown and retry columns gains them when opened."""
    from sqlalchemy import create_engine, inspect, text

    open_store(postgres_url).close()
    engine = create_engine(postgres_url)
    older = {"notifications": ("queued_at", "alerts", 1), "outbox": ("unknown_attempts", "outbox", 1),
             "runs": ("next_attempt_at", "schedule", 2)}
    with engine.begin() as connection:
        for table, (column, component, version) in older.items():
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            connection.execute(text(f"UPDATE schema_version SET version = {version} WHERE component = '{component}'"))
    with open_store(postgres_url) as store:
        versions = store.schema_versions()
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table, (column, _, _) in older.items():
            assert column in {c["name"] for c in inspector.get_columns(table)}
    engine.dispose()
    assert (versions["alerts"], versions["outbox"], versions["schedule"]) == (2, 2, 3)


def test_silences_and_history_on_postgres(postgres_url: str) -> None:
    """A silence keeps an alert from being told and appears in the audit trail with its author."""
    rules = rules_with(OFF_TARGET)
    with open_store(postgres_url) as store:
        store.add_silence(until=NOW + timedelta(days=10), author="Jo Bloggs", reason="briefed", now=NOW,
                          measure="burglary")
        decision = decide_and_record(store, rules, evaluation("2014-03", result("red")), now=NOW)
        assert decision.notifications == () and [a.state for a in decision.alerts] == ["silenced"]
        events = [(e.event, e.by) for e in store.history()]
        assert events == [("changed", None), ("silence-added", "Jo Bloggs")]


def test_two_runs_deciding_at_once_never_notify_twice_on_postgres(postgres_url: str) -> None:
    """Two processes deciding the same month at the same moment: one records the notice, the other is refused."""
    rules = rules_with(OFF_TARGET)
    open_store(postgres_url).close()
    both_read = threading.Barrier(2, timeout=30)
    outcomes: list[Decision | StateError] = []

    def one_run() -> None:
        with open_store(postgres_url) as store:
            read = store.remembered

            def read_then_wait(*args: Any, **kwargs: Any) -> Any:
                found = read(*args, **kwargs)
                both_read.wait()  # both runs have read the store before either writes
                return found

            store.remembered = read_then_wait  # type: ignore[method-assign]
            try:
                outcomes.append(decide_and_record(store, rules, evaluation("2014-03", result("red")), now=NOW))
            except StateError as exc:
                outcomes.append(exc)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    decisions = [o for o in outcomes if isinstance(o, Decision)]
    refused = [o for o in outcomes if isinstance(o, StateError)]
    assert len(decisions) == 1 and len(refused) == 1
    assert [n.kind for n in decisions[0].notifications] == ["firing"]
    assert "another run recorded the same decision at the same time" in refused[0].message
    with open_store(postgres_url) as store:
        assert [n.kind for n, _, _ in store.notifications()] == ["firing"]
        assert store.evaluation_count() == 1
