"""What alert rules would make due, worked out without touching any state store.

Rule tests, diffs and backtests ask the same question as the daemon: which
notifications would go out, and to whom? They answer it with the daemon's own
pure decision (``csp_monitor.alerts.decide``), but with an in-memory memory
that starts empty and, in a backtest, is carried from month to month: never
the user's real store.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet
from csp_monitor.periods import parse_month

__all__ = ["AlertMemory", "DueNotification", "alert_ids", "alerts_available", "notifications_due"]


@dataclass(frozen=True)
class DueNotification:
    """One notification that would be sent: which alert, about what, to whom, saying what."""

    alert: str
    area: str
    measure: str
    kind: str
    recipients: tuple[str, ...]
    message: str


def alerts_available() -> bool:
    """Whether this install can decide alerts."""
    try:
        return importlib.util.find_spec("csp_monitor.alerts.decide") is not None
    except ModuleNotFoundError:  # pragma: no cover - the alerts package itself is missing
        return False


def _decide_module() -> ModuleType:
    return importlib.import_module("csp_monitor.alerts.decide")


def alert_ids(rules: RuleSet) -> list[str]:
    """The ids of the rule set's alert rules, in order."""
    return [alert.id for alert in rules.alerts]


@dataclass
class AlertMemory:
    """An in-memory stand-in for the state store: what has fired, been told, and each last status."""

    remembered: Any = None  # csp_monitor.alerts.decide.RememberedState
    warnings: list[str] = field(default_factory=list)

    def state(self) -> Any:
        """What the decision may know of the past (nothing, the first time)."""
        if self.remembered is None:
            self.remembered = _decide_module().RememberedState()
        return self.remembered

    def remember(self, plan: Any, evaluation: Evaluation) -> None:
        """Keep what a decision would have written to the store, for the next month."""
        from csp_monitor.models.alert_state import PreviousResult

        before = self.state()
        records = dict(before.records)
        for key in plan.removed:
            records.pop(key, None)
        for record in plan.records:
            records[record.key] = record
        previous = dict(before.previous_results)
        for result in evaluation.results:
            previous[(result.area, result.measure)] = PreviousResult(as_of=evaluation.as_of, status=result.status)
        notified = before.notified_keys | {notice.key for notice in plan.decision.notifications}
        self.remembered = _decide_module().RememberedState(records=records, previous_results=previous,
                                                           notified_keys=notified)


def decision_time(as_of: str) -> datetime:
    """A fixed moment to decide a month at: the start of the month after it (UTC), never the clock."""
    following = parse_month(as_of) + 1
    return datetime(following // 12, following % 12 + 1, 1, tzinfo=UTC)


def notifications_due(rules: RuleSet, evaluation: Evaluation, memory: AlertMemory | None = None
                      ) -> list[DueNotification]:
    """The notifications due for an evaluation: with no earlier history, or after ``memory``'s months."""
    memory = memory if memory is not None else AlertMemory()
    plan = _decide_module().decide(evaluation, rules, memory.state(), now=decision_time(evaluation.as_of))
    memory.remember(plan, evaluation)
    memory.warnings.extend(plan.decision.warnings)
    return [DueNotification(alert=notice.alert, area=notice.area, measure=notice.measure, kind=notice.kind,
                            recipients=tuple(notice.recipients), message=notice.message)
            for notice in plan.decision.notifications]
