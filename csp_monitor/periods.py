"""Calendar months and reporting years.

A month is handled internally as one integer, ``year * 12 + (month - 1)``, so
that "the same month last year" is ``m - 12`` and a year to date is a range.
People see and write ``YYYY-MM``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

from csp_monitor.errors import shown_value

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "MONTH_NAMES",
    "Month",
    "format_month",
    "month_name",
    "months_between",
    "parse_month",
    "reporting_year_label",
    "reporting_year_start",
]

FIRST_YEAR = 1900
"""The earliest year a month may have: older figures are a typing mistake."""
LAST_YEAR = 2199
"""The latest year a month may have; a year to date, its baseline and a run of months all stay within it."""

_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_DATE_RE = re.compile(r"^\s*(\d{4}-\d{2})-\d{2}\s*$")

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse_month(text: object) -> int:
    """Parse ``YYYY-MM`` into a month index; raise ValueError in plain English."""
    if isinstance(text, int) and not isinstance(text, bool):
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, for example 2014-03")
    if not isinstance(text, str):
        raise ValueError("a month must be written as YYYY-MM, for example 2014-03")
    match = _MONTH_RE.match(text)
    if not match:
        day = _DATE_RE.match(text)
        if day:
            raise ValueError(f"'{text}' is a date, not a month: write just the year and month, {day.group(1)}")
        raise ValueError(f"'{shown_value(text)}' is not a month: write it as YYYY-MM, for example 2014-03")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}' is not a month: the month must be 01 to 12")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"'{text}' is not a plausible month: the year must be {FIRST_YEAR} to {LAST_YEAR}")
    return year * 12 + (month - 1)


def format_month(index: int) -> str:
    """The ``YYYY-MM`` text of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_name(index: int) -> str:
    """``March 2014``."""
    return f"{MONTH_NAMES[index % 12]} {index // 12}"


def months_between(first: int, last: int) -> range:
    """Every month from ``first`` to ``last`` inclusive."""
    return range(first, last + 1)


def reporting_year_start(as_of: int, start_month: int) -> int:
    """The first month of the reporting year that contains ``as_of``.

    ``start_month`` is 1-12 (4 for the April-March financial year).
    """
    start = (as_of // 12) * 12 + (start_month - 1)
    return start if start <= as_of else start - 12


def reporting_year_label(start: int) -> str:
    """``2013/14`` for a year starting in April 2013; ``2014`` for a calendar year."""
    if start % 12 == 0:
        return str(start // 12)
    return f"{start // 12}/{(start // 12 + 1) % 100:02d}"


def _normalise_month(value: object) -> str:
    return format_month(parse_month(value))


Month = Annotated[str, BeforeValidator(_normalise_month),
                  WithJsonSchema({"type": "string", "pattern": r"^\s*\d{4}-\d{1,2}\s*$"})]
"""A calendar month written ``YYYY-MM``; ``2014-3`` is normalised to ``2014-03``."""
