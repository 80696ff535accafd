"""The drop-folder watcher's memory on PostgreSQL (CSP_MONITOR_TEST_POSTGRES, an SQLAlchemy URL)."""

from __future__ import annotations

from datetime import UTC, datetime

from csp_monitor.load.figure_sources import DroppedFile
from csp_monitor.schedule import pickups
from csp_monitor.state import open_store


def test_files_are_remembered_by_name_size_and_time_on_postgres(postgres_url: str) -> None:
    """A folder's first files are the baseline; a pickup records new and changed files and forgets removed ones."""
    folder = "/srv/partners/" + "drop/" * 150  # a long network path
    now = datetime(2026, 5, 10, 8, 15, tzinfo=UTC)
    may = DroppedFile(1_780_000_000_123_456_789, folder + "may.csv", 5_000_000_000)  # beyond 32-bit integers
    april = DroppedFile(1_770_000_000_000_000_001, folder + "april.csv", 120)
    with open_store(postgres_url) as store:
        assert pickups.watched_since(store, folder) is None
        assert pickups.start_watching(store, folder, [april], now=now) is True
        assert pickups.start_watching(store, folder, [], now=now) is False
        assert pickups.watched_since(store, folder) == now
        assert pickups.picked_up(store, folder)["april.csv"].occurrence == pickups.BASELINE
        pickups.record_pickup(store, folder, [may], "files abc", now=now)
        (found,) = pickups.picked_up(store, folder).values()
        assert (found.name, found.size, found.mtime_ns, found.occurrence) == ("may.csv", may.size, may.mtime_ns,
                                                                             "files abc")
        assert found.same_as(may)
