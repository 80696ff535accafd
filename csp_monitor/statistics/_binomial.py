"""Binomial tails and the Clopper-Pearson limits, without SciPy.

A tail is summed outwards from its inner edge by the ratio of successive
probabilities, which only falls as we go, so we stop once what is left
provably cannot change the sum: the work grows with the square root of n,
never with n.

The Clopper-Pearson lower limit of pi for c successes of n solves
P(X >= c | n, pi) = alpha. On the log odds x = log(pi / (1 - pi)), the
binomial's natural parameter, log P(X >= c) is increasing and concave (a
truncated log-concave distribution varies less than the whole), and its first
two derivatives follow from the probability of c itself at no extra cost, so
Halley's method from the beta quantile approximation (Abramowitz and Stegun
26.5.22) settles in one or two evaluations of the tail.
"""

from __future__ import annotations

import itertools
import math
import operator
from statistics import NormalDist

from csp_monitor.statistics._log_probability import log_binomial_probability

__all__ = ["clopper_pearson_lower_log_odds", "log_lower_tail", "log_upper_tail"]

# Stop summing a tail when what is left is below this fraction of the sum: ten times finer than
# the 1e-12 the p-values are checked to (tests/test_statistics_significance_accuracy.py).
_TAIL_PRECISION = 1e-13
# Stop the root search when the next step would move the log odds by less than this: the limits
# are then good to about a part in 1e12, far beyond the three or four figures anyone reads.
_ROOT_TOLERANCE = 1e-12
# Or when a step of Halley's method is below this fraction of the log odds' standard error (see
# below).
_SETTLED = 1e-4
# Keep the log odds where both pi and 1 - pi are normal floats (the limits of any confidence below
# 1 - 1e-16 lie well inside).
_LOG_ODDS_LIMIT = 700.0
_NORMAL = NormalDist()


def log_lower_tail(start: int, n: int, p: float, log_start: float) -> float:
    """log P(X <= start), given log P(X = start), for ``start`` at or below the mean."""
    return _log_tail(start, n, p, log_start, downwards=True)


def log_upper_tail(start: int, n: int, p: float, log_start: float) -> float:
    """log P(X >= start), given log P(X = start), for ``start`` at or above the mean."""
    return _log_tail(start, n, p, log_start, downwards=False)


def _log_tail(start: int, n: int, p: float, log_start: float, *, downwards: bool) -> float:
    """Sum a tail outwards from ``start`` with the ratio of successive probabilities.

    The ratio only falls as we go outwards, so once the latest term times
    r / (1 - r) is negligible, so is everything left. Terms are made a block
    at a time (the products and the sum run in C, not in a Python loop).
    """
    # Size the first block to what the tail needs: beyond z standard deviations
    # the terms fall below 1e-13 of the first within about sd x (sqrt(z^2 + 60) - z).
    sd = math.sqrt(n * p * (1 - p))
    z = abs(start - n * p) / sd if sd > 0 else 0.0
    step = max(16, int(sd * (math.sqrt(z * z + 60) - z)) + 8)
    total = 1.0
    term = 1.0
    x = start
    if downwards:
        odds = (1 - p) / p
        while x > 0:
            end = max(0, x - step)
            # P(y - 1) / P(y) for y = x, x - 1, ..., end + 1
            ratios = [y / (n - y + 1) * odds for y in range(x, end, -1)]
            x = end
            term, total = _add_block(ratios, term, total)
            if _negligible(term, ratios[-1], total):
                break
    else:
        odds = p / (1 - p)
        while x < n:
            end = min(n, x + step)
            # P(y + 1) / P(y) for y = x, x + 1, ..., end - 1
            ratios = [(n - y) / (y + 1) * odds for y in range(x, end)]
            x = end
            term, total = _add_block(ratios, term, total)
            if _negligible(term, ratios[-1], total):
                break
    return log_start + math.log(total)


def _add_block(ratios: list[float], term: float, total: float) -> tuple[float, float]:
    """Extend the running products by a block of ratios; return the last term and the new total."""
    terms = list(itertools.accumulate(ratios, operator.mul, initial=term))
    return terms[-1], total + math.fsum(itertools.islice(terms, 1, None))


def _negligible(term: float, ratio: float, total: float) -> bool:
    """Whether every later term together (at most term r / (1 - r)) cannot change the total."""
    return term * ratio <= _TAIL_PRECISION * total * (1 - ratio)


def clopper_pearson_lower_log_odds(c: int, n: int, alpha: float) -> float:
    """The log odds of the lower Clopper-Pearson limit of pi: P(X >= c | n, pi) = alpha, 1 <= c <= n.

    The upper limit for c is minus the lower one for n - c (count the
    failures instead), so this one search serves both.
    """
    log_alpha = math.log(alpha)
    if c == n:
        # P(X >= n) = pi^n: pi = alpha^(1/n), and 1 - pi without cancellation.
        log_pi = log_alpha / n
        return log_pi - math.log(-math.expm1(log_pi))
    x = _beta_quantile_log_odds(c, n - c + 1, alpha)
    lo, hi = -_LOG_ODDS_LIMIT, _LOG_ODDS_LIMIT
    # About the standard error of the log odds: the scale of the function's shape.
    width = math.sqrt(1 / c + 1 / (n - c + 1))
    # As far as a step may go while the bracket is wide.
    reach = 4 * width
    for _ in range(100):
        log_tail, log_probability = _log_at_least(c, n, x)
        value = log_tail - log_alpha
        if value == 0:
            return x
        if value < 0:
            lo = x
        else:
            hi = x
        # d/dx log P(X >= c) = c (1 - pi) P(X = c) / P(X >= c), and its own derivative in x
        # is that times c - (n + 1) pi - the slope itself.
        slope = c * _logistic(-x) * math.exp(log_probability - log_tail)
        step = math.inf if value < 0 else -math.inf
        if slope > 0:
            curvature = slope * (c - (n + 1) * _logistic(x) - slope)
            # Halley's step; on a concave curve it never goes more than twice Newton's way.
            damping = 1 - value * curvature / (2 * slope * slope)
            step = -value / slope / max(0.5, damping)
            # Halley's error is cubed each step (times under a tenth, in units of the width): a
            # step this small leaves the log odds within about 1e-13 of the root.
            if abs(step) <= _ROOT_TOLERANCE or (damping > 0.5 and abs(step) <= _SETTLED * width):
                return x + step
        target = x + step
        if not lo < target < hi or (abs(step) > reach and hi - lo > 2 * reach):
            target = (lo + hi) / 2 if hi - lo <= 2 * reach else x + (reach if value < 0 else -reach)
        if hi - lo <= _ROOT_TOLERANCE:
            return target
        x = target
    return x


def _beta_quantile_log_odds(a: int, b: int, alpha: float) -> float:
    """The log odds of the alpha quantile of Beta(a, b), a, b >= 1, approximately (A&S 26.5.22)."""
    z = -_NORMAL.inv_cdf(alpha)
    lam = (z * z - 3) / 6
    h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1))
    w = z * math.sqrt(h + lam) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (lam + 5 / 6 - 2 / (3 * h))
    return math.log(a / b) - 2 * w


def _log_at_least(c: int, n: int, x: float) -> tuple[float, float]:
    """log P(X >= c) and log P(X = c) for X ~ Binomial(n, pi), pi = 1 / (1 + e^-x), 1 <= c <= n."""
    if x > 0:
        # Count the failures: their probability 1 - pi < 1/2 is exact where 1 - pi would round.
        return _log_at_most(n - c, n, -x)
    p = _logistic(x)
    log_probability = log_binomial_probability(c, n, p)
    if c >= n * p:
        return log_upper_tail(c, n, p, log_probability), log_probability
    # Below the mean P(X >= c) = 1 - P(X <= c - 1) is at least a half: no cancellation.
    log_before = log_probability + math.log(c / (n - c + 1)) - x
    return math.log1p(-math.exp(log_lower_tail(c - 1, n, p, log_before))), log_probability


def _log_at_most(k: int, n: int, x: float) -> tuple[float, float]:
    """log P(X <= k) and log P(X = k) for X ~ Binomial(n, pi), pi = 1 / (1 + e^-x) <= 1/2, 0 <= k < n."""
    p = _logistic(x)
    log_probability = log_binomial_probability(k, n, p)
    if k <= n * p:
        return log_lower_tail(k, n, p, log_probability), log_probability
    # Above the mean P(X <= k) = 1 - P(X >= k + 1) is at least a half.
    log_after = log_probability + math.log((n - k) / (k + 1)) + x
    return math.log1p(-math.exp(log_upper_tail(k + 1, n, p, log_after))), log_probability


def _logistic(x: float) -> float:
    """1 / (1 + e^-x), without overflow for x far below zero."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)
