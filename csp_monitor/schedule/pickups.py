"""What the drop-folder watcher has seen: the folders it watches and the files it has picked up.

Each file is remembered by name, size and modification time (nanoseconds),
with when it was picked up and the run ledger's key of the run that did it.
A file whose size or time differs from what is remembered is new work; the
same file seen again, by this daemon or the next one after a restart, is not.
A folder met for the first time is remembered with the files already in it,
which are not news (they are read at every run all the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from csp_monitor.load.figure_sources import DroppedFile
    from csp_monitor.state.store import StateStore

__all__ = ["BASELINE", "PickedUp", "picked_up", "record_pickup", "start_watching", "watched_since"]

BASELINE = "already there"
"""The occurrence recorded for the files a folder held when the daemon first watched it."""


@dataclass(frozen=True, slots=True)
class PickedUp:
    """A file the watcher has picked up (or found there when it started watching)."""

    folder: str
    name: str
    size: int
    mtime_ns: int
    picked_up_at: datetime
    occurrence: str

    def same_as(self, file: DroppedFile) -> bool:
        """Whether ``file`` is this file, unchanged."""
        return (self.size, self.mtime_ns) == (file.size, file.mtime_ns)


def watched_since(store: StateStore, folder: str) -> datetime | None:
    """When the watcher first looked at ``folder``, or None if it never has."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import watched_folders
    from csp_monitor.state.store import parse_time

    with store.transaction() as connection:
        since = connection.execute(select(watched_folders.c.since)
                                   .where(watched_folders.c.folder == folder)).scalar()
    return parse_time(since) if since else None


def start_watching(store: StateStore, folder: str, files: Sequence[DroppedFile], *,
                   now: datetime | None = None) -> bool:
    """Remember ``folder`` and the files already in it; False when it is already watched."""
    from sqlalchemy import insert, select

    from csp_monitor.state.schedule_tables import watched_folders
    from csp_monitor.state.store import format_time

    stamp = format_time(now or datetime.now(UTC))
    with store.transaction() as connection:
        if connection.execute(select(watched_folders.c.folder).where(watched_folders.c.folder == folder)).first():
            return False
        connection.execute(insert(watched_folders).values(folder=folder, since=stamp))
        _replace(connection, folder, files, BASELINE, stamp)
    return True


def picked_up(store: StateStore, folder: str) -> dict[str, PickedUp]:
    """The files remembered for ``folder``, by name."""
    from sqlalchemy import select

    from csp_monitor.state.schedule_tables import dropped_files
    from csp_monitor.state.store import parse_time

    with store.transaction() as connection:
        rows = connection.execute(select(dropped_files).where(dropped_files.c.folder == folder)).mappings().all()
    return {row["name"]: PickedUp(row["folder"], row["name"], int(row["size"]), int(row["mtime_ns"]),
                                  parse_time(row["picked_up_at"]), row["occurrence"]) for row in rows}


def record_pickup(store: StateStore, folder: str, files: Sequence[DroppedFile], occurrence: str, *,
                  now: datetime | None = None) -> None:
    """Remember that ``files`` are the folder's files now, the new and changed ones picked up by ``occurrence``."""
    from csp_monitor.state.store import format_time

    with store.transaction() as connection:
        _replace(connection, folder, files, occurrence, format_time(now or datetime.now(UTC)))


def _replace(connection: Connection, folder: str, files: Sequence[DroppedFile], occurrence: str, stamp: str) -> None:
    """Make the remembered files of ``folder`` exactly ``files``, keeping the rows of unchanged ones."""
    from sqlalchemy import delete, insert, select, update

    from csp_monitor.state.schedule_tables import dropped_files

    table = dropped_files
    rows = {row.name: row for row in connection.execute(
        select(table.c.id, table.c.name, table.c.size, table.c.mtime_ns).where(table.c.folder == folder))}
    names = set()
    for file in files:
        names.add(file.name)
        row = rows.get(file.name)
        if row is None:
            connection.execute(insert(table).values(folder=folder, name=file.name, size=file.size,
                                                    mtime_ns=file.mtime_ns, picked_up_at=stamp,
                                                    occurrence=occurrence))
        elif (int(row.size), int(row.mtime_ns)) != (file.size, file.mtime_ns):
            connection.execute(update(table).where(table.c.id == row.id).values(
                size=file.size, mtime_ns=file.mtime_ns, picked_up_at=stamp, occurrence=occurrence))
    gone = [row.id for name, row in rows.items() if name not in names]
    if gone:
        connection.execute(delete(table).where(table.c.id.in_(gone)))
