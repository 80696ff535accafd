"""What deciding alerts produces: the notifications now due and the state of every alert.

These are the public, typed results of :func:`csp_monitor.alerts.decide_alerts`
and the JSON that ``csp-monitor decide --format json`` prints.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AlertState", "AlertStatus", "Decision", "Notification", "NotificationKind"]

AlertState = Literal["pending", "firing", "resolved", "silenced"]
"""pending: the condition holds but not yet for long enough; firing: it has held long enough;
resolved: it held, and now does not; silenced: firing, but a silence stops anyone being told."""

NotificationKind = Literal["firing", "repeat", "resolved"]
"""firing: the first notice; repeat: a reminder while still firing; resolved: back on track."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Notification(_Result):
    """One notice due: an alert for one measure in one area, for one reporting period."""

    key: str = Field(
        description=(
            "A stable identity (SHA-256 of alert, area, measure, period and kind): the same notice always has "
            "the same key, so it is never recorded or sent twice."))
    alert: str = Field(description="The alert rule's id.")
    kind: NotificationKind = Field(description="firing, repeat (a reminder) or resolved (back on track).")
    area: str = Field(description="The area.")
    measure: str = Field(description="The measure's id.")
    period: str = Field(description="The reporting period (as-of month, YYYY-MM) the notice is for.")
    recipients: tuple[str, ...] = Field(description="The email addresses to tell, in order, without repeats.")
    message: str = Field(description="The plain-text message, from the alert's message template.")


class AlertStatus(_Result):
    """Where one alert stands for one measure in one area after the decision."""

    alert: str = Field(description="The alert rule's id.")
    area: str = Field(description="The area.")
    measure: str = Field(description="The measure's id.")
    state: AlertState = Field(description="pending, firing, resolved or silenced.")
    since: str = Field(description="The reporting period (YYYY-MM) the alert entered this state.")


class Decision(_Result):
    """The outcome of deciding alerts for one as-of month."""

    as_of: str = Field(description="The as-of month decided (YYYY-MM).")
    notifications: tuple[Notification, ...] = Field(
        description="The notices now due, new in this decision; empty when the month was already decided.")
    alerts: tuple[AlertStatus, ...] = Field(
        description="Every alert that is pending, firing or silenced, or resolved in this month.")
    warnings: tuple[str, ...] = Field(
        default=(), description="Things worth knowing that are not errors (the CLI prints them on stderr too).")

    def by_state(self, state: AlertState) -> list[AlertStatus]:
        """The alerts in one state."""
        return [alert for alert in self.alerts if alert.state == state]
