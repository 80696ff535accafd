"""The ``statistics:`` block of a rule file: how each measure's figures are judged beyond RAG.

Given once for the rule set (in any one of its files) and overridable per
measure, key by key::

    statistics:
      confidence: 95%            # significance of the change against last year
      spc:                       # Making Data Count control charts
        baseline_points: 12
        screen_outliers: true
        rebase_at: [2015-04]
      peers:                     # most similar group (the seed's Figure 1)
        method: sd               # or funnel
        populations: {harborough: 92000, blaby: 100000, melton: 51000}
        groups:
          leicestershire-districts: [harborough, blaby, melton]

Significance, the year-end projection and SPC are on unless turned off
(``significance: false``, ``projection: false``, ``spc: {enabled: false}``);
peers needs populations and groups, so it is on only when given. A measure's
own ``statistics:`` block changes only the keys it gives (``peers: {method:
funnel}`` keeps the rule set's populations and groups).
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from csp_monitor.frozen import FrozenDict, FrozenMapping
from csp_monitor.models.rules import Identifier, KeyedValueError, Text
from csp_monitor.periods import Month, parse_month
from csp_monitor.statistics import PeerSettings, SpcSettings

__all__ = ["MAX_POPULATION", "PeerRules", "SpcRules", "StatisticsRules", "merge_statistics"]

MAX_POPULATION = 10_000_000_000
"""The largest population accepted for an area (more than the world's); the smallest is 1."""


def _level(value: object) -> object:
    """``95%``, ``95`` and ``0.95`` all mean a level of 0.95 (YAML hands us text)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a level such as 95% or 0.95, not {value}")
    number: float
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            raise ValueError(f"must be a level such as 95% or 0.95, not '{value}'") from None
        if percent:
            number /= 100
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return value
    if number > 1:
        number /= 100
    if not 0.5 <= number < 1:
        raise ValueError(f"must be a level between 50% and 100% (such as 95% or 99.8%), not '{value}'")
    return number


Level = Annotated[
    float,
    BeforeValidator(_level),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                {"type": "string", "pattern": r"^\s*\d+(\.\d*)?\s*%?\s*$"},
            ]
        }
    ),
]
"""A confidence or coverage level: ``95%``, ``99.8%`` or ``0.95``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SpcRules(_Model):
    """How each measure's monthly control chart is drawn (Making Data Count)."""

    enabled: bool = Field(default=True, description="false turns the control chart off.", examples=[False])
    baseline_points: int | None = Field(
        default=None,
        ge=12,
        description=(
            "Fix the limits on the first this many months (at least 12, as NHSRplotthedots "
            "requires) of the series, or of each rebased part; by default every month is used."
        ),
        examples=[12],
    )
    screen_outliers: bool = Field(
        default=True,
        description=(
            "Leave out very large month-to-month jumps when working out the limits (on by "
            "default, as in NHSRplotthedots; false keeps every jump)."
        ),
        examples=[False],
    )
    trend_points: int = Field(
        default=7,
        ge=3,
        description="How many months in a row, each higher (or each lower) than the last, make a trend.",
        examples=[6],
    )
    shift_points: int = Field(
        default=7,
        ge=2,
        description="How many months in a row on one side of the average make a shift.",
        examples=[8],
    )
    rebase_at: tuple[Month, ...] = Field(
        default=(),
        description=(
            "Months where the process changed (a new recording standard, a boundary change): "
            "the chart starts afresh there, with its own limits."
        ),
        examples=[["2015-04"]],
    )

    def settings(self, rebase_positions: tuple[int, ...] = (), lowest: float | None = None) -> SpcSettings:
        """The chart settings, with the rebase months turned into positions in one series.

        ``lowest`` is the lowest value the measure can take (0 for counts).
        """
        return _spc_settings(
            self.baseline_points,
            self.screen_outliers,
            self.trend_points,
            self.shift_points,
            rebase_positions,
            lowest,
        )

    def rebase_months(self) -> list[int]:
        """The rebase months as month indexes."""
        return sorted(parse_month(month) for month in self.rebase_at)


@functools.lru_cache(maxsize=256)
def _spc_settings(
    baseline_points: int | None,
    screen_outliers: bool,
    trend_points: int,
    shift_points: int,
    rebase_at: tuple[int, ...],
    lowest: float | None,
) -> SpcSettings:
    # Built once per distinct setting rather than once per chart: a national
    # run draws thousands of charts with the same settings.
    return SpcSettings(
        baseline_points=baseline_points,
        screen_outliers=screen_outliers,
        trend_points=trend_points,
        shift_points=shift_points,
        rebase_at=rebase_at,
        lowest=lowest,
    )


class PeerRules(_Model):
    """The most similar groups an area is compared with, and how."""

    method: Literal["sd", "funnel"] = Field(
        default="sd",
        description=(
            "sd: in line when within k standard deviations of the group average rate; funnel: "
            "within Poisson funnel-plot limits for an area of that population."
        ),
        examples=["funnel"],
    )
    standard_deviations: float = Field(
        default=1.0, gt=0, le=100, description="k, the width of the sd band.", examples=[1, 1.5]
    )
    funnel_level: Level = Field(
        default=0.95, description="The funnel limits: 95% or 99.8%.", examples=["95%", "99.8%"]
    )
    per: int = Field(default=1000, ge=1, le=1_000_000_000, description="Rates are per this many people.", examples=[1000])
    populations: FrozenMapping[Identifier, Annotated[float, Field(ge=1, le=MAX_POPULATION)]] = Field(
        default_factory=FrozenDict,
        description="The population of every area of every group (usually given once, for the rule set).",
        examples=[{"harborough": 92000, "blaby": 100000}],
    )
    groups: FrozenMapping[Identifier, tuple[Identifier, ...]] = Field(
        default_factory=FrozenDict,
        description=(
            "Named groups of similar areas (about fifteen each, like the Home Office's most similar "
            "groups); each area is compared with the other areas of its group."
        ),
        examples=[{"leicestershire-districts": ["harborough", "blaby", "melton"]}],
    )
    names: FrozenMapping[Identifier, Text] = Field(
        default_factory=FrozenDict,
        description=(
            "The name of an area as the board reads it in peer sentences, charts and tables, where the one "
            "made from its id is not right (oadby-and-wigston: Oadby and Wigston is made without help)."),
        examples=[{"hinckley-and-bosworth": "Hinckley & Bosworth"}],
    )

    @model_validator(mode="after")
    def _consistent(self) -> PeerRules:
        seen: dict[str, str] = {}
        for name, members in self.groups.items():
            if len(set(members)) < 2:
                raise KeyedValueError(
                    f"the peer group '{name}' needs at least two different areas", at=("groups", name)
                )
            # A measure may give only some keys and take populations from the rule set.
            missing = [area for area in members if area not in self.populations]
            if "populations" in self.model_fields_set and missing:
                raise KeyedValueError(
                    f"the peer group '{name}' has no population for {', '.join(missing)}: "
                    "add it under populations",
                    at=("groups", name),
                )
            for area in members:
                if seen.get(area, name) != name:
                    raise KeyedValueError(
                        f"'{area}' is in the peer groups '{seen[area]}' and '{name}': an area "
                        "belongs to one group",
                        at=("groups", name),
                    )
                seen[area] = name
        return self

    def problems(self) -> list[str]:
        """What stops the comparison once the rule set's and a measure's settings are merged."""
        if not self.groups:
            return ["no peer groups are given: add groups under statistics: peers:"]
        missing = sorted(
            {area for members in self.groups.values() for area in members} - set(self.populations)
        )
        if missing:
            return [f"no population is given for {', '.join(missing)}: they are left out of their groups"]
        return []

    def settings(self) -> PeerSettings:
        """The comparison settings."""
        return PeerSettings(
            method=self.method,
            standard_deviations=self.standard_deviations,
            funnel_level=self.funnel_level,
            per=self.per,
        )


class StatisticsRules(_Model):
    """Which statistics judge a measure, and how. Every key is optional."""

    confidence: Level = Field(
        default=0.95,
        description=(
            "How sure the significance test must be before it calls a change real: 95% (the "
            "default) or, to be more cautious, 99%."
        ),
        examples=["95%", "99%"],
    )
    significance: bool = Field(
        default=True,
        description="false turns off the significance test of the change against last year.",
        examples=[False],
    )
    projection: bool = Field(
        default=True,
        description="false turns off the year-end projection.",
        examples=[False],
    )
    spc: SpcRules = Field(
        default_factory=SpcRules,
        description="The monthly control chart (Making Data Count).",
        examples=[{"baseline_points": 12, "screen_outliers": True}],
    )
    peers: PeerRules | None = Field(
        default=None,
        description=(
            "The comparison with most similar groups; off unless given (and turned off for one "
            "measure with peers: null)."
        ),
        examples=[
            {
                "method": "sd",
                "populations": {"harborough": 92000, "blaby": 100000},
                "groups": {"leicestershire-districts": ["harborough", "blaby"]},
            }
        ],
    )


def merge_statistics(base: StatisticsRules | None, override: StatisticsRules | None) -> StatisticsRules:
    """The rule set's statistics with a measure's overrides applied, key by key."""
    if override is None:
        return base or StatisticsRules()
    if base is None:
        return override
    return _merge(base, override)


_M = TypeVar("_M", bound=BaseModel)


def _merge(base: _M, override: _M) -> _M:
    updates: dict[str, object] = {}
    for name in override.model_fields_set:
        value = getattr(override, name)
        current = getattr(base, name)
        if isinstance(value, BaseModel) and type(value) is type(current):
            value = _merge(current, value)
        updates[name] = value
    return base.model_copy(update=updates)
