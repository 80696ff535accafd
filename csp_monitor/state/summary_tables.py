"""The summaries component of the store: the figures each month's risk summary was built from.

One row per summary queued (the first of a month, and each correction):
the partnership, the month, a digest of the figures it showed and, when not
too large, the figures themselves (JSON), and the outbox key of the message.
When a later run finds other figures for a month whose summary was sent, it
sends a correction and lists what changed (see
:mod:`csp_monitor.delivery.run`). Written in the same transaction as the
message is queued, so a summary and its record exist together or not at all.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from csp_monitor.state.migrations import Migration, create_tables
from csp_monitor.state.schema import metadata

__all__ = ["MIGRATIONS", "summary_figures"]

summary_figures = Table(
    "summary_figures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partnership", Text, nullable=False),
    Column("period", String(7), nullable=False),
    Column("digest", String(64), nullable=False),  # sha256 of the figures the summary showed
    Column("figures", Text),  # those figures as JSON [[area, measure, "YYYY-MM", value], ...]; empty when large
    Column("outbox_key", String(64)),  # the message that showed them; empty for a baseline taken afterwards
    Column("recorded_at", String(32), nullable=False),
    Index("ix_summary_figures_period", "period"),
)

MIGRATIONS = (Migration(1, "the figures each risk summary was built from", create_tables(summary_figures)),)
