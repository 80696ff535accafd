"""The shared SQLAlchemy metadata and the schema_version table every store has.

Each component (``alerts``, and those other layers add) defines its tables on
:data:`metadata`; ``schema_version`` records which version of each component
a store holds.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

__all__ = ["metadata", "schema_version"]

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("component", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", String(32), nullable=False),
)
