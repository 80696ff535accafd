"""The state store: what csp-monitor remembers between runs, in SQLite or any SQLAlchemy database.

A store is a SQLite file by default (a path: WAL journal, foreign keys on,
created on first use) or any SQLAlchemy URL (``postgresql+psycopg://...``) for
councils that run a database server. Open one with :func:`open_store`;
SQLAlchemy is imported only then.

It keeps every evaluation (so "worse than last period" and ``for`` work across
runs and restarts), each alert's lifecycle per (alert, area, measure), every
notice decided (the audit trail, with the rule set's content hash), every
change of an alert's state, and the silences.

Safety
    A file that is not a csp-monitor store, is damaged, or was written by a
    newer csp-monitor raises :class:`~csp_monitor.errors.StateError` with a
    plain message, before anything is written: such a file is never changed.

Transactions: one decision, one transaction
    ``with store.transaction() as connection:`` runs everything inside one
    database transaction: committed together, or (on any exception) not at
    all. :func:`csp_monitor.alerts.decide_and_record` decides inside such a
    transaction, recording the notices due as still to be queued
    (``notifications.queued_at`` empty); the delivery layer queues them into
    the outbox and marks them in one transaction of its own, so a notice is
    queued once, whichever entry point decided it.

Migrations: adding tables of your own
    The schema is versioned per *component* in the ``schema_version`` table
    (component, version), so that components evolve independently and two
    engineers never compete for the same version number. A component is a
    module in this package holding its tables (on the shared
    :data:`csp_monitor.state.schema.metadata`) and an ordered tuple
    ``MIGRATIONS`` of :class:`~csp_monitor.state.migrations.Migration`
    (versions 1, 2, 3 ... in order); it is registered by one line in
    :data:`csp_monitor.state.migrations.COMPONENTS`. For example, the outbox::

        # csp_monitor/state/outbox_tables.py
        outbox = Table("outbox", metadata, Column("id", Integer, primary_key=True), ...)
        MIGRATIONS = (Migration(1, "the outbox", create_tables(outbox)),)

        # csp_monitor/state/migrations.py
        COMPONENTS = {..., "outbox": "csp_monitor.state.outbox_tables:MIGRATIONS"}

    Opening a store applies every pending migration, each in its own
    transaction, in component order then version order. A released migration
    never changes: to change a table, add a migration with the ALTER (and keep
    the Table object in step). A store whose version of a component is higher
    than this code knows, or that has a component this code does not know, is
    refused as "newer".

    The daemon's run ledger and lock are components of their own in the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csp_monitor.arguments import check_path

if TYPE_CHECKING:
    from pathlib import Path

    from csp_monitor.state.store import StateStore

__all__ = ["open_store"]


def open_store(target: str | Path, *, create: bool = True, read_only: bool = False) -> StateStore:
    """Open (and, for a new SQLite file, create) the state store at a path or SQLAlchemy URL.

    ``read_only``: never create, migrate or write it (see :meth:`StateStore.open`).
    """
    from csp_monitor.state.store import StateStore

    check_path(target, argument="target")  # a path or a URL: text or a Path
    return StateStore.open(target, create=create, read_only=read_only)
