"""Significance of a change in a count: the exact conditional test for two Poisson counts."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from csp_monitor.statistics import (
    Significance,
    binomial_p_value,
    significance_of_change,
    square_root_z,
)

# Figure 3 of the Harborough annual review, worked through in DOMAIN.md:
# (measure, 2013/14, 2012/13, published p-value, verdict at 95%).
FIGURE_3 = [
    ("total crime", 2778, 2773, "0.957", "no_significant_change"),
    ("domestic burglary", 253, 153, "7.9e-07", "significant_increase"),
    ("commercial burglary", 106, 107, "1.000", "no_significant_change"),
    ("theft from motor vehicle", 284, 335, "0.044", "significant_decrease"),
    ("theft of motor vehicle", 54, 38, "0.117", "no_significant_change"),
    ("violence with injury", 176, 163, "0.515", "no_significant_change"),
    ("domestic violence with injury", 68, 59, "0.478", "no_significant_change"),
    ("criminal damage", 412, 490, "0.010", "significant_decrease"),
    ("ASB reported", 1159, 1269, "0.027", "significant_decrease"),
]


def _published(p_value: float, like: str) -> str:
    """The p-value written to the precision the table publishes."""
    return f"{p_value:.1e}" if "e" in like else f"{p_value:.3f}"


@pytest.mark.parametrize(("measure", "current", "baseline", "published", "verdict"), FIGURE_3)
def test_figure_3_p_values(
    measure: str, current: int, baseline: int, published: str, verdict: str
) -> None:
    """Every p-value of the Harborough Figure 3 table is reproduced to its published precision."""
    result = significance_of_change(current, baseline)
    assert _published(result.p_value, published) == published, measure
    assert result.verdict == verdict, measure
    assert result.test == "exact-poisson"
    assert result.confidence == 0.95


def test_theft_of_motor_vehicle_explained_in_plain_english() -> None:
    """The classic trap (red, yet within chance) is explained as natural frequencies."""
    result = significance_of_change(54, 38)
    assert result.explanation == (
        "A rise this large would happen by chance about 12 times in 100 even if nothing "
        "had changed: not significant at 95%."
    )


def test_domestic_burglary_explained_as_a_real_rise() -> None:
    """A highly significant rise says how rarely chance alone would produce it."""
    result = significance_of_change(253, 153)
    assert result.explanation == (
        "A rise this large would happen by chance less than once in a million if nothing "
        "had changed: a significant increase at 95%."
    )


def test_significant_fall_explained() -> None:
    """A significant fall is called a significant decrease, with its odds."""
    result = significance_of_change(284, 335)
    assert result.explanation == (
        "A fall this large would happen by chance only about 4 times in 100 if nothing "
        "had changed: a significant decrease at 95%."
    )


def test_tiny_change_explained() -> None:
    """A change of one is described as what chance produces almost every time."""
    result = significance_of_change(106, 107)
    assert "almost every time" in result.explanation
    assert result.explanation.endswith("not significant at 95%.")


def test_confidence_level_changes_the_verdict() -> None:
    """p = 0.044 is significant at 95% but not at 99%, and the sentence says which level."""
    assert significance_of_change(284, 335, confidence=0.95).verdict == "significant_decrease"
    strict = significance_of_change(284, 335, confidence=0.99)
    assert strict.verdict == "no_significant_change"
    assert strict.explanation.endswith("not significant at 99%.")


def test_both_zero_is_no_change() -> None:
    """With no events in either period the p-value is 1 and there is no change."""
    result = significance_of_change(0, 0)
    assert result.p_value == 1.0
    assert result.verdict == "no_significant_change"
    assert "none in either period" in result.explanation


def test_equal_counts_are_no_change() -> None:
    """Equal counts over equal periods give p = 1."""
    result = significance_of_change(40, 40)
    assert result.p_value == 1.0
    assert result.verdict == "no_significant_change"


def test_whole_number_floats_are_counts() -> None:
    """A count read from a file as 253.0 is the count 253."""
    assert significance_of_change(253.0, 153.0) == significance_of_change(253, 153)


@pytest.mark.parametrize(
    ("current", "baseline"),
    [(-1, 5), (5, -1), (2.5, 3), (3, math.nan), (math.inf, 3), (True, 3), ("3", 3)],
)
def test_invalid_counts_are_refused(current: object, baseline: object) -> None:
    """Negative, fractional, non-finite and non-numeric counts raise ValueError."""
    with pytest.raises(ValueError, match="count"):
        significance_of_change(current, baseline)  # type: ignore[arg-type]


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5])
def test_invalid_confidence_is_refused(confidence: float) -> None:
    """A confidence level outside (0, 1) raises ValueError (write 0.95, not 95)."""
    with pytest.raises(ValueError, match="confidence"):
        significance_of_change(10, 5, confidence=confidence)


@pytest.mark.parametrize("exposure", [0, -1, math.inf, math.nan])
def test_invalid_exposure_is_refused(exposure: float) -> None:
    """A period length that is not a positive finite number raises ValueError."""
    with pytest.raises(ValueError, match="exposure"):
        significance_of_change(10, 5, current_exposure=exposure)


def test_unequal_periods_compare_rates() -> None:
    """30 events in 6 months against 60 in 12 months is the same rate: no change at all."""
    result = significance_of_change(30, 60, current_exposure=6, baseline_exposure=12)
    assert result.p_value == 1.0
    assert result.verdict == "no_significant_change"


def test_unequal_periods_direction_follows_the_rate() -> None:
    """60 events in 6 months against 60 in 12 months is a rise in the rate."""
    result = significance_of_change(60, 60, current_exposure=6, baseline_exposure=12)
    assert result.verdict == "significant_increase"


def test_result_is_frozen_and_strict() -> None:
    """The result model refuses changes and unknown fields."""
    result = significance_of_change(54, 38)
    with pytest.raises(ValidationError):
        result.p_value = 0.5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Significance(
            p_value=0.5,
            verdict="no_significant_change",
            confidence=0.95,
            explanation="x",
            surprise=1,  # type: ignore[call-arg]
        )


def test_square_root_z() -> None:
    """The quick approximation is sqrt(2) (sqrt(c) - sqrt(b)): 1.67 for 54 against 38."""
    assert square_root_z(54, 38) == pytest.approx(math.sqrt(2) * (math.sqrt(54) - math.sqrt(38)))
    assert square_root_z(54, 38) == pytest.approx(1.6745, abs=1e-4)
    assert square_root_z(38, 54) == -square_root_z(54, 38)
    assert square_root_z(0, 0) == 0


def test_square_root_z_refuses_negative_counts() -> None:
    """The approximation validates its counts like the exact test."""
    with pytest.raises(ValueError):
        square_root_z(-1, 3)


def test_binomial_p_value_refuses_impossible_arguments() -> None:
    """More successes than trials, or a probability of 0 or 1, raise ValueError."""
    with pytest.raises(ValueError):
        binomial_p_value(5, 4, 0.5)
    with pytest.raises(ValueError):
        binomial_p_value(2, 4, 1.0)


@pytest.fixture
def binomtest() -> Any:
    """scipy.stats.binomtest, a test oracle only: the library never imports SciPy."""
    return pytest.importorskip("scipy.stats").binomtest


def _close_to_scipy(binomtest: Any, k: int, n: int, p: float) -> None:
    ours = binomial_p_value(k, n, p)
    oracle = float(binomtest(k, n, p).pvalue)
    # Below ~1e-250 SciPy's own probabilities lose accuracy; compare absolutely there.
    if oracle > 1e-250:
        assert ours == pytest.approx(oracle, rel=1e-8), (k, n, p)
    else:
        assert ours < 1e-240, (k, n, p)


def test_agrees_with_scipy_for_equal_periods(binomtest: Any) -> None:
    """For many random counts, small and large, the p-value matches scipy's binomtest."""
    rnd = random.Random(20140331)
    for _ in range(600):
        scale = rnd.choice([10, 100, 1_000, 10_000, 100_000])
        b = rnd.randint(0, scale)
        c = (
            max(0, round(rnd.gauss(b, 4 * math.sqrt(b + 1))))
            if rnd.random() < 0.7
            else rnd.randint(0, scale)
        )
        if c + b == 0:
            continue
        _close_to_scipy(binomtest, c, c + b, 0.5)


def test_agrees_with_scipy_for_unequal_periods(binomtest: Any) -> None:
    """With unequal exposures the p-value matches binomtest with pi = t_c / (t_c + t_b)."""
    rnd = random.Random(1998)
    for _ in range(400):
        n = rnd.choice([rnd.randint(1, 60), rnd.randint(1, 5_000), rnd.randint(1, 200_000)])
        p = rnd.uniform(0.02, 0.98)
        k = min(n, max(0, round(rnd.gauss(n * p, 3 * math.sqrt(n * p * (1 - p)) + 1))))
        _close_to_scipy(binomtest, k, n, p)


def test_agrees_with_scipy_on_exact_ties(binomtest: Any) -> None:
    """Outcomes exactly as likely as the observed one count, as in scipy (all small n, pi = 1/2)."""
    for n in range(1, 31):
        for k in range(n + 1):
            _close_to_scipy(binomtest, k, n, 0.5)


def test_large_counts_are_fast() -> None:
    """Two hundred tests with n up to 200,000 take well under a second."""
    rnd = random.Random(7)
    cases = [(rnd.randint(90_000, 110_000), rnd.randint(90_000, 110_000)) for _ in range(200)]
    started = time.perf_counter()
    for c, b in cases:
        significance_of_change(c, b)
    assert time.perf_counter() - started < 1.0


counts = st.integers(min_value=0, max_value=300_000)


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_p_value_is_a_probability(current: int, baseline: int) -> None:
    """The p-value is always between 0 and 1."""
    assert 0.0 <= significance_of_change(current, baseline).p_value <= 1.0


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_swapping_the_counts_gives_the_same_p_value(current: int, baseline: int) -> None:
    """With equal periods the test is symmetric: 38 -> 54 is as surprising as 54 -> 38."""
    forward = significance_of_change(current, baseline)
    backward = significance_of_change(baseline, current)
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-9, abs=1e-300)
    mirrored = {
        "significant_increase": "significant_decrease",
        "significant_decrease": "significant_increase",
        "no_significant_change": "no_significant_change",
    }
    assert backward.verdict == mirrored[forward.verdict]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=5_000),
    st.integers(min_value=0, max_value=5_000),
    st.floats(min_value=0.1, max_value=10),
    st.floats(min_value=0.1, max_value=10),
)
def test_swapping_counts_and_periods_gives_the_same_p_value(
    current: int, baseline: int, t_current: float, t_baseline: float
) -> None:
    """Swapping both the counts and the period lengths leaves the p-value unchanged."""
    forward = significance_of_change(
        current, baseline, current_exposure=t_current, baseline_exposure=t_baseline
    )
    backward = significance_of_change(
        baseline, current, current_exposure=t_baseline, baseline_exposure=t_current
    )
    assert forward.p_value == pytest.approx(backward.p_value, rel=1e-6, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=20_000), st.data())
def test_further_from_an_even_split_is_never_less_surprising(n: int, data: st.DataObject) -> None:
    """For a fixed total, the further the split is from half and half, the smaller the p-value."""
    k = data.draw(st.integers(min_value=0, max_value=n // 2))
    further = data.draw(st.integers(min_value=0, max_value=k))
    assert binomial_p_value(further, n, 0.5) <= binomial_p_value(k, n, 0.5) * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=20_000), st.integers(min_value=1, max_value=2_000))
def test_a_bigger_rise_is_never_less_significant(baseline: int, extra: int) -> None:
    """Adding events to an already higher current count never raises the p-value."""
    current = baseline + extra
    assert significance_of_change(current + 1, baseline).p_value <= significance_of_change(
        current, baseline
    ).p_value * (1 + 1e-9)
