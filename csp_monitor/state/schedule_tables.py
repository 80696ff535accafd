"""The schedule component of the store: the daemon's run ledger and its lock.

``runs`` holds one row per (job, occurrence): a job claims its occurrence
before doing any work, so a second firing of the same occurrence does
nothing (see :mod:`csp_monitor.schedule.ledger`). ``daemon_lock`` holds at
most one row, naming the daemon that runs the schedules on this store and
its heartbeat (see :mod:`csp_monitor.schedule.lock`). ``watched_folders``
and ``dropped_files`` are what the daemon's drop-folder watcher has seen and
picked up: each file by name, size and modification time, so a file is acted
on once, across restarts (see :mod:`csp_monitor.schedule.watch`). Times are
UTC text (``2014-04-10T07:00:00Z``), as everywhere in the store.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from csp_monitor.state.migrations import Migration, add_columns, create_tables
from csp_monitor.state.schema import metadata

__all__ = ["MIGRATIONS", "RUN_OUTCOMES", "daemon_lock", "dropped_files", "runs", "watched_folders"]

RUN_OUTCOMES = ("running", "succeeded", "failed", "interrupted", "skipped")

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(100), nullable=False),
    Column("occurrence", String(100), nullable=False),  # the occurrence's key: one row, one piece of work
    Column("scheduled_at", String(32), nullable=False),
    Column("reason", String(16), nullable=False),  # scheduled, catch-up, manual or new-figures
    Column("run", String(16), nullable=False),  # summary or alerts
    Column("as_of", String(7)),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("outcome", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("detail", Text),
    Column("error", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("next_attempt_at", String(32)),  # a failed run: when it is retried (none: not retried again)
    UniqueConstraint("job_id", "occurrence", name="uq_runs_job_occurrence"),
    Index("ix_runs_outcome", "outcome"),
)

daemon_lock = Table(
    "daemon_lock",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("token", String(64), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("host", String(255), nullable=False),
    Column("host_id", String(512), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("pid_start", String(32), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("heartbeat_at", String(32), nullable=False),
)

watched_folders = Table(
    "watched_folders",
    metadata,
    Column("folder", String(1024), primary_key=True),  # the drop folder's absolute path
    Column("since", String(32), nullable=False),  # when the daemon first looked; files already there are not news
)

dropped_files = Table(
    "dropped_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("folder", String(1024), nullable=False),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("picked_up_at", String(32), nullable=False),
    Column("occurrence", String(100), nullable=False),  # the run ledger's key of the run that picked it up
    UniqueConstraint("folder", "name", name="uq_dropped_files_folder_name"),
)

MIGRATIONS = (
    Migration(1, "the daemon's run ledger and lock", create_tables(runs, daemon_lock)),
    Migration(2, "the files the drop-folder watcher has picked up", create_tables(watched_folders, dropped_files)),
    # Runs that failed before this version are not retried: their months were judged (or skipped) long ago.
    Migration(3, "when a failed run is retried", add_columns(runs, "next_attempt_at")),
)
