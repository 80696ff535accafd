"""The Poisson distribution function and its quantiles, without SciPy.

Funnel-plot limits need exact Poisson quantiles of an expected count that
can run into the tens of thousands. We sum probabilities outwards from the
point of interest (never from zero), in log space, a block of terms at a
time, and stop when what is left provably cannot change the sum, so the work
grows with the square root of the mean.
"""

from __future__ import annotations

import itertools
import math
import operator
from statistics import NormalDist

from csp_monitor.statistics._log_probability import log_poisson_probability

__all__ = ["poisson_cdf", "poisson_probability", "poisson_quantile", "poisson_quantile_and_cdf"]

# Funnel limits are read to two decimals: a part in 1e12 is far beyond that.
_TAIL_PRECISION = 1e-12
_NORMAL = NormalDist()


def poisson_probability(x: int, mean: float) -> float:
    """P(X = x) for X ~ Poisson(mean)."""
    if x < 0:
        return 0.0
    if mean == 0:
        return 1.0 if x == 0 else 0.0
    return math.exp(log_poisson_probability(x, mean))


def poisson_cdf(r: int, mean: float) -> float:
    """P(X <= r) for X ~ Poisson(mean)."""
    if r < 0:
        return 0.0
    if mean == 0:
        return 1.0
    if r <= mean:
        # Walk down from r: the ratio P(x - 1) / P(x) = x / mean only falls.
        return min(1.0, math.exp(log_poisson_probability(r, mean) + math.log(_tail(r, mean, True))))
    # Above the mean, 1 - P(X > r): walk up from r + 1, where P(x + 1) / P(x) = mean / (x + 1) < 1.
    upper = math.exp(log_poisson_probability(r + 1, mean) + math.log(_tail(r + 1, mean, False)))
    return max(0.0, 1.0 - upper)


def _tail(start: int, mean: float, downwards: bool) -> float:
    """The tail beyond ``start`` (inclusive) relative to P(X = start), a block of terms at a time."""
    # Size the first block to what the tail needs: z standard deviations out,
    # the terms fall below 1e-12 of the first within about sd x (sqrt(z^2 + 55) - z).
    sd = math.sqrt(mean)
    z = abs(start - mean) / sd
    step = max(16, int(sd * (math.sqrt(z * z + 55) - z)) + 8)
    total = term = 1.0
    x = start
    while not downwards or x > 0:
        if downwards:
            end = max(0, x - step)
            ratios = [y / mean for y in range(x, end, -1)]
        else:
            end = x + step
            ratios = [mean / (y + 1) for y in range(x, end)]
        x = end
        terms = list(itertools.accumulate(ratios, operator.mul, initial=term))
        term = terms[-1]
        total += math.fsum(itertools.islice(terms, 1, None))
        ratio = ratios[-1]
        if ratio < 1 and term * ratio <= _TAIL_PRECISION * total * (1 - ratio):
            break
    return total


def poisson_quantile(probability: float, mean: float) -> int:
    """The smallest r with P(X <= r) >= ``probability``, for X ~ Poisson(mean)."""
    return poisson_quantile_and_cdf(probability, mean)[0]


def poisson_quantile_and_cdf(probability: float, mean: float) -> tuple[int, float]:
    """The ``probability`` quantile r of Poisson(mean), and P(X <= r) (funnel limits need both)."""
    if not 0 < probability < 1:
        raise ValueError(f"probability must be strictly between 0 and 1, not {probability!r}")
    if not (math.isfinite(mean) and mean >= 0):
        raise ValueError(f"the mean must be a finite number, not negative: {mean!r}")
    if mean == 0:
        return 0, 1.0
    # Start from the normal approximation and step to the exact answer.
    guess = mean + _NORMAL.inv_cdf(probability) * math.sqrt(mean)
    r = max(0, math.floor(guess))
    cumulative = poisson_cdf(r, mean)
    if cumulative >= probability:
        while r > 0:
            below = cumulative - poisson_probability(r, mean)
            if below < probability:
                break
            cumulative = below
            r -= 1
    else:
        while cumulative < probability:
            r += 1
            cumulative += poisson_probability(r, mean)
    return r, cumulative
