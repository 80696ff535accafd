"""The exact test's p-values and the rate ratio's limits are as accurate as the floats can carry.

The package sums only the part of a binomial tail that matters and finds the
Clopper-Pearson limits by Halley's method from an approximation; here each is
checked against a reference that does it the long way: every outcome summed
in exact integers (for a few thousand events), or SciPy (for up to a million).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csp_monitor.statistics import binomial_p_value, rate_ratio_interval, significance_of_change

P_VALUE_TOLERANCE = 1e-12
LIMIT_TOLERANCE = 1e-9
# Past bugs came from these: none in a period, 99.8% confidence, the one-tailed extremes.
CONFIDENCES = st.one_of(st.sampled_from([0.5, 0.95, 0.99, 0.998, 0.999]), st.floats(0.5, 0.999))


def _exact_p_value(k: int, n: int, probability: float) -> float:
    """The two-sided p-value with every outcome's probability in exact integers (the definition, summed in full).

    P(X = x) = C(n, x) s^x t^(n - x) / (s + t)^n for the float probability
    written exactly as s / (s + t); outcomes within a factor 1 + 1e-7 of the
    observed one count as no more likely, as in scipy.stats.binomtest.
    """
    share = Fraction(probability)
    s, t = share.numerator, share.denominator - share.numerator
    weights = [t**n]
    for x in range(n):
        weights.append(weights[-1] * (n - x) * s // ((x + 1) * t))
    observed = weights[k] * (10**7 + 1)
    no_more_likely = sum(weight for weight in weights if weight * 10**7 <= observed)
    return float(Fraction(no_more_likely, (s + t) ** n))


def _assert_p_values_agree(ours: float, reference: float, case: object) -> None:
    if reference < 1e-300:
        assert abs(ours - reference) <= 1e-300, case
    else:
        assert ours == pytest.approx(reference, rel=P_VALUE_TOLERANCE, abs=0), case


@pytest.fixture(scope="module")
def scipy_stats() -> Any:
    """scipy.stats, a test oracle only: the library never imports SciPy."""
    return pytest.importorskip("scipy.stats")


@settings(max_examples=200, deadline=None)
@given(current=st.integers(0, 20_000), baseline=st.integers(0, 20_000), confidence=CONFIDENCES)
@example(current=0, baseline=9, confidence=0.998)
@example(current=9, baseline=0, confidence=0.998)
@example(current=20_000, baseline=0, confidence=0.95)
@example(current=10_001, baseline=10_000, confidence=0.95)
@example(current=1_238, baseline=1_094, confidence=0.95)  # 3 standard deviations apart: p = 0.003
@example(current=11_682, baseline=16_875, confidence=0.95)  # p = 1.9e-208: the deviance's rounding showed
def test_equal_periods_p_value_is_the_exact_sum(current: int, baseline: int, confidence: float) -> None:
    """For equal periods the p-value agrees with the full exact sum to 1e-12, and so does the verdict."""
    n = current + baseline
    result = significance_of_change(current, baseline, confidence=confidence)
    reference = _exact_p_value(current, n, 0.5) if n else 1.0
    _assert_p_values_agree(result.p_value, reference, (current, baseline))
    if abs(reference - (1 - confidence)) > P_VALUE_TOLERANCE * reference:
        assert (result.verdict == "no_significant_change") == (reference >= 1 - confidence)


@settings(max_examples=150, deadline=None)
@given(
    current=st.integers(0, 1_000),
    baseline=st.integers(0, 1_000),
    t_current=st.one_of(st.sampled_from([9.0, 12.0, 0.5]), st.floats(0.1, 10)),
    t_baseline=st.one_of(st.sampled_from([12.0, 9.0, 7.0]), st.floats(0.1, 10)),
)
@example(current=0, baseline=1_000, t_current=0.1, t_baseline=10.0)
@example(current=1_000, baseline=0, t_current=0.1, t_baseline=10.0)
@example(current=14, baseline=74, t_current=1.0, t_baseline=9.0)
def test_unequal_periods_p_value_is_the_exact_sum(
    current: int, baseline: int, t_current: float, t_baseline: float
) -> None:
    """With unequal periods the p-value agrees with the full exact sum to 1e-12."""
    n = current + baseline
    probability = t_current / (t_current + t_baseline)
    if n == 0 or current == n * probability:
        return
    ours = binomial_p_value(current, n, probability)
    _assert_p_values_agree(ours, _exact_p_value(current, n, probability), (current, n, probability))


@settings(max_examples=150, deadline=None)
@given(
    n=st.one_of(st.integers(1, 100_000), st.integers(100_000, 1_000_000)),
    data=st.data(),
    probability=st.one_of(st.just(0.5), st.floats(0.02, 0.98)),
)
def test_large_count_p_values_agree_with_scipy(n: int, data: st.DataObject, probability: float,
                                               scipy_stats: Any) -> None:
    """Up to a million events the p-value agrees with scipy.stats.binomtest to 1e-12."""
    sd = math.sqrt(n * probability * (1 - probability))
    offset = data.draw(st.floats(-8, 8))
    k = min(n, max(0, round(n * probability + offset * sd)))
    if k == n * probability:
        return
    ours = binomial_p_value(k, n, probability)
    oracle = float(scipy_stats.binomtest(k, n, probability).pvalue)
    # Below about 1e-250 SciPy's own probabilities lose accuracy (the sums above cover them).
    if oracle > 1e-250:
        assert ours == pytest.approx(oracle, rel=P_VALUE_TOLERANCE, abs=0), (k, n, probability)


def _oracle_interval(scipy_stats: Any, c: int, b: int, confidence: float,
                     t_current: float, t_baseline: float) -> tuple[float, float | None]:
    """The Clopper-Pearson limits as beta quantiles, turned into rate ratios: pi / (1 - pi) x t_b / t_c."""
    alpha = (1 - confidence) / 2
    beta = scipy_stats.beta
    scale = t_baseline / t_current
    # 1 - the alpha quantile of Beta(a, b) is the upper alpha quantile of Beta(b, a), without cancellation.
    lower = beta.ppf(alpha, c, b + 1) / beta.isf(alpha, b + 1, c) * scale if c else 0.0
    upper = beta.isf(alpha, c + 1, b) / beta.ppf(alpha, b, c + 1) * scale if b else None
    return lower, upper


counts = st.one_of(st.integers(0, 100_000), st.integers(0, 40), st.integers(100_000, 1_000_000))


@settings(max_examples=300, deadline=None)
@given(
    current=counts,
    baseline=counts,
    confidence=CONFIDENCES,
    t_current=st.one_of(st.just(1.0), st.floats(0.1, 10)),
    t_baseline=st.one_of(st.just(1.0), st.floats(0.1, 10)),
)
@example(current=0, baseline=9, confidence=0.998, t_current=1.0, t_baseline=1.0)
@example(current=9, baseline=0, confidence=0.998, t_current=1.0, t_baseline=1.0)
@example(current=1, baseline=1_000_000, confidence=0.999, t_current=1.0, t_baseline=1.0)
@example(current=1_000_000, baseline=1, confidence=0.999, t_current=1.0, t_baseline=1.0)
@example(current=1_000_000, baseline=999_999, confidence=0.5, t_current=1.0, t_baseline=1.0)
@example(current=1, baseline=1, confidence=0.5, t_current=1.0, t_baseline=1.0)
@example(current=2_187, baseline=3_147, confidence=0.95, t_current=1.0, t_baseline=1.0)
def test_rate_ratio_limits_agree_with_the_beta_quantiles(
    current: int, baseline: int, confidence: float, t_current: float, t_baseline: float, scipy_stats: Any
) -> None:
    """The rate ratio's limits are scipy's Clopper-Pearson limits (beta quantiles) as ratios, to 1e-9."""
    if current + baseline == 0:
        return
    lower, upper = rate_ratio_interval(current, baseline, confidence=confidence,
                                       current_exposure=t_current, baseline_exposure=t_baseline)
    expected_lower, expected_upper = _oracle_interval(scipy_stats, current, baseline, confidence,
                                                      t_current, t_baseline)
    assert lower == pytest.approx(expected_lower, rel=LIMIT_TOLERANCE, abs=0)
    if expected_upper is None:
        assert upper is None
    else:
        assert upper == pytest.approx(expected_upper, rel=LIMIT_TOLERANCE, abs=0)


@settings(max_examples=100, deadline=None)
@given(current=st.integers(1, 60), baseline=st.integers(0, 60), confidence=CONFIDENCES)
def test_the_lower_limit_leaves_exactly_alpha_above(current: int, baseline: int, confidence: float) -> None:
    """At the lower limit's share pi, P(X >= c) summed exactly is (1 - confidence) / 2, to 1e-9."""
    n = current + baseline
    lower, _ = rate_ratio_interval(current, baseline, confidence=confidence)
    share = Fraction(lower) / (1 + Fraction(lower))
    at_least = sum(math.comb(n, x) * share**x * (1 - share) ** (n - x) for x in range(current, n + 1))
    assert float(at_least) == pytest.approx((1 - confidence) / 2, rel=LIMIT_TOLERANCE)
