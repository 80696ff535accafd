"""The outbox component of the store: every message decided, until the server has taken it.

A row is written in the same transaction as the decision that makes it due,
with the whole message already built (so a resend is byte for byte the same
message, Message-ID included); then it is claimed (``sending``), sent, and
marked ``sent`` with the server's reply, or ``queued`` again with a later
``next_attempt_at`` after a transient failure, or ``failed`` after a
permanent one. Times are UTC text (``2014-04-10T07:00:00Z``).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text

from csp_monitor.state.migrations import Migration, add_columns, create_tables
from csp_monitor.state.schema import metadata

__all__ = ["MIGRATIONS", "OUTBOX_STATUSES", "outbox"]

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "unknown")
"""queued: waiting (perhaps to be retried); sending: claimed by a run; sent: accepted; failed: given up;
unknown: sent, but the server's answer never came, as often as ``resend_unknown`` allows (it may have it)."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),  # what the message is, once per period
    Column("kind", String(16), nullable=False),  # summary or alert
    Column("period", String(7), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("sender", Text, nullable=False),  # the envelope sender (an address)
    Column("recipients", Text, nullable=False),  # JSON list of addresses
    Column("subject", Text, nullable=False),
    Column("notifications", Text, nullable=False),  # JSON list of the notification keys it carries
    Column("message", LargeBinary, nullable=False),  # the message as sent, CRLF line ends
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("next_attempt_at", String(32), nullable=False),
    Column("claimed_by", String(255)),  # host:pid:run of the run sending it
    Column("claimed_at", String(32)),
    Column("sent_at", String(32)),
    Column("reply", Text),  # the server's reply, or where the file was written
    Column("refused", Text),  # JSON {address: reply} of recipients refused
    Column("last_error", Text),
    Column("unknown_attempts", Integer),  # sends whose answer never came after the whole message (none: 0)
    Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
)

MIGRATIONS = (
    Migration(1, "the outbox: messages decided, until sent", create_tables(outbox)),
    Migration(2, "how often a message's fate was unknown after it was sent", add_columns(outbox, "unknown_attempts")),
)
