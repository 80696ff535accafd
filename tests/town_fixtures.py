"""Figures for "town", the one area of the engine's small rule sets, one a month."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from csp_monitor import Figure


def monthly(measure: str, first: str, values: Sequence[float | None], *,
            suspect: Mapping[int, str] | None = None) -> list[Figure]:
    """Town's figures for ``measure``, one a month from ``first`` ("YYYY-MM") for each of ``values``: a None
    leaves its month out, and ``suspect`` marks figures by their place in ``values`` with the reason."""
    year, month = (int(part) for part in first.split("-"))
    start = year * 12 + month - 1
    figures = []
    for offset, value in enumerate(values):
        if value is not None:
            year, month = divmod(start + offset, 12)
            figures.append(Figure(area="town", measure=measure, period=f"{year}-{month + 1:02d}", value=value,
                                  suspect=(suspect or {}).get(offset)))
    return figures
