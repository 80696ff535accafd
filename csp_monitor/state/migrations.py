"""Ordered schema migrations, versioned per component.

See the ``csp_monitor.state`` docstring for how to add a component of your own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

__all__ = ["COMPONENTS", "Migration", "add_columns", "create_tables", "load_migrations"]

# component -> "module:attribute" of its MIGRATIONS tuple, imported when a store opens.
COMPONENTS: dict[str, str] = {
    "alerts": "csp_monitor.state.alert_tables:MIGRATIONS",
    "outbox": "csp_monitor.state.outbox_tables:MIGRATIONS",
    "schedule": "csp_monitor.state.schedule_tables:MIGRATIONS",
    "summaries": "csp_monitor.state.summary_tables:MIGRATIONS",
}


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema: version N turns version N-1 into N."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def create_tables(*tables: Table) -> Callable[[Connection], None]:
    """A migration step that creates these tables (and their indexes)."""

    def apply(connection: Connection) -> None:
        for table in tables:
            table.create(connection)

    return apply


def add_columns(table: Table, *names: str, then: Callable[[Connection], None] | None = None
                ) -> Callable[[Connection], None]:
    """A migration step that adds these columns of ``table`` (as the Table object defines them), then runs ``then``.

    A store created by this version already has them (``create_tables`` builds
    the table as it is now), so a column already there is left alone.
    """

    def apply(connection: Connection) -> None:
        from sqlalchemy import inspect
        from sqlalchemy.schema import CreateColumn

        present = {column["name"] for column in inspect(connection).get_columns(table.name)}
        for name in names:
            if name in present:
                continue
            definition = CreateColumn(table.c[name]).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {definition}")
        if then is not None:
            then(connection)

    return apply


def load_migrations() -> dict[str, Sequence[Migration]]:
    """Every registered component's migrations, checked to be numbered 1, 2, 3 ... in order."""
    found: dict[str, Sequence[Migration]] = {}
    for component, target in COMPONENTS.items():
        module_name, attribute = target.split(":")
        migrations: Sequence[Migration] = getattr(importlib.import_module(module_name), attribute)
        numbers = [migration.version for migration in migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise RuntimeError(f"the migrations of '{component}' must be numbered 1, 2, 3 ..., not {numbers}")
        found[component] = migrations
    return found
