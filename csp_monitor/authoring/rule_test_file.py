"""The rule test file: figures, an as-of month and what the rules should make of them.

A rule test is to a rule file what ``promtool test rules`` is to Prometheus
rules: a partnership lead writes down, before a rule goes live, the figures of
a situation and the statuses and alerts it must produce. Paths in the file are
relative to the file itself, and the as-of month is always written down, so a
test gives the same answer on any machine on any day.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from csp_monitor.load.figures import FigureEntry
from csp_monitor.models.rules import Identifier, Text
from csp_monitor.periods import Month

__all__ = [
    "RESULT_FIELDS",
    "AlertExpectation",
    "ExpectedNumber",
    "ResultExpectation",
    "RuleTest",
    "RuleTestFile",
]


def _expected_number(value: object) -> object:
    """Keep a number exactly as written (``65.4`` has one decimal place); ``65.4%`` means 65.4."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.endswith("%"):
            text = text[:-1].strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"must be a number such as 253 or 65.4, not '{value}'") from None
        if not number.is_finite():
            raise ValueError(f"must be a number such as 253 or 65.4, not '{value}'")
        return number
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


ExpectedNumber = Annotated[
    Decimal, BeforeValidator(_expected_number),
    WithJsonSchema({"anyOf": [{"type": "number"},
                              {"type": "string", "pattern": r"^\s*[+-]?\s*(\d[\d,]*(\.\d*)?|\.\d+)\s*%?\s*$"}]}),
]
"""A number compared at the precision written: ``65.4`` matches 65.36 but not 65.3."""

StatusValue = Literal["green", "amber", "red", "no_target", "no_data"]
DirectionValue = Literal["improving", "worsening", "no_change", "unknown"]


def _as_list(value: object) -> object:
    """``rules: harborough.yaml`` means ``rules: [harborough.yaml]``."""
    return [value] if isinstance(value, str) else value


PathList = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_as_list),
                     WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1},
                                               {"type": "array", "items": {"type": "string", "minLength": 1},
                                                "minItems": 1}]})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


RESULT_FIELDS = ("status", "current", "baseline", "difference", "change_pct", "direction", "summary",
                 "summary_contains")
"""The parts of a result an expectation can check, in the order differences are reported."""


class ResultExpectation(_Model):
    """What one measure's result must be; only the keys given are checked."""

    area: Identifier | None = Field(
        default=None,
        description="The area; may be left out when the rules are for one area (their 'area:').",
        examples=["harborough"])
    measure: Identifier = Field(description="The measure's id in the rules.", examples=["domestic-burglary"])
    status: StatusValue | None = Field(
        default=None, description="The expected status: green, amber, red, no_target or no_data.",
        examples=["red", "amber"])
    current: ExpectedNumber | None = Field(
        default=None, description="The expected year-to-date figure, compared at the precision written.",
        examples=[253])
    baseline: ExpectedNumber | None = Field(
        default=None, description="The expected figure for the same months last year.", examples=[153])
    difference: ExpectedNumber | None = Field(
        default=None, description="The expected difference, current minus baseline.", examples=[100])
    change_pct: ExpectedNumber | None = Field(
        default=None,
        description="The expected % change against last year, compared at the precision written: 65.4 matches 65.36.",
        examples=[65.4, "-15.2%"])
    direction: DirectionValue | None = Field(
        default=None, description="The expected direction: improving, worsening, no_change or unknown.",
        examples=["worsening"])
    summary: Text | None = Field(
        default=None, description="The exact plain-English sentence expected.",
        examples=["Domestic Burglary is up 65.4% (100 more than last year) against a target of a 13% "
                  "reduction: red"])
    summary_contains: Text | None = Field(
        default=None, description="Words the plain-English sentence must contain.", examples=["up 65.4%"])

    def checks(self) -> list[str]:
        """The result fields this expectation checks."""
        return [name for name in RESULT_FIELDS if getattr(self, name) is not None]


class AlertExpectation(_Model):
    """One notification the rules must make due; every one due must be listed."""

    alert: Identifier = Field(description="The alert rule's id.", examples=["off-target"])
    area: Identifier | None = Field(
        default=None, description="The area; may be left out when the rules are for one area.",
        examples=["harborough"])
    measure: Identifier = Field(description="The measure the alert is about.", examples=["domestic-burglary"])
    kind: Literal["firing", "repeat", "resolved"] | None = Field(
        default=None, description="firing (first told), repeat (a reminder) or resolved; checked when given.",
        examples=["firing"])
    recipients: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, description="Every email address the notification goes to (in any order); checked when given.",
        examples=[["acquisitive.crime@example.org"]])
    message_contains: Text | None = Field(
        default=None, description="Words the notification's message must contain; checked when given.",
        examples=["up 65.4%"])


class RuleTest(_Model):
    """One situation: figures, an as-of month and the results and alerts expected."""

    name: Text = Field(description="What the test shows, in a few words.", examples=["burglary up two thirds is red"])
    as_of: Month = Field(description="The as-of month (YYYY-MM): the last month of the year to date.",
                         examples=["2014-03"])
    figures: list[FigureEntry] | None = Field(
        default=None,
        description=(
            "Figures written in the test, in the same shape as a JSON figures file: {area, measure, period, "
            "value} for one month or {area, measure, from, values} for a run of months (null: a missing month)."),
        examples=[[{"area": "harborough", "measure": "domestic-burglary", "from": "2013-03", "values": [14, 20]}]])
    figures_file: PathList | None = Field(
        default=None,
        description="Figures files (CSV or JSON), relative to this test file; added to any figures written here.",
        examples=["../examples/harborough/figures.csv"])
    expect: list[ResultExpectation] | None = Field(
        default=None, description="The results expected; measures not listed are not checked.",
        examples=[[{"measure": "domestic-burglary", "status": "red"}]])
    expect_alerts: list[AlertExpectation] | None = Field(
        default=None,
        description=(
            "Every notification due, as of the as-of month with no earlier history: a notification not listed "
            "fails the test, and an empty list [] means none must be due. Leave out to not check alerts."),
        examples=[[{"alert": "off-target", "measure": "domestic-burglary"}], []])


class RuleTestFile(_Model):
    """A rule test file: the rule files under test and the tests."""

    rules: PathList = Field(
        description="The rule files under test, relative to this test file.",
        examples=[["harborough-2013-14.yaml"]])
    figures_file: PathList | None = Field(
        default=None,
        description="Figures files used by every test (relative to this file), before each test's own figures.",
        examples=["../examples/harborough/figures.csv"])
    tests: Annotated[list[RuleTest], Field(min_length=1)] = Field(
        description="The tests; each is run on its own.",
        examples=[[{"name": "burglary up two thirds is red", "as_of": "2014-03",
                    "expect": [{"measure": "domestic-burglary", "status": "red"}]}]])
