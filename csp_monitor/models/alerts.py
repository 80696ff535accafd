"""The alert rule models: who hears about which change, when and how often.

An alert rule names a condition on a measure's result (``when``), the measures
it watches (``scope``), how many reporting periods the condition must hold
before anyone is told (``for``), how often to remind people while it still
holds (``repeat``), what to say (``message``) and whom to tell (``notify``:
the measure's ``owner`` and named ``recipients`` lists).

These models check what can be checked within one file; whether a scope names
real measures and a ``notify`` real lists is checked when the files of a rule
set are combined (``csp_monitor.load.alert_rules``), with file:line:col.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from csp_monitor.frozen import FrozenMapping
from csp_monitor.models.results import MeasureResult, Status
from csp_monitor.models.rules import EmailAddress, Identifier, KeyedValueError, LongText, Number
from csp_monitor.names import near_typo
from csp_monitor.statistics.significance import Verdict
from csp_monitor.statistics.spc import Assurance, Variation

__all__ = [
    "ALERT_KINDS",
    "OWNER",
    "TEMPLATE_VARIABLES",
    "AlertRule",
    "Assurance",
    "Condition",
    "RecipientLists",
    "Scope",
    "Severity",
    "Threshold",
    "Variation",
    "check_message_template",
    "message_environment",
]

Severity = Literal["low", "medium", "high"]

OWNER = "owner"
"""The name in ``notify`` that means "whoever owns the measure (or its priority)"."""

ALERT_KINDS = ("firing", "repeat", "resolved")
"""The kinds of notification: first told, reminded, back on track."""

# The values a condition can name are those the results carry.
StatusValue = Status
ProjectedStatusValue = Status
VerdictValue = Verdict

TEMPLATE_VARIABLES: dict[str, str] = {
    "result": "the measure's result: result.summary, result.current, result.change_pct, result.status ...",
    "alert": "the alert rule: alert.id, alert.severity, alert.description",
    "kind": "firing, repeat or resolved",
    "area": "the area's id",
    "area_name": "the area's name as the board reads it (area_name in the rules, else made from its id)",
    "measure": "the measure's id",
    "period": "the as-of month, YYYY-MM",
    "partnership": "the partnership's name",
    "previous_status": "the status at the previous evaluation, or none",
}
"""The names a message template may use, and what each holds."""

MAX_TEMPLATE_LENGTH = 2000

MessageTemplate = Annotated[LongText, Field(min_length=1, max_length=MAX_TEMPLATE_LENGTH)]


def _as_list(value: object) -> object:
    """``status: red`` means ``status: [red]``."""
    if isinstance(value, str):
        return [value]
    return value


def _one_or_more(options: Any) -> WithJsonSchema:
    """The JSON Schema of a list that may be written as a single value (``status: red``)."""
    values = list(typing.get_args(options))
    return WithJsonSchema({"anyOf": [{"type": "string", "enum": values},
                                     {"type": "array", "items": {"type": "string", "enum": values}, "minItems": 1}]})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Threshold(_Model):
    """A raw threshold on a number: ``{above: 250}``, ``{below: -10}`` or both (a band outside)."""

    above: Number | None = Field(default=None, description="The condition holds when the number is above this.",
                                 examples=[250, "20%"])
    below: Number | None = Field(default=None, description="The condition holds when the number is below this.",
                                 examples=[-10, "80%"])

    @model_validator(mode="after")
    def _given(self) -> Threshold:
        if self.above is None and self.below is None:
            raise ValueError("give 'above', 'below' or both, for example {above: 250}")
        return self

    def met_by(self, value: float) -> bool:
        """Whether ``value`` is beyond the threshold (above ``above`` or below ``below``)."""
        return (self.above is not None and value > self.above) or (
            self.below is not None and value < self.below)


class Condition(_Model):
    """When an alert's condition holds for a result. Every key given must hold."""

    status: Annotated[tuple[StatusValue, ...], Field(min_length=1), BeforeValidator(_as_list),
                  _one_or_more(StatusValue)] | None = Field(
        default=None,
        description="The result's status is one of these: green, amber, red, no_target, no_data.",
        examples=[["red"], ["amber", "red"]])
    worse_than_previous: bool | None = Field(
        default=None,
        description=(
            "true: the status is worse (green < amber < red) than at the previous evaluation recorded in "
            "the state store."),
        examples=[True])
    projected_status: Annotated[tuple[ProjectedStatusValue, ...], Field(min_length=1), BeforeValidator(_as_list),
                  _one_or_more(ProjectedStatusValue)] | None = Field(
        default=None,
        description="The status the year-end projection is heading for is one of these (e.g. [red]).",
        examples=[["red"]])
    significance: Annotated[tuple[VerdictValue, ...], Field(min_length=1), BeforeValidator(_as_list),
                  _one_or_more(VerdictValue)] | None = Field(
        default=None,
        description=(
            "The significance verdict on the change against last year is one of these: "
            "significant_increase, significant_decrease, no_significant_change."),
        examples=[["significant_increase"]])
    variation: Annotated[tuple[Variation, ...], Field(min_length=1), BeforeValidator(_as_list),
                  _one_or_more(Variation)] | None = Field(
        default=None,
        description=(
            "The SPC (Making Data Count) variation of the latest month is one of these: common_cause, "
            "special_cause_improvement, special_cause_concern, special_cause_neutral_high, "
            "special_cause_neutral_low."),
        examples=[["special_cause_concern"]])
    assurance: Annotated[tuple[Assurance, ...], Field(min_length=1), BeforeValidator(_as_list),
                  _one_or_more(Assurance)] | None = Field(
        default=None,
        description=(
            "The SPC assurance against the target is one of these: consistently_passing, "
            "consistently_failing, hit_and_miss."),
        examples=[["consistently_failing"]])
    current: Threshold | None = Field(
        default=None, description="A threshold on the year-to-date figure, e.g. {above: 250}.",
        examples=[{"above": 250}])
    change_pct: Threshold | None = Field(
        default=None, description="A threshold on the % change against last year, e.g. {above: 20}.",
        examples=[{"above": 20}])

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and not any(value is not None for value in data.values()):
            raise ValueError(
                "this condition is empty: give at least one of status, worse_than_previous, projected_status, "
                "significance, variation, assurance, current or change_pct")
        if isinstance(data, str):
            raise ValueError(f"write the condition as a mapping, for example {{status: [{data}]}}")
        return data

    def keys_given(self) -> list[str]:
        """The condition's keys that were given, in model order."""
        return [name for name in type(self).model_fields if getattr(self, name) is not None]

    def describe(self) -> str:
        """The condition in words, for listings: ``status in amber, red and worse than previous``."""
        parts: list[str] = []
        for name in self.keys_given():
            value = getattr(self, name)
            if isinstance(value, list):
                parts.append(f"{name.replace('_', ' ')} {'/'.join(value)}")
            elif isinstance(value, Threshold):
                bounds = []
                if value.above is not None:
                    bounds.append(f"above {value.above:g}")
                if value.below is not None:
                    bounds.append(f"below {value.below:g}")
                parts.append(f"{name.replace('_', ' ')} {' or '.join(bounds)}")
            elif value is True:
                parts.append(name.replace("_", " "))
            else:
                parts.append(f"not {name.replace('_', ' ')}")
        return " and ".join(parts)


class Scope(_Model):
    """Which results an alert watches; every list given must match (none given: every result)."""

    areas: Annotated[tuple[Identifier, ...], Field(min_length=1)] | None = Field(
        default=None, description="Only these areas.", examples=[["harborough"]])
    priorities: Annotated[tuple[Identifier, ...], Field(min_length=1)] | None = Field(
        default=None, description="Only the measures of these priorities (by id).",
        examples=[["serious-acquisitive-crime"]])
    measures: Annotated[tuple[Identifier, ...], Field(min_length=1)] | None = Field(
        default=None, description="Only these measures (by id).", examples=[["domestic-burglary", "theft-of-motor-vehicle"]])

    def matches(self, area: str, priority: str, measure: str) -> bool:
        """Whether a result for this area, priority and measure is in scope."""
        return ((self.areas is None or area in self.areas)
                and (self.priorities is None or priority in self.priorities)
                and (self.measures is None or measure in self.measures))


RecipientLists = FrozenMapping[Identifier, Annotated[tuple[EmailAddress, ...], Field(min_length=1)]]
"""Named lists of email addresses: ``board: [csp-board@example.org]``."""


def _closest(word: str, options: typing.Iterable[str]) -> str | None:
    """The option ``word`` is a near-typo of, quoted, or None (models stay below the loaders, so no import)."""
    found = near_typo(word, options)
    return None if found is None else f"'{found}'"


def message_environment() -> Any:
    """The Jinja2 environment for message templates: a bounded sandbox, StrictUndefined, no autoescape.

    Loop steps, output, repetition, powers, widths and time are all limited
    (:data:`csp_monitor.sandbox.MESSAGE_LIMITS`), and nothing is folded at
    compile time, so a template cannot make a gigabyte of text or a number
    with a billion digits, even while it is being checked.
    """
    from jinja2 import StrictUndefined

    from csp_monitor.sandbox import MESSAGE_LIMITS, BoundedSandbox

    return BoundedSandbox(limits=MESSAGE_LIMITS, autoescape=False, undefined=StrictUndefined,
                          keep_trailing_newline=False)


def check_message_template(text: str) -> None:
    """Raise ValueError in plain English when a message template cannot work.

    Checks the Jinja2 syntax, that only :data:`TEMPLATE_VARIABLES` are used,
    and that ``result.X`` names a field of a result.
    """
    from jinja2 import TemplateSyntaxError, meta, nodes

    environment = message_environment()
    try:
        tree = environment.parse(text)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno} of the message)" if "\n" in text.strip() else ""
        raise ValueError(f"the message template is not valid: {exc.message}{where}") from None
    for name in sorted(meta.find_undeclared_variables(tree)):
        if name not in TEMPLATE_VARIABLES:
            hint = _closest(name, TEMPLATE_VARIABLES)
            raise ValueError(
                f"the message uses '{name}', which is not known"
                + (f" (did you mean {hint}?)" if hint else "")
                + f": a message can use {', '.join(TEMPLATE_VARIABLES)}")
    result_names = {*MeasureResult.model_fields, "key"}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "result" and node.attr not in result_names:
            hint = _closest(node.attr, result_names)
            raise ValueError(
                f"the message uses 'result.{node.attr}', but a result has no '{node.attr}'"
                + (f" (did you mean 'result.{hint.strip(chr(39))}'?)" if hint else ""))
        if isinstance(node.node, nodes.Name) and node.node.name == "alert" and node.attr not in AlertRule.model_fields \
                and node.attr != "for":
            hint = _closest(node.attr, AlertRule.model_fields)
            raise ValueError(
                f"the message uses 'alert.{node.attr}', but an alert has no '{node.attr}'"
                + (f" (did you mean 'alert.{hint.strip(chr(39))}'?)" if hint else ""))
    _trial_render(environment, text)


def _trial_render(environment: Any, text: str) -> None:
    """Render the message once with a typical result: refuse it when it goes beyond the limits.

    Only the limits are judged here: a template that fails on these sample
    values (a filter that needs a number where the sample has none, say) may
    still work on real results, and a failure at run time falls back to the
    plain summary anyway.
    """
    from jinja2.exceptions import SecurityError

    from csp_monitor.sandbox import TemplateLimitError

    context = {"result": _sample_result(), "alert": _SAMPLE_ALERT, "kind": "firing", "area": "harborough",
               "area_name": "Harborough", "measure": "domestic-burglary", "period": "2013-12", "partnership": "Harborough CSP",
               "previous_status": "amber"}
    try:
        environment.from_string(text).render(context)
    except TemplateLimitError as exc:
        raise ValueError(f"the message template cannot be written within the limits: {exc}") from None
    except SecurityError as exc:  # reaching for what a message may not touch (result['parse_file'], __class__)
        raise ValueError(f"the message template tries something not allowed: {exc}") from None
    except Exception:
        return


def _sample_result() -> MeasureResult:
    """A typical red result, for trying message templates out."""
    from csp_monitor.models.results import TargetSummary

    return MeasureResult(
        area="harborough", measure="domestic-burglary", name="Domestic Burglary", priority="acquisitive-crime",
        priority_title="Acquisitive crime", owner="owner@example.org", better="lower", aggregate="sum",
        unit="count", period_start="2013-04", period_end="2013-12", baseline_start="2012-04",
        baseline_end="2012-12", months_present=9, months_expected=9, current=120.0, baseline=100.0,
        difference=20.0, change_pct=20.0,
        target=TargetSummary(kind="change", value=-13.0, text="-13%"), tolerance=5.0, status="red",
        direction="worsening", summary="Domestic Burglary is 20% higher than last year (120 against 100).")


class _SampleAlert:
    """Stands in for the alert rule while its own message is being checked."""

    id = "sample-alert"
    description = "A sample alert."
    severity = "medium"
    for_ = 1
    for_periods = 1
    repeat = None
    notify = ("owner",)
    message = ""
    when = None
    scope = None


_SAMPLE_ALERT = _SampleAlert()


class AlertRule(_Model):
    """One alert: a condition on results, how long it must hold, and whom to tell."""

    id: Identifier = Field(description="A short id for the alert, unique in the rule set.", examples=["off-target"])
    description: LongText | None = Field(default=None, description="What the alert is for, in plain English.",
                                         examples=["Tell the owner and the board when a measure turns red."])
    when: Condition = Field(description="The condition on a result; every key given must hold.",
                            examples=[{"status": ["red"]}])
    scope: Scope | None = Field(default=None, description="Which areas, priorities or measures it watches (all if left out).",
                                examples=[{"priorities": ["serious-acquisitive-crime"]}])
    severity: Severity = Field(default="medium", description="How serious: low, medium or high.",
                               examples=["high"])
    for_: int = Field(
        default=1, alias="for", ge=1, le=36,
        description=(
            "How many reporting periods in a row the condition must hold before anyone is told: for: 2 fires in "
            "the second period, the first only makes it pending."),
        examples=[2])
    repeat: int | None = Field(
        default=None, ge=1, le=36,
        description="Remind every this many periods while the alert is still firing; left out: tell once.",
        examples=[3])
    fire_on_suspect: bool = Field(
        default=False,
        description=(
            "Let the alert fire on a result whose figures are suspect (a likely data fault on either side of the "
            "comparison). Left out: such a result neither fires nor resolves the alert."),
        examples=[True])
    notify: tuple[Identifier, ...] = Field(
        min_length=1,
        description="Who is told: 'owner' (the measure's owner, else its priority's) and names of recipients lists.",
        examples=[["owner", "board"]])
    message: MessageTemplate | None = Field(
        default=None,
        description=(
            "The message, a template: {{ result.summary }}, {{ area }}, {{ kind }} (firing, repeat or resolved), "
            "{{ alert.id }} ... Left out: the result's own plain-English summary."),
        examples=["{{ result.summary }}"])

    @field_validator("message")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            check_message_template(value)
        return value

    @field_validator("notify")
    @classmethod
    def _no_duplicates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, name in enumerate(value):
            if name in value[:index]:
                raise KeyedValueError(f"'{name}' is listed twice in notify: list it once", at=(index,))
        return value

    @property
    def for_periods(self) -> int:
        """The number of periods the condition must hold before it fires."""
        return self.for_

    def in_scope(self, area: str, priority: str, measure: str) -> bool:
        """Whether this alert watches the given result."""
        return self.scope is None or self.scope.matches(area, priority, measure)
