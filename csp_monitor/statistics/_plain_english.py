"""Numbers and chances written the way a partnership lead reads them.

The statistics explain themselves in sentences ("about 12 times in 100"),
so the wording of numbers, percentages and chances lives here, once.
"""

from __future__ import annotations

import functools

__all__ = ["chance", "number", "percent"]


def number(value: float) -> str:
    """``1,234`` / ``378.2`` / ``2.84``: enough digits to read, no more."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}"


@functools.lru_cache(maxsize=64)
def percent(fraction: float) -> str:
    """``95%`` for 0.95, ``99.8%`` for 0.998."""
    return f"{round(fraction * 100, 6):g}%"


def chance(probability: float) -> str:
    """``about 12 times in 100``, ``about once in 20,000``, ``less than once in a million``.

    People grasp natural frequencies far better than decimals; the scale
    changes with the size of the chance so the count stays a small number.
    """
    if probability >= 0.995:
        return "almost every time"
    if probability >= 0.01:
        return _times(round(probability * 100), "100")
    if probability >= 0.001:
        return _times(round(probability * 1000), "1,000")
    if probability >= 1e-6:
        one_in = float(f"{1 / probability:.2g}")
        return f"about once in {one_in:,.0f}"
    return "less than once in a million"


def _times(count: int, out_of: str) -> str:
    if count == 1:
        return f"about once in {out_of}"
    return f"about {count} times in {out_of}"
