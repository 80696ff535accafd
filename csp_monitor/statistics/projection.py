"""Where will the year end? Projecting a year-to-date total to a full year.

A measure can be green in October and still be heading for red in March:
crime has seasons (burglary rises with the dark evenings, violence with the
summer), so a straight line from the first months misleads. The seasonal
projection scales this year's total so far by how last year's full year
compared with its same months:

    projected = current YTD x baseline full year / baseline YTD

which assumes this year keeps last year's shape, not its level. When last
year cannot give the shape (no baseline figures for those months, or none
at all), we fall back to a straight line: the average month so far, times
twelve.

Only totals can be projected: the engine calls this for measures with
``aggregate: sum``. For ``latest`` and ``mean`` measures (a satisfaction
rate, an average) the year-end value is not a sum of months, so there is
nothing to project and the engine leaves the projection out.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from csp_monitor.statistics import _plain_english
from csp_monitor.statistics._prevalidated import prevalidated

__all__ = ["Projection", "ProjectionMethod", "project_year_end"]

ProjectionMethod = Literal["seasonal", "linear"]
"""How the year-end value was projected."""


class Projection(BaseModel):
    """The projected full-year total of a measure, and how it was reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(description="The projected total for the whole reporting year.")
    method: ProjectionMethod = Field(
        description=(
            "seasonal: scaled by last year's pattern of months; linear: the average month "
            "so far times the months in the year, used when last year cannot give the pattern."
        )
    )
    months_elapsed: int = Field(
        ge=1, description="How many months of the reporting year the year-to-date figure covers."
    )
    scale: float = Field(
        description="The factor the year-to-date figure was multiplied by to reach the projection."
    )
    explanation: str = Field(
        description="One plain-English sentence saying how the projection was made."
    )


def project_year_end(
    current: float,
    months_elapsed: int,
    *,
    baseline: float | None = None,
    baseline_full_year: float | None = None,
    months_in_year: int = 12,
) -> Projection:
    """Project the year-end total from ``current``, the total of the first ``months_elapsed`` months.

    ``baseline`` is last year's total for the same months and
    ``baseline_full_year`` last year's total for the whole year. The seasonal
    method needs both, with ``baseline`` above zero and no larger than the full
    year (and a finite projection from them); otherwise the projection is linear. Raise ValueError for a number
    that is not finite or a month count outside the year.
    """
    if not math.isfinite(current):
        raise ValueError(f"the year-to-date figure must be a finite number, not {current!r}")
    if months_in_year < 1:
        raise ValueError(f"a year must have at least one month, not {months_in_year!r}")
    if not 1 <= months_elapsed <= months_in_year:
        raise ValueError(
            f"months elapsed must be between 1 and {months_in_year}, not {months_elapsed!r}"
        )
    for name, value in (("baseline", baseline), ("baseline full year", baseline_full_year)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"the {name} must be a finite number, not {value!r}")

    if (
        baseline is not None
        and baseline_full_year is not None
        and 0 < baseline <= baseline_full_year
        # A vanishingly small baseline (5e-324) makes the scale overflow: no usable shape.
        and math.isfinite(current * (baseline_full_year / baseline))
    ):
        scale = baseline_full_year / baseline
        share = baseline / baseline_full_year
        value = current * scale
        explanation = _complete(value, months_elapsed, months_in_year) or (
            # "The same months", not "by this point": as of March with figures to October, this point is
            # March, but the share is that of the months compared.
            f"Projected year-end total about {_plain_english.number(round(value))}: last year the same "
            f"months held {_plain_english.percent(round(share, 3))} of the year's total, and this year is "
            f"assumed to follow the same pattern."
        )
        return _projection(value, "seasonal", months_elapsed, scale, explanation)

    scale = months_in_year / months_elapsed
    value = current * scale
    remaining = months_in_year - months_elapsed
    per_month = current / months_elapsed
    explanation = _complete(value, months_elapsed, months_in_year) or (
        f"Projected year-end total about {_plain_english.number(round(value))}, assuming the "
        f"remaining {remaining} month{'s' if remaining != 1 else ''} run at this year's average of "
        f"{_plain_english.number(round(per_month, 1))} a month (last year's figures cannot "
        f"show the seasonal pattern)."
    )
    return _projection(value, "linear", months_elapsed, scale, explanation)


def _projection(
    value: float, method: ProjectionMethod, months_elapsed: int, scale: float, explanation: str
) -> Projection:
    if type(months_elapsed) is not int or type(value) is not float or type(scale) is not float:
        # A month count given as 3.0 (validation makes it 3), or a float-like number from a caller.
        return Projection(
            value=value, method=method, months_elapsed=months_elapsed, scale=scale, explanation=explanation
        )
    # Every field is checked above and a float by its arithmetic: a national run projects
    # thousands of totals, and validating each again would cost more than the projection.
    return prevalidated(
        Projection,
        {
            "value": value,
            "method": method,
            "months_elapsed": months_elapsed,
            "scale": scale,
            "explanation": explanation,
        },
    )


def _complete(value: float, months_elapsed: int, months_in_year: int) -> str | None:
    """The sentence for a finished year, when there is nothing left to project."""
    if months_elapsed < months_in_year:
        return None
    return f"The year is complete: the year-end total is {_plain_english.number(value)}."
