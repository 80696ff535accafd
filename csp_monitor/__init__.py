"""csp-monitor: performance targets, sound statistics and alerts for Community Safety Partnerships.

The public API is what this module exports (see ``__all__``); everything else
is internal. Names are imported on first use, so ``import csp_monitor`` (and
``csp-monitor --help``) stays fast.

    >>> from csp_monitor import load_rules, load_figures, evaluate
    >>> rules = load_rules("rules/harborough-2013-14.yaml")
    >>> figures = load_figures("examples/harborough/figures.csv")
    >>> evaluation = evaluate(rules, figures, as_of="2014-03")
    >>> evaluation.get("harborough", "domestic-burglary").status
    'red'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AlertRecord": "csp_monitor.models.alert_state",
    "AlertRule": "csp_monitor.models.alerts",
    "AlertState": "csp_monitor.models.decisions",
    "AlertStatus": "csp_monitor.models.decisions",
    "AlertTransition": "csp_monitor.models.alert_state",
    "AreaLookup": "csp_monitor.importers.areas",
    "ArgumentError": "csp_monitor.errors",
    "Attempt": "csp_monitor.delivery.outbox",
    "CheckStep": "csp_monitor.schedule.setup_check",
    "Condition": "csp_monitor.models.alerts",
    "ConfigError": "csp_monitor.errors",
    "CspMonitorError": "csp_monitor.errors",
    "Decision": "csp_monitor.alerts",
    "DeliveryError": "csp_monitor.errors",
    "DeliverySettings": "csp_monitor.models.config",
    "Direction": "csp_monitor.models.results",
    "DropFolder": "csp_monitor.models.figure_sources",
    "Evaluation": "csp_monitor.models.results",
    "Figure": "csp_monitor.models.figures",
    "FigureRow": "csp_monitor.importers.figures_csv",
    "FigureSet": "csp_monitor.models.figures",
    "FiguresError": "csp_monitor.errors",
    "FiguresShown": "csp_monitor.delivery.run",
    "HistoryEntry": "csp_monitor.models.alert_state",
    "InputError": "csp_monitor.errors",
    "Measure": "csp_monitor.models.rules",
    "MeasureResult": "csp_monitor.models.results",
    "MessagePlan": "csp_monitor.delivery.run",
    "MissingExtraError": "csp_monitor.errors",
    "MonitorConfig": "csp_monitor.models.config",
    "Notification": "csp_monitor.alerts",
    "NotificationKind": "csp_monitor.models.decisions",
    "OutboxMessage": "csp_monitor.delivery.outbox",
    "OutputError": "csp_monitor.errors",
    "PeerComparison": "csp_monitor.statistics.peers",
    "PeerRules": "csp_monitor.models.statistics",
    "PeerSettings": "csp_monitor.statistics.peers",
    "PlannedMessage": "csp_monitor.delivery.run",
    "PoliceUkArchives": "csp_monitor.models.figure_sources",
    "PoliceUkImport": "csp_monitor.importers.police_uk",
    "PreviousResult": "csp_monitor.models.alert_state",
    "Priority": "csp_monitor.models.rules",
    "Problem": "csp_monitor.errors",
    "QualityFinding": "csp_monitor.importers.quality",
    "RecipientBatch": "csp_monitor.alerts",
    "RememberedState": "csp_monitor.models.alert_state",
    "RetrySettings": "csp_monitor.models.config",
    "RuleFile": "csp_monitor.models.rules",
    "RuleSet": "csp_monitor.models.rules",
    "RulesError": "csp_monitor.errors",
    "RunRetrySettings": "csp_monitor.models.schedule",
    "Schedule": "csp_monitor.models.schedule",
    "Scope": "csp_monitor.models.alerts",
    "SendReport": "csp_monitor.delivery.run",
    "SetupCheck": "csp_monitor.schedule.setup_check",
    "Significance": "csp_monitor.statistics.significance",
    "Silence": "csp_monitor.models.alert_state",
    "SmtpSettings": "csp_monitor.models.config",
    "SpcGroup": "csp_monitor.statistics.spc",
    "SpcPoint": "csp_monitor.statistics.spc",
    "SpcResult": "csp_monitor.statistics.spc",
    "SpcRules": "csp_monitor.models.statistics",
    "SpcSettings": "csp_monitor.statistics.spc",
    "SpecialCause": "csp_monitor.statistics.spc",
    "StateError": "csp_monitor.errors",
    "StateStore": "csp_monitor.state.store",
    "StatisticsRules": "csp_monitor.models.statistics",
    "Status": "csp_monitor.models.results",
    "SummarySettings": "csp_monitor.models.config",
    "SuspectFigures": "csp_monitor.models.results",
    "Target": "csp_monitor.models.rules",
    "TargetSummary": "csp_monitor.models.results",
    "TemplateError": "csp_monitor.errors",
    "Threshold": "csp_monitor.models.alerts",
    "YearEndProjection": "csp_monitor.models.results",
    "check_setup": "csp_monitor.schedule.setup_check",
    "config_from_data": "csp_monitor.load.config",
    "evaluate": "csp_monitor.evaluation.engine",
    "decide_and_record": "csp_monitor.alerts",
    "evaluate_and_decide": "csp_monitor.alerts",
    "group_by_recipient": "csp_monitor.alerts",
    "import_police_uk": "csp_monitor.importers.police_uk",
    "load_config": "csp_monitor.load.config",
    "load_figures": "csp_monitor.load.figures",
    "load_rules": "csp_monitor.load.rules",
    "open_store": "csp_monitor.alerts",
    "plan_messages": "csp_monitor.delivery.run",
    "render_report": "csp_monitor.render.report",
    "rules_from_data": "csp_monitor.load.rules",
    "rules_from_text": "csp_monitor.load.rules",
    "rules_from_texts": "csp_monitor.load.rules",
    "send_once": "csp_monitor.delivery.run",
}

__all__ = [
    "AlertRecord",
    "AlertRule",
    "AlertState",
    "AlertStatus",
    "AlertTransition",
    "AreaLookup",
    "ArgumentError",
    "Attempt",
    "CheckStep",
    "Condition",
    "ConfigError",
    "CspMonitorError",
    "Decision",
    "DeliveryError",
    "DeliverySettings",
    "Direction",
    "DropFolder",
    "Evaluation",
    "Figure",
    "FigureRow",
    "FigureSet",
    "FiguresError",
    "FiguresShown",
    "HistoryEntry",
    "InputError",
    "Measure",
    "MeasureResult",
    "MessagePlan",
    "MissingExtraError",
    "MonitorConfig",
    "Notification",
    "NotificationKind",
    "OutboxMessage",
    "OutputError",
    "PeerComparison",
    "PeerRules",
    "PeerSettings",
    "PlannedMessage",
    "PoliceUkArchives",
    "PoliceUkImport",
    "PreviousResult",
    "Priority",
    "Problem",
    "QualityFinding",
    "RecipientBatch",
    "RememberedState",
    "RetrySettings",
    "RuleFile",
    "RuleSet",
    "RulesError",
    "RunRetrySettings",
    "Schedule",
    "Scope",
    "SendReport",
    "SetupCheck",
    "Significance",
    "Silence",
    "SmtpSettings",
    "SpcGroup",
    "SpcPoint",
    "SpcResult",
    "SpcRules",
    "SpcSettings",
    "SpecialCause",
    "StateError",
    "StateStore",
    "StatisticsRules",
    "Status",
    "SummarySettings",
    "SuspectFigures",
    "Target",
    "TargetSummary",
    "TemplateError",
    "Threshold",
    "YearEndProjection",
    "__version__",
    "check_setup",
    "config_from_data",
    "decide_and_record",
    "evaluate",
    "evaluate_and_decide",
    "group_by_recipient",
    "import_police_uk",
    "load_config",
    "load_figures",
    "load_rules",
    "open_store",
    "plan_messages",
    "render_report",
    "rules_from_data",
    "rules_from_text",
    "rules_from_texts",
    "send_once",
]

if TYPE_CHECKING:
    from csp_monitor.alerts import (
        Decision,
        Notification,
        RecipientBatch,
        decide_and_record,
        evaluate_and_decide,
        group_by_recipient,
        open_store,
    )
    from csp_monitor.delivery.outbox import Attempt, OutboxMessage
    from csp_monitor.delivery.run import (
        FiguresShown,
        MessagePlan,
        PlannedMessage,
        SendReport,
        plan_messages,
        send_once,
    )
    from csp_monitor.errors import (
        ArgumentError,
        ConfigError,
        CspMonitorError,
        DeliveryError,
        FiguresError,
        InputError,
        MissingExtraError,
        OutputError,
        Problem,
        RulesError,
        StateError,
        TemplateError,
    )
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.importers.areas import AreaLookup
    from csp_monitor.importers.figures_csv import FigureRow
    from csp_monitor.importers.police_uk import PoliceUkImport, import_police_uk
    from csp_monitor.importers.quality import QualityFinding
    from csp_monitor.load.config import config_from_data, load_config
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import (
        load_rules,
        rules_from_data,
        rules_from_text,
        rules_from_texts,
    )
    from csp_monitor.models.alert_state import (
        AlertRecord,
        AlertTransition,
        HistoryEntry,
        PreviousResult,
        RememberedState,
        Silence,
    )
    from csp_monitor.models.alerts import AlertRule, Condition, Scope, Threshold
    from csp_monitor.models.config import (
        DeliverySettings,
        MonitorConfig,
        RetrySettings,
        SmtpSettings,
        SummarySettings,
    )
    from csp_monitor.models.decisions import AlertState, AlertStatus, NotificationKind
    from csp_monitor.models.figure_sources import DropFolder, PoliceUkArchives
    from csp_monitor.models.figures import Figure, FigureSet
    from csp_monitor.models.results import (
        Direction,
        Evaluation,
        MeasureResult,
        Status,
        SuspectFigures,
        TargetSummary,
        YearEndProjection,
    )
    from csp_monitor.models.rules import Measure, Priority, RuleFile, RuleSet, Target
    from csp_monitor.models.schedule import RunRetrySettings, Schedule
    from csp_monitor.models.statistics import PeerRules, SpcRules, StatisticsRules
    from csp_monitor.render.report import render_report
    from csp_monitor.schedule.setup_check import CheckStep, SetupCheck, check_setup
    from csp_monitor.state.store import StateStore
    from csp_monitor.statistics.peers import PeerComparison, PeerSettings
    from csp_monitor.statistics.significance import Significance
    from csp_monitor.statistics.spc import SpcGroup, SpcPoint, SpcResult, SpcSettings, SpecialCause

    __version__: str


def _public(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _installed_version()
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'csp_monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if not TYPE_CHECKING:  # hidden from type checkers: a name missing above is an error, not an untyped Any
    __getattr__ = _public


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _installed_version() -> str:
    """The version pip installed (the package metadata), so it cannot drift from pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("csp-monitor")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
