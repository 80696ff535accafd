"""The alert email as data: every notice due for one recipient in one run.

Alert messages come from the rules' message templates, which may quote raw
figures; for a sensitive measure with a small count the message is replaced
by the row's own sentence, which withholds it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.models.decisions import Notification
from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet
from csp_monitor.names import display_name
from csp_monitor.periods import month_name, parse_month
from csp_monitor.render.messages import RenderedEmail, render_email
from csp_monitor.render.summary import MeasureRow, full_stop, measure_row

__all__ = ["AlertEmail", "AlertItem", "build_alert_email", "render_alert_email"]

_KIND_LABELS = {"firing": "New alert", "repeat": "Reminder", "resolved": "Back on track"}
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertItem(_View):
    """One notice in an alert email."""

    key: str = Field(description="The notification's key.")
    alert: str = Field(description="The alert rule's id.")
    description: str | None = Field(description="What the alert rule is for, if the rules say.")
    kind: str = Field(description="firing, repeat or resolved.")
    kind_label: str = Field(description="New alert, Reminder or Back on track.")
    severity: str = Field(description="low, medium or high.")
    area: str = Field(description="The area id.")
    area_name: str = Field(description="The area's name as the board reads it.")
    measure: str = Field(description="The measure id.")
    name: str = Field(description="The measure's name.")
    period: str = Field(description="The reporting period (YYYY-MM).")
    message: str = Field(description="The message (plain text; escaped in HTML).")
    row: MeasureRow | None = Field(description="The measure's figures, when the evaluation has them.")


class AlertEmail(_View):
    """Everything the alert templates show."""

    partnership: str = Field(description="The partnership's name.")
    recipient: str = Field(description="Who this email is for.")
    as_of: str = Field(description="The as-of month, YYYY-MM.")
    as_of_label: str = Field(description="The as-of month in words.")
    items: tuple[AlertItem, ...] = Field(description="The notices, most severe first.")
    sensitive: bool = Field(description="Whether a sensitive measure is included.")
    suppressed: bool = Field(description="Whether a small count was withheld.")
    multiple_areas: bool = Field(description="Whether the notices cover more than one area.")

    @property
    def firing(self) -> list[AlertItem]:
        """New alerts and reminders."""
        return [item for item in self.items if item.kind != "resolved"]

    @property
    def resolved(self) -> list[AlertItem]:
        """Alerts back on track."""
        return [item for item in self.items if item.kind == "resolved"]


def build_alert_email(rules: RuleSet, evaluation: Evaluation, recipient: str,
                      notifications: Sequence[Notification]) -> AlertEmail:
    """The alert email for one recipient."""
    items: list[AlertItem] = []
    sensitive = suppressed = False
    names = rules.area_names()
    for notification in notifications:
        rule = rules.alert(notification.alert)
        result = evaluation.get(notification.area, notification.measure)
        row = measure_row(result) if result is not None else None
        message = full_stop(notification.message)
        if row is not None and row.suppressed:
            message = row.sentence
        if result is not None and result.sensitive:
            sensitive = True
        suppressed = suppressed or bool(row and row.suppressed)
        items.append(AlertItem(
            key=notification.key, alert=notification.alert, description=rule.description if rule else None,
            kind=notification.kind, kind_label=_KIND_LABELS.get(notification.kind, notification.kind),
            severity=rule.severity if rule else "medium", area=notification.area,
            area_name=row.area_name if row else names.get(notification.area) or display_name(notification.area),
            measure=notification.measure,
            name=row.name if row else notification.measure, period=notification.period, message=message, row=row))
    items.sort(key=lambda item: (item.kind == "resolved", _SEVERITY_ORDER.get(item.severity, 3)))
    return AlertEmail(partnership=evaluation.partnership, recipient=recipient, as_of=evaluation.as_of,
                      as_of_label=month_name(parse_month(evaluation.as_of)), items=tuple(items),
                      sensitive=sensitive, suppressed=suppressed,
                      multiple_areas=len({item.area for item in items}) > 1)


def render_alert_email(email: AlertEmail, *, templates: str | os.PathLike[str] | None = None) -> RenderedEmail:
    """Render ``alert.subject.j2``, ``alert.txt.j2`` and ``alert.html.j2``."""
    return render_email("alert", {"alerts": email}, sensitive=email.sensitive, templates=templates)
