"""How does an area compare with the areas most like it?

The Home Office groups Community Safety Partnerships with similar
demography into most similar groups (MSGs) of about fifteen, and its
iQuanta tool reports for each measure the rate per 1,000 people, the group
average, the area's rank in the group (1 = lowest) and whether it is below,
in line with or above its peers. Published reports show that "in line" is a
wide band (a gap of +6.3% can be in line): it reflects the spread between
the peers, not the uncertainty of one count. Two defensible ways to draw it:

* ``sd``: the group average of the rates +/- k standard deviations of the
  rates (k = 1 by default), iQuanta-style.
* ``funnel``: funnel-plot limits (Spiegelhalter, "Funnel plots for comparing
  institutional performance", Statistics in Medicine 2005). The limits are
  exact Poisson quantiles of the count the area would expect at the group's
  overall rate, interpolated as Spiegelhalter describes so that they vary
  smoothly with population; at 95% or 99.8%. Small areas get wide limits,
  because their counts wobble more. Those limits are for drawing: the
  position is decided by the exact Poisson tail of the area's count O at
  its expected count E, as PHEindicatormethods does: above when
  P(X >= O) < (1 - level) / 2, below when P(X <= O) < (1 - level) / 2.
  Comparing O with the smoothed upper limit would call one event too few
  "above" (the limit lies up to one event below the exact step), so that an
  area exactly at the group's rate would be called above 18 times in 100 at
  E = 0.2 and 8 in 100 at E = 1 instead of at most 2.5.

The group includes the area being compared, as an MSG does.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.frozen import FrozenDict, FrozenMapping
from csp_monitor.names import display_name
from csp_monitor.statistics import _plain_english
from csp_monitor.statistics._poisson import (
    poisson_cdf,
    poisson_probability,
    poisson_quantile_and_cdf,
)
from csp_monitor.statistics._prevalidated import prevalidated

__all__ = [
    "PeerComparison",
    "PeerMethod",
    "PeerPosition",
    "PeerSettings",
    "compare_group",
    "compare_with_peers",
]

PeerMethod = Literal["sd", "funnel"]
"""How the in-line band is drawn: standard deviations of the peer rates, or a funnel plot."""

PeerPosition = Literal["below", "in_line", "above"]
"""Where the area's rate sits against the band."""


class PeerSettings(BaseModel):
    """How an area is compared with its peer group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: PeerMethod = Field(
        default="sd",
        description=(
            "sd: group average +/- k standard deviations of the peer rates; funnel: Poisson "
            "funnel-plot limits for an area of this population."
        ),
    )
    standard_deviations: float = Field(
        default=1.0,
        gt=0,
        description="k, the width of the sd band in standard deviations of the peer rates.",
    )
    funnel_level: float = Field(
        default=0.95,
        gt=0.5,
        lt=1,
        description="The coverage of the funnel limits: 0.95, or 0.998 for the outer funnel.",
    )
    per: int = Field(default=1000, ge=1, description="Rates are given per this many people.")


class PeerComparison(BaseModel):
    """An area's rate against its most similar group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str = Field(description="The area being compared.")
    method: PeerMethod = Field(description="How the in-line band was drawn.")
    rate: float = Field(description="The area's rate per 1,000 people (or per `per`).")
    group_average: float = Field(description="The average of the rates of every area in the group.")
    difference_pct: float | None = Field(
        description=(
            "How far the area's rate is from the group average, as a percentage of the "
            "average; null when the average is 0."
        )
    )
    rank: int = Field(
        ge=1, description="The area's rank in the group by rate, 1 = lowest; ties share a rank."
    )
    group_size: int = Field(ge=2, description="How many areas the group has, this one included.")
    centre: float = Field(
        description=(
            "The rate the band is drawn around: the group average (sd), or the group's overall "
            "rate, all counts over all people (funnel)."
        )
    )
    lower_limit: float = Field(description="The lower edge of the in-line band, as a rate.")
    upper_limit: float = Field(description="The upper edge of the in-line band, as a rate.")
    position: PeerPosition = Field(
        description=(
            "below, in_line or above the band; for the funnel, decided by the exact Poisson tail "
            "of the area's count (see tail_probability)."
        )
    )
    expected: float | None = Field(
        default=None,
        description="Funnel only: the count the area would expect at the group's overall rate.",
    )
    tail_probability: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description=(
            "Funnel only: the chance of a count at least as far from the expected on its side, "
            "P(X >= count) above the expected count, P(X <= count) below it; the area is above or "
            "below its peers when this is under (1 - funnel_level) / 2."
        ),
    )
    rates: FrozenMapping[str, float] = Field(description="The rate of every area in the group.")
    names: FrozenMapping[str, str] = Field(
        default_factory=FrozenDict,
        description=(
            "The name of every area in the group as a reader reads it: the one given, else made from its id "
            "(north-west-leicestershire: North West Leicestershire)."))
    explanation: str = Field(
        description="One plain-English sentence comparing the area with its peers."
    )


def compare_with_peers(
    group: Mapping[str, tuple[float, float]],
    area: str,
    settings: PeerSettings | None = None,
    *,
    period: str | None = None,
    names: Mapping[str, str] | None = None,
) -> PeerComparison:
    """Compare ``area`` with the other areas of ``group``, a mapping of area to (count, population).

    ``period`` names the months the counts cover ("April 2022 to October 2022") in the explanation, so a
    rate over part of a year is not read as a year's. ``names`` gives an area's name as a reader reads it, by
    area; an area without one is named from its id (``oadby-and-wigston``: Oadby and Wigston).

    Raise ValueError when the area is not in the group, the group has fewer
    than two areas, a count is negative or a population is not positive.
    """
    if area not in group:
        raise ValueError(f"{area} is not in its own peer group")
    return _Group(group, settings or PeerSettings(), period, names).compare(area)


def compare_group(
    group: Mapping[str, tuple[float, float]],
    settings: PeerSettings | None = None,
    *,
    period: str | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, PeerComparison]:
    """Compare every area of ``group`` with the rest, working out the group's figures once (``period`` and
    ``names``: as for :func:`compare_with_peers`)."""
    peers = _Group(group, settings or PeerSettings(), period, names)
    return {area: peers.compare(area) for area in group}


class _Group:
    """A peer group's rates, average and spread, worked out once for all its members."""

    def __init__(self, group: Mapping[str, tuple[float, float]], settings: PeerSettings,
                 period: str | None = None, names: Mapping[str, str] | None = None) -> None:
        if len(group) < 2:
            raise ValueError("a peer group needs at least two areas")
        for name, (count, population) in group.items():
            if not (math.isfinite(count) and count >= 0):
                raise ValueError(f"the count for {name} must be a number, not negative: {count!r}")
            if not (math.isfinite(population) and population > 0):
                raise ValueError(f"the population of {name} must be above 0, not {population!r}")
        self.group = group
        self.settings = settings
        self.period = period
        per = settings.per
        self.rates = {name: count / population * per for name, (count, population) in group.items()}
        # Rates of ordinary numbers are floats; a caller's float-like numbers go through validation.
        self.floats = all(type(rate) is float and type(name) is str for name, rate in self.rates.items())
        self.frozen_rates = FrozenDict(self.rates)  # one for every member's comparison: it cannot change
        given = names or {}
        self.names = FrozenDict({name: given.get(name) or display_name(name) for name in group})
        self.floats = self.floats and all(type(name) is str for name in self.names.values())
        self.sorted_rates = sorted(self.rates.values())
        size = len(self.rates)
        self.average = math.fsum(self.rates.values()) / size
        self.spread = math.sqrt(
            math.fsum((r - self.average) ** 2 for r in self.rates.values()) / (size - 1)
        )
        total_count = math.fsum(count for count, _ in group.values())
        total_population = math.fsum(population for _, population in group.values())
        self.overall_rate = total_count / total_population  # per person

    def compare(self, area: str) -> PeerComparison:
        settings = self.settings
        per = settings.per
        rate = self.rates[area]
        average = self.average
        size = len(self.rates)
        rank = 1 + bisect.bisect_left(self.sorted_rates, rate)
        difference = (rate - average) / average * 100 if average > 0 else None
        expected: float | None = None
        chance: float | None = None
        if settings.method == "sd":
            centre = average
            lower = average - settings.standard_deviations * self.spread
            upper = average + settings.standard_deviations * self.spread
            position: PeerPosition = "below" if rate < lower else "above" if rate > upper else "in_line"
        else:
            centre = self.overall_rate * per
            count, population = self.group[area]
            expected = self.overall_rate * population
            tail = (1 - settings.funnel_level) / 2
            lower = _funnel_limit(tail, expected) / population * per
            upper = _funnel_limit(1 - tail, expected) / population * per
            position, chance = _funnel_position(count, expected, tail)
        fields = {
            "area": area,
            "method": settings.method,
            "rate": rate,
            "group_average": average,
            "difference_pct": difference,
            "rank": rank,
            "group_size": size,
            "centre": centre,
            "lower_limit": lower,
            "upper_limit": upper,
            "position": position,
            "expected": expected,
            "tail_probability": chance,
            "rates": self.frozen_rates,
            "names": self.names,
            "explanation": _explain(
                self.names[area], rate, average, difference, rank, size, lower, upper, position, settings, self.period
            ) + _funnel_chance(self.group[area][0], expected, chance),
        }
        if (self.floats and type(lower) is float and type(upper) is float and type(centre) is float
                and type(expected) in _OPTIONAL_FLOAT and type(chance) in _OPTIONAL_FLOAT):
            # Every number is a float by its arithmetic: a national run compares thousands of
            # areas, and validating each comparison again costs more than making it.
            return prevalidated(PeerComparison, fields)
        return PeerComparison(**fields)


_OPTIONAL_FLOAT = (float, type(None))


def _funnel_chance(count: float, expected: float | None, chance: float | None) -> str:
    """The funnel's evidence: the count against the expected one, and how often chance gives as much."""
    if expected is None or chance is None or expected == 0:
        return ""
    side = "high" if count > expected else "low"
    return (f" It had {_plain_english.number(count)} where {_plain_english.number(round(expected, 1))} "
            f"would be expected at the group's rate; a count this {side} happens by chance "
            f"{_plain_english.chance(chance)}.")


def _funnel_position(count: float, expected: float, tail: float) -> tuple[PeerPosition, float]:
    """Above, below or in line by the exact Poisson tail of ``count`` at ``expected``, and that tail.

    A count above the expected one is above its peers when P(X >= count) <
    ``tail``, one below when P(X <= count) < ``tail`` (a count that is not
    whole is taken to the whole number on the expected side of it).
    """
    if expected == 0:
        return ("in_line", 1.0) if count == 0 else ("above", 0.0)
    if count > expected:
        chance = 1.0 - poisson_cdf(math.ceil(count) - 1, expected)
        return ("above" if chance < tail else "in_line"), max(0.0, chance)
    chance = poisson_cdf(math.floor(count), expected)
    return ("below" if chance < tail else "in_line"), chance


def _funnel_limit(probability: float, expected: float) -> float:
    """Spiegelhalter's interpolated Poisson limit, as a count.

    With r the ``probability`` quantile of Poisson(expected), the limit is
    r - (F(r) - probability) / P(X = r): the step function of the exact
    quantile, joined up so the funnel is smooth.
    """
    if expected == 0:
        return 0.0
    r, cumulative = poisson_quantile_and_cdf(probability, expected)
    alpha = (cumulative - probability) / poisson_probability(r, expected)
    return max(0.0, r - alpha)


def _explain(
    area: str,
    rate: float,
    average: float,
    difference: float | None,
    rank: int,
    size: int,
    lower: float,
    upper: float,
    position: PeerPosition,
    settings: PeerSettings,
    period: str | None = None,
) -> str:
    def num(value: float) -> str:
        return f"{value:,.2f}"  # rates, always to two decimals so they line up

    per = f"per {settings.per:,} people"
    if difference is None:
        gap = "the group average is 0"
    elif round(difference, 1) == 0:
        gap = f"the same as the group average of {num(average)}"
    else:
        gap = (
            f"{abs(difference):.1f}% {'above' if difference > 0 else 'below'} "
            f"the group average of {num(average)}"
        )
    if settings.method == "sd":
        k = settings.standard_deviations
        band = f"the band of {k:g} standard deviation{'s' if k != 1 else ''} either side of the group average"
    else:
        band = f"the {_plain_english.percent(settings.funnel_level)} funnel limits for an area of its size"
    verdict = {
        "below": "below its peers, under",
        "in_line": "in line with its peers, within",
        "above": "above its peers, over",
    }[position]
    if position == "in_line" and not lower <= rate <= upper:
        # The funnel is drawn smooth between whole counts; the exact tail decides the position.
        verdict = "in line with its peers by the exact test, though just outside"
    return (
        f"{area}'s rate{f' for {period}' if period else ''} is {num(rate)} {per}, {gap} (rank {rank} of {size}, 1 = lowest): "
        f"{verdict} {band} ({num(lower)} to {num(upper)})."
    )
