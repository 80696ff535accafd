"""The memory of alerts: plain records the state store keeps and the decision reads.

The decision (``csp_monitor.alerts.decide``) is a pure function of an
evaluation, the alert rules and these records; the store
(``csp_monitor.state``) only loads and saves them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.frozen import FrozenDict, FrozenMapping
from csp_monitor.models.decisions import NotificationKind
from csp_monitor.models.results import Status

__all__ = [
    "AlertKey",
    "AlertRecord",
    "AlertTransition",
    "HistoryEntry",
    "PreviousResult",
    "RecordState",
    "RememberedState",
    "Silence",
]

RecordState = Literal["pending", "firing", "resolved", "silenced", "cleared"]
"""An alert's state as remembered: the reported states, and cleared."""

AlertKey = tuple[str, str, str]
"""(alert id, area, measure): one alert's lifecycle is kept per measure per area."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertRecord(_Record):
    """The lifecycle of one alert for one measure in one area."""

    alert: str = Field(description="The alert rule's id.")
    area: str = Field(description="The area.")
    measure: str = Field(description="The measure's id.")
    state: RecordState = Field(
        description="pending, firing, resolved or silenced; cleared: pending once, then no longer (not reported).")
    since: str = Field(description="The period (YYYY-MM) the alert entered its state.")
    consecutive: int = Field(
        ge=0, description="Periods in a row the condition has held (a period with no data neither counts nor breaks).")
    last_period: str = Field(description="The last period decided for this alert.")
    firing_since: str | None = Field(default=None, description="The period the current or last firing began.")
    last_notified_period: str | None = Field(default=None, description="The period of the last notice.")
    last_notified_at: datetime | None = Field(default=None, description="When the last notice was decided.")
    recipients: tuple[str, ...] = Field(default=(), description="Who the last notice went (or would go) to.")
    no_data_since: str | None = Field(
        default=None, description="The first period in a row whose figures could not say whether the condition holds.")
    message: str = Field(default="", description="The latest message: why the alert is in its state.")
    severity: str = Field(default="medium", description="The alert's severity when last decided.")
    rule_hash: str = Field(default="", description="The content hash of the rule set that last decided it.")
    previous: AlertRecord | None = Field(
        default=None,
        description="The record as it was before last_period was decided, so that a period can be decided again.")

    @property
    def key(self) -> AlertKey:
        """(alert, area, measure)."""
        return (self.alert, self.area, self.measure)

    @property
    def active(self) -> bool:
        """Whether the condition held at the last period decided (pending, firing or silenced)."""
        return self.state in ("pending", "firing", "silenced")


class PreviousResult(_Record):
    """The previous evaluation of a measure in an area, as the store recorded it."""

    as_of: str = Field(description="The as-of month of that evaluation.")
    status: Status = Field(description="Its status.")


class Silence(_Record):
    """A silence (or acknowledgement): matching alerts are still recorded, only not notified."""

    id: int = Field(description="The silence's number.")
    alert: str | None = Field(default=None, description="Only this alert id (any when not given).")
    area: str | None = Field(default=None, description="Only this area (any when not given).")
    measure: str | None = Field(default=None, description="Only this measure (any when not given).")
    author: str = Field(description="Who added it.")
    reason: str = Field(description="Why.")
    created_at: datetime = Field(description="When it was added (UTC).")
    expires_at: datetime = Field(description="When it ends by itself (UTC).")
    expired_at: datetime | None = Field(default=None, description="When it was ended early, if it was.")
    expired_by: str | None = Field(default=None, description="Who ended it early.")

    def matches(self, alert: str, area: str, measure: str) -> bool:
        """Whether this silence covers the alert for this area and measure."""
        return ((self.alert is None or self.alert == alert) and (self.area is None or self.area == area)
                and (self.measure is None or self.measure == measure))

    def active_at(self, now: datetime) -> bool:
        """Whether the silence is in force at ``now``."""
        ended = self.expires_at if self.expired_at is None else min(self.expires_at, self.expired_at)
        return self.created_at <= now < ended

    def describe(self) -> str:
        """``alert off-target, area harborough`` (what it matches)."""
        parts = [f"{name} {value}" for name, value in (("alert", self.alert), ("area", self.area),
                                                        ("measure", self.measure)) if value is not None]
        return ", ".join(parts) or "everything"


class AlertTransition(_Record):
    """One change of an alert's state, for the audit trail."""

    alert: str = Field(description="The alert rule's id.")
    area: str = Field(description="The area.")
    measure: str = Field(description="The measure's id.")
    period: str = Field(description="The period decided.")
    from_state: str | None = Field(description="The state before (none for a new alert).")
    to_state: str = Field(description="The state after: pending, firing, resolved, silenced or cleared.")
    notification: NotificationKind | None = Field(default=None, description="The notice this change made due.")
    message: str = Field(default="", description="The message at the time.")


class HistoryEntry(_Record):
    """One line of the audit trail: a notice decided, an alert's state changed, a silence added or ended."""

    at: datetime = Field(description="When it happened (UTC).")
    event: str = Field(description="notified, changed, silence-added or silence-expired.")
    alert: str | None = Field(default=None, description="The alert rule's id.")
    area: str | None = Field(default=None, description="The area.")
    measure: str | None = Field(default=None, description="The measure's id.")
    period: str | None = Field(default=None, description="The period decided.")
    detail: str = Field(description="What happened, in a few words.")
    recipients: tuple[str, ...] = Field(default=(), description="Who the notice is for.")
    delivery: FrozenMapping[str, str] = Field(
        default_factory=FrozenDict,
        description="For a notice: where each recipient's email is, by address: queued (not delivered yet), "
                    "sending, sent (the mail server took it) or failed (given up). Empty when no email was "
                    "queued for it (decided with 'csp-monitor decide', which sends nothing).")
    by: str | None = Field(default=None, description="Who did it (silences).")
    rule_hash: str | None = Field(default=None, description="The content hash of the rule set that decided it.")


@dataclass(frozen=True)
class RememberedState:
    """What the store remembers, as plain data: the decision's only view of the past."""

    records: Mapping[AlertKey, AlertRecord] = field(default_factory=dict)
    previous_results: Mapping[tuple[str, str], PreviousResult] = field(default_factory=dict)
    notified_keys: frozenset[str] = frozenset()
    silences: Sequence[Silence] = ()
