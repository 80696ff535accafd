"""XmR control charts as Making Data Count (NHSRplotthedots) draws them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from csp_monitor.statistics import SpcResult, SpcSettings, analyse_spc, analyse_spc_columns


def _series(values: list[float], first_year: int = 2016) -> list[tuple[str, float]]:
    """Monthly (label, value) points from January of ``first_year``."""
    return [(f"{first_year + i // 12}-{i % 12 + 1:02d}", v) for i, v in enumerate(values)]


def _chart(values: list[float], **options: object) -> SpcResult:
    result = analyse_spc(_series(values), **options)  # type: ignore[arg-type]
    assert result is not None
    return result


CITY_OF_LONDON = [
    381,
    417,
    442,
    433,
    408,
    436,
    463,
    494,
    493,
    440,
    467,
    489,
    354,
    451,
    536,
    474,
    505,
    455,
]
SCREENING = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
# Six alternating points fix wide limits (mean 50, AMR 100); what follows stays well inside them.
WIDE = [0, 100, 0, 100, 0, 100]


def _rules(result: SpcResult) -> list[str | None]:
    return list(result.rules)


# Golden values from DOMAIN.md, checked independently of this code.


def test_one_to_ten_limits() -> None:
    """1..10: mean 5.5, limits 2.84 / 8.16, near limits 3.7267 / 7.2733."""
    result = _chart(list(range(1, 11)))
    assert result.mean == pytest.approx(5.5)
    assert result.average_moving_range == pytest.approx(1.0)
    assert result.lower_limit == pytest.approx(2.84)
    assert result.upper_limit == pytest.approx(8.16)
    assert result.near_lower == pytest.approx(3.7267, abs=1e-4)
    assert result.near_upper == pytest.approx(7.2733, abs=1e-4)


def test_one_to_ten_special_causes() -> None:
    """1..10: points 1, 2, 9 and 10 are outside the limits; points 3 to 8 are a trend."""
    result = _chart(list(range(1, 11)))
    assert _rules(result) == ["outside_limits"] * 2 + ["trend"] * 6 + ["outside_limits"] * 2


def test_screening_series_without_screening() -> None:
    """The screening series: mean 1.9444, AMR 1.8824, limits -3.0626 / 6.9515, point 5 outside."""
    result = _chart(SCREENING, settings=SpcSettings(screen_outliers=False))
    assert result.mean == pytest.approx(1.9444, abs=1e-4)
    assert result.average_moving_range == pytest.approx(1.8824, abs=1e-4)
    assert result.lower_limit == pytest.approx(-3.0626, abs=1e-4)
    assert result.upper_limit == pytest.approx(6.9515, abs=1e-4)
    assert [(c.period, c.rule) for c in result.special_causes] == [("2016-05", "outside_limits")]


def test_screening_series_with_screening() -> None:
    """Screening drops the two big moving ranges: AMR 1.0, limits -0.7156 / 4.6044, point 5 outside."""
    result = _chart(SCREENING, settings=SpcSettings(screen_outliers=True))
    assert result.mean == pytest.approx(1.9444, abs=1e-4)
    assert result.average_moving_range == pytest.approx(1.0)
    assert result.lower_limit == pytest.approx(-0.7156, abs=1e-4)
    assert result.upper_limit == pytest.approx(4.6044, abs=1e-4)
    assert [(c.period, c.rule) for c in result.special_causes] == [("2016-05", "outside_limits")]


def test_screening_is_on_by_default_as_in_nhsrplotthedots() -> None:
    """Like ptd_spc(screen_outliers = TRUE), the default chart screens: AMR 1.0, limits -0.7156 / 4.6044."""
    result = _chart(SCREENING)
    assert result.settings.screen_outliers is True
    assert result.average_moving_range == pytest.approx(1.0)
    assert (result.lower_limit, result.upper_limit) == (pytest.approx(-0.7156, abs=1e-4),
                                                        pytest.approx(4.6044, abs=1e-4))


def test_limits_of_a_count_are_never_below_zero() -> None:
    """With lowest 0 the unscreened lower limit -3.0626 and near limit -1.3936 are given as 0; the rest are unchanged."""
    raw = _chart(SCREENING, settings=SpcSettings(screen_outliers=False))
    count = _chart(SCREENING, settings=SpcSettings(screen_outliers=False, lowest=0))
    assert raw.near_lower == pytest.approx(35 / 18 - 2 / 3 * 2.66 * 32 / 17) == pytest.approx(-1.3936, abs=1e-4)
    assert (count.lower_limit, count.near_lower) == (0.0, 0.0)
    assert count.groups[0].lower_limit == 0.0
    assert (count.mean, count.upper_limit, count.near_upper) == (raw.mean, raw.upper_limit, raw.near_upper)
    assert count.special_causes == raw.special_causes
    assert "normal range of 0 to" in _chart([3, 1, 4, 1, 5, 0, 2, 6, 5, 3, 5, 0, 2],
                                            settings=SpcSettings(lowest=0)).explanation
    # A limit above the lowest value is left alone.
    assert _chart(CITY_OF_LONDON, settings=SpcSettings(lowest=0)).lower_limit == _chart(CITY_OF_LONDON).lower_limit


def test_the_docstring_no_longer_says_nhsrplotthedots_colours_trends_by_side() -> None:
    """NHSRplotthedots 0.2.2 colours a trend crossing the mean by its direction: the old caveat is gone."""
    from csp_monitor.statistics import spc

    assert spc.__doc__ is not None
    assert "colours trend points by their side" not in spc.__doc__


def test_city_of_london_limits_fixed_on_the_first_twelve() -> None:
    """City of London 2016-01..2017-06, limits on the first 12: mean 446.917, AMR 25.818, 378.24 / 515.59."""
    result = _chart(CITY_OF_LONDON, settings=SpcSettings(baseline_points=12))
    assert result.mean == pytest.approx(446.917, abs=1e-3)
    assert result.average_moving_range == pytest.approx(25.818, abs=1e-3)
    assert result.lower_limit == pytest.approx(378.24, abs=1e-2)
    assert result.upper_limit == pytest.approx(515.59, abs=1e-2)
    assert result.baseline_points == 12
    assert result.trial_limits is False


def test_city_of_london_special_causes() -> None:
    """2016-08 and 2016-09 are two of three; 2017-01 is below and 2017-03 above the limits."""
    result = _chart(CITY_OF_LONDON, settings=SpcSettings(baseline_points=12), better="lower")
    assert [(c.period, c.rule, c.variation) for c in result.special_causes] == [
        ("2016-08", "two_of_three", "special_cause_concern"),
        ("2016-09", "two_of_three", "special_cause_concern"),
        ("2017-01", "outside_limits", "special_cause_improvement"),
        ("2017-03", "outside_limits", "special_cause_concern"),
    ]
    assert result.variation == "common_cause"


# The rules one by one.


def test_a_tie_breaks_a_trend() -> None:
    """Seven points rising but for one repeated value are not a trend."""
    result = _chart([*WIDE, 41, 42, 43, 43, 44, 45, 46], settings=SpcSettings(baseline_points=6))
    assert "trend" not in _rules(result)


def test_rising_trend_flags_every_point_of_the_run() -> None:
    """Seven points each higher than the last: all seven are labelled trend."""
    result = _chart([*WIDE, 20, 21, 22, 23, 24, 25, 26], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == ["trend"] * 7


def test_falling_trend_is_flagged_too() -> None:
    """Seven points each lower than the last are a trend as well."""
    result = _chart([*WIDE, 26, 25, 24, 23, 22, 21, 20], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == ["trend"] * 7


def test_six_rising_points_are_not_a_trend_by_default() -> None:
    """A run of six is common cause under the default run length of seven."""
    result = _chart([*WIDE, 50, 55, 60, 65, 70, 75], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == [None] * 6


def test_trend_length_is_a_setting() -> None:
    """With trend_points = 6 (Western Electric), six rising points are a trend."""
    chart_settings = SpcSettings(baseline_points=6, trend_points=6)
    result = _chart([*WIDE, 50, 55, 60, 65, 70, 75], settings=chart_settings)
    assert _rules(result)[6:] == ["trend"] * 6


def test_shift_flags_every_point_of_the_run() -> None:
    """Seven points on one side of the mean (not rising or falling) are all labelled shift."""
    result = _chart([*WIDE, 60, 58, 61, 59, 62, 60, 61], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == ["shift"] * 7


def test_a_point_on_the_mean_breaks_a_shift() -> None:
    """A point exactly on the mean splits seven points into two runs too short to count."""
    result = _chart([*WIDE, 60, 58, 61, 50, 62, 60, 61], settings=SpcSettings(baseline_points=6))
    assert "shift" not in _rules(result)


def test_shift_length_is_a_setting() -> None:
    """With shift_points = 8, seven points on one side are common cause."""
    chart_settings = SpcSettings(baseline_points=6, shift_points=8)
    result = _chart([*WIDE, 40, 60, 58, 61, 59, 62, 60, 61], settings=chart_settings)
    assert "shift" not in _rules(result)


def test_two_of_three_flags_only_the_close_points() -> None:
    """Two close points and one not, all above the mean: only the two close ones are flagged."""
    # Mean 50, AMR 100: near limit 50 + 177.3 = 227.3, upper limit 316.
    result = _chart([*WIDE, 250, 60, 240], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == ["two_of_three", None, "two_of_three"]


def test_two_of_three_needs_one_side_of_the_mean() -> None:
    """Two close points with a point below the mean between them are not flagged."""
    result = _chart([*WIDE, 250, 40, 240], settings=SpcSettings(baseline_points=6))
    assert _rules(result)[6:] == [None, None, None]


def test_outside_the_limits_comes_first() -> None:
    """A point both outside the limits and in a trend is labelled outside_limits."""
    result = _chart(list(range(1, 11)))
    assert result.rules[0] == "outside_limits"
    assert result.rules[-1] == "outside_limits"


def test_points_as_rows() -> None:
    """points() gives one row per point with its period, value, group, rule and variation."""
    result = _chart(list(range(1, 11)), better="higher")
    rows = result.points()
    assert [row.period for row in rows] == [f"2016-{m:02d}" for m in range(1, 11)]
    assert rows[9].value == 10
    assert rows[9].group == 0
    assert rows[9].rule == "outside_limits"
    assert rows[9].variation == "special_cause_improvement"


# Variation and assurance.


@pytest.mark.parametrize(
    ("better", "expected"),
    [
        ("higher", "special_cause_improvement"),
        ("lower", "special_cause_concern"),
        (None, "special_cause_neutral_high"),
    ],
)
def test_variation_of_a_high_latest_point(better: str | None, expected: str) -> None:
    """A latest point above the upper limit is an improvement, a concern or neutral high by `better`."""
    result = _chart([10, 11, 9, 10, 11, 9, 10, 30], better=better)
    assert result.rules[-1] == "outside_limits"
    assert result.variation == expected


def test_variation_of_a_low_latest_point_without_a_better_direction() -> None:
    """A latest point below the lower limit with no better direction is neutral low."""
    result = _chart([10, 11, 9, 10, 11, 9, 10, -10])
    assert result.variation == "special_cause_neutral_low"


def test_a_rising_trend_below_the_mean_is_a_concern_when_lower_is_better() -> None:
    """A trend's direction is the trend's own: crime rising seven months running is a concern."""
    result = _chart(
        [*WIDE, 20, 21, 22, 23, 24, 25, 26], settings=SpcSettings(baseline_points=6), better="lower"
    )
    assert result.rules[-1] == "trend"
    assert result.values[-1] < result.mean
    assert result.variation == "special_cause_concern"
    assert "each higher than the one before" in result.explanation


def test_common_cause_when_nothing_is_flagged() -> None:
    """A latest point within the limits and in no run is common cause."""
    result = _chart(CITY_OF_LONDON, settings=SpcSettings(baseline_points=12))
    assert result.variation == "common_cause"
    assert "common-cause variation" in result.explanation


@pytest.mark.parametrize(
    ("target", "better", "expected"),
    [
        (600, "higher", "consistently_failing"),
        (600, "lower", "consistently_passing"),
        (300, "higher", "consistently_passing"),
        (300, "lower", "consistently_failing"),
        (450, "higher", "hit_and_miss"),
        (450, "lower", "hit_and_miss"),
        (450, None, None),
        (None, "lower", None),
    ],
)
def test_assurance_against_the_target(
    target: float | None, better: str | None, expected: str | None
) -> None:
    """A target beyond a limit is consistently passed or failed by `better`; between them, hit and miss."""
    result = _chart(
        CITY_OF_LONDON, settings=SpcSettings(baseline_points=12), better=better, target=target
    )
    assert result.assurance == expected


def test_assurance_is_explained() -> None:
    """The explanation says where the target lies and what that means."""
    result = _chart(
        CITY_OF_LONDON, settings=SpcSettings(baseline_points=12), better="lower", target=300
    )
    assert "The target of 300 is below the lower limit" in result.explanation
    assert "missed unless something changes" in result.explanation


# How much data, rebasing and gaps.


def test_fewer_than_twelve_points_are_trial_limits() -> None:
    """Eleven points give trial limits, flagged and explained."""
    result = _chart(CITY_OF_LONDON[:11])
    assert result.trial_limits is True
    assert "trial limits" in result.explanation


def test_twelve_points_are_firm_limits() -> None:
    """Twelve points give firm limits."""
    assert _chart(CITY_OF_LONDON[:12]).trial_limits is False


def test_limits_fixed_on_fewer_than_twelve_points_are_trial_limits() -> None:
    """Fixing the limits on the first 6 of 18 points still gives trial limits."""
    assert _chart(CITY_OF_LONDON, settings=SpcSettings(baseline_points=6)).trial_limits is True


@pytest.mark.parametrize("values", [[], [5.0]])
def test_too_few_points_give_no_chart(values: list[float]) -> None:
    """With fewer than two points there is no chart at all."""
    assert analyse_spc(_series(values)) is None


def test_two_points_give_a_trial_chart() -> None:
    """Two points are enough for trial limits."""
    result = _chart([10, 12])
    assert result.trial_limits is True
    assert result.average_moving_range == 2


def test_rebasing_gives_each_group_its_own_limits() -> None:
    """After a rebase the new group's mean and limits come from its own points only."""
    values = [10, 12, 11, 13, 10, 12, 50, 52, 51, 53, 50, 52]
    result = _chart(values, settings=SpcSettings(rebase_at=("2016-07",)))
    first, second = result.groups
    assert (first.first_period, first.last_period, first.points) == ("2016-01", "2016-06", 6)
    assert first.mean == pytest.approx(11.3333, abs=1e-4)
    assert second.mean == pytest.approx(51.3333, abs=1e-4)
    assert result.mean == second.mean
    assert result.special_causes == ()
    assert [row.group for row in result.points()] == [0] * 6 + [1] * 6


def test_without_the_rebase_the_step_is_a_special_cause() -> None:
    """The same step change without a rebase is flagged."""
    values = [10, 12, 11, 13, 10, 12, 50, 52, 51, 53, 50, 52]
    assert _chart(values).special_causes != ()


def test_rebase_by_position() -> None:
    """A rebase can be given as a position in the series, counted from 0."""
    values = [10, 12, 11, 13, 10, 12, 50, 52, 51, 53, 50, 52]
    by_label = _chart(values, settings=SpcSettings(rebase_at=("2016-07",)))
    by_position = _chart(values, settings=SpcSettings(rebase_at=(6,)))
    assert by_label.groups == by_position.groups
    assert by_label.rules == by_position.rules


def test_runs_do_not_cross_a_rebase() -> None:
    """Four rising points either side of a rebase are two short runs, not a trend of eight."""
    values = [*WIDE, 10, 11, 12, 13, 14, 15, 16, 17]
    result = _chart(values, settings=SpcSettings(baseline_points=6, rebase_at=(10,)))
    assert "trend" not in result.rules[6:]


def test_a_single_point_group_has_no_limits() -> None:
    """An earlier group of one point has a mean but no limits, and its point is common cause."""
    result = _chart([5, 10, 12, 11, 13], settings=SpcSettings(rebase_at=(1,)))
    assert result.groups[0].lower_limit is None
    assert result.groups[0].average_moving_range is None
    assert result.rules[0] is None


def test_a_rebase_at_the_last_point_gives_no_chart() -> None:
    """One point since the last rebase is too few for a chart."""
    assert analyse_spc(_series([10, 12, 11, 13]), settings=SpcSettings(rebase_at=(3,))) is None


def test_rebase_at_an_unknown_period_is_an_error() -> None:
    """A rebase period that is not in the series raises ValueError."""
    with pytest.raises(ValueError, match="2019-01"):
        analyse_spc(_series([1, 2, 3]), settings=SpcSettings(rebase_at=("2019-01",)))


def test_rebase_at_an_impossible_position_is_an_error() -> None:
    """A rebase position beyond the series raises ValueError."""
    with pytest.raises(ValueError, match="position 9"):
        analyse_spc(_series([1, 2, 3]), settings=SpcSettings(rebase_at=(9,)))


def test_missing_months_are_not_interpolated() -> None:
    """A missing month is left out: the chart has exactly the periods passed, no more."""
    points = [p for p in _series(CITY_OF_LONDON) if p[0] != "2016-06"]
    result = analyse_spc(points)
    assert result is not None
    assert "2016-06" not in result.periods
    assert len(result.periods) == len(CITY_OF_LONDON) - 1


def test_points_either_side_of_a_gap_are_neighbours() -> None:
    """The moving range spans a gap: omitting a month is not the same as a zero."""
    values = [100, 104, 98, 102, 99, 101, 103, 97, 100, 102, 98, 101]
    with_gap = [p for p in _series(values) if p[0] != "2016-06"]
    gap_chart = analyse_spc(with_gap)
    zero_chart = analyse_spc(
        [(label, 0 if label == "2016-06" else v) for label, v in _series(values)]
    )
    assert gap_chart is not None and zero_chart is not None
    assert gap_chart.special_causes == ()
    assert ("2016-06", "outside_limits") in [(c.period, c.rule) for c in zero_chart.special_causes]
    # 2016-05 (99) and 2016-07 (103) are neighbours: |103 - 99| is one of the moving ranges.
    ranges = [abs(b - a) for a, b in zip(gap_chart.values, gap_chart.values[1:], strict=False)]
    assert math.fsum(ranges) / len(ranges) == pytest.approx(gap_chart.average_moving_range)


def test_a_constant_series_has_no_special_causes() -> None:
    """A flat series has zero-width limits and nothing to flag, with or without screening."""
    for screen in (False, True):
        result = _chart([7.0] * 14, settings=SpcSettings(screen_outliers=screen))
        assert result.lower_limit == result.upper_limit == 7.0
        assert result.special_causes == ()


@pytest.mark.parametrize("bad", [math.nan, math.inf, "12"])
def test_values_must_be_finite_numbers(bad: object) -> None:
    """A value that is not a finite number raises ValueError."""
    with pytest.raises(ValueError, match="finite number"):
        analyse_spc([("2016-01", 1.0), ("2016-02", bad)])  # type: ignore[list-item]


def test_repeated_periods_are_an_error() -> None:
    """The same period twice raises ValueError."""
    with pytest.raises(ValueError, match="2016-01"):
        analyse_spc([("2016-01", 1.0), ("2016-01", 2.0), ("2016-02", 3.0)])


def test_settings_are_validated() -> None:
    """Run lengths and baselines too short to mean anything are refused."""
    with pytest.raises(ValidationError):
        SpcSettings(trend_points=2)
    with pytest.raises(ValidationError):
        SpcSettings(baseline_points=1)
    with pytest.raises(ValidationError):
        SpcSettings(shift_point=7)  # type: ignore[call-arg]


def test_result_columns_must_line_up() -> None:
    """A result whose periods and values differ in length is refused."""
    data = _chart([1, 2, 3]).model_dump()
    data["values"] = [1.0]
    with pytest.raises(ValidationError, match="one entry per point"):
        SpcResult.model_validate(data)


def test_a_dumped_result_loads_back() -> None:
    """model_dump (with its derived columns) validates back into an equal result."""
    result = _chart(CITY_OF_LONDON, settings=SpcSettings(baseline_points=12), better="lower")
    dumped = result.model_dump()
    assert dumped["special_causes"][0] == {
        "period": "2016-08",
        "rule": "two_of_three",
        "variation": "special_cause_concern",
    }
    assert SpcResult.model_validate(dumped) == result


def test_explanation_of_a_point_above_the_limit() -> None:
    """The explanation names the month, its value, the limit and what it means."""
    result = _chart(CITY_OF_LONDON[:15], settings=SpcSettings(baseline_points=12), better="lower")
    assert result.explanation.startswith(
        "The latest month (2017-03: 536) is above the upper limit of 515.6: special-cause "
        "variation, a concern, as lower is better."
    )


# Properties.

series = st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=2, max_size=40)
spc_settings = st.builds(
    SpcSettings,
    baseline_points=st.none() | st.integers(min_value=2, max_value=15),
    screen_outliers=st.booleans(),
    trend_points=st.integers(min_value=3, max_value=9),
    shift_points=st.integers(min_value=2, max_value=9),
)


@settings(max_examples=200, deadline=None)
@given(series, spc_settings)
def test_limits_contain_the_mean(values: list[int], chart_settings: SpcSettings) -> None:
    """lower limit <= near lower <= mean <= near upper <= upper limit."""
    result = _chart([float(v) for v in values], settings=chart_settings)
    assert result.lower_limit <= result.near_lower <= result.mean
    assert result.mean <= result.near_upper <= result.upper_limit


@settings(max_examples=200, deadline=None)
@given(series, st.integers(min_value=-100_000, max_value=100_000), spc_settings)
def test_adding_a_constant_shifts_everything_and_flags_the_same_points(
    values: list[int], constant: int, chart_settings: SpcSettings
) -> None:
    """Adding a constant moves the mean and limits by it and changes no special cause."""
    before = _chart([float(v) for v in values], settings=chart_settings)
    after = _chart([float(v + constant) for v in values], settings=chart_settings)
    assert after.mean == pytest.approx(before.mean + constant, abs=1e-6)
    assert after.lower_limit == pytest.approx(before.lower_limit + constant, abs=1e-6)
    assert after.upper_limit == pytest.approx(before.upper_limit + constant, abs=1e-6)
    assert after.average_moving_range == pytest.approx(before.average_moving_range)
    assert after.rules == before.rules
    assert after.special_causes == before.special_causes
    assert after.variation == before.variation


@settings(max_examples=200, deadline=None)
@given(series, st.floats(min_value=0.01, max_value=1000), spc_settings)
def test_scaling_scales_the_limits(
    values: list[int], factor: float, chart_settings: SpcSettings
) -> None:
    """Multiplying a series by a positive constant multiplies its mean and limits by it."""
    before = _chart([float(v) for v in values], settings=chart_settings)
    after = _chart([v * factor for v in values], settings=chart_settings)
    for name in ("mean", "lower_limit", "upper_limit", "average_moving_range"):
        assert getattr(after, name) == pytest.approx(
            getattr(before, name) * factor, rel=1e-9, abs=1e-6
        )


@settings(max_examples=200, deadline=None)
@given(series, st.sampled_from([0.25, 0.5, 2.0, 8.0]), spc_settings)
def test_scaling_by_a_power_of_two_flags_the_same_points(
    values: list[int], factor: float, chart_settings: SpcSettings
) -> None:
    """Scaling exactly (by a power of two) changes no special cause."""
    before = _chart([float(v) for v in values], settings=chart_settings)
    after = _chart([v * factor for v in values], settings=chart_settings)
    assert after.rules == before.rules


def test_columns_give_the_same_chart() -> None:
    """analyse_spc_columns draws the same chart from parallel periods and values."""
    points = _series(CITY_OF_LONDON)
    periods = [label for label, _ in points]
    assert analyse_spc_columns(periods, CITY_OF_LONDON, better="lower") == analyse_spc(
        points, better="lower"
    )


def test_columns_must_have_the_same_length() -> None:
    """One value per period, or ValueError."""
    with pytest.raises(ValueError, match="one value per period"):
        analyse_spc_columns(["2016-01", "2016-02"], [1.0])


@settings(max_examples=300, deadline=None)
@given(series, spc_settings, st.sampled_from(["lower", "higher", None]))
def test_the_latest_verdict_agrees_with_the_full_labelling(
    values: list[int], chart_settings: SpcSettings, better: str | None
) -> None:
    """The latest month's variation, worked out alone, is the last of every month's variations."""
    result = _chart([float(v) for v in values], settings=chart_settings, better=better)
    assert (result.rule, result.variation) == (result.rules[-1], result.variations[-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=8, max_size=30), spc_settings)
def test_the_latest_verdict_agrees_on_series_full_of_ties(
    values: list[int], chart_settings: SpcSettings
) -> None:
    """With few distinct values (ties, points on the mean) the latest verdict still agrees."""
    result = _chart([float(v) for v in values], settings=chart_settings, better="higher")
    assert (result.rule, result.variation) == (result.rules[-1], result.variations[-1])
