"""Plain-English wording of numbers, targets and results.

Every result carries one sentence a partnership lead can read aloud at a
board meeting, e.g. "Domestic Burglary is up 65.4% (100 more than last year)
against a target of a 13% reduction: red".
"""

from __future__ import annotations

from csp_monitor.models.rules import Better, Target, Unit
from csp_monitor.periods import format_month, month_name

__all__ = [
    "article",
    "format_number",
    "format_pct",
    "months_phrase",
    "span_phrase",
    "target_phrase",
    "target_text",
]


def format_number(value: float | None, unit: Unit = "count") -> str:
    """``2778``, ``12.5``, ``88%``; one decimal place at most."""
    if value is None:
        return "-"
    rounded = round(value, 1)
    text = f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"
    if text == "-0":
        text = "0"
    return f"{text}%" if unit == "percent" else text


def format_pct(value: float | None) -> str:
    """A percentage change to one decimal place: ``65.4``, ``-0.9``."""
    if value is None:
        return "-"
    text = f"{round(value, 1):.1f}"
    return "0.0" if text == "-0.0" else text


def target_text(target: Target, unit: Unit = "count") -> str:
    """The target as people write it: ``-13%``, ``at least 85%``."""
    if target.kind == "change":
        return f"{target.value:+g}%"
    word = "at least" if target.kind == "at_least" else "at most"
    return f"{word} {format_number(target.value, unit)}"


def article(number: str) -> str:
    """``a`` or ``an`` before a number read aloud: an 8%, an 11%, an 18%, an 80%; a 1%, a 13%, a 110%.

    Said aloud, a number takes "an" when its first word starts with a vowel
    sound: eight (8, 80-89, 800-899, 8,000, ...) and eleven or eighteen (11,
    18, and 11,000 or 18,500, said "eleven thousand ...").
    """
    whole = number.lstrip("+-").split(".")[0].replace(",", "")
    digits = whole[: len(whole) - len(whole.lstrip("0123456789"))] if whole else ""
    if not digits:
        return "a"
    if digits.startswith("8"):
        return "an"
    if digits[:2] in ("11", "18") and len(digits) % 3 == 2:
        return "an"
    return "a"


def target_phrase(target: Target, better: Better, unit: Unit = "count") -> str:
    """``a target of a 13% reduction``, ``a target of an 8% reduction``; ``a target of at least 85%``."""
    if target.kind == "change":
        size = f"{abs(target.value):g}%"
        if target.value < 0:
            return f"a target of {article(size)} {size} reduction" if better == "lower" else \
                f"a target of a fall of no more than {size}"
        if target.value > 0:
            return f"a target of {article(size)} {size} increase" if better == "higher" else \
                f"a target of a rise of no more than {size}"
        return "a target of no increase" if better == "lower" else "a target of no fall"
    return f"a target of {target_text(target, unit)}"


def months_phrase(months: list[int]) -> str:
    """``2014-02``; ``2013-04 to 2013-09 and 2014-01``: runs of months are shortened."""
    runs: list[tuple[int, int]] = []
    for month in sorted(months):
        if runs and month == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    names = [format_month(a) if a == b else f"{format_month(a)} to {format_month(b)}" for a, b in runs]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def span_phrase(first: int, last: int) -> str:
    """``April 2013 to March 2014``."""
    if first == last:
        return month_name(first)
    return f"{month_name(first)} to {month_name(last)}"
