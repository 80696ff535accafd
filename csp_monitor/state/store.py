"""The state store: open safely, migrate, and read and write alert memory in transactions."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csp_monitor.arguments import check_as_of, check_now
from csp_monitor.errors import (
    ArgumentError,
    InputError,
    MissingExtraError,
    Problem,
    StateError,
    shown_value,
)
from csp_monitor.extras import extra_for
from csp_monitor.files import not_regular
from csp_monitor.models.alert_state import (
    AlertKey,
    AlertRecord,
    AlertTransition,
    HistoryEntry,
    PreviousResult,
    RememberedState,
    Silence,
)
from csp_monitor.models.decisions import Notification
from csp_monitor.models.results import Evaluation

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Row

__all__ = ["MAX_SILENCE", "StateStore", "format_time", "parse_time", "reading_rows"]

MAX_SILENCE = timedelta(days=90)
"""The longest a silence may last: long silences are how alerts get forgotten."""

_SQLITE_HEADER = b"SQLite format 3\x00"
_MAX_TEXT = 500
_LOCK_ID = 7_302_911_455  # the PostgreSQL advisory lock taken while migrating

# A result is kept with its figures, status, summary and every verdict, but without the
# control chart's point-by-point series and the statistics' long explanations: the figures
# give those again, and they would make every recorded result several times larger.
_CHART_POINTS: Any = {
    "spc": {"periods", "values", "rules", "variations", "groups", "special_causes", "explanation"},
    "significance": {"explanation"},
    "projection": {"explanation"},
}


def format_time(moment: datetime) -> str:
    """A moment as UTC text that sorts as time does: ``2014-04-10T07:00:00Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """The moment stored by :func:`format_time`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@contextmanager
def reading_rows(table: str) -> Iterator[None]:
    """Turn a row that cannot be read back (bad JSON, a bad time, a value of the wrong kind) into a StateError.

    Only a damaged or hand-edited store holds such rows; the run stops with exit code 3 and says which
    table, instead of failing as an internal error.
    """
    try:
        yield
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # pydantic's ValidationError is a ValueError
        detail = " ".join(str(exc).split())[:300]
        raise StateError(f"a row of the state store's {table} table is damaged and cannot be read ({detail}); "
                         "it was left as it is: restore the store from a backup, or start a new one") from None


def _describe_error(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


class StateStore:
    """A state store: a SQLite file or a database behind a SQLAlchemy URL."""

    def __init__(self, engine: Engine, location: str) -> None:
        self._engine = engine
        self.location = location
        """Where the store is, safe to print (a URL's password is hidden)."""
        self._scratch: Path | None = None  # a read-only open's upgraded copy of an older store, removed at close

    # -- opening -----------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True, read_only: bool = False) -> StateStore:
        """Open the store at ``target`` (a path or URL); create a new SQLite file when ``create``.

        With ``read_only`` (dry runs and previews) the store is never written: not created, and not migrated.
        A SQLite store written by an older csp-monitor is read through an upgraded copy in a temporary folder
        (removed at :meth:`close`), so the dry run shows what the upgraded csp-monitor would send; a database
        behind a URL that needs upgrading is refused (a real run upgrades it).
        """
        if read_only:
            create = False
        from sqlalchemy import create_engine
        from sqlalchemy.engine import URL, make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        text = str(target)
        sqlite_path: Path | None = None
        if isinstance(target, Path) or "://" not in text:
            sqlite_path = Path(text).expanduser().absolute()
            url = URL.create("sqlite+pysqlite", database=str(sqlite_path))
            location = str(target)
        else:
            try:
                url = make_url(text)
            except (ArgumentError, ValueError):
                raise StateError(f"'{text}' is neither a file path nor a database URL such as "
                                 "postgresql+psycopg://user@host/dbname", store=text) from None
            location = url.render_as_string(hide_password=True)
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                sqlite_path = Path(url.database or "").expanduser().absolute()
        if sqlite_path is not None and _check_sqlite_file(sqlite_path, location, create=create):
            _create_sqlite_file(cls, sqlite_path, location)
        try:
            engine = create_engine(url)
        except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
            if isinstance(exc, ImportError) and extra_for(exc.name) == "postgres":
                raise MissingExtraError("psycopg", extra="postgres",
                                        purpose=f"the PostgreSQL state store {location}") from None
            raise StateError(
                f"cannot open {location}: the database driver is not installed ({exc}); for PostgreSQL "
                "install csp-monitor[postgres]", store=location) from None
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        store = cls(engine, location)
        try:
            behind = store._prepare(migrate=not read_only)
        except BaseException:
            engine.dispose()
            raise
        if not behind:
            return store
        engine.dispose()
        shown = ", ".join(f"'{component}' {have} of {want}" for component, (have, want) in sorted(behind.items()))
        if sqlite_path is None:
            if all(have == 0 for have, _want in behind.values()):
                raise StateError(
                    f"{location} is an empty database: csp-monitor's tables are created by the first run (send, "
                    "run-once or the daemon); a dry run, preview or check never creates them", store=location,
                    reason="new")
            raise StateError(
                f"{location} was written by an older csp-monitor and needs upgrading (schema versions {shown}); a "
                "dry run or preview never changes the store, so it was left as it is: run csp-monitor send (or "
                "let the daemon run) once, which upgrades it, then preview again", store=location,
                reason="upgrade")
        return cls._upgraded_copy(sqlite_path, location)

    @classmethod
    def _upgraded_copy(cls, path: Path, location: str) -> StateStore:
        """A copy of an older SQLite store, upgraded, in a temporary folder: a dry run reads it, not the store."""
        import shutil
        import sqlite3
        import tempfile
        from urllib.parse import quote

        from sqlalchemy import create_engine
        from sqlalchemy.engine import URL

        scratch = Path(tempfile.mkdtemp(prefix="csp-monitor-dry-run-"))
        try:
            copy = scratch / "upgraded.db"
            # Not mode=ro: a read-only connection cannot remove the journal files it opens beside the store.
            source = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=30)
            try:
                source.execute("PRAGMA query_only=ON")
                target = sqlite3.connect(copy)
                try:
                    source.backup(target)  # a consistent snapshot, through SQLite's own locks
                finally:
                    target.close()
            finally:
                source.close()
            engine = create_engine(URL.create("sqlite+pysqlite", database=str(copy)))
            _configure_sqlite(engine)
            store = cls(engine, location)
            store._scratch = scratch
            try:
                store._prepare()
            except BaseException:
                engine.dispose()
                raise
        except sqlite3.Error as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            raise StateError(f"{location} cannot be read as a csp-monitor state store ({exc}); it was left as it "
                             "is", store=location, reason="damaged") from None
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return store

    def _prepare(self, *, migrate: bool = True) -> dict[str, tuple[int, int]]:
        """Check the store is ours and not newer (reading only), then migrate it.

        Without ``migrate`` nothing is written: what is behind is returned instead, as component ->
        (its version in the store, this csp-monitor's), empty when the store is up to date.
        """
        from sqlalchemy import inspect, select
        from sqlalchemy.exc import DBAPIError

        from csp_monitor.state.migrations import load_migrations
        from csp_monitor.state.schema import schema_version

        known = load_migrations()
        sqlite = self._engine.dialect.name == "sqlite"
        try:
            opened = self._engine.connect()
        except DBAPIError as exc:
            raise _open_failure(self.location, exc, sqlite=sqlite) from None
        try:
            with opened as connection:
                connection.execution_options(csp_monitor_read_only=True)
                if sqlite:
                    verdict = connection.exec_driver_sql("PRAGMA quick_check").scalar()
                    if verdict != "ok":
                        raise StateError(
                            f"{self.location} is damaged (SQLite says: {verdict}); it was left as it is: restore "
                            "it from a backup, or start a new store", store=self.location)
                tables = set(inspect(connection).get_table_names())
                versions: dict[str, int] = {}
                if tables and "schema_version" not in tables:
                    shown = ", ".join(sorted(tables)[:5])
                    raise StateError(
                        f"{self.location} is a database but not a csp-monitor state store (it has the tables "
                        f"{shown}); it was left as it is: give the name of a new file", store=self.location)
                if tables:
                    versions = {row.component: row.version for row in connection.execute(select(schema_version))}
                    damaged = [component for component, version in versions.items()
                               if not isinstance(version, int) or isinstance(version, bool) or version < 0]
                    if damaged:
                        raise StateError(
                            f"{self.location} is damaged: its schema_version table gives no version number for "
                            f"{', '.join(map(repr, sorted(map(str, damaged))))}; it was left as it is: restore it "
                            "from a backup, or start a new store", store=self.location)
                connection.rollback()
        except DBAPIError as exc:
            raise _open_failure(self.location, exc, sqlite=sqlite) from None
        for component, version in sorted(versions.items()):
            if component not in known or version > len(known[component]):
                newest = len(known.get(component, ()))
                raise StateError(
                    f"{self.location} was written by a newer csp-monitor (its '{component}' schema is version "
                    f"{version}, this csp-monitor knows up to {newest}); it was left as it is: upgrade "
                    "csp-monitor to use it", store=self.location)
        if not migrate:
            return {component: (versions.get(component, 0), len(migrations))
                    for component, migrations in known.items() if versions.get(component, 0) < len(migrations)}
        if sqlite:
            self._set_wal()
        for component, migrations in known.items():
            for migration in migrations[versions.get(component, 0):]:
                self._migrate(component, migration.version, migration.apply)
        return {}

    def _set_wal(self) -> None:
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
        finally:
            raw.close()

    def _migrate(self, component: str, version: int, apply: Any) -> None:
        from sqlalchemy import insert, select, update

        from csp_monitor.state.schema import schema_version

        with self.transaction() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
            schema_version.create(connection, checkfirst=True)
            current = connection.execute(
                select(schema_version.c.version).where(schema_version.c.component == component)).scalar()
            if (current or 0) >= version:  # another process migrated it meanwhile
                return
            apply(connection)
            now = format_time(datetime.now(UTC))
            if current is None:
                connection.execute(insert(schema_version).values(component=component, version=version,
                                                                 applied_at=now))
            else:
                connection.execute(update(schema_version).where(schema_version.c.component == component)
                                   .values(version=version, applied_at=now))

    def close(self) -> None:
        """Close every connection to the store (and remove a read-only open's upgraded copy)."""
        self._engine.dispose()
        if self._scratch is not None:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def schema_versions(self) -> dict[str, int]:
        """The version of each component's schema in the store."""
        from sqlalchemy import select

        from csp_monitor.state.schema import schema_version

        with self.transaction() as connection:
            return {row.component: row.version for row in connection.execute(select(schema_version))}

    # -- transactions ------------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Connection]:
        """One database transaction: everything in the block is written together, or not at all.

        With ``read_only`` the database itself refuses any write in the block, and no write lock is taken
        (dry runs and previews read the store and must leave it exactly as it was).
        """
        from sqlalchemy.exc import DBAPIError, IntegrityError

        try:
            if read_only:
                with self._engine.connect() as connection:
                    yield from _reading(connection)
                return
            with self._engine.begin() as connection:
                yield connection
        except IntegrityError as exc:
            raise StateError(
                f"{self.location}: another run recorded the same decision at the same time, so nothing from this "
                f"run was recorded; run it again ({_describe_error(exc)})", store=self.location) from None
        except DBAPIError as exc:
            message = _describe_error(exc)
            if "locked" in message or "busy" in message:
                raise StateError(f"{self.location} is busy: another csp-monitor is writing to it; try again "
                                 "shortly", store=self.location) from None
            if _read_only(message):
                raise StateError(f"{self.location} cannot be written: permission denied ({message}); nothing "
                                 "from this run was recorded: give the user csp-monitor runs as write access "
                                 "to the file and its folder", store=self.location, reason="permission") from None
            if exc.connection_invalidated or _unreachable(exc):
                raise StateError(f"cannot connect to the state store {self.location} ({message}); nothing from "
                                 "this run was recorded, and it is tried again", store=self.location,
                                 reason="unreachable") from None
            raise StateError(f"{self.location}: the state store failed ({message}); nothing from this run was "
                             "recorded", store=self.location) from None

    # -- what the decision reads -------------------------------------------------------------------------------

    def remembered(self, connection: Connection, evaluation: Evaluation, *, now: datetime) -> RememberedState:
        """Everything the decision for ``evaluation`` needs to know about the past."""
        from sqlalchemy import and_, func, select

        from csp_monitor.state.alert_tables import (
            alert_states,
            evaluations,
            notifications,
            silences,
        )

        areas = sorted({result.area for result in evaluation.results})
        records = {record.key: record for record in (
            _row_record(row) for row in connection.execute(
                select(alert_states).where(alert_states.c.area.in_(areas))))}
        latest = (select(evaluations.c.area, evaluations.c.measure, func.max(evaluations.c.as_of).label("as_of"))
                  .where(evaluations.c.as_of < evaluation.as_of, evaluations.c.status != "no_data",
                         evaluations.c.area.in_(areas))
                  .group_by(evaluations.c.area, evaluations.c.measure).subquery())
        previous: dict[tuple[str, str], PreviousResult] = {}
        rows = connection.execute(
            select(evaluations.c.area, evaluations.c.measure, evaluations.c.as_of, evaluations.c.status)
            .join(latest, and_(evaluations.c.area == latest.c.area, evaluations.c.measure == latest.c.measure,
                               evaluations.c.as_of == latest.c.as_of))
            .where(evaluations.c.status != "no_data")
            .order_by(evaluations.c.id))
        for row in rows:
            previous[(row.area, row.measure)] = PreviousResult(as_of=row.as_of, status=row.status)
        keys = frozenset(connection.execute(
            select(notifications.c.key).where(notifications.c.period == evaluation.as_of)).scalars())
        found = [_row_silence(row) for row in connection.execute(
            select(silences).where(silences.c.expires_at > format_time(now)).order_by(silences.c.id))]
        return RememberedState(records=records, previous_results=previous, notified_keys=keys, silences=found)

    # -- what the decision writes ------------------------------------------------------------------------------

    def record_evaluation(self, connection: Connection, evaluation: Evaluation, *, rule_hash: str,
                          now: datetime) -> None:
        """Keep every result of an evaluation (every run's, revisions included)."""
        from sqlalchemy import insert

        from csp_monitor.state.alert_tables import evaluations

        recorded_at = format_time(now)
        rows = [{"as_of": evaluation.as_of, "area": r.area, "measure": r.measure, "status": r.status,
                 "current": r.current, "baseline": r.baseline, "change_pct": r.change_pct,
                 "result": r.model_dump_json(exclude=_CHART_POINTS), "rule_hash": rule_hash,
                 "recorded_at": recorded_at}
                for r in evaluation.results]
        if rows:
            connection.execute(insert(evaluations), rows)

    def save_decision(self, connection: Connection, *, records: Sequence[AlertRecord], removed: Iterable[AlertKey],
                      transitions: Sequence[AlertTransition], notifications: Sequence[Notification],
                      severities: Mapping[str, str], rule_hash: str, now: datetime) -> None:
        """Write the alert states, the notices and the transitions of one decision."""
        from sqlalchemy import bindparam, delete, insert

        from csp_monitor.state import alert_tables as t

        at = format_time(now)
        keys = [{"key_alert": alert, "key_area": area, "key_measure": measure}
                for alert, area, measure in [*removed, *(record.key for record in records)]]
        if keys:  # replace every record decided: one statement, many rows
            connection.execute(delete(t.alert_states).where(
                t.alert_states.c.alert == bindparam("key_alert"), t.alert_states.c.area == bindparam("key_area"),
                t.alert_states.c.measure == bindparam("key_measure")), keys)
        if records:
            connection.execute(insert(t.alert_states), [_record_row(record, at) for record in records])
        if notifications:
            connection.execute(insert(t.notifications), [{
                "key": n.key, "alert": n.alert, "area": n.area, "measure": n.measure, "period": n.period,
                "kind": n.kind, "severity": severities.get(n.alert, "medium"), "recipients": json.dumps(n.recipients),
                "message": n.message, "rule_hash": rule_hash, "decided_at": at} for n in notifications])
        if transitions:
            connection.execute(insert(t.alert_events), [{
                "alert": e.alert, "area": e.area, "measure": e.measure, "period": e.period,
                "from_state": e.from_state, "to_state": e.to_state, "notification": e.notification,
                "message": e.message, "rule_hash": rule_hash, "decided_at": at} for e in transitions])

    # -- what people ask -------------------------------------------------------------------------------------

    def alert_records(self, *, include_cleared: bool = False) -> list[AlertRecord]:
        """Every alert's record (but those only ever pending), ordered by alert, area and measure."""
        from sqlalchemy import select

        from csp_monitor.state.alert_tables import alert_states

        query = select(alert_states).order_by(alert_states.c.alert, alert_states.c.area, alert_states.c.measure)
        if not include_cleared:
            query = query.where(alert_states.c.state != "cleared")
        with self.transaction() as connection:
            return [_row_record(row) for row in connection.execute(query)]

    def notifications(self, *, period: str | None = None) -> list[tuple[Notification, str, datetime]]:
        """Every notice recorded (oldest first), with its rule hash and when it was decided."""
        from sqlalchemy import select

        from csp_monitor.state.alert_tables import notifications

        period = check_as_of(period, argument="period")
        query = select(notifications).order_by(notifications.c.id)
        if period is not None:
            query = query.where(notifications.c.period == period)
        with self.transaction() as connection, reading_rows("notifications"):
            return [(Notification(key=row.key, alert=row.alert, kind=row.kind, area=row.area, measure=row.measure,
                                  period=row.period, recipients=tuple(json.loads(row.recipients)),
                                  message=row.message), row.rule_hash, parse_time(row.decided_at))
                    for row in connection.execute(query)]

    def last_notice_deliveries(self, records: Iterable[AlertRecord]) -> dict[AlertKey, dict[str, str]]:
        """For each record's last notice, where each recipient's email is (queued, sending, sent, failed)."""
        from sqlalchemy import select

        from csp_monitor.state.alert_tables import notifications

        found: dict[AlertKey, dict[str, str]] = {}
        with self.transaction() as connection:
            deliveries = _deliveries(connection)
            for record in records:
                if record.last_notified_period is None:
                    continue
                keys = connection.execute(select(notifications.c.key).where(
                    notifications.c.alert == record.alert, notifications.c.area == record.area,
                    notifications.c.measure == record.measure,
                    notifications.c.period == record.last_notified_period).order_by(notifications.c.id)).scalars()
                merged: dict[str, str] = {}
                for key in keys:
                    merged.update(deliveries.get(key, {}))
                found[record.key] = merged
        return found

    def evaluation_count(self) -> int:
        """How many results the store has recorded."""
        from sqlalchemy import func, select

        from csp_monitor.state.alert_tables import evaluations

        with self.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(evaluations)).scalar() or 0)

    def history(self, *, limit: int | None = 100) -> list[HistoryEntry]:
        """The audit trail, newest first: notices, state changes, silences added and ended (``limit=None``: all)."""
        from sqlalchemy import select

        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ArgumentError(f"limit must be a number of entries (0 or more) or None, not {type(limit).__name__} "
                                f"{shown_value(repr(limit))}", argument="limit")

        from csp_monitor.state.alert_tables import alert_events, notifications, silences

        entries: list[tuple[str, int, HistoryEntry]] = []
        with self.transaction() as connection, reading_rows("history"):
            deliveries = _deliveries(connection)
            for row in connection.execute(select(notifications)):
                entries.append((row.decided_at, 2, HistoryEntry(
                    at=parse_time(row.decided_at), event="notified", alert=row.alert, area=row.area,
                    measure=row.measure, period=row.period, detail=f"{row.kind} ({row.severity}): {row.message}",
                    recipients=tuple(json.loads(row.recipients)), rule_hash=row.rule_hash,
                    delivery=deliveries.get(row.key, {}))))
            for row in connection.execute(select(alert_events)):
                entries.append((row.decided_at, 1, HistoryEntry(
                    at=parse_time(row.decided_at), event="changed", alert=row.alert, area=row.area,
                    measure=row.measure, period=row.period,
                    detail=f"{row.from_state or 'new'} -> {row.to_state}", rule_hash=row.rule_hash)))
            for row in connection.execute(select(silences)):
                silence = _row_silence(row)
                entries.append((row.created_at, 0, HistoryEntry(
                    at=silence.created_at, event="silence-added", alert=silence.alert, area=silence.area,
                    measure=silence.measure, by=silence.author,
                    detail=f"silence {silence.id} until {format_time(silence.expires_at)}: {silence.reason}")))
                if silence.expired_at is not None:
                    entries.append((row.expired_at, 0, HistoryEntry(
                        at=silence.expired_at, event="silence-expired", alert=silence.alert, area=silence.area,
                        measure=silence.measure, by=silence.expired_by, detail=f"silence {silence.id} ended early")))
        entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
        chosen = entries if limit is None else entries[:limit]
        return [entry for _, _, entry in chosen]

    # -- silences --------------------------------------------------------------------------------------------

    def add_silence(self, *, until: datetime, author: str, reason: str, now: datetime, alert: str | None = None,
                    area: str | None = None, measure: str | None = None) -> Silence:
        """Add a silence from ``now`` until ``until``; refuse one that is empty, endless or unexplained."""
        from sqlalchemy import insert

        from csp_monitor.state.alert_tables import silences

        until, now = check_now(until, argument="until"), check_now(now)
        _check_texts(author=author, reason=reason, alert=alert, area=area, measure=measure)
        problems = _silence_problems(until=until, author=author, reason=reason, now=now,
                                     matchers={"alert": alert, "area": area, "measure": measure})
        if problems:
            raise InputError(problems)
        values = {"alert": alert, "area": area, "measure": measure, "author": author.strip(),
                  "reason": reason.strip(), "created_at": format_time(now), "expires_at": format_time(until)}
        with self.transaction() as connection:
            new_id = connection.execute(insert(silences).values(**values)).inserted_primary_key
            assert new_id is not None
            return Silence(id=int(new_id[0]), alert=alert, area=area, measure=measure, author=author.strip(),
                           reason=reason.strip(), created_at=parse_time(values["created_at"] or ""),
                           expires_at=parse_time(values["expires_at"] or ""))

    def silences(self, *, now: datetime, include_ended: bool = False) -> list[Silence]:
        """The silences in force at ``now`` (and, if asked, those that have ended), oldest first."""
        from sqlalchemy import select

        from csp_monitor.state.alert_tables import silences

        now = check_now(now)
        with self.transaction() as connection:
            found = [_row_silence(row) for row in connection.execute(select(silences).order_by(silences.c.id))]
        return found if include_ended else [silence for silence in found if silence.active_at(now)]

    def expire_silence(self, silence_id: int, *, by: str, now: datetime) -> Silence:
        """End a silence now; it stays in the audit trail."""
        from sqlalchemy import select, update

        from csp_monitor.state.alert_tables import silences

        if isinstance(silence_id, bool) or not isinstance(silence_id, int):
            raise ArgumentError(f"silence_id must be a silence's number (an int), not {type(silence_id).__name__} "
                                f"{shown_value(repr(silence_id))}", argument="silence_id")
        _check_texts(by=by)
        now = check_now(now)
        with self.transaction() as connection:
            row = connection.execute(select(silences).where(silences.c.id == silence_id)).first()
            if row is None:
                raise InputError([Problem(f"there is no silence number {silence_id}: 'csp-monitor silence list "
                                          "--all' shows them all", file="<silence>")])
            silence = _row_silence(row)
            if not silence.active_at(now):
                ended = silence.expired_at or silence.expires_at
                raise InputError([Problem(f"silence {silence_id} has already ended ({format_time(ended)})",
                                          file="<silence>")])
            if not by.strip() or len(by) > _MAX_TEXT:
                raise InputError([Problem("say who is ending the silence (--by NAME)", file="--by")])
            connection.execute(update(silences).where(silences.c.id == silence_id).values(
                expired_at=format_time(now), expired_by=by.strip()))
            return silence.model_copy(update={"expired_at": parse_time(format_time(now)), "expired_by": by.strip()})


def _reading(connection: Connection) -> Iterator[Connection]:
    """A transaction on ``connection`` in which every write fails; the connection is left as it was found."""
    sqlite = connection.dialect.name == "sqlite"
    connection.execution_options(csp_monitor_read_only=True)  # SQLite: a plain BEGIN, no write lock
    try:
        with connection.begin():
            if sqlite:
                connection.exec_driver_sql("PRAGMA query_only=ON")
            else:
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection
    finally:
        if sqlite:  # the flag belongs to the pooled connection, not the transaction: clear it for the next user
            connection.exec_driver_sql("PRAGMA query_only=OFF")
            connection.rollback()


def _deliveries(connection: Connection) -> dict[str, dict[str, str]]:
    """notice key -> {address: outbox status} for every notice an email was queued for."""
    from sqlalchemy import select

    from csp_monitor.state.outbox_tables import outbox

    found: dict[str, dict[str, str]] = {}
    rows = connection.execute(select(outbox.c.notifications, outbox.c.recipients, outbox.c.status)
                              .where(outbox.c.kind == "alert").order_by(outbox.c.id))
    for row in rows:
        for key in json.loads(row.notifications):
            for address in json.loads(row.recipients):
                found.setdefault(key, {})[address] = row.status
    return found


def _check_sqlite_file(path: Path, location: str, *, create: bool) -> bool:
    """Refuse a file that is not a SQLite database before SQLite can touch it; True when it is to be created."""
    if path.is_dir():
        raise StateError(f"{location} is a folder: give the path of a state store file, such as "
                         f"{location.rstrip('/')}/csp-monitor.db", store=location)
    if path.is_symlink() and not path.exists():
        # SQLite would follow the link and create the database wherever it points.
        raise StateError(f"{location} is a link to {os.readlink(path)}, which does not exist: the state store "
                         "would be created there instead; point the configuration at the real store, or remove "
                         "the link", store=location)
    if path.exists():
        kind = not_regular(path)
        if kind is not None:
            raise StateError(f"{location} is {kind}, not a state store file: give the path of a file",
                             store=location)
        if not os.access(path, os.R_OK):
            raise StateError(f"{location} cannot be read: permission denied: give the user csp-monitor runs as "
                             "read and write access to it", store=location, reason="permission")
        if not os.access(path, os.W_OK):
            raise StateError(f"{location} cannot be written: permission denied (the file is read-only for this "
                             "user): give the user csp-monitor runs as write access to it", store=location,
                             reason="permission")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise StateError(f"{location} cannot be used: permission denied on its folder {path.parent} (SQLite "
                             f"writes its journal, {path.name}-wal, beside the store): give the user csp-monitor "
                             "runs as write access to the folder", store=location, reason="permission")
        if path.stat().st_size == 0:
            # A store is never empty: csp-monitor creates it complete (see _create_sqlite_file), so an empty file
            # is one cut short (a full disk, a failed copy or restore). Taken as new, it would send every
            # message of the month again.
            raise StateError(
                f"{location} is empty (0 bytes), so it is not a csp-monitor state store (a full disk, or a copy or "
                "restore that failed, may have emptied it); it was left as it is: restore it from a backup, or "
                "delete it to start a new store (every message of the latest month is then sent again)",
                store=location, reason="damaged")
        if not _is_sqlite(path):
            raise StateError(
                f"{location} is not a csp-monitor state store: it is not a SQLite database (it may be damaged, or "
                "another kind of file); it was left as it is: restore it from a backup, or give a new file name",
                store=location, reason="damaged")
        return False
    if not create:
        raise StateError(f"there is no state store at {location}", store=location)
    if not path.parent.is_dir():
        raise StateError(f"cannot create the state store {location}: the folder {path.parent} does not exist",
                         store=location)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StateError(f"cannot create the state store {location}: permission denied on the folder "
                         f"{path.parent}: give the user csp-monitor runs as write access to it", store=location,
                         reason="permission")
    return True


def _create_sqlite_file(cls: type[StateStore], path: Path, location: str) -> None:
    """Create a new store complete under a temporary name, then give it its name in one step.

    So no process ever sees the store empty (SQLite creates the file empty and writes the schema after),
    and an empty file can be refused as damaged. Of two processes creating the same store, the first
    to link wins and the other uses its store.
    """
    temporary = path.with_name(f".{path.name}.new-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import URL

        engine = create_engine(URL.create("sqlite+pysqlite", database=str(temporary)))
        _configure_sqlite(engine)
        try:
            cls(engine, location)._prepare()  # complete: schema, migrations, WAL mode
        finally:
            engine.dispose()  # the last connection closed: the journal is written back into the file
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it meanwhile: use theirs
        except OSError:  # a file system without hard links: rename, unless another process got there first
            if not path.exists():
                os.replace(temporary, path)
    finally:
        for leftover in (temporary, temporary.with_name(temporary.name + "-wal"),
                         temporary.with_name(temporary.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _open_failure(location: str, exc: BaseException, *, sqlite: bool) -> StateError:
    """Why a store could not be opened: the server cannot be reached, permissions, or not a store."""
    message = _describe_error(exc)
    if _read_only(message):
        return StateError(f"{location} cannot be written: permission denied ({message}): give the user csp-monitor "
                          "runs as write access to the file and its folder", store=location, reason="permission")
    if not sqlite and _unreachable(exc):
        return StateError(f"cannot connect to the state store {location} ({message}): check that the database "
                          "server is running and can be reached, and the URL's host, port, user and database name",
                          store=location, reason="unreachable")
    return StateError(f"{location} cannot be read as a csp-monitor state store ({message}); it was left as it is: "
                      "check the path or URL, or restore it from a backup", store=location, reason="damaged")


def _read_only(message: str) -> bool:
    return "readonly database" in message or "read-only" in message or "permission denied" in message.lower()


def _unreachable(exc: BaseException) -> bool:
    """Whether a database error means the server could not be reached (or dropped the connection)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = _describe_error(exc).lower()
    return any(word in text for word in ("connect", "connection", "server closed", "terminating", "timeout",
                                         "could not translate host", "no route", "network"))


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` holds a SQLite database (or nothing yet), asked of SQLite itself.

    Never open the file with Python's ``open()`` here: closing any descriptor of
    a database file drops every POSIX lock this process holds on it, including
    those of SQLite connections already open (a daemon opens its store again at
    each run). Another process closing the store then believes it is the last
    one and deletes the WAL under the live connections: "disk I/O error", and
    lost writes. SQLite's own opens share one set of locks, so probing through
    SQLite is safe.
    """
    import sqlite3
    from urllib.parse import quote

    try:
        probe = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return True  # cannot tell: opening the store proper reports the real problem
    try:
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        return "not a database" not in str(exc)
    finally:
        probe.close()
    return True


SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite write waits for another process's lock before the store reports itself busy."""


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, a wait when another process writes, and write transactions that lock at once."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at the start, so two writers queue rather than fail halfway.
        read_only = connection.get_execution_options().get("csp_monitor_read_only")
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _record_row(record: AlertRecord, at: str) -> dict[str, Any]:
    return {
        "alert": record.alert, "area": record.area, "measure": record.measure, "state": record.state,
        "since": record.since, "consecutive": record.consecutive, "last_period": record.last_period,
        "firing_since": record.firing_since, "last_notified_period": record.last_notified_period,
        "last_notified_at": format_time(record.last_notified_at) if record.last_notified_at else None,
        "recipients": json.dumps(record.recipients), "no_data_since": record.no_data_since,
        "message": record.message, "severity": record.severity, "rule_hash": record.rule_hash, "updated_at": at,
        "previous": record.previous.model_dump_json() if record.previous is not None else None,
    }


def _row_record(row: Row[Any]) -> AlertRecord:
    with reading_rows("alert_states"):
        return _alert_record(row)


def _alert_record(row: Row[Any]) -> AlertRecord:
    return AlertRecord(
        alert=row.alert, area=row.area, measure=row.measure, state=row.state, since=row.since,
        consecutive=row.consecutive, last_period=row.last_period, firing_since=row.firing_since,
        last_notified_period=row.last_notified_period,
        last_notified_at=parse_time(row.last_notified_at) if row.last_notified_at else None,
        recipients=tuple(json.loads(row.recipients)), no_data_since=row.no_data_since, message=row.message,
        severity=row.severity, rule_hash=row.rule_hash,
        previous=AlertRecord.model_validate_json(row.previous) if row.previous else None)


def _row_silence(row: Row[Any]) -> Silence:
    with reading_rows("silences"):
        return _silence(row)


def _silence(row: Row[Any]) -> Silence:
    return Silence(
        id=row.id, alert=row.alert, area=row.area, measure=row.measure, author=row.author, reason=row.reason,
        created_at=parse_time(row.created_at), expires_at=parse_time(row.expires_at),
        expired_at=parse_time(row.expired_at) if row.expired_at else None, expired_by=row.expired_by)


def _check_texts(**texts: object) -> None:
    """Each of ``texts`` is a str (or None for the optional ones: alert, area, measure)."""
    for name, value in texts.items():
        if not isinstance(value, str) and not (value is None and name in {"alert", "area", "measure"}):
            raise ArgumentError(f"{name} must be text (a str), not {type(value).__name__} "
                                f"{shown_value(repr(value))}", argument=name)


def _silence_problems(*, until: datetime, author: str, reason: str, now: datetime,
                      matchers: Mapping[str, str | None]) -> list[Problem]:
    problems: list[Problem] = []
    if all(value is None for value in matchers.values()):
        problems.append(Problem("a silence must name what it silences: give --alert, --area or --measure "
                                "(or several)", file="<silence>"))
    for name, value in matchers.items():
        if value is not None and (not value.strip() or len(value) > _MAX_TEXT or not value.isprintable()):
            problems.append(Problem(f"'{shown_value(value)}' is not a valid {name}", file=f"--{name}"))
    if until <= now:
        problems.append(Problem(f"the silence would end ({format_time(until)}) before it starts "
                                f"({format_time(now)}): give a date in the future", file="--until"))
    elif until - now > MAX_SILENCE:
        problems.append(Problem(
            f"a silence can last at most {MAX_SILENCE.days} days (until {format_time(now + MAX_SILENCE)[:10]}), "
            "so that no alert is forgotten: add a new one when it ends if it is still needed", file="--until"))
    for name, value in (("by", author), ("reason", reason)):
        if not value.strip():
            problems.append(Problem(f"say {'who is adding' if name == 'by' else 'why you are adding'} the silence "
                                    f"(--{name})", file=f"--{name}"))
        elif len(value) > _MAX_TEXT or any(ch in value for ch in "\r\n\x00"):
            problems.append(Problem(f"--{name} must be one line of at most {_MAX_TEXT} characters",
                                    file=f"--{name}"))
    return problems
