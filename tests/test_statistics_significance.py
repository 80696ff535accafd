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
    byar_interval,
    rate_ratio_interval,
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


@pytest.fixture
def poisson_chi2() -> Any:
    """scipy.stats.chi2, for the exact Poisson limits (a test oracle only)."""
    return pytest.importorskip("scipy.stats").chi2


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


# --- confidence intervals: Byar's for counts and rates, the exact one for the rate ratio -----------


def _byar(count: int, z: float) -> tuple[float, float]:
    """Byar's limits written out from the formula (Breslow and Day 1987), independently of the package."""
    lower = 0.0 if count == 0 else count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return lower, upper


@pytest.mark.parametrize(("count", "lower", "upper"), [
    (10, 4.7874, 18.3915),     # worked by hand from the formula; the exact limits are 4.7954 and 18.3904
    (54, 40.5637, 70.4597),    # theft of motor vehicle, 2013/14
    (253, 222.7814, 286.1736),  # domestic burglary, 2013/14
    (0, 0.0, 3.6680),          # the exact upper limit is 3.6889
])
def test_byar_interval_of_a_count(count: int, lower: float, upper: float) -> None:
    """Byar's 95% interval of a count matches the formula worked by hand (10: 4.79 to 18.39)."""
    assert byar_interval(count) == (pytest.approx(lower, abs=1e-4), pytest.approx(upper, abs=1e-4))
    assert byar_interval(count) == pytest.approx(_byar(count, 1.959963984540054))


def test_byar_interval_of_a_rate_and_at_99() -> None:
    """Divided by the exposure it is the rate's interval; at 99% it is wider."""
    assert byar_interval(54, exposure=12) == pytest.approx(tuple(v / 12 for v in _byar(54, 1.959963984540054)))
    assert byar_interval(54, confidence=0.99) == pytest.approx(_byar(54, 2.5758293035489004))
    wide, narrow = byar_interval(54, confidence=0.99), byar_interval(54)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_byar_is_close_to_the_exact_poisson_interval(poisson_chi2: Any) -> None:
    """Byar's limits are within 0.02 events of the exact chi-square limits below 10 events, and 0.2% from 10 to 2,000."""
    for count in range(1, 2001):
        exact = (poisson_chi2.ppf(0.025, 2 * count) / 2, poisson_chi2.ppf(0.975, 2 * count + 2) / 2)
        lower, upper = byar_interval(count)
        if count < 10:
            assert lower == pytest.approx(exact[0], abs=0.02) and upper == pytest.approx(exact[1], abs=0.02), count
        else:
            assert lower == pytest.approx(exact[0], rel=2e-3) and upper == pytest.approx(exact[1], rel=2e-3), count


def test_rate_ratio_and_its_exact_interval_for_theft_of_motor_vehicle() -> None:
    """54 against 38: rate ratio 1.421, exact 95% interval 0.921 to 2.212 (Clopper-Pearson of 54/92), so not significant."""
    result = significance_of_change(54, 38)
    assert (result.current, result.baseline) == (54, 38)
    assert result.rate_ratio == pytest.approx(54 / 38)
    assert result.rate_ratio_interval == (pytest.approx(0.92119, abs=1e-5), pytest.approx(2.21199, abs=1e-5))
    assert result.current_interval == pytest.approx(_byar(54, 1.959963984540054))
    assert result.baseline_interval == pytest.approx(_byar(38, 1.959963984540054))
    dumped = result.model_dump(mode="json")
    assert dumped["rate_ratio_interval"] == list(result.rate_ratio_interval)  # type: ignore[arg-type]
    assert Significance.model_validate(dumped) == result


def test_rate_ratio_with_no_baseline_events_is_unbounded_above() -> None:
    """5 against 0: no ratio, an interval from 0.2 (1 - 0.025^(1/5) odds) to unbounded; 0 against 0: none."""
    result = significance_of_change(5, 0)
    assert result.rate_ratio is None
    low = 0.025 ** (1 / 5)  # P(X >= 5 | 5, pi) = pi^5 = 0.025
    assert result.rate_ratio_interval == (pytest.approx(low / (1 - low)), None)
    assert significance_of_change(0, 0).rate_ratio_interval is None
    with pytest.raises(ValueError, match="no rate ratio"):
        rate_ratio_interval(0, 0)


def test_rate_ratio_interval_for_unequal_periods() -> None:
    """9 months against 12: the ratio and its interval compare rates per month."""
    result = significance_of_change(90, 100, current_exposure=9, baseline_exposure=12)
    assert result.rate_ratio == pytest.approx((90 / 9) / (100 / 12))
    equal = rate_ratio_interval(90, 100)
    assert result.rate_ratio_interval == (pytest.approx(equal[0] * 12 / 9), pytest.approx(equal[1] * 12 / 9))


def test_rate_ratio_interval_agrees_with_scipy(binomtest: Any) -> None:
    """For random counts, small and large, the interval is scipy's exact (Clopper-Pearson) interval as odds."""
    rnd = random.Random(2005)
    for _ in range(150):
        scale = rnd.choice([5, 50, 500, 5_000, 100_000])
        c, b = rnd.randint(0, scale), rnd.randint(0, scale)
        if c + b == 0:
            continue
        level = rnd.choice([0.95, 0.99])
        oracle = binomtest(c, c + b).proportion_ci(confidence_level=level, method="exact")
        lower, upper = rate_ratio_interval(c, b, confidence=level)
        assert lower == pytest.approx(oracle.low / (1 - oracle.low), rel=1e-7, abs=1e-12), (c, b)
        if b == 0:
            assert upper is None
        else:
            assert upper == pytest.approx(oracle.high / (1 - oracle.high), rel=1e-7), (c, b)


@settings(max_examples=60, deadline=None)
@given(current=st.integers(0, 400), baseline=st.integers(0, 400))
def test_the_interval_excludes_1_exactly_when_a_one_sided_test_rejects(current: int, baseline: int) -> None:
    """The rate ratio's interval leaves out 1 exactly when P(X >= c) or P(X <= c) at pi = 1/2 is below 2.5%."""
    if current + baseline == 0:
        return
    lower, upper = rate_ratio_interval(current, baseline)
    n = current + baseline
    at_least = math.fsum(math.comb(n, k) for k in range(current, n + 1)) / 2 ** n
    at_most = math.fsum(math.comb(n, k) for k in range(current + 1)) / 2 ** n
    rejects = min(at_least, at_most) < 0.025
    excludes = lower > 1 or (upper is not None and upper < 1)
    assert excludes == rejects


@settings(max_examples=200, deadline=None)
@given(baseline=st.integers(1, 400), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.998, 0.9999]))
def test_with_no_current_events_the_rate_ratio_upper_limit_has_its_closed_form(baseline: int,
                                                                               confidence: float) -> None:
    """Regression (0 against 9 at 99.8% overflowed): with c = 0 the upper limit solves (1 - pi)^n = alpha."""
    alpha = (1 - confidence) / 2
    share = 1 - alpha ** (1 / baseline)
    lower, upper = rate_ratio_interval(0, baseline, confidence=confidence)
    assert lower == 0.0
    assert upper == pytest.approx(share / (1 - share), rel=1e-7)
    # The result's computed fields use it: a significance of 0 against 9 at 99.8% dumps to JSON.
    assert "rate_ratio_interval" in significance_of_change(0, baseline, confidence=confidence).model_dump_json()
