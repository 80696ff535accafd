"""The rule models: what a partnership's YAML rule file means.

These pydantic models are the contract: they validate rule files, generate
the JSON Schema that editors use, and document every key through
``Field(description=...)``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_serializer,
    model_validator,
)

from csp_monitor.errors import Problem, shown_value
from csp_monitor.frozen import FrozenDict
from csp_monitor.models.mailbox import parse_mailbox
from csp_monitor.names import slug
from csp_monitor.periods import Month

__all__ = [
    "MAX_NUMBER",
    "Aggregate",
    "Better",
    "Identifier",
    "KeyedValueError",
    "Measure",
    "Priority",
    "RuleFile",
    "RuleSet",
    "Target",
    "Unit",
]

Better = Literal["lower", "higher"]
Aggregate = Literal["sum", "latest", "mean"]
Unit = Literal["count", "percent", "rate", "number"]

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMAIL_RE = re.compile(r"^(?:[^<>\r\n]*<)?[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+>?$")


def _check_id(value: object) -> object:
    if isinstance(value, str) and not _ID_RE.match(value):
        suggestion = slug(value)
        hint = f", for example '{suggestion}'" if suggestion else ""
        raise ValueError(
            f"'{value}' is not a valid id: use lower-case letters, digits and hyphens{hint}"
        )
    return value


def _check_email(value: object) -> object:
    # The same check as the configuration's and the message builder's: what loads can be sent to.
    if isinstance(value, str):
        parse_mailbox(value)
        return value.strip()
    return value


# Control characters (a terminal escape, a carriage return), line separators a mail reader or
# terminal starts a new line at, and the marks that reverse the direction of the text after them
# (U+202E makes "Total gpj.exe" read otherwise): names reach subjects, terminals and spreadsheets.
_HIDDEN_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _check_text(value: object) -> object:
    if isinstance(value, str) and (found := _HIDDEN_CHARACTER.search(value)):
        raise ValueError(f"this text contains a control or direction character (U+{ord(found.group()):04X}), "
                         "which would print or read wrongly; remove it")
    return value


Identifier = Annotated[str, BeforeValidator(_check_id),
                       WithJsonSchema({"type": "string", "pattern": _ID_RE.pattern})]
"""A short id: lower-case letters, digits and hyphens (``domestic-burglary``)."""

EmailAddress = Annotated[str, BeforeValidator(_check_email),
                         WithJsonSchema({"type": "string", "pattern": _EMAIL_RE.pattern})]
Text = Annotated[str, BeforeValidator(_check_text), Field(min_length=1, max_length=500)]
LongText = Annotated[str, BeforeValidator(_check_text), Field(max_length=5000)]


_NUMERAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number(value: object) -> object:
    """Accept ``85``, ``85%`` and ``-13%`` as numbers (YAML hands us text)."""
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text.endswith("%"):
            text = text[:-1]
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be a number such as 85 or -13%, not '{shown_value(value)}'") from None
        if number != number or (number in (float("inf"), float("-inf")) and not _NUMERAL.match(text)):
            raise ValueError(f"must be a number such as 85 or -13%, not '{shown_value(value)}'")
        return number  # an infinite numeral (1 and 400 zeros) is refused as outside the range
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {value}")
    return value


# Editors read YAML with types, so the schema accepts a number (85) or text (-13%, 85%).
_NUMBER_TEXT = r"^\s*[+-]?\s*(\d+(\.\d*)?|\.\d+)\s*%?\s*$"
_TOLERANCE_TEXT = r"^\s*\+?\s*(\d+(\.\d*)?|\.\d+)\s*%?\s*$"

MAX_NUMBER = 1e12
"""The largest target, threshold or tolerance accepted (either sign): a million million."""


def _sane(value: float) -> float:
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        shown = f"{value:g}" if abs(value) != float("inf") else "a number of hundreds of digits"
        raise ValueError(f"{shown} is outside the range accepted: numbers must be between "
                         f"-{MAX_NUMBER:,.0f} and {MAX_NUMBER:,.0f}")
    return value


Number = Annotated[float, BeforeValidator(_number), AfterValidator(_sane),
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": _NUMBER_TEXT}]})]
"""A number; ``85%`` and ``-13%`` are accepted and mean 85 and -13."""

Tolerance = Annotated[float, BeforeValidator(_number), AfterValidator(_sane), Field(ge=0), WithJsonSchema(
    {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": _TOLERANCE_TEXT}]})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class KeyedValueError(ValueError):
    """A ValueError from a model validator that belongs to one of the model's keys.

    Pydantic locates a model validator's error at the model; the loader adds
    ``at`` to the location so the message points at the key itself.
    """

    def __init__(self, message: str, *, at: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.at = at


class Target(_Model):
    """A measure's target: exactly one of ``change``, ``at_least`` or ``at_most``."""

    # Editors underline a target that gives two kinds, or none.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    change: Number | None = Field(
        default=None,
        description=(
            "Percent change against the same months of last year: -13% means 'reduce by 13%'. "
            "Write the sign: a positive change for a measure where lower is better must be "
            "written +5% to show a rise of up to 5% is really the target."
        ),
        examples=["-13%", "+5%"],
    )
    at_least: Number | None = Field(
        default=None,
        description="The value must be at least this (in the measure's own units, e.g. 85 for 85%).",
        examples=[85],
    )
    at_most: Number | None = Field(
        default=None,
        description="The value must be at most this (in the measure's own units).",
        examples=[120],
    )
    _sign_written: bool = PrivateAttr(default=True)
    _percent_written: bool = PrivateAttr(default=True)

    @model_validator(mode="wrap")
    @classmethod
    def _parse(cls, data: Any, handler: Any) -> Any:
        sign_written = percent_written = True
        if isinstance(data, dict):
            data = dict(data)
            raw = data.get("change")
            if isinstance(raw, str):
                stripped = raw.strip()
                sign_written = stripped[:1] in {"+", "-"}
                percent_written = stripped.endswith("%")
            elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
                percent_written = False
            given = [k for k in ("change", "at_least", "at_most") if data.get(k) is not None]
            if len(given) > 1:
                raise ValueError(
                    f"a target has one kind only, but this one gives {' and '.join(given)}: keep one"
                )
            if not given and not any(k not in ("change", "at_least", "at_most") for k in data):
                raise ValueError(
                    "this target is empty: give one of change (e.g. -13%), at_least or at_most"
                )
        elif isinstance(data, (str, int, float)):
            written = str(data).strip()
            if written[:1] in {"+", "-"}:
                raise ValueError(
                    f"write the target as {{change: {written}}}: a change of {written} against the same months "
                    "last year")
            bare = written.removesuffix("%").strip()
            raise ValueError(
                f"say what kind of target {written} is: {{at_least: {written}}} or {{at_most: {written}}} for a "
                f"level, or {{change: -{bare}%}} / {{change: +{bare}%}} for a change against last year"
            )
        result = handler(data)
        result._sign_written = sign_written
        result._percent_written = percent_written
        return result

    @property
    def kind(self) -> Literal["change", "at_least", "at_most"]:
        """Which kind of target this is."""
        if self.change is not None:
            return "change"
        if self.at_least is not None:
            return "at_least"
        return "at_most"

    @property
    def value(self) -> float:
        """The target's number."""
        for candidate in (self.change, self.at_least, self.at_most):
            if candidate is not None:
                return candidate
        raise AssertionError("a validated target always has a value")  # pragma: no cover

    @property
    def percent_written(self) -> bool:
        """Whether the rule file wrote a change target with its % sign (``-13%``, not ``-13`` or ``-0.13``)."""
        return self._percent_written

    @property
    def sign_written(self) -> bool:
        """Whether the rule file wrote the sign of a change target explicitly."""
        return self._sign_written

    @field_serializer("change")
    def _show_change(self, value: float | None) -> str | None:
        return None if value is None else f"{value:+g}%"


class Measure(_Model):
    """One performance measure, with or without a target."""

    id: Identifier = Field(description="A short id, used in figures files: lower-case letters, digits, hyphens.",
                           examples=["domestic-burglary"])
    name: Text = Field(description="The measure's name as the partnership writes it.", examples=["Domestic Burglary"])
    description: LongText | None = Field(default=None, description="What the measure counts and why it matters.",
                                         examples=["Burglary of homes, including sheds and garages."])
    owner: EmailAddress | None = Field(
        default=None, description="Who answers for this measure (an email address); defaults to the priority's owner.",
        examples=["acquisitive.crime@example.org", "Jo Bloggs <jo.bloggs@example.org>"])
    better: Better = Field(description="Which way is better: 'lower' (crime) or 'higher' (satisfaction, reporting).",
                           examples=["lower", "higher"])
    target: Target | None = Field(default=None, description="The target; leave out for a measure that is monitored only.",
                                  examples=[{"change": "-13%"}, {"at_least": 85}])
    aggregate: Aggregate = Field(
        default="sum",
        description=(
            "How months make the year-to-date figure: 'sum' (counts), 'latest' (the as-of month's value, "
            "e.g. a rolling survey result) or 'mean' (the average of the months present)."
        ),
        examples=["sum", "latest"],
    )
    tolerance: Tolerance | None = Field(
        default=None,
        description=(
            "The amber band: how far a target may be missed before it is red. In percentage points for "
            "change targets, in the measure's own units otherwise. Overrides the priority's and file's."
        ),
        examples=[5, 2],
    )
    unit: Unit = Field(default="count", description="What the numbers are: count, percent, rate or number.",
                       examples=["count", "percent"])
    sensitive: bool = Field(
        default=False,
        description="Small counts (fewer than 5) are suppressed in summaries and the email is marked sensitive.",
        examples=[True],
    )
    source: Identifier | None = Field(
        default=None,
        description=(
            "The measure name in the figures when it differs from id, e.g. a police.uk category such as "
            "'burglary' or 'total-crime'."
        ),
        examples=["burglary"],
    )
    statistics: StatisticsRules | None = Field(
        default=None,
        description=(
            "Statistics settings for this measure only (confidence, spc, peers...), overriding the "
            "rule set's statistics key by key."
        ),
        examples=[{"confidence": "99%", "spc": {"baseline_points": 12}}],
    )

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        target = self.target
        if target is not None and target.kind == "change" and not target.sign_written:
            value = target.value
            if 0 < value < 1 and not target.percent_written and self.better == "lower":
                percent = f"{value * 100:g}"
                raise KeyedValueError(
                    f"a change of {value:g} is read as {value:g}%, a rise, but lower is better for '{self.id}': "
                    f"if {value:g} is a fraction meaning {percent}%, write -{percent}% for a reduction, or "
                    f"+{percent}% if a rise of up to {percent}% really is the target",
                    at=("target", "change"),
                )
            if value > 0 and self.better == "lower":
                raise KeyedValueError(
                    f"a change of {value:g}% would mean a rise of {value:g}%, but lower is better "
                    f"for '{self.id}': write -{value:g}% for a reduction, or +{value:g}% if a rise of up "
                    f"to {value:g}% really is the target",
                    at=("target", "change"),
                )
            if value < 0 and self.better == "higher":  # pragma: no cover - a minus sign is always written
                raise ValueError("a negative change target for a measure where higher is better")
        if target is not None and target.kind == "change" and target.value <= -100:
            raise KeyedValueError(
                f"a change target of {target.value:g}% is impossible: nothing can fall by 100% or more",
                at=("target", "change"))
        if self.unit == "percent" and target is not None and target.kind in {"at_least", "at_most"} \
                and not 0 <= target.value <= 100:
            raise KeyedValueError(
                f"'{self.id}' is a percentage, so its target must be between 0 and 100, not {target.value:g}",
                at=("target", target.kind))
        return self

    @property
    def figures_measure(self) -> str:
        """The measure name to read from the figures."""
        return self.source or self.id


class Priority(_Model):
    """A partnership priority: a heading, an owner and its measures."""

    id: Identifier = Field(description="A short id for the priority.", examples=["serious-acquisitive-crime"])
    title: Text = Field(description="The priority as the partnership plan words it.",
                        examples=["To reduce serious acquisitive crime"])
    owner: EmailAddress | None = Field(default=None, description="Who answers for this priority (an email address).",
                                       examples=["acquisitive.crime@example.org"])
    description: LongText | None = Field(default=None, description="What the priority is about.",
                                         examples=["Focus on violence in the night-time economy."])
    tolerance: Tolerance | None = Field(default=None, description="The amber band for this priority's measures.",
                                        examples=[5])
    measures: tuple[Measure, ...] = Field(
        default=(), description="The measures of this priority.",
        examples=[[{"id": "domestic-burglary", "name": "Domestic Burglary", "better": "lower",
                    "target": {"change": "-13%"}}]])


class RuleFile(_Model):
    """One rule file. Several files can be combined into one rule set."""

    partnership: Text | None = Field(
        default=None, description="The partnership's name.", examples=["Harborough District Community Safety Partnership"])
    area: Identifier | None = Field(
        default=None,
        description="The area the rules apply to, as named in the figures; without it they apply to every area.",
        examples=["harborough"],
    )
    area_name: Text | None = Field(
        default=None,
        description=(
            "The area's name as the board reads it in summaries, charts and alerts; without it the name is "
            "made from the area's id (north-west-leicestershire: North West Leicestershire)."),
        examples=["Harborough"],
    )
    year_starts: Month | None = Field(
        default=None,
        description="The first month of the 12-month reporting year (YYYY-MM); April-March unless said otherwise.",
        examples=["2013-04"],
    )
    tolerance: Tolerance | None = Field(default=None, description="The default amber band for every measure.",
                                        examples=[5])
    statistics: StatisticsRules | None = Field(
        default=None,
        description=(
            "How every measure is judged beyond red, amber and green: significance of the change "
            "(confidence), year-end projection, control charts (spc) and most similar groups (peers)."
        ),
        examples=[{"confidence": "95%", "spc": {"baseline_points": 12}}],
    )
    priorities: tuple[Priority, ...] = Field(
        default=(), description="The partnership's priorities and measures.",
        examples=[[{"id": "serious-acquisitive-crime", "title": "To reduce serious acquisitive crime",
                    "measures": [{"id": "domestic-burglary", "name": "Domestic Burglary", "better": "lower",
                                  "target": {"change": "-13%"}}]}]])
    recipients: RecipientLists = Field(
        default_factory=FrozenDict,
        description="Named lists of email addresses that alerts can notify, e.g. board: [csp-board@example.org].",
        examples=[{"board": ["csp-board@example.org", "analyst@example.org"]}])
    alerts: tuple[AlertRule, ...] = Field(
        default=(),
        description="Alert rules: a condition on results, how long it must hold and whom to tell.",
        examples=[[{"id": "off-target", "when": {"status": ["red"]}, "severity": "high",
                    "notify": ["owner", "board"], "message": "{{ result.summary }}"}]])


class RuleSet(_Model):
    """The rules of one partnership, combined from one or more rule files."""

    partnership: Text = Field(description="The partnership's name.")
    area: Identifier | None = Field(default=None, description="The one area the rules apply to, or every area.")
    area_name: Text | None = Field(default=None, description="The area's name as the board reads it, if given.")
    year_starts: Month | None = Field(default=None, description="The first month of the reporting year the rules are for.")
    tolerance: Tolerance | None = Field(default=None, description="The default amber band.")
    statistics: StatisticsRules | None = Field(
        default=None, description="The statistics settings for every measure (see the rule file's).")
    priorities: tuple[Priority, ...] = Field(default=(), description="Every priority, in the order given.")
    recipients: RecipientLists = Field(default_factory=FrozenDict, description="Named lists of email addresses.")
    alerts: tuple[AlertRule, ...] = Field(default=(), description="Every alert rule, in the order given.")
    files: tuple[str, ...] = Field(default=(), description="The rule files the set was read from.")
    content_hash: str = Field(default="", description="A SHA-256 of the files' contents, to record which rules judged.")
    warnings: tuple[str, ...] = Field(
        default=(), description=(
            "Slips found while reading the files that may change what a rule means (a fraction written as a "
            "change, an outdented key, a word processor's minus sign), each as 'file:line:col: warning: ...'."))

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen_priorities: set[str] = set()
        seen_measures: set[str] = set()
        for index, priority in enumerate(self.priorities):
            if priority.id in seen_priorities:
                raise KeyedValueError(f"the priority id '{priority.id}' is used twice: ids must be unique",
                                      at=("priorities", index, "id"))
            seen_priorities.add(priority.id)
            for m_index, measure in enumerate(priority.measures):
                if measure.id in seen_measures:
                    raise KeyedValueError(f"the measure id '{measure.id}' is used twice: ids must be unique",
                                          at=("priorities", index, "measures", m_index, "id"))
                seen_measures.add(measure.id)
        seen_alerts: set[str] = set()
        for index, alert in enumerate(self.alerts):
            if alert.id in seen_alerts:
                raise KeyedValueError(f"the alert id '{alert.id}' is used twice: ids must be unique",
                                      at=("alerts", index, "id"))
            seen_alerts.add(alert.id)
        return self

    # Where the rule files set the area and their first measure, for a problem found later (when the figures
    # leave nothing to judge, evaluate() says where to look): setting -> (file, line, column, key path).
    # Not a field: positions are not part of the rules' meaning or their JSON.
    _places: dict[str, tuple[str, int | None, int | None, tuple[str | int, ...]]] = PrivateAttr(
        default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Equal when every field is: where it was read from (its private positions) is not part of its meaning,
        so a copy read back from its own JSON is equal."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


    def problem_at(self, setting: Literal["area", "measures"], message: str) -> Problem:
        """A problem located where the rule files give ``setting`` (the area, or their first measure):
        ``file:line:col`` when the rules were read from files, else the first file's name."""
        place = self._places.get(setting) or self._places.get("measures")
        if place is None:
            return Problem(message, file=self.files[0] if self.files else "<rules>")
        file, line, column, path = place
        return Problem(message, file=file, line=line, column=column, path=path)

    def rule_data(self) -> dict[str, Any]:
        """The rules as the data of one rule file, what :func:`csp_monitor.rules_from_data` takes back.

        To change or extend loaded rules in code: edit the data, then check it again with ``rules_from_data``
        (the files read, their hash and the slips found are not part of it).
        """
        data: dict[str, Any] = self.model_dump(mode="json", exclude={"files", "content_hash", "warnings"},
                                               exclude_defaults=True)
        return data

    @property
    def year_start_month(self) -> int:
        """The calendar month (1-12) the reporting year starts in: 4 (April) unless said otherwise."""
        if self.year_starts is None:
            return 4
        return int(self.year_starts[5:7])

    def area_names(self) -> dict[str, str]:
        """The names the rules give areas (the rule set's own area, then its peers'), by area id."""
        names: dict[str, str] = {}
        peer_rules = [self.statistics.peers if self.statistics else None]
        peer_rules += [measure.statistics.peers if measure.statistics else None for _, measure in self.measures()]
        for peers in peer_rules:
            if peers is not None:
                names.update((area, name) for area, name in peers.names.items() if area not in names)
        if self.area is not None and self.area_name is not None:
            names[self.area] = self.area_name
        return names

    def measures(self) -> list[tuple[Priority, Measure]]:
        """Every measure with its priority, in rule order."""
        return [(priority, measure) for priority in self.priorities for measure in priority.measures]

    def measure(self, measure_id: str) -> tuple[Priority, Measure] | None:
        """The measure with this id (and its priority), or None."""
        for priority, measure in self.measures():
            if measure.id == measure_id:
                return priority, measure
        return None

    def tolerance_for(self, priority: Priority, measure: Measure) -> float | None:
        """The nearest tolerance: the measure's, else the priority's, else the set's."""
        for candidate in (measure.tolerance, priority.tolerance, self.tolerance):
            if candidate is not None:
                return candidate
        return None

    def statistics_for(self, measure: Measure) -> StatisticsRules:
        """The measure's statistics settings: the rule set's, with the measure's own on top."""
        return merge_statistics(self.statistics, measure.statistics)

    def owner_for(self, priority: Priority, measure: Measure) -> str | None:
        """The measure's owner, else its priority's."""
        return measure.owner or priority.owner

    def alert(self, alert_id: str) -> AlertRule | None:
        """The alert rule with this id, or None."""
        for alert in self.alerts:
            if alert.id == alert_id:
                return alert
        return None


# The alert models build on the types above, so they come last (csp_monitor.models
# imports this module first, whichever of the two is asked for).
from csp_monitor.models.alerts import AlertRule, RecipientLists  # noqa: E402
from csp_monitor.models.statistics import StatisticsRules, merge_statistics  # noqa: E402

Measure.model_rebuild()
Priority.model_rebuild()
RuleFile.model_rebuild()
RuleSet.model_rebuild()
