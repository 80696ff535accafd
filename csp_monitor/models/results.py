"""Evaluation results: the judgement on every measure of every area."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.models.rules import Aggregate, Better, Unit
from csp_monitor.names import display_name
from csp_monitor.statistics import PeerComparison, ProjectionMethod, Significance, SpcResult

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "SPC_SERIES_FIELDS",
    "STATUS_ORDER",
    "Direction",
    "Evaluation",
    "MeasureResult",
    "NotTested",
    "Side",
    "Status",
    "SuspectFigures",
    "TargetSummary",
    "YearEndProjection",
]

Status = Literal["green", "amber", "red", "no_target", "no_data"]
Direction = Literal["improving", "worsening", "no_change", "unknown"]
Side = Literal["current", "baseline"]
NotTested = Literal["suspect_figures"]

RESULTS_SCHEMA_VERSION = 1

SPC_SERIES_FIELDS = frozenset({"periods", "values", "rules", "variations", "special_causes"})
"""An SPC result's monthly series: in JSON output only when asked for (``--include series``)."""
"""The ``schema_version`` of JSON results (docs/schema/results.schema.json): raised when a field is removed,
renamed or changes meaning; new fields may appear without a change."""

STATUS_ORDER: dict[str, int] = {"green": 0, "amber": 1, "red": 2}
"""Worse statuses rank higher; no_target and no_data are not ranked."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetSummary(_Result):
    """A target as the results show it."""

    kind: Literal["change", "at_least", "at_most"] = Field(description="change, at_least or at_most.")
    value: float = Field(description="The target's number (percent for change targets).")
    text: str = Field(description="The target as people write it: '-13%', 'at least 85%'.")


class YearEndProjection(_Result):
    """Where the year is heading: the projected year-end total and its status against the target."""

    value: float = Field(description="The projected total for the whole reporting year.")
    method: ProjectionMethod = Field(
        description="seasonal (scaled by last year's pattern of months) or linear (the monthly average x 12).")
    status: Status = Field(
        description="The status the projected total would have against the target, judged as the current one is.")
    explanation: str = Field(description="One plain-English sentence saying how the projection was made.")


class SuspectFigures(_Result):
    """The suspect figures a comparison rests on: which side of it, which months, and why.

    A figure is suspect when a data-quality check (the police.uk importer's,
    or a ``suspect`` column of a figures file) says it is likely a data fault,
    such as a month that lost most of an area's crimes. The status is still
    worked out, but it is flagged, not tested for significance, and raises no
    alert unless the alert rule says ``fire_on_suspect: true``.
    """

    sides: tuple[Side, ...] = Field(
        description="Which sides of the comparison hold a suspect month: current (this year), baseline (last year).")
    current_months: tuple[str, ...] = Field(
        default=(), description="Suspect months (YYYY-MM) among the months of this year's figure.")
    baseline_months: tuple[str, ...] = Field(
        default=(), description="Suspect months (YYYY-MM) among the months of last year's figure.")
    reasons: tuple[str, ...] = Field(default=(), description="Why the figures are suspect, one entry per reason.")
    text: str = Field(description="The suspect months in plain English: \"last year's figure for 2020-03\".")


class MeasureResult(_Result):
    """The year-to-date judgement on one measure in one area."""

    area: str = Field(description="The area's id.")
    area_name: str = Field(
        default="",
        description=(
            "The area's name as the board reads it: the rules' area_name, else made from its id "
            "(north-west-leicestershire: North West Leicestershire)."))
    measure: str = Field(description="The measure's id.")
    name: str = Field(description="The measure's name.")
    priority: str = Field(description="The id of the priority the measure belongs to.")
    priority_title: str = Field(description="The priority's title.")
    owner: str | None = Field(description="Who answers for the measure: its own owner, else the priority's.")
    better: Better = Field(description="Which way is better.")
    aggregate: Aggregate = Field(description="How the months were combined.")
    unit: Unit = Field(description="What the numbers are.")
    sensitive: bool = Field(default=False, description="Whether small counts must be suppressed.")
    period_start: str = Field(description="The first month of the year to date (YYYY-MM).")
    period_end: str = Field(description="The as-of month, the last of the year to date (YYYY-MM).")
    baseline_start: str = Field(description="The first month of the baseline: the same months a year earlier.")
    baseline_end: str = Field(description="The last month of the baseline.")
    months_present: int = Field(description="How many months of the year to date have figures.")
    months_expected: int = Field(description="How many months the year to date has.")
    missing_months: tuple[str, ...] = Field(default=(), description="Months of the year to date with no figure.")
    missing_baseline_months: tuple[str, ...] = Field(
        default=(), description="Baseline months with no figure (the baseline is then not usable).")
    suspect_months: tuple[str, ...] = Field(
        default=(), description="Months whose figures are suspected data faults.")
    baseline_months_present: int | None = Field(
        default=None, description="How many months of the baseline period (the same months a year earlier) have figures.")
    compared_months: tuple[str, ...] = Field(
        default=(),
        description=(
            "The months of this year compared with the same month last year: only months with figures on both "
            "sides are compared (for sums and means)."))
    partial: bool = Field(
        default=False,
        description=(
            "True when the comparison covers fewer months than the year to date, because months are missing on "
            "either side: the figures then cover only compared_months."))
    suspect: SuspectFigures | None = Field(
        default=None,
        description=(
            "The suspect figures the comparison rests on, or null: a suspect result keeps its status but is not "
            "tested for significance and raises no alert unless the alert rule opts in."))
    not_tested: NotTested | None = Field(
        default=None,
        description="Why the change was not tested for significance although it could be: suspect_figures.")
    current: float | None = Field(description="The year-to-date figure (sum, latest or mean).")
    baseline: float | None = Field(description="The same figure for the same months last year.")
    difference: float | None = Field(description="current - baseline.")
    change_pct: float | None = Field(description="difference / baseline x 100; null when the baseline is 0 or missing.")
    target: TargetSummary | None = Field(description="The target, or null when the measure is monitored only.")
    tolerance: float | None = Field(description="The amber band that applied (percentage points for change targets).")
    status: Status = Field(description="green, amber, red, no_target or no_data.")
    direction: Direction = Field(description="improving, worsening, no_change or unknown.")
    summary: str = Field(description="One plain-English sentence saying what the result means.")
    significance: Significance | None = Field(
        default=None,
        description=(
            "Whether the change against last year is more than chance (exact test for two Poisson counts); "
            "null unless the measure is a count summed over the year to date with a baseline."))
    projection: YearEndProjection | None = Field(
        default=None, description="The projected year-end total and its status; null unless the measure is a sum.")
    spc: SpcResult | None = Field(
        default=None,
        description="The monthly control chart (Making Data Count): limits, special causes, variation, assurance.")
    peers: PeerComparison | None = Field(
        default=None, description="The comparison with the area's most similar group, when peers are configured.")

    @property
    def area_label(self) -> str:
        """The area's name for a reader: ``area_name``, else one made from the id (for results built by hand)."""
        return self.area_name or display_name(self.area)

    @property
    def key(self) -> tuple[str, str]:
        """(area, measure)."""
        return (self.area, self.measure)


class Evaluation(_Result):
    """Every measure of every area, judged as of one month."""

    partnership: str = Field(description="The partnership the rules belong to.")
    as_of: str = Field(description="The as-of month (YYYY-MM), the last month of the year to date.")
    reporting_year: str = Field(description="The reporting year, e.g. '2013/14'.")
    year_start: str = Field(description="The first month of the reporting year (YYYY-MM).")
    results: tuple[MeasureResult, ...] = Field(description="One result per area and measure, in rule order.")
    warnings: tuple[str, ...] = Field(default=(), description="Things worth knowing that are not errors.")

    def get(self, area: str, measure: str) -> MeasureResult | None:
        """The result for one area and measure, or None."""
        for result in self.results:
            if result.area == area and result.measure == measure:
                return result
        return None

    def suspect_results(self) -> tuple[MeasureResult, ...]:
        """The results whose comparison rests on suspect figures."""
        return tuple(result for result in self.results if result.suspect is not None)

    def partial_results(self) -> tuple[MeasureResult, ...]:
        """The results whose comparison covers only part of the year to date."""
        return tuple(result for result in self.results if result.partial)

    def by_status(self) -> dict[str, int]:
        """How many results have each status."""
        counts = {"green": 0, "amber": 0, "red": 0, "no_target": 0, "no_data": 0}
        for result in self.results:
            counts[result.status] += 1
        return counts
