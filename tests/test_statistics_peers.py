"""Most-similar-group comparison: rates, rank, and position by sd band or funnel limits."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from pydantic import ValidationError

from csp_monitor.statistics import PeerSettings, compare_group, compare_with_peers
from csp_monitor.statistics._poisson import poisson_cdf, poisson_quantile

# Rates per 1,000: A 12.0, B 7.5, C 13.333, D 7.5; mean 10.0833.
GROUP = {"A": (120, 10_000), "B": (90, 12_000), "C": (200, 15_000), "D": (60, 8_000)}
# Sample sd of the rates: sqrt(27.5833 / 3) = 3.0322.
SD = math.sqrt(
    ((12 - 10.083333) ** 2 + (7.5 - 10.083333) ** 2 * 2 + (13.333333 - 10.083333) ** 2) / 3
)


def test_rates_average_and_rank() -> None:
    """Rates are per 1,000 people, the average is of the rates, rank 1 is the lowest."""
    comparison = compare_with_peers(GROUP, "C")
    assert comparison.rate == pytest.approx(13.3333, abs=1e-4)
    assert comparison.rates == pytest.approx({"A": 12.0, "B": 7.5, "C": 13.33333, "D": 7.5})
    assert comparison.group_average == pytest.approx(10.0833, abs=1e-4)
    assert comparison.difference_pct == pytest.approx(32.23, abs=0.01)
    assert comparison.rank == 4
    assert comparison.group_size == 4


def test_ties_share_the_lowest_rank() -> None:
    """Two areas with the same rate both rank 1; the next ranks 3."""
    assert compare_with_peers(GROUP, "B").rank == 1
    assert compare_with_peers(GROUP, "D").rank == 1
    assert compare_with_peers(GROUP, "A").rank == 3


def test_sd_band() -> None:
    """The sd band is the group average +/- 1 sample standard deviation of the rates."""
    comparison = compare_with_peers(GROUP, "A")
    assert pytest.approx(3.0322, abs=1e-4) == SD
    assert comparison.centre == pytest.approx(10.0833, abs=1e-4)
    assert comparison.lower_limit == pytest.approx(10.0833 - SD, abs=1e-4)
    assert comparison.upper_limit == pytest.approx(10.0833 + SD, abs=1e-4)


@pytest.mark.parametrize(("area", "position"), [("A", "in_line"), ("B", "in_line"), ("C", "above")])
def test_sd_positions(area: str, position: str) -> None:
    """13.33 is above 10.08 + 3.03; 12.0 and 7.5 are within the band."""
    assert compare_with_peers(GROUP, area).position == position


def test_sd_band_width_is_a_setting() -> None:
    """With k = 0.5 the band is 8.57 to 11.60, so 7.5 is below and 12.0 above."""
    narrow = PeerSettings(standard_deviations=0.5)
    assert compare_with_peers(GROUP, "B", narrow).position == "below"
    assert compare_with_peers(GROUP, "A", narrow).position == "above"


# A focus area of 1,000 people in a group whose overall rate is 1 per 1,000: it expects 1 event.
# Poisson(1): F(0) = 0.3679, F(2) = 0.9197, F(3) = 0.9810, P(3) = 0.0613. The 97.5% quantile is 3,
# and Spiegelhalter's limit is 3 - (0.98101 - 0.975) / 0.06131 = 2.902; the 2.5% limit is
# 0 - (0.3679 - 0.025) / 0.3679 < 0, so 0.
def _small_group(focus_count: int) -> dict[str, tuple[float, float]]:
    return {"focus": (focus_count, 1_000), "rest": (10 - focus_count, 9_000)}


def test_funnel_limits_by_hand() -> None:
    """Expected count 1: the 95% funnel runs from 0 to 2.902 per 1,000."""
    comparison = compare_with_peers(_small_group(3), "focus", PeerSettings(method="funnel"))
    assert comparison.centre == pytest.approx(1.0)
    assert comparison.lower_limit == 0
    assert comparison.upper_limit == pytest.approx(2.902, abs=1e-3)


@pytest.mark.parametrize(("count", "position", "tail"), [
    (4, "above", 1 - math.exp(-1) * (1 + 1 + 1 / 2 + 1 / 6)),   # P(X >= 4) = 0.0190 < 0.025
    (3, "in_line", 1 - math.exp(-1) * (1 + 1 + 1 / 2)),         # P(X >= 3) = 0.0803: was "above"
    (2, "in_line", 1 - math.exp(-1) * 2),
    (0, "in_line", math.exp(-1)),                                # P(X <= 0) = 0.368
])
def test_funnel_positions_by_hand(count: int, position: str, tail: float) -> None:
    """Where 1 is expected, 4 events are above the 95% funnel (P(X >= 4) = 0.019); 3, 2 and 0 are in line."""
    comparison = compare_with_peers(_small_group(count), "focus", PeerSettings(method="funnel"))
    assert comparison.position == position
    assert comparison.expected == pytest.approx(1.0)
    assert comparison.tail_probability == pytest.approx(tail)


def test_a_count_just_over_the_drawn_funnel_says_why_it_is_in_line() -> None:
    """3 where 1 is expected is over the smoothed limit 2.90 but in line by the exact test, and the sentence says so."""
    comparison = compare_with_peers(_small_group(3), "focus", PeerSettings(method="funnel"))
    assert comparison.rate > comparison.upper_limit
    assert comparison.explanation.endswith(
        "in line with its peers by the exact test, though just outside the 95% funnel limits for an area of its "
        "size (0.00 to 2.90). It had 3 where 1 would be expected at the group's rate; a count this high happens "
        "by chance about 8 times in 100.")


def _expecting(expected: float, count: int) -> dict[str, tuple[float, float]]:
    """A focus area of 1 person with ``count`` events in a group whose overall rate makes it expect ``expected``."""
    return {"focus": (count, 1), "rest": (expected * 1_000_000 - count, 999_999)}


@pytest.mark.parametrize("level", [0.95, 0.998])
@pytest.mark.parametrize("expected", [0.2, 0.5, 1.0, 2.0, 5.0, 12.5, 40.0, 156.7])
def test_the_funnel_calls_an_area_at_the_group_rate_above_or_below_no_more_often_than_its_level(
        poisson: Any, level: float, expected: float) -> None:
    """Summing exact Poisson probabilities: at the group's rate, P(above) and P(below) are each at most (1 - level) / 2, and as large as the test allows."""
    settings = PeerSettings(method="funnel", funnel_level=level, per=1)
    tail = (1 - level) / 2
    top = int(poisson.ppf(1 - 1e-12, expected)) + 2
    positions = {k: compare_with_peers(_expecting(expected, k), "focus", settings).position for k in range(top)}
    above = [k for k, p in positions.items() if p == "above"]
    below = [k for k, p in positions.items() if p == "below"]
    false_above = math.fsum(poisson.pmf(k, expected) for k in above) + poisson.sf(top - 1, expected)
    false_below = math.fsum(poisson.pmf(k, expected) for k in below)
    assert false_above < tail and false_below < tail
    # Exact, not merely conservative: one more count on either side would break the level.
    first_above = min(above)
    assert poisson.sf(first_above - 2, expected) >= tail  # P(X >= first_above - 1)
    assert above == list(range(first_above, top))
    if below:
        assert below == list(range(max(below) + 1))
        assert poisson.cdf(max(below) + 1, expected) >= tail
    else:
        assert poisson.cdf(0, expected) >= tail


@pytest.mark.parametrize(("expected", "old_false_above", "new_first_above"), [(0.2, 0.1813, 2), (1.0, 0.0803, 4)])
def test_the_smoothed_limit_alone_would_call_one_event_too_few_above(
        poisson: Any, expected: float, old_false_above: float, new_first_above: int) -> None:
    """Comparing the count with the smoothed upper limit called 'above' 18% (E = 0.2) and 8% (E = 1) of the time; the exact tail does not."""
    settings = PeerSettings(method="funnel", per=1)
    comparison = compare_with_peers(_expecting(expected, new_first_above - 1), "focus", settings)
    assert comparison.rate > comparison.upper_limit and comparison.position == "in_line"
    assert poisson.sf(new_first_above - 2, expected) == pytest.approx(old_false_above, abs=1e-4)
    assert compare_with_peers(_expecting(expected, new_first_above), "focus", settings).position == "above"


def test_outer_funnel_is_wider() -> None:
    """The 99.8% funnel contains the 95% funnel."""
    inner = compare_with_peers(GROUP, "C", PeerSettings(method="funnel"))
    outer = compare_with_peers(GROUP, "C", PeerSettings(method="funnel", funnel_level=0.998))
    assert outer.lower_limit < inner.lower_limit < inner.upper_limit < outer.upper_limit


def test_funnel_for_a_larger_area() -> None:
    """C expects 470/45,000 x 15,000 = 156.7 events; its 95% funnel is about 8.81 to 12.08."""
    comparison = compare_with_peers(GROUP, "C", PeerSettings(method="funnel"))
    assert comparison.centre == pytest.approx(470 / 45_000 * 1000)
    assert comparison.lower_limit == pytest.approx(8.81, abs=0.01)
    assert comparison.upper_limit == pytest.approx(12.08, abs=0.01)
    assert comparison.position == "above"


def test_explanation_sd() -> None:
    """The sentence gives the rate, the gap to the average, the rank and the verdict."""
    comparison = compare_with_peers(GROUP, "A")
    assert comparison.explanation == (
        "A's rate is 12.00 per 1,000 people, 19.0% above the group average of 10.08 "
        "(rank 3 of 4, 1 = lowest): in line with its peers, within the band of 1 standard "
        "deviation either side of the group average (7.05 to 13.12)."
    )


def test_explanation_funnel() -> None:
    """The funnel sentence names the funnel level."""
    comparison = compare_with_peers(GROUP, "C", PeerSettings(method="funnel", funnel_level=0.998))
    assert "the 99.8% funnel limits for an area of its size" in comparison.explanation


def test_all_zero_counts() -> None:
    """When nobody has any events the area is in line and the gap is undefined."""
    group = {"A": (0, 1_000), "B": (0, 2_000)}
    for method in ("sd", "funnel"):
        comparison = compare_with_peers(group, "A", PeerSettings(method=method))  # type: ignore[arg-type]
        assert comparison.position == "in_line"
        assert comparison.difference_pct is None
        assert "the group average is 0" in comparison.explanation


def test_rates_per_other_bases() -> None:
    """Rates can be given per 100,000 people."""
    assert compare_with_peers(GROUP, "A", PeerSettings(per=100_000)).rate == pytest.approx(1200)


@pytest.mark.parametrize(
    ("group", "area", "message"),
    [
        (GROUP, "Z", "not in its own peer group"),
        ({"A": (1, 10)}, "A", "at least two areas"),
        ({"A": (-1, 10), "B": (1, 10)}, "A", "count for A"),
        ({"A": (1, 0), "B": (1, 10)}, "A", "population of A"),
        ({"A": (1, 10), "B": (math.nan, 10)}, "A", "count for B"),
    ],
)
def test_invalid_groups_are_refused(
    group: dict[str, tuple[float, float]], area: str, message: str
) -> None:
    """Unknown areas, groups of one, negative counts and empty populations raise ValueError."""
    with pytest.raises(ValueError, match=message):
        compare_with_peers(group, area)


def test_settings_are_validated() -> None:
    """Unknown methods, non-positive k and funnel levels outside (0.5, 1) are refused."""
    with pytest.raises(ValidationError):
        PeerSettings(method="iquanta")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        PeerSettings(standard_deviations=0)
    with pytest.raises(ValidationError):
        PeerSettings(funnel_level=95)


@pytest.fixture
def poisson() -> Any:
    """scipy.stats.poisson, a test oracle only."""
    return pytest.importorskip("scipy.stats").poisson


def test_poisson_quantiles_agree_with_scipy(poisson: Any) -> None:
    """The exact Poisson quantile matches scipy's for small and large means."""
    rnd = random.Random(2005)
    for _ in range(2000):
        mean = rnd.choice([rnd.uniform(0, 5), rnd.uniform(0, 300), rnd.uniform(0, 50_000)])
        probability = rnd.choice([0.001, 0.025, 0.975, 0.999, rnd.random() or 0.5])
        assert poisson_quantile(probability, mean) == int(poisson.ppf(probability, mean)), (
            probability,
            mean,
        )


def test_poisson_cdf_agrees_with_scipy(poisson: Any) -> None:
    """The Poisson distribution function matches scipy's to 1e-12."""
    rnd = random.Random(1185)
    for _ in range(2000):
        mean = rnd.choice([rnd.uniform(0.01, 5), rnd.uniform(0.01, 300), rnd.uniform(1, 50_000)])
        r = rnd.randint(0, int(2 * mean) + 3)
        assert poisson_cdf(r, mean) == pytest.approx(
            float(poisson.cdf(r, mean)), rel=1e-12, abs=1e-15
        )


@pytest.mark.parametrize("method", ["sd", "funnel"])
def test_comparing_the_whole_group_at_once(method: str) -> None:
    """compare_group gives every member the same comparison compare_with_peers would."""
    settings = PeerSettings(method=method)  # type: ignore[arg-type]
    together = compare_group(GROUP, settings)
    assert list(together) == list(GROUP)
    for area in GROUP:
        assert together[area] == compare_with_peers(GROUP, area, settings)


def test_the_explanation_names_the_months_the_rates_cover() -> None:
    """Given the period, the sentence says whose months the rate is of, so seven months are not read as a year."""
    group = {"a": (120.0, 10_000.0), "b": (90.0, 10_000.0), "c": (100.0, 10_000.0)}
    comparison = compare_with_peers(group, "a", period="April 2022 to October 2022")
    assert comparison.explanation.startswith("A's rate for April 2022 to October 2022 is 12.00 per 1,000 people")
    assert compare_group(group, period="April 2022 to October 2022")["b"].explanation.startswith(
        "B's rate for April 2022 to October 2022 is 9.00 per 1,000 people")
