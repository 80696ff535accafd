"""Year-end projection: seasonal from last year's shape, linear when that is unusable."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from csp_monitor.statistics import Projection, project_year_end


def test_seasonal_projection_uses_last_years_shape() -> None:
    """Projected = current YTD x baseline full year / baseline YTD."""
    projection = project_year_end(2100, 9, baseline=2000, baseline_full_year=2773)
    assert projection.method == "seasonal"
    assert projection.value == pytest.approx(2100 * 2773 / 2000)
    assert projection.scale == pytest.approx(2773 / 2000)
    assert projection.months_elapsed == 9


def test_seasonal_projection_is_explained() -> None:
    """The explanation gives the projection and the share of last year recorded by now."""
    projection = project_year_end(2100, 9, baseline=2000, baseline_full_year=2773)
    assert projection.explanation == (
        "Projected year-end total about 2,912: last year the same months held 72.1% of the year's "
        "total, and this year is assumed to follow the same pattern."
    )


def test_a_quiet_first_half_last_year_projects_higher_than_a_straight_line() -> None:
    """When last year's early months were quiet, the seasonal projection exceeds the linear one."""
    seasonal = project_year_end(600, 6, baseline=400, baseline_full_year=1000)
    linear = project_year_end(600, 6)
    assert seasonal.value == pytest.approx(1500)
    assert linear.value == pytest.approx(1200)


@pytest.mark.parametrize(
    ("baseline", "full_year"),
    [(None, None), (None, 2773), (2000, None), (0, 2773), (0, 0), (3000, 2773), (-5, 100)],
)
def test_linear_fallback_when_the_profile_is_unusable(
    baseline: float | None, full_year: float | None
) -> None:
    """Missing, zero or inconsistent baselines fall back to YTD / months elapsed x 12."""
    projection = project_year_end(2100, 9, baseline=baseline, baseline_full_year=full_year)
    assert projection.method == "linear"
    assert projection.value == pytest.approx(2800)
    assert projection.scale == pytest.approx(12 / 9)


def test_linear_projection_is_explained() -> None:
    """The linear explanation gives the monthly average and why the seasons are not used."""
    projection = project_year_end(2100, 9)
    assert projection.explanation == (
        "Projected year-end total about 2,800, assuming the remaining 3 months run at this "
        "year's average of 233.3 a month (last year's figures cannot show the seasonal pattern)."
    )


def test_one_month_left_is_singular() -> None:
    """With one month to go the sentence says 'month', not 'months'."""
    assert "remaining 1 month run" in project_year_end(1100, 11).explanation


@pytest.mark.parametrize(("baseline", "full_year"), [(None, None), (2773, 2773)])
def test_a_complete_year_projects_itself(baseline: float | None, full_year: float | None) -> None:
    """After twelve months the projection is the year's total, whichever method."""
    projection = project_year_end(2778, 12, baseline=baseline, baseline_full_year=full_year)
    assert projection.value == 2778
    assert projection.explanation == "The year is complete: the year-end total is 2,778."


def test_other_year_lengths() -> None:
    """A reporting period of other than twelve months scales to its own length."""
    assert project_year_end(30, 3, months_in_year=6).value == pytest.approx(60)


@pytest.mark.parametrize("months", [0, 13, -1])
def test_months_elapsed_must_be_in_the_year(months: int) -> None:
    """Months elapsed outside 1..12 raise ValueError."""
    with pytest.raises(ValueError, match="months elapsed"):
        project_year_end(100, months)


@pytest.mark.parametrize(
    "arguments",
    [
        {"current": math.nan, "months_elapsed": 3},
        {"current": 10, "months_elapsed": 3, "baseline": math.inf, "baseline_full_year": 10},
        {"current": 10, "months_elapsed": 3, "baseline": 5, "baseline_full_year": math.nan},
    ],
)
def test_non_finite_numbers_are_refused(arguments: dict[str, float]) -> None:
    """NaN and infinity raise ValueError rather than projecting nonsense."""
    with pytest.raises(ValueError, match="finite"):
        project_year_end(**arguments)  # type: ignore[arg-type]


def test_projection_is_frozen() -> None:
    """The projection model refuses changes and unknown fields."""
    projection = project_year_end(100, 6)
    with pytest.raises(ValidationError):
        projection.value = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Projection(value=1, method="linear", months_elapsed=1, scale=1, explanation="", x=1)  # type: ignore[call-arg]


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e6),
    st.integers(min_value=1, max_value=12),
    st.floats(min_value=1e-3, max_value=1e6),
    st.floats(min_value=1, max_value=100),
)
def test_seasonal_projection_never_falls_below_the_year_to_date(
    current: float, months: int, baseline: float, growth: float
) -> None:
    """With a consistent baseline (YTD <= full year) a count's projection is at least its YTD."""
    projection = project_year_end(
        current, months, baseline=baseline, baseline_full_year=baseline * growth
    )
    assert projection.method == "seasonal"
    assert projection.value >= current * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e6), st.integers(min_value=1, max_value=12))
def test_linear_projection_is_the_monthly_average_times_twelve(current: float, months: int) -> None:
    """The linear projection is YTD / months elapsed x 12."""
    assert project_year_end(current, months).value == pytest.approx(current / months * 12)


@pytest.mark.parametrize("current, months", [(1.0, 12), (1.0, 1), (0.0, 12), (250.0, 6)])
def test_a_vanishingly_small_baseline_falls_back_to_a_straight_line(current: float, months: int) -> None:
    """A baseline so small that the seasonal scale overflows (5e-324) projects linearly instead of crashing."""
    projection = project_year_end(current, months, baseline=5e-324, baseline_full_year=1.0)
    assert projection.method == "linear"
    assert projection.value == current * (12 / months)
    assert math.isfinite(projection.scale)
