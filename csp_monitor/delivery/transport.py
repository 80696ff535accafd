"""What every transport does: take one serialised message and say what happened.

A transport raises :class:`~csp_monitor.errors.DeliveryError` when a message
was not accepted, with ``permanent`` set when trying again cannot help (a
5xx reply, every recipient refused) and clear when it might (the server is
down, busy or slow). The outbox decides what to do with either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Receipt", "Transport"]


@dataclass(frozen=True)
class Receipt:
    """A message was accepted: by whom, and what the server said."""

    reply: str
    accepted: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)  # recipients refused for good (5xx)
    deferred: dict[str, str] = field(default_factory=dict)  # recipients to try again later (4xx)


class Transport(Protocol):
    """Sends serialised messages; one instance may send several, then is closed."""

    description: str

    def send(self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> Receipt:
        """Deliver one message or raise DeliveryError."""

    def close(self) -> None:
        """Release the connection, if any."""
