"""Accurate logarithms of binomial and Poisson probabilities.

``lgamma(n + 1) - lgamma(x + 1) - ...`` subtracts numbers in the millions
to get an answer near zero, losing about nine digits when n is in the
hundreds of thousands. Catherine Loader's saddle-point form ("Fast and
accurate computation of binomial probabilities", 2000), which R, Boost and
SciPy use, writes the probability as small corrections to Stirling's formula
plus a deviance term computed without cancellation, and keeps full precision
at any n.
"""

from __future__ import annotations

import math

__all__ = ["log_binomial_probability", "log_poisson_probability"]

_LOG_2PI = math.log(2 * math.pi)
_HALF_LOG_2PI = 0.5 * _LOG_2PI
_S0 = 1 / 12
_S1 = 1 / 360
_S2 = 1 / 1260
_S3 = 1 / 1680
_S4 = 1 / 1188


def log_binomial_probability(x: int, n: int, p: float) -> float:
    """log P(X = x) for X ~ Binomial(n, p), 0 < p < 1, 0 <= x <= n."""
    q = 1 - p
    if x == 0:
        return n * math.log1p(-p)
    if x == n:
        return n * math.log(p)
    correction = (
        _stirling_error(n)
        - _stirling_error(x)
        - _stirling_error(n - x)
        - _deviance(x, n * p)
        - _deviance(n - x, n * q)
    )
    return correction - 0.5 * (_LOG_2PI + math.log(x) + math.log1p(-x / n))


def log_poisson_probability(x: int, mean: float) -> float:
    """log P(X = x) for X ~ Poisson(mean), mean > 0, x >= 0."""
    if x == 0:
        return -mean
    return -_stirling_error(x) - _deviance(x, mean) - 0.5 * (_LOG_2PI + math.log(x))


def _stirling_error(n: int) -> float:
    """log(n!) - log(sqrt(2 pi n) (n / e)^n), the error of Stirling's formula."""
    if n <= 15:
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - _HALF_LOG_2PI
    nn = float(n) * n  # a float: an int this large would overflow the divisions below
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _deviance(x: float, mean: float) -> float:
    """x log(x / mean) + mean - x, without cancellation when x is near the mean."""
    # The two logarithms' rounding (about 1e-16 of x log(x / mean), thousands when counts are)
    # would dominate a deviance that is a tenth of it; the series, every term of one sign, keeps
    # it to a few parts in 1e16 up to a mean three times x or a third of it.
    if abs(x - mean) < 0.5 * (x + mean):
        v = (x - mean) / (x + mean)
        total = (x - mean) * v
        term = 2 * x * v
        v *= v
        j = 1
        while True:
            term *= v
            updated = total + term / (2 * j + 1)
            if updated == total:
                return updated
            total = updated
            j += 1
    return x * math.log(x / mean) + mean - x
