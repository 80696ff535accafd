"""Check alert rules against the rule set they belong to, with file:line:col.

A single file can only say whether an alert is well formed; whether its scope
names real measures, priorities and areas, whether its ``notify`` names real
recipient lists, and whether it reaches somebody for every measure it watches
can only be judged once every file of the rule set is combined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from csp_monitor.errors import Problem
from csp_monitor.load.validation import closest
from csp_monitor.models.alerts import OWNER, AlertRule

if TYPE_CHECKING:
    from csp_monitor.load.rules import LoadedRuleFile
    from csp_monitor.models.rules import RuleSet

__all__ = ["check_alert_rules", "unreachable_measures"]

_LISTED_AT_MOST = 6


def unreachable_measures(rules: RuleSet, alert: AlertRule) -> list[str]:
    """The in-scope measures an alert would tell nobody about (it notifies their missing owner only)."""
    if any(name != OWNER and name in rules.recipients for name in alert.notify) or OWNER not in alert.notify:
        return []
    return [measure.id for priority, measure in rules.measures()
            if _could_match(rules, alert, priority.id, measure.id) and rules.owner_for(priority, measure) is None]


def _could_match(rules: RuleSet, alert: AlertRule, priority: str, measure: str) -> bool:
    """Whether the alert watches this measure in some area the rules judge."""
    scope = alert.scope
    if scope is None:
        return True
    if scope.priorities is not None and priority not in scope.priorities:
        return False
    if scope.measures is not None and measure not in scope.measures:
        return False
    return scope.areas is None or rules.area is None or rules.area in scope.areas


def check_alert_rules(rules: RuleSet, files: Sequence[LoadedRuleFile]) -> list[Problem]:
    """Every problem with the alert rules of ``files`` once combined into ``rules``."""
    problems: list[Problem] = []
    measure_ids = [measure.id for _, measure in rules.measures()]
    priority_ids = [priority.id for priority in rules.priorities]
    list_names = list(rules.recipients)
    for file in files:
        positions = file.source.positions
        for index, alert in enumerate(file.model.alerts):
            here = ("alerts", index)
            scope = alert.scope
            if scope is not None:
                for key, known, word in (("measures", measure_ids, "measure"),
                                         ("priorities", priority_ids, "priority")):
                    for item_index, item in enumerate(getattr(scope, key) or []):
                        if item not in known:
                            hint = closest(item, known)
                            listed = f": they have {_listed(known)}" if hint is None and known else ""
                            problems.append(positions.problem(
                                (*here, "scope", key, item_index),
                                f"the alert '{alert.id}' watches the {word} '{item}', which the rules do not "
                                f"have{listed}", suggestion=hint))
                if rules.area is not None:
                    for item_index, item in enumerate(scope.areas or []):
                        if item != rules.area:
                            problems.append(positions.problem(
                                (*here, "scope", "areas", item_index),
                                f"the alert '{alert.id}' watches the area '{item}', but the rules are for "
                                f"'{rules.area}' only", suggestion=closest(item, [rules.area])))
                known_scope = all(m in measure_ids for m in scope.measures or []) and all(
                    p in priority_ids for p in scope.priorities or [])
                if known_scope and not any(_could_match(rules, alert, p.id, m.id) for p, m in rules.measures()):
                    empty = [p.id for p in rules.priorities if p.id in (scope.priorities or []) and not p.measures]
                    reason = (f"the priority '{empty[0]}' has no measures" if len(empty) == 1
                              else "none of its measures belongs to its priorities")
                    problems.append(positions.problem(
                        (*here, "scope"), f"the scope of the alert '{alert.id}' matches no measure: {reason}",
                        key=True))
            for item_index, name in enumerate(alert.notify):
                if name != OWNER and name not in rules.recipients:
                    options = [OWNER, *list_names]
                    lists = (f"the recipients lists are {', '.join(list_names)}" if list_names
                             else "no recipients lists are defined (add a 'recipients:' section)")
                    problems.append(positions.problem(
                        (*here, "notify", item_index),
                        f"the alert '{alert.id}' notifies '{name}', which is neither 'owner' nor a recipients "
                        f"list: {lists}", suggestion=closest(name, options)))
            unreachable = unreachable_measures(rules, alert)
            if unreachable:
                shown = ", ".join(unreachable[:_LISTED_AT_MOST])
                if len(unreachable) > _LISTED_AT_MOST:
                    shown += f" and {len(unreachable) - _LISTED_AT_MOST} more"
                problems.append(positions.problem(
                    (*here, "notify", alert.notify.index(OWNER)),
                    f"the alert '{alert.id}' would tell nobody about {shown}: "
                    f"{'it has' if len(unreachable) == 1 else 'they have'} no owner (on the measure or its "
                    "priority); give an owner, narrow the alert's scope, or add a recipients list to notify"))
    return problems


def _listed(names: Sequence[str]) -> str:
    """``a, b, c`` (the first few only, then ``...``), for a message that names what there is."""
    shown = ", ".join(names[:_LISTED_AT_MOST])
    return shown + (" ..." if len(names) > _LISTED_AT_MOST else "")
