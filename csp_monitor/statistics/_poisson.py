"""The Poisson distribution function and its quantiles, without SciPy.

Funnel-plot limits need exact Poisson quantiles of an expected count that
can run into the tens of thousands. We sum probabilities outwards from the
point of interest (never from zero), in log space, and stop when what is
left provably cannot change the sum, so the work grows with the square root
of the mean.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from csp_monitor.statistics._log_probability import log_poisson_probability

__all__ = ["poisson_cdf", "poisson_probability", "poisson_quantile"]

_TAIL_PRECISION = 1e-16


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
        total = term = 1.0
        x = r
        while x > 0:
            ratio = x / mean
            term *= ratio
            total += term
            if ratio < 1 and term * ratio <= _TAIL_PRECISION * total * (1 - ratio):
                break
            x -= 1
        return min(1.0, math.exp(log_poisson_probability(r, mean) + math.log(total)))
    # Above the mean, 1 - P(X > r): walk up from r + 1, where P(x + 1) / P(x) = mean / (x + 1) < 1.
    total = term = 1.0
    x = r + 1
    while True:
        ratio = mean / (x + 1)
        term *= ratio
        total += term
        if term * ratio <= _TAIL_PRECISION * total * (1 - ratio):
            break
        x += 1
    upper = math.exp(log_poisson_probability(r + 1, mean) + math.log(total))
    return max(0.0, 1.0 - upper)


def poisson_quantile(probability: float, mean: float) -> int:
    """The smallest r with P(X <= r) >= ``probability``, for X ~ Poisson(mean)."""
    if not 0 < probability < 1:
        raise ValueError(f"probability must be strictly between 0 and 1, not {probability!r}")
    if not (math.isfinite(mean) and mean >= 0):
        raise ValueError(f"the mean must be a finite number, not negative: {mean!r}")
    if mean == 0:
        return 0
    # Start from the normal approximation and step to the exact answer.
    guess = mean + NormalDist().inv_cdf(probability) * math.sqrt(mean)
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
    return r
