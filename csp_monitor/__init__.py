"""csp-monitor: performance targets, sound statistics and alerts for Community Safety Partnerships.

The public API is what this module exports (see ``__all__``); everything else
is internal. Names are imported on first use, so ``import csp_monitor`` (and
``csp-monitor --help``) stays fast.

    >>> from csp_monitor import load_rules, load_figures, evaluate
    >>> rules = load_rules("rules/harborough-2013-14.yaml")
    >>> figures = load_figures("examples/harborough/figures.csv")
    >>> evaluation = evaluate(rules, figures, "2014-03")
    >>> evaluation.get("harborough", "domestic-burglary").status
    'red'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "ConfigError": "csp_monitor.errors",
    "CspMonitorError": "csp_monitor.errors",
    "Decision": "csp_monitor.alerts",
    "DeliveryError": "csp_monitor.errors",
    "Evaluation": "csp_monitor.models.results",
    "Figure": "csp_monitor.models.figures",
    "FigureSet": "csp_monitor.models.figures",
    "FiguresError": "csp_monitor.errors",
    "InputError": "csp_monitor.errors",
    "Measure": "csp_monitor.models.rules",
    "MissingExtraError": "csp_monitor.errors",
    "MeasureResult": "csp_monitor.models.results",
    "MonitorConfig": "csp_monitor.models.config",
    "Notification": "csp_monitor.alerts",
    "Priority": "csp_monitor.models.rules",
    "Problem": "csp_monitor.errors",
    "RuleFile": "csp_monitor.models.rules",
    "RuleSet": "csp_monitor.models.rules",
    "RulesError": "csp_monitor.errors",
    "SendReport": "csp_monitor.delivery.run",
    "StateError": "csp_monitor.errors",
    "Target": "csp_monitor.models.rules",
    "TemplateError": "csp_monitor.errors",
    "evaluate": "csp_monitor.evaluation.engine",
    "evaluate_and_decide": "csp_monitor.alerts",
    "import_police_uk": "csp_monitor.importers.police_uk",
    "load_config": "csp_monitor.load.config",
    "load_figures": "csp_monitor.load.figures",
    "load_rules": "csp_monitor.load.rules",
    "open_store": "csp_monitor.alerts",
    "rules_from_text": "csp_monitor.load.rules",
    "send_once": "csp_monitor.delivery.run",
}

__all__ = [
    "ConfigError",
    "CspMonitorError",
    "Decision",
    "DeliveryError",
    "Evaluation",
    "Figure",
    "FigureSet",
    "FiguresError",
    "InputError",
    "Measure",
    "MeasureResult",
    "MissingExtraError",
    "MonitorConfig",
    "Notification",
    "Priority",
    "Problem",
    "RuleFile",
    "RuleSet",
    "RulesError",
    "SendReport",
    "StateError",
    "Target",
    "TemplateError",
    "__version__",
    "evaluate",
    "evaluate_and_decide",
    "import_police_uk",
    "load_config",
    "load_figures",
    "load_rules",
    "open_store",
    "rules_from_text",
    "send_once",
]

if TYPE_CHECKING:
    from csp_monitor.alerts import (
        Decision,
        Notification,
        evaluate_and_decide,
        open_store,
    )
    from csp_monitor.delivery.run import SendReport, send_once
    from csp_monitor.errors import (
        ConfigError,
        CspMonitorError,
        DeliveryError,
        FiguresError,
        InputError,
        MissingExtraError,
        Problem,
        RulesError,
        StateError,
        TemplateError,
    )
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.importers.police_uk import import_police_uk
    from csp_monitor.load.config import load_config
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import load_rules, rules_from_text
    from csp_monitor.models.config import MonitorConfig
    from csp_monitor.models.figures import Figure, FigureSet
    from csp_monitor.models.results import Evaluation, MeasureResult
    from csp_monitor.models.rules import (
        Measure,
        Priority,
        RuleFile,
        RuleSet,
        Target,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'csp_monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
