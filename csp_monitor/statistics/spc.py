"""Statistical process control: is this month's figure unusual, or just noise?

Every monthly series wobbles. An XmR chart (Shewhart's "individuals" chart)
learns from the series itself how much it normally wobbles, and flags only
what falls outside that: NHS England's Making Data Count programme uses it to
stop boards reacting to every up and down. We follow NHSRplotthedots, the R
implementation of Making Data Count, exactly:

* Limits. Within each group of points (see rebasing), the baseline is the
  first ``baseline_points`` points, or all of them. Its mean is the centre
  line; the moving ranges |y_i - y_(i-1)| of the baseline measure the
  month-to-month wobble and their mean is the average moving range (AMR).
  Screening, on by default as in NHSRplotthedots, drops moving ranges of
  3.267 x AMR or more (the upper limit of a moving-range chart, so a single
  shock does not widen the limits) and averages the rest. The process limits
  are mean +/- 2.66 x AMR (2.66 = 3 / 1.128 turns the AMR into three
  standard deviations), and the near limits two thirds of the way out. With
  ``lowest`` set (0 for counts, which cannot be negative), a limit below it
  is given as ``lowest``: NHSRplotthedots draws a lower limit of -3 for a
  count, which no month can ever cross.
* Each point: ``outside`` when strictly beyond a limit, ``side`` of the mean
  (0 on it), ``close`` when not outside and strictly beyond a near limit.
* Rules, in priority order, the first that applies labels the point:
  ``outside_limits``; ``trend``, a run of ``trend_points`` (7) points each
  strictly higher, or each strictly lower, than the one before (a tie breaks
  it; every point of the run is flagged); ``two_of_three``, three
  consecutive points on the same side of the mean of which at least two are
  close to the limit (only the close ones are flagged); ``shift``, a run of
  ``shift_points`` (7) points on the same side of the mean (a point on the
  mean breaks it; every point is flagged). Other traditions use other run
  lengths (Western Electric: 8 and 6; IHI run charts: 6 and 5), hence the
  settings.
* Variation: a flagged point is an improvement or a concern according to
  which direction is better; with no better direction it is simply high or
  low. The direction is the side of the mean, except for a trend, whose
  direction is the trend's own: seven months of rising crime are a concern
  even while still below the average, as NHSRplotthedots colours them since
  its 0.2.2 (a trend crossing the mean, issue #171).
* Assurance: can the process meet its target as it stands? A target beyond
  the upper limit is consistently failed when higher is better (and
  consistently passed when lower is better), beyond the lower limit the
  reverse, and between the limits it is hit and miss.
* Rebasing: when something changed the process (a new recording standard,
  a boundary change), the series is split where each new group starts and
  every group gets its own limits and its own runs.
* Limits resting on fewer than 12 points are trial limits, and say so.
  NHSRplotthedots refuses to fix the limits on fewer than 12 points; rule
  files do too (``baseline_points`` of at least 12), while this function
  accepts shorter baselines (marked trial) for teaching and tests.

Missing months. The caller passes only the months it has, in order; we never
interpolate, and a missing month is never a zero. The points either side of
a gap are treated as neighbours: their moving range spans the gap and a run
continues across it. That is what NHSRplotthedots does with a series that
has no row for a month, and it keeps one missing return from inventing a
special cause.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
import re
from collections.abc import Collection, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from csp_monitor.statistics import _plain_english
from csp_monitor.statistics._prevalidated import prevalidated

__all__ = [
    "Assurance",
    "Better",
    "SpcGroup",
    "SpcPoint",
    "SpcResult",
    "SpcRule",
    "SpcSettings",
    "SpecialCause",
    "Variation",
    "analyse_spc",
    "analyse_spc_columns",
    "analyse_spc_prevalidated",
]

SpcRule = Literal["outside_limits", "trend", "two_of_three", "shift"]
"""The special-cause rule that labels a point, in priority order."""

Variation = Literal[
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
]
"""Making Data Count's variation icons: noise, or a signal and which way."""

Assurance = Literal["consistently_passing", "consistently_failing", "hit_and_miss"]
"""Making Data Count's assurance icons: can the process meet its target as it stands?"""

Better = Literal["lower", "higher"]
"""Which direction of the measure is good."""

_LIMIT = 2.66
_NEAR_LIMIT = 2 * (_LIMIT / 3)
_SCREEN = 3.267


class SpcSettings(BaseModel):
    """How the control chart is drawn: baseline, screening, run lengths and rebasing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_points: int | None = Field(
        default=None,
        ge=2,
        description=(
            "Fix the limits on the first this many points of each group (commonly 12); "
            "by default the limits use every point."
        ),
    )
    screen_outliers: bool = Field(
        default=True,
        description=(
            "Leave out moving ranges of 3.267 x the average moving range or more, so that a "
            "single shock does not widen the limits (on by default, as in NHSRplotthedots)."
        ),
    )
    lowest: float | None = Field(
        default=None,
        description=(
            "The lowest value the measure can take (0 for counts): a limit below it is given "
            "as this value, since no month can fall below it."
        ),
    )
    trend_points: int = Field(
        default=7,
        ge=3,
        description="How many points in a row, each higher (or each lower) than the last, make a trend.",
    )
    shift_points: int = Field(
        default=7,
        ge=2,
        description="How many points in a row on the same side of the mean make a shift.",
    )
    rebase_at: tuple[int | str, ...] = Field(
        default=(),
        description=(
            "Where a new group with its own limits starts: a period label, or a position in "
            "the series counted from 0."
        ),
    )
    minimum_points: int = Field(
        default=2,
        ge=2,
        description="Below this many points since the last rebase there is no chart at all.",
    )
    trial_limits_below: int = Field(
        default=12,
        ge=2,
        description="Limits resting on fewer points than this are trial limits.",
    )


class SpcPoint(BaseModel):
    """One point of the chart and what the rules make of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str = Field(description="The period label the caller gave, e.g. 2014-03.")
    value: float = Field(description="The figure for the period.")
    group: int = Field(ge=0, description="Which rebase group the point belongs to, from 0.")
    rule: SpcRule | None = Field(description="The first special-cause rule that applies, if any.")
    variation: Variation = Field(description="Common cause, or which kind of special cause.")
    excluded: bool = Field(
        default=False, description="Whether the point is suspect: drawn, but left out of the limits and rules.")


class SpecialCause(BaseModel):
    """A point flagged by a special-cause rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str = Field(description="The period label of the flagged point.")
    rule: SpcRule = Field(description="The rule that flagged it.")
    variation: Variation = Field(description="Improvement, concern, or neutral high or low.")


class SpcGroup(BaseModel):
    """The limits of one rebase group."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=0, description="The position of the group's first point in the series.")
    first_period: str = Field(description="The first period of the group.")
    last_period: str = Field(description="The last period of the group.")
    points: int = Field(ge=1, description="How many points the group has.")
    baseline_points: int = Field(ge=1, description="How many of them the limits rest on.")
    mean: float = Field(description="The centre line: the mean of the baseline points.")
    average_moving_range: float | None = Field(
        description=(
            "The mean moving range of the baseline (after screening); none for a group of "
            "one point, which has no limits."
        )
    )
    lower_limit: float | None = Field(
        description="mean - 2.66 x average moving range (never below the settings' lowest value)."
    )
    upper_limit: float | None = Field(description="mean + 2.66 x average moving range.")
    near_lower: float | None = Field(description="mean - (2/3) x 2.66 x average moving range.")
    near_upper: float | None = Field(description="mean + (2/3) x 2.66 x average moving range.")
    trial_limits: bool = Field(
        description="The limits rest on fewer points than a firm chart needs."
    )


class SpcResult(BaseModel):
    """An XmR control chart of a series: limits, signals, variation and assurance.

    Evaluating thousands of measures needs, for each, the limits and the
    verdict on the latest month; only a chart or a report needs every month's
    label and the sentences. So the result stores the series (``periods``,
    ``values``), the limits of each group, the settings and the latest
    verdict, and works out the per-month ``rules``, ``variations``,
    ``special_causes`` and the ``explanation`` when they are read (they are
    included when the result is dumped to JSON). :meth:`points` gives the rows.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: float = Field(description="The centre line of the latest group.")
    lower_limit: float = Field(description="The lower process limit of the latest group.")
    upper_limit: float = Field(description="The upper process limit of the latest group.")
    near_lower: float = Field(description="The lower near limit (two thirds of the way out).")
    near_upper: float = Field(description="The upper near limit (two thirds of the way out).")
    average_moving_range: float = Field(
        description="The average month-to-month change the latest limits are built from."
    )
    baseline_points: int = Field(description="How many points the latest limits rest on.")
    trial_limits: bool = Field(
        description=(
            "True when the latest limits rest on fewer than 12 points (by default): "
            "treat them as provisional."
        )
    )
    periods: tuple[str, ...] = Field(description="The period label of every point, in order.")
    values: tuple[float, ...] = Field(description="The value of every point, in order.")
    groups: tuple[SpcGroup, ...] = Field(description="The limits of each rebase group, in order.")
    settings: SpcSettings = Field(description="The settings the chart was drawn with.")
    better: Better | None = Field(description="Which direction is better, if either.")
    rule: SpcRule | None = Field(
        description="The special-cause rule that flags the latest point, if any."
    )
    variation: Variation = Field(description="The variation of the latest point.")
    target: float | None = Field(
        description="The target as a level of the series, that the assurance was judged against."
    )
    assurance: Assurance | None = Field(
        description=(
            "Whether the process as it stands will consistently pass or fail the target, or hit "
            "and miss it; null without a target or a better direction."
        )
    )
    excluded: tuple[str, ...] = Field(
        default=(),
        description=(
            "Periods whose figures are suspect (likely data faults): drawn, but left out of the "
            "limits and of the special-cause rules, as if they were missing."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_are_not_input(cls, data: Any) -> Any:
        # A dumped result carries the derived columns; they are worked out again.
        if isinstance(data, dict) and _DERIVED.intersection(data):
            data = {key: value for key, value in data.items() if key not in _DERIVED}
        return data

    @model_validator(mode="after")
    def _columns_line_up(self) -> SpcResult:
        if len(self.values) != len(self.periods):
            raise ValueError("periods and values must have one entry per point")
        if sum(group.points for group in self.groups) != len(self.periods):
            raise ValueError("the groups must cover every point once")
        return self

    @computed_field(  # type: ignore[prop-decorator]
        description="Plain-English sentences saying what the chart shows."
    )
    @property
    def explanation(self) -> str:
        """What the chart says about the latest month, and about the target."""
        if self.excluded:
            return _explain_excluded(self)
        values = self.values
        return _explain(
            self.periods[-1],
            values[-1],
            values[-1] > values[-2],
            self.rule,
            self.variation,
            self.groups[-1],
            self.settings,
            self.better,
            self.target,
            self.assurance,
        )

    @computed_field(  # type: ignore[prop-decorator]
        description="For every point, the first special-cause rule that applies, or null."
    )
    @property
    def rules(self) -> tuple[SpcRule | None, ...]:
        """The rule labelling each point."""
        return self._labels()[0]

    @computed_field(  # type: ignore[prop-decorator]
        description="For every point, its variation."
    )
    @property
    def variations(self) -> tuple[Variation, ...]:
        """The variation of each point."""
        return self._labels()[1]

    @computed_field(  # type: ignore[prop-decorator]
        description="Every flagged point, in order, with the rule that flagged it."
    )
    @property
    def special_causes(self) -> tuple[SpecialCause, ...]:
        """The flagged points."""
        rules, variations = self._labels()
        return tuple(
            SpecialCause(period=period, rule=rule, variation=variation)
            for period, rule, variation in zip(self.periods, rules, variations, strict=True)
            if rule is not None
        )

    def _labels(self) -> tuple[tuple[SpcRule | None, ...], tuple[Variation, ...]]:
        values = list(self.values)
        rules: list[SpcRule | None] = []
        variations: list[Variation] = []
        excluded = frozenset(self.excluded)
        for group in self.groups:
            span = range(group.start, group.start + group.points)
            # Suspect points are left out as if missing; they are labelled common cause, never a signal.
            kept = [i for i in span if self.periods[i] not in excluded] if excluded else list(span)
            kept_rules, kept_variations = _rules([values[i] for i in kept], group, self.settings, self.better)
            labels = dict(zip(kept, zip(kept_rules, kept_variations, strict=True), strict=True))
            for i in span:
                rule, variation = labels.get(i, (None, "common_cause"))
                rules.append(rule)
                variations.append(variation)
        return tuple(rules), tuple(variations)

    def points(self) -> tuple[SpcPoint, ...]:
        """Every point as a row: period, value, group, rule and variation."""
        rules, variations = self._labels()
        group_of = [0] * len(self.periods)
        for number, group in enumerate(self.groups):
            group_of[group.start : group.start + group.points] = [number] * group.points
        excluded = frozenset(self.excluded)
        return tuple(
            SpcPoint(period=period, value=value, group=group, rule=rule, variation=variation,
                     excluded=period in excluded)
            for period, value, group, rule, variation in zip(
                self.periods, self.values, group_of, rules, variations, strict=True
            )
        )


_DERIVED = frozenset({"rules", "variations", "special_causes", "explanation"})


_DEFAULT_SETTINGS = SpcSettings()


def analyse_spc(
    points: Sequence[tuple[str, float]],
    *,
    settings: SpcSettings | None = None,
    better: Better | None = None,
    target: float | None = None,
    exclude: Collection[str] = (),
) -> SpcResult | None:
    """Draw the XmR chart of ``points``, a sequence of (period label, value) in time order.

    ``exclude`` names periods whose figures are suspect: they stay on the
    chart but are left out of the limits and the rules as if missing.

    Pass only observed periods: nothing is interpolated (see the module
    docstring for how gaps are treated). Return None when the latest group
    has fewer than ``settings.minimum_points`` points. Raise ValueError for a
    value that is not a finite number, a repeated label, or a rebase point
    that is not in the series.
    """
    if not points:
        return None
    periods, values = zip(*points, strict=True)
    return analyse_spc_columns(
        periods, values, settings=settings, better=better, target=target, exclude=exclude
    )


def analyse_spc_columns(
    periods: Sequence[str],
    values: Sequence[float],
    *,
    settings: SpcSettings | None = None,
    better: Better | None = None,
    target: float | None = None,
    exclude: Collection[str] = (),
) -> SpcResult | None:
    """:func:`analyse_spc` for the series given as two parallel sequences, as results store it."""
    settings = settings or _DEFAULT_SETTINGS
    if exclude:
        return _analyse_excluding(periods, values, frozenset(exclude), settings, better, target)
    labels, values = _validate(periods, values)
    if target is not None and not (type(target) in (int, float) and math.isfinite(target)):
        raise ValueError(f"the target must be a finite number, not {target!r}")
    if not values:
        return None
    starts = _group_starts(labels, len(values), settings.rebase_at)
    ends = [*starts[1:], len(values)]
    if ends[-1] - starts[-1] < settings.minimum_points:
        return None

    groups = [
        _limits(labels, values, start, end, settings)
        for start, end in zip(starts, ends, strict=True)
    ]
    latest = groups[-1]
    # The latest group has at least minimum_points >= 2 points, so it has limits.
    assert latest.lower_limit is not None and latest.upper_limit is not None
    assert latest.near_lower is not None and latest.near_upper is not None
    assert latest.average_moving_range is not None
    rule, direction = _latest_rule(values[latest.start :], latest, settings)
    variation: Variation = "common_cause" if rule is None else _VARIATION[better, direction]
    assurance = _assurance(target, better, latest.lower_limit, latest.upper_limit)
    return SpcResult(
        mean=latest.mean,
        lower_limit=latest.lower_limit,
        upper_limit=latest.upper_limit,
        near_lower=latest.near_lower,
        near_upper=latest.near_upper,
        average_moving_range=latest.average_moving_range,
        baseline_points=latest.baseline_points,
        trial_limits=latest.trial_limits,
        periods=labels,
        values=values,
        groups=tuple(groups),
        settings=settings,
        better=better,
        rule=rule,
        variation=variation,
        target=target,
        assurance=assurance,
    )


def analyse_spc_prevalidated(
    labels: tuple[str, ...],
    values: tuple[float, ...],
    *,
    settings: SpcSettings,
    better: Better | None,
    target: float | None,
) -> SpcResult | None:
    """:func:`analyse_spc_columns` for a series known to be good: the engine's fast path.

    The caller guarantees what the checks would: ``values`` are finite
    floats, ``labels`` are distinct, ``target`` is None or a finite float,
    there is nothing to exclude and ``settings`` has no rebase. The result
    equals :func:`analyse_spc_columns`' (tests/test_evaluation_batch.py),
    without validating the models again: thousands of charts are drawn in
    a national run.
    """
    if settings.rebase_at:
        raise ValueError("analyse_spc_prevalidated draws one group: use analyse_spc_columns to rebase")
    n = len(values)
    if n == 0 or n < settings.minimum_points:
        return None
    fields = _limit_fields(labels, values, 0, n, settings)
    latest = prevalidated(SpcGroup, fields)
    rule, direction = _latest_rule(values, latest, settings)
    lower, upper = fields["lower_limit"], fields["upper_limit"]
    return prevalidated(SpcResult, {
        "mean": fields["mean"],
        "lower_limit": lower,
        "upper_limit": upper,
        "near_lower": fields["near_lower"],
        "near_upper": fields["near_upper"],
        "average_moving_range": fields["average_moving_range"],
        "baseline_points": fields["baseline_points"],
        "trial_limits": fields["trial_limits"],
        "periods": labels,
        "values": values,
        "groups": (latest,),
        "settings": settings,
        "better": better,
        "rule": rule,
        "variation": "common_cause" if rule is None else _VARIATION[better, direction],
        "target": target,
        "assurance": _assurance(target, better, lower, upper),
        "excluded": (),
    }, unset=_UNSET)


_UNSET = ("excluded",)


def _analyse_excluding(
    periods: Sequence[str],
    values: Sequence[float],
    exclude: frozenset[str],
    settings: SpcSettings,
    better: Better | None,
    target: float | None,
) -> SpcResult | None:
    """The chart of the points not excluded, with the excluded ones put back on it, unjudged.

    A suspect month (a data fault) is treated exactly as a missing month for
    the limits and the rules, so a month that lost most of its crimes cannot
    widen the limits and hide a real signal; it is still drawn, marked.
    """
    labels, numbers = _validate(periods, values)
    keep = [i for i, label in enumerate(labels) if label not in exclude]
    if len(keep) == len(labels):
        return analyse_spc_columns(labels, numbers, settings=settings, better=better, target=target)
    rebase: set[int] = set()
    for start in _group_starts(labels, len(labels), settings.rebase_at)[1:]:
        # A rebase at a suspect point starts the new group at the next point kept.
        position = bisect.bisect_left(keep, start)
        if 0 < position < len(keep):
            rebase.add(position)
    inner = analyse_spc_columns(
        [labels[i] for i in keep],
        [numbers[i] for i in keep],
        settings=settings.model_copy(update={"rebase_at": tuple(sorted(rebase))}),
        better=better,
        target=target,
    )
    if inner is None:
        return None
    starts = [0] + [keep[group.start] for group in inner.groups[1:]]
    ends = [*starts[1:], len(labels)]
    groups = tuple(
        group.model_copy(
            update={
                "start": start,
                "points": end - start,
                "first_period": labels[start],
                "last_period": labels[end - 1],
            }
        )
        for group, start, end in zip(inner.groups, starts, ends, strict=True)
    )
    latest_excluded = labels[-1] in exclude
    return inner.model_copy(
        update={
            "periods": labels,
            "values": numbers,
            "groups": groups,
            "settings": settings,
            "excluded": tuple(label for label in labels if label in exclude),
            # A suspect latest month is not judged: its verdict would be the fault's.
            "rule": None if latest_excluded else inner.rule,
            "variation": "common_cause" if latest_excluded else inner.variation,
        }
    )


def _latest_rule(
    values: Sequence[float], group: SpcGroup, settings: SpcSettings
) -> tuple[SpcRule | None, int]:
    """The rule labelling the last point of a group, and its direction, without labelling the rest.

    The same tests as :func:`_rules` (whose last label this must equal), but
    only the runs and the window that end at the last point are looked at,
    so a national run need not label every month of every chart.
    """
    n = len(values)
    size = group.baseline_points
    total = math.fsum(values[:size])

    def side(value: float) -> int:
        return 1 if size * value > total else -1 if size * value < total else 0

    last = values[-1]
    last_side = side(last)
    amr = group.average_moving_range
    close = [False, False, False]
    if amr is not None:
        width, near = _LIMIT * amr, _NEAR_LIMIT * amr
        deviation = (size * last - total) / size
        if deviation > width or deviation < -width:
            return "outside_limits", last_side
        for offset, value in enumerate(values[-3:][::-1]):
            d = (size * value - total) / size
            close[offset] = -width <= d <= width and (d > near or d < -near)

    if n >= settings.trend_points:
        step = _sign(values[-1] - values[-2])
        if step != 0:
            length = 2
            i = n - 2
            while i > 0 and _sign(values[i] - values[i - 1]) == step:
                length += 1
                i -= 1
            if length >= settings.trend_points:
                return "trend", step

    if (
        n >= 3
        and close[0]
        and sum(close) >= 2
        and last_side != 0
        and side(values[-2]) == last_side
        and side(values[-3]) == last_side
    ):
        return "two_of_three", last_side

    if last_side != 0:
        length = 1
        i = n - 2
        while i >= 0 and side(values[i]) == last_side:
            length += 1
            i -= 1
        if length >= settings.shift_points:
            return "shift", last_side
    return None, 0


def _sign(x: float) -> int:
    return 1 if x > 0 else -1 if x < 0 else 0


def _validate(
    periods: Sequence[str], raw: Sequence[float]
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if len(periods) != len(raw):
        raise ValueError(f"{len(periods)} periods but {len(raw)} values: give one value per period")
    labels = tuple(periods)
    try:
        finite = math.isfinite(sum(raw))  # a NaN or an infinity anywhere makes the sum one
    except (TypeError, OverflowError):
        finite = False
    if not finite:
        bad = next(
            (v for v in raw if not isinstance(v, int | float) or not math.isfinite(v)),
            "a huge value",
        )
        raise ValueError(f"every value must be a finite number, not {bad!r}")
    if len(set(labels)) != len(labels):
        repeated = next(label for label in labels if labels.count(label) > 1)
        raise ValueError(f"the period {repeated} appears more than once in the series")
    return labels, tuple(map(float, raw))


def _group_starts(labels: Sequence[str], count: int, rebase_at: tuple[int | str, ...]) -> list[int]:
    """The index where each rebase group starts, always including 0."""
    starts = {0}
    for where in rebase_at:
        if isinstance(where, str):
            if where not in labels:
                raise ValueError(f"cannot rebase at {where}: it is not a period of the series")
            starts.add(labels.index(where))
        else:
            if not 0 <= where < count:
                raise ValueError(
                    f"cannot rebase at position {where}: the series has positions 0 to {count - 1}"
                )
            starts.add(where)
    return sorted(starts)


def _limits(
    labels: Sequence[str], values: Sequence[float], start: int, end: int, settings: SpcSettings
) -> SpcGroup:
    """Mean, average moving range and limits of the group ``start:end``."""
    return SpcGroup(**_limit_fields(labels, values, start, end, settings))


def _limit_fields(
    labels: Sequence[str], values: Sequence[float], start: int, end: int, settings: SpcSettings
) -> dict[str, Any]:
    """The fields of :func:`_limits`' group, in the model's order."""
    group = values[start:end]
    baseline = group[: settings.baseline_points] if settings.baseline_points else group
    size = len(baseline)
    mean = math.fsum(baseline) / size
    amr: float | None = None
    if size >= 2:
        moving_ranges = list(map(abs, map(operator.sub, baseline[1:], baseline)))
        amr = sum(moving_ranges) / len(moving_ranges)
        if settings.screen_outliers and amr > 0:
            kept = [r for r in moving_ranges if r < _SCREEN * amr]
            amr = sum(kept) / len(kept)
    floor = -math.inf if settings.lowest is None else settings.lowest
    return {
        "start": start,
        "first_period": labels[start],
        "last_period": labels[end - 1],
        "points": end - start,
        "baseline_points": size,
        "mean": mean,
        "average_moving_range": amr,
        "lower_limit": None if amr is None else max(mean - _LIMIT * amr, floor),
        "upper_limit": None if amr is None else mean + _LIMIT * amr,
        "near_lower": None if amr is None else max(mean - _NEAR_LIMIT * amr, floor),
        "near_upper": None if amr is None else mean + _NEAR_LIMIT * amr,
        "trial_limits": size < settings.trial_limits_below,
    }


def _rules(
    values: Sequence[float], group: SpcGroup, settings: SpcSettings, better: Better | None
) -> tuple[list[SpcRule | None], list[Variation]]:
    """The rule labelling each point of a group, and its variation.

    Thousands of charts are drawn in one run, so the common case (nothing
    near a limit, no long run) must cost little: the sides of the mean and
    the steps between points become strings of ``+ - 0`` and runs are found
    by a regular expression; only points beyond a near limit are looked at
    one by one.
    """
    n = len(values)
    size = group.baseline_points
    total = math.fsum(values[:size])
    # Compare n y with the baseline's sum rather than y with the mean: the same
    # test, but exactly unchanged when a whole-number constant is added to the
    # series, so that shifting a series can never move a point across a line.
    sides = "".join(["+" if size * y > total else "-" if size * y < total else "0" for y in values])
    # Lowest priority first: a later rule overwrites an earlier one's label.
    flagged: dict[int, tuple[SpcRule, int]] = {}
    for run in _runs(settings.shift_points).finditer(sides):
        direction = _DIRECTION[run.group()[0]]
        for j in range(run.start(), run.end()):
            flagged[j] = ("shift", direction)

    outside: list[int] = []
    amr = group.average_moving_range
    if amr is not None and n:
        width, near = _LIMIT * amr, _NEAR_LIMIT * amr
        if (size * max(values) - total) / size > near or (
            size * min(values) - total
        ) / size < -near:
            deviations = [(size * y - total) / size for y in values]
            beyond = [i for i, d in enumerate(deviations) if d > near or d < -near]
            outside = [i for i in beyond if abs(deviations[i]) > width]
            close = [i for i in beyond if abs(deviations[i]) <= width]
            if len(close) >= 2:
                is_close = bytearray(n)
                for i in close:
                    is_close[i] = 1
                for i in close:
                    for start in range(max(0, i - 2), min(i, n - 3) + 1):
                        if sum(is_close[start : start + 3]) >= 2 and sides[start : start + 3] in (
                            "+++",
                            "---",
                        ):
                            flagged[i] = ("two_of_three", _DIRECTION[sides[i]])
                            break

    if n >= settings.trend_points:
        steps = "".join(
            ["+" if b > a else "-" if b < a else "0" for a, b in itertools.pairwise(values)]
        )
        for run in _runs(settings.trend_points - 1).finditer(steps):
            direction = _DIRECTION[run.group()[0]]
            # Steps start..end-1 join points start..end.
            for j in range(run.start(), run.end() + 1):
                earlier = flagged.get(j)
                if earlier is None or earlier[0] != "trend":  # an earlier trend keeps its turn
                    flagged[j] = ("trend", direction)

    for i in outside:
        flagged[i] = ("outside_limits", _DIRECTION[sides[i]])

    rules: list[SpcRule | None] = [None] * n
    variations: list[Variation] = ["common_cause"] * n
    for i, (rule, direction) in flagged.items():
        rules[i] = rule
        variations[i] = _VARIATION[better, direction]
    return rules, variations


_DIRECTION = {"+": 1, "-": -1}


@functools.cache
def _runs(length: int) -> re.Pattern[str]:
    """Runs of at least ``length`` equal ``+`` or ``-`` signs."""
    return re.compile(rf"\+{{{length},}}|-{{{length},}}")


_VARIATION: dict[tuple[Better | None, int], Variation] = {
    (None, 1): "special_cause_neutral_high",
    (None, -1): "special_cause_neutral_low",
    ("higher", 1): "special_cause_improvement",
    ("higher", -1): "special_cause_concern",
    ("lower", 1): "special_cause_concern",
    ("lower", -1): "special_cause_improvement",
}


def _assurance(
    target: float | None, better: Better | None, lower: float, upper: float
) -> Assurance | None:
    if target is None or better is None:
        return None
    if target > upper:
        return "consistently_failing" if better == "higher" else "consistently_passing"
    if target < lower:
        return "consistently_passing" if better == "higher" else "consistently_failing"
    return "hit_and_miss"


def _explain_excluded(result: SpcResult) -> str:
    """The explanation of a chart with suspect points: the latest judged month, and what was left out."""
    excluded = frozenset(result.excluded)
    kept = [i for i, period in enumerate(result.periods) if period not in excluded]
    names = ", ".join(result.excluded)
    several = len(result.excluded) > 1
    left_out = (
        f"The figure{'s' if several else ''} for {names} {'are' if several else 'is'} marked suspect "
        f"(likely a data fault): drawn, but left out of the limits and the rules."
    )
    if result.periods[-1] in excluded or len(kept) < 2:
        group = result.groups[-1]
        num = _plain_english.number
        assert group.lower_limit is not None and group.upper_limit is not None
        return (
            f"The latest month ({result.periods[-1]}: {num(result.values[-1])}) is not judged. "
            f"{left_out} The limits of the other months are {num(group.lower_limit)} to "
            f"{num(group.upper_limit)}."
        )
    last, before = kept[-1], kept[-2]
    text = _explain(
        result.periods[last],
        result.values[last],
        result.values[last] > result.values[before],
        result.rule,
        result.variation,
        result.groups[-1],
        result.settings,
        result.better,
        result.target,
        result.assurance,
    )
    return f"{text} {left_out}"


def _explain(
    period: str,
    value: float,
    rising: bool,
    rule: SpcRule | None,
    variation: Variation,
    group: SpcGroup,
    settings: SpcSettings,
    better: Better | None,
    target: float | None,
    assurance: Assurance | None,
) -> str:
    """What the chart says about the latest month, for someone who has never seen one.

    The wording says "months" because csp-monitor charts monthly figures.
    """
    num = _plain_english.number
    lower, upper = group.lower_limit, group.upper_limit
    assert lower is not None and upper is not None
    where = f"The latest month ({period}: {num(value)})"
    high = value > group.mean
    if rule is None:
        sentences = [
            f"{where} is within the normal range of {num(lower)} to {num(upper)}: common-cause "
            f"variation, the ups and downs any process has, nothing unusual to react to."
        ]
    else:
        if rule == "outside_limits":
            limit = (
                f"above the upper limit of {num(upper)}"
                if high
                else f"below the lower limit of {num(lower)}"
            )
            reason = f"is {limit}"
        elif rule == "trend":
            reason = (
                f"ends a run of {settings.trend_points} or more months each "
                f"{'higher' if rising else 'lower'} than the one before"
            )
        elif rule == "two_of_three":
            reason = (
                f"is one of two or three of the last three months close to the "
                f"{'upper' if high else 'lower'} limit"
            )
        else:
            reason = (
                f"ends a run of {settings.shift_points} or more months "
                f"{'above' if high else 'below'} the average of {num(group.mean)}"
            )
        meaning = {
            "special_cause_improvement": f"an improvement, as {better} is better",
            "special_cause_concern": f"a concern, as {better} is better",
            "special_cause_neutral_high": "unusually high",
            "special_cause_neutral_low": "unusually low",
        }[variation]
        sentences = [f"{where} {reason}: special-cause variation, {meaning}."]
    if assurance is not None and target is not None:
        position = (
            "above the upper limit"
            if target > upper
            else "below the lower limit"
            if target < lower
            else "between the limits"
        )
        consequence = {
            "consistently_passing": "as things stand it will be met every month",
            "consistently_failing": "it will keep being missed unless something changes",
            "hit_and_miss": "it will be met in some months and missed in others (hit and miss)",
        }[assurance]
        sentences.append(f"The target of {num(target)} is {position}, so {consequence}.")
    if group.trial_limits:
        sentences.append(
            f"These are trial limits resting on only {group.baseline_points} months; "
            f"they will firm up as more months arrive."
        )
    return " ".join(sentences)
