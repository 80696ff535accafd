"""Rules in plain English, for a partnership board to read and sign off.

Every target becomes one sentence a board member can check against the
partnership plan: what must happen, compared with what, when it turns amber,
and who answers for it. Every alert says when it fires, about which measures,
whom it tells and how often.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from csp_monitor.evaluation.wording import format_number
from csp_monitor.models.alerts import OWNER, AlertRule, Condition, Threshold
from csp_monitor.models.rules import Measure, Priority, RuleSet, Target
from csp_monitor.models.statistics import StatisticsRules
from csp_monitor.names import display_name
from csp_monitor.periods import month_name, parse_month, reporting_year_label

__all__ = ["explain_alert", "explain_measure", "explain_rules", "explain_target"]

_SIGNIFICANCE = {
    "significant_increase": "a significant increase",
    "significant_decrease": "a significant decrease",
    "no_significant_change": "no significant change",
}
_VARIATION = {
    "common_cause": "common-cause variation only",
    "special_cause_improvement": "special-cause variation that is an improvement",
    "special_cause_concern": "special-cause variation that is a concern",
    "special_cause_neutral": "special-cause variation (neither better nor worse)",
}
_ASSURANCE = {
    "consistently_passing": "will consistently pass its target",
    "consistently_failing": "will consistently fail its target",
    "hit_and_miss": "will hit and miss its target",
}
_STATUS = {"green": "green", "amber": "amber", "red": "red", "no_target": "monitored without a target",
           "no_data": "without data"}


def _percent(value: float) -> str:
    return f"{abs(value):g}%"


def _points(value: float) -> str:
    return f"{value:g} point{'' if value == 1 else 's'}"


def _either(words: Sequence[str]) -> str:
    """``red``; ``amber or red``; ``green, amber or red``."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def _and(words: Sequence[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def explain_target(target: Target, measure: Measure, tolerance: float | None) -> str:
    """``reduce by 13% compared with the same months last year; amber if the reduction misses by up to 5 points``."""
    unit = measure.unit
    if target.kind == "change":
        value = target.value
        compared = "compared with the same months last year"
        if measure.better == "lower":
            if value < 0:
                aim, shortfall = f"reduce by {_percent(value)} {compared}", "the reduction misses"
            elif value > 0:
                aim, shortfall = f"rise by no more than {_percent(value)} {compared}", "the rise is bigger"
            else:
                aim, shortfall = f"no rise {compared}", "the rise is"
        elif value > 0:
            aim, shortfall = f"increase by {_percent(value)} {compared}", "the increase falls short"
        elif value < 0:
            aim, shortfall = f"fall by no more than {_percent(value)} {compared}", "the fall is bigger"
        else:
            aim, shortfall = f"no fall {compared}", "the fall is"
        if tolerance:
            return f"{aim}; amber if {shortfall} by up to {_points(tolerance)}"
        return f"{aim}; red as soon as the target is missed (no amber band)"
    level = format_number(target.value, unit)
    if target.kind == "at_least":
        aim = f"at least {level}"
        band = (f"amber down to {format_number(target.value - tolerance, unit)}" if tolerance
                else "red as soon as it is below (no amber band)")
    else:
        aim = f"at most {level}"
        band = (f"amber up to {format_number(target.value + tolerance, unit)}" if tolerance
                else "red as soon as it is above (no amber band)")
    return f"{aim}; {band}"


def _judged_on(measure: Measure) -> str | None:
    if measure.aggregate == "latest":
        return "judged on the latest month's figure"
    if measure.aggregate == "mean":
        return "judged on the average of the months so far this year"
    return None


def explain_measure(rules: RuleSet, priority: Priority, measure: Measure) -> str:
    """One sentence: the measure, its target (or that it is monitored), its amber band and its owner."""
    parts: list[str] = []
    tolerance = rules.tolerance_for(priority, measure)
    if measure.target is not None:
        parts.append(explain_target(measure.target, measure, tolerance))
    else:
        direction = "lower" if measure.better == "lower" else "higher"
        parts.append(f"monitored without a target ({direction} is better)")
    judged = _judged_on(measure)
    if judged:
        parts.append(judged)
    if measure.source is not None:
        parts.append(f"read from the figures as '{measure.source}'")
    if measure.sensitive:
        parts.append("counts under 5 are not shown in summaries")
    if measure.statistics is not None:
        own = _statistics_phrases(rules.statistics_for(measure), set(measure.statistics.model_fields_set))
        if own:
            parts.append(f"its own statistics: {', '.join(own)}")
    owner = rules.owner_for(priority, measure)
    parts.append(f"the owner is {owner}" if owner else "no owner is named")
    return f"{measure.name}: {'; '.join(parts)}."


def _percent_level(level: float) -> str:
    return f"{level * 100:g}%"


def _statistics_phrases(settings: StatisticsRules, keys: set[str] | None = None) -> list[str]:
    """Each statistics setting in words; only ``keys`` when given (a measure's own overrides)."""
    phrases = []
    wanted = keys if keys is not None else {"confidence", "significance", "projection", "spc", "peers"}
    if "significance" in wanted or "confidence" in wanted:
        phrases.append(f"a change against last year is called significant at {_percent_level(settings.confidence)} "
                       "confidence" if settings.significance else "no significance test")
    if "projection" in wanted:
        phrases.append("the year end is projected" if settings.projection else "no year-end projection")
    if "spc" in wanted:
        spc = settings.spc
        if not spc.enabled:
            phrases.append("no control chart")
        else:
            base = (f"limits fixed on the first {spc.baseline_points} months of figures" if spc.baseline_points
                    else "limits from every month")
            phrases.append(f"a monthly control chart ({base})")
    if "peers" in wanted:
        peers = settings.peers
        if peers is None or not peers.groups:
            phrases.append("no comparison with most similar groups")
        else:
            unit = "standard deviation" if peers.standard_deviations == 1 else "standard deviations"
            method = ("within funnel-plot limits" if peers.method == "funnel"
                      else f"within {peers.standard_deviations:g} {unit} of the group average")
            phrases.append(f"compared with the most similar group ({_and(sorted(peers.groups))}): in line when "
                           f"{method}")
    return phrases


def _threshold(what: str, threshold: Threshold, suffix: str = "") -> str:
    bounds = []
    if threshold.above is not None:
        bounds.append(f"above {threshold.above:g}{suffix}")
    if threshold.below is not None:
        bounds.append(f"below {threshold.below:g}{suffix}")
    return f"{what} is {' or '.join(bounds)}"


def _condition(condition: Condition) -> str:
    parts: list[str] = []
    if condition.status is not None:
        parts.append(f"the status is {_either([_STATUS[s] for s in condition.status])}")
    if condition.worse_than_previous is not None:
        parts.append("the status is worse than at the previous evaluation" if condition.worse_than_previous
                     else "the status is no worse than at the previous evaluation")
    if condition.projected_status is not None:
        parts.append(f"the year-end projection is {_either([_STATUS[s] for s in condition.projected_status])}")
    if condition.significance is not None:
        parts.append("the change against last year is "
                     + _either([_SIGNIFICANCE[s] for s in condition.significance]))
    if condition.variation is not None:
        parts.append("the latest month shows " + _either([_VARIATION[v] for v in condition.variation]))
    if condition.assurance is not None:
        parts.append("the SPC chart shows the measure " + _either([_ASSURANCE[a] for a in condition.assurance]))
    if condition.current is not None:
        parts.append(_threshold("the year-to-date figure", condition.current))
    if condition.change_pct is not None:
        parts.append(_threshold("the change against last year", condition.change_pct, "%"))
    return _and(parts)


def _scope(rules: RuleSet, alert: AlertRule) -> str:
    scope = alert.scope
    if scope is None:
        return "any measure"
    names = [measure.name for priority, measure in rules.measures() if alert.in_scope(
        rules.area or (scope.areas or [""])[0], priority.id, measure.id)]
    if not names:
        return "no measure at all (check its scope)"
    text = f"{_and(names)}" if len(names) <= 4 else f"{len(names)} measures ({_and(names[:3])} ...)"
    if scope.areas:
        given = rules.area_names()
        text += f" in {_and([given.get(area) or display_name(area) for area in scope.areas])}"
    return text


def _recipients(rules: RuleSet, alert: AlertRule) -> str:
    who = []
    for name in alert.notify:
        if name == OWNER:
            who.append("the measure's owner")
        else:
            addresses = rules.recipients.get(name, ())
            who.append(f"the '{name}' list ({', '.join(addresses)})" if addresses else f"the '{name}' list")
    return _and(who)


def explain_alert(rules: RuleSet, alert: AlertRule) -> str:
    """One sentence: when the alert fires, about which measures, whom it tells and how often."""
    when = _condition(alert.when)
    if alert.for_periods > 1:
        when += f" for {alert.for_periods} reporting periods in a row"
    text = (f"{alert.id} ({alert.severity} severity): for {_scope(rules, alert)}, when {when}, "
            f"tell {_recipients(rules, alert)}")
    if alert.repeat:
        text += f"; remind them every {alert.repeat} period{'s' if alert.repeat != 1 else ''} while it lasts"
    else:
        text += ", once, with no reminders"
    if alert.fire_on_suspect:
        text += "; it fires even on suspect figures (likely data faults)"
    text += "; the message is the result's plain-English summary" if alert.message in (
        None, "{{ result.summary }}") else f"; the message reads: {alert.message.strip()}"
    if alert.description:
        text += f". {alert.description.strip().rstrip('.')}"
    return text + "."


def explain_rules(rules: RuleSet) -> str:
    """The whole rule set in plain English: the partnership, each priority's targets, then the alerts."""
    lines = [rules.partnership]
    area = f"the area {rules.area_name or display_name(rules.area)}" if rules.area else "every area in the figures"
    if rules.year_starts is not None:
        start = parse_month(rules.year_starts)
        year = (f"the reporting year {reporting_year_label(start)} ({month_name(start)} to "
                f"{month_name(start + 11)})")
    else:
        year = "each reporting year (April to March)"
    lines.append(f"Targets for {area}, for {year}.")
    lines.append("Each measure is judged on the year to date, against the same months of the previous year; "
                 "green means the target is met, amber that it is missed within the amber band, red that it "
                 "is missed by more.")
    statistics = _statistics_phrases(rules.statistics or StatisticsRules())
    lines.append(f"Statistics: {'; '.join(statistics)}.")
    for priority in rules.priorities:
        lines.append("")
        heading = priority.title
        if priority.owner:
            heading += f" (owner: {priority.owner})"
        lines.append(heading)
        if not priority.measures:
            lines.append("  - No measures.")
        for measure in priority.measures:
            lines.append(f"  - {explain_measure(rules, priority, measure)}")
    lines.append("")
    if rules.alerts:
        lines.append("Alerts")
        lines.extend(f"  - {explain_alert(rules, alert)}" for alert in rules.alerts)
    else:
        lines.append("No alerts: nobody is told automatically when a measure goes off track.")
    measures = rules.measures()
    targets = sum(1 for _, measure in measures if measure.target is not None)
    lines.append("")
    lines.append(f"{_count(len(rules.priorities), 'priority', 'priorities')}, "
                 f"{_count(len(measures), 'measure')} ({targets} with {'a target' if targets == 1 else 'targets'}, "
                 f"{len(measures) - targets} monitored), {_count(len(rules.alerts), 'alert')}.")
    return _printable("\n".join(lines) + "\n")


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"


def _printable(text: str) -> str:
    """Drop control characters (other than line breaks) so a name cannot drive the terminal."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
