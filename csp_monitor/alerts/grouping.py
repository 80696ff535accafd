"""Group the notices of one run by recipient: each person gets one message per run."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.models.decisions import Notification

__all__ = ["RecipientBatch", "group_by_recipient"]


class RecipientBatch(BaseModel):
    """Every notice for one recipient in one run, to be sent as one message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recipient: str = Field(description="The email address.")
    notifications: tuple[Notification, ...] = Field(description="The notices for them, in decision order.")

    @property
    def keys(self) -> tuple[str, ...]:
        """The notification keys the message carries (for its Message-ID and the outbox)."""
        return tuple(notification.key for notification in self.notifications)


def group_by_recipient(notifications: Iterable[Notification]) -> list[RecipientBatch]:
    """One batch per recipient (compared without regard to case), ordered by address."""
    batches: dict[str, tuple[str, list[Notification]]] = {}
    for notification in notifications:
        for recipient in notification.recipients:
            folded = recipient.strip().lower()
            if folded not in batches:
                batches[folded] = (recipient.strip(), [])
            batches[folded][1].append(notification)
    return [RecipientBatch(recipient=batches[folded][0], notifications=tuple(batches[folded][1]))
            for folded in sorted(batches)]
