"""Monthly figures: what the police, surveys and partners report.

A :class:`Figure` is one value for one area, measure and month, as a person
or another council tool hands it over. Loaders and the engine use
:class:`FigureSet`, a compact index of series by (area, measure), because a
national set holds hundreds of thousands of figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from csp_monitor.errors import ArgumentError, FiguresError, Problem
from csp_monitor.names import slug as normalise_name
from csp_monitor.periods import Month, format_month, parse_month

__all__ = ["Figure", "FigureSet", "normalise_name"]



def _name(value: object) -> object:
    if isinstance(value, str):
        normalised = normalise_name(value)
        if not normalised:
            raise ValueError("must not be empty")
        return normalised
    return value


Name = Annotated[str, BeforeValidator(_name)]

MAX_FIGURE = 1e12
"""The largest figure accepted: no count, rate or percentage of a partnership comes near a million million,
and the statistics stay exact below it."""


def _figure_value(value: object) -> object:
    # A figure built in Python gets the loader's checks: True is not 1, and a value past the
    # loader's bound is refused here too (the statistics are exact only below it).
    if isinstance(value, bool):
        raise ValueError(f"the value {value} is not a number")
    if isinstance(value, int | float) and value > MAX_FIGURE:
        raise ValueError(f"the value {value:g} is too large: figures must be at most {MAX_FIGURE:,.0f}")
    return value


FigureValue = Annotated[float, BeforeValidator(_figure_value)]


class Figure(BaseModel):
    """One monthly value of one measure in one area."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    area: Name = Field(description="The area (district or partnership), matched as a slug: 'Harborough' -> 'harborough'.")
    measure: Name = Field(description="The measure's id in the rules (or its 'source').")
    period: Month = Field(description="The calendar month, YYYY-MM.")
    value: FigureValue = Field(ge=0, allow_inf_nan=False, description="The month's value: a count, percentage or rate.")
    suspect: str | None = Field(
        default=None, description="Why this figure is suspected to be a data fault, if it is.")

    @model_validator(mode="wrap")
    @classmethod
    def _one_error_tree(cls, data: Any, handler: ModelWrapValidatorHandler[Figure]) -> Figure:
        # A council tool building figures catches CspMonitorError for every input problem, so a bad
        # month or value is a FiguresError (with every problem) rather than pydantic's ValidationError.
        try:
            return handler(data)
        except ValidationError as exc:
            raise FiguresError([Problem(error["msg"].removeprefix("Value error, "), file="<figure>",
                                        path=tuple(error["loc"]))
                                for error in exc.errors()]) from None


_NO_MONTHS: Mapping[int, float] = MappingProxyType({})


class FigureSet:
    """Monthly series indexed by (area, measure); months are integer indexes.

    Missing months are simply absent: a missing month is not a zero.
    """

    __slots__ = ("_frozen", "_series", "_suspect")

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], dict[int, float]] = {}
        self._suspect: dict[tuple[str, str, int], str] = {}
        self._frozen = False

    def freeze(self) -> FigureSet:
        """Refuse every change from now on (what :func:`load_figures` and :meth:`from_figures` give); return self."""
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        """Whether the set refuses changes."""
        return self._frozen

    def _check_open(self) -> None:
        if self._frozen:
            raise TypeError("this FigureSet cannot be changed: build a new one with FigureSet.from_figures([...])")

    @classmethod
    def from_figures(cls, figures: Iterable[Figure]) -> FigureSet:
        """Build a set from :class:`Figure` models; duplicates raise :class:`FiguresError` (all of them at once)."""
        if isinstance(figures, str | bytes | Mapping) or not isinstance(figures, Iterable):
            raise ArgumentError(f"figures must be a list (or any iterable) of Figure, not {type(figures).__name__}",
                                argument="figures")
        result = cls()
        problems: list[Problem] = []
        for index, figure in enumerate(figures):
            if not isinstance(figure, Figure):
                problems.append(Problem(f"item {index} is a {type(figure).__name__}, not a Figure", file="<figures>",
                                        path=(index,)))
                continue
            month = parse_month(figure.period)
            if month in result.series(figure.area, figure.measure):
                problems.append(Problem(f"{figure.area} {figure.measure} {figure.period} is given twice: keep one",
                                        file="<figures>", path=(index,)))
                continue
            result.add(figure.area, figure.measure, month, figure.value)
            if figure.suspect:
                result.mark_suspect(figure.area, figure.measure, month, figure.suspect)
        if problems:
            raise FiguresError(problems)
        return result.freeze()

    def __eq__(self, other: object) -> bool:
        """Two sets are equal when they hold the same values and suspect marks."""
        if not isinstance(other, FigureSet):
            return NotImplemented
        mine = {key: series for key, series in self._series.items() if series}
        theirs = {key: series for key, series in other._series.items() if series}
        return mine == theirs and dict(self._suspect) == dict(other._suspect)

    __hash__ = None  # type: ignore[assignment]  # equal by value, so not hashable

    def __repr__(self) -> str:
        months = [month for series in self._series.values() for month in series]
        span = f", {format_month(min(months))} to {format_month(max(months))}" if months else ""
        areas, measures = self.areas(), self.measures()
        return (f"<FigureSet: {len(self):,} figures, {len(areas)} area{'s' if len(areas) != 1 else ''} "
                f"({_shortlist(areas)}), {len(measures)} measure{'s' if len(measures) != 1 else ''} "
                f"({_shortlist(measures)}){span}, {len(self._suspect)} suspect>")

    def add(self, area: str, measure: str, month: int, value: float) -> None:
        """Add one value; a second value for the same area, measure and month is an error."""
        self._check_open()
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{value!r} is not a valid figure")
        series = self._series.setdefault((area, measure), {})
        if month in series:
            raise ValueError(f"{area} {measure} {format_month(month)} is given twice")
        series[month] = value

    def series_for_update(self, area: str, measure: str) -> dict[int, float]:
        """The mutable series of one area and measure, for loaders that have checked every value.

        The loaders' fast path: the caller must add only finite, non-negative
        values and must check ``month in series`` for duplicates itself.
        """
        self._check_open()
        return self._series.setdefault((area, measure), {})

    def revise(self, area: str, measure: str, month: int, value: float, suspect: str | None = None) -> float | None:
        """Set one value, replacing any earlier one and its suspect mark; return the value replaced, if any.

        For revised figures (a later file of a drop folder): the revision's own
        ``suspect`` reason, or none, replaces the earlier one's.
        """
        self._check_open()
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{value!r} is not a valid figure")
        series = self._series.setdefault((area, measure), {})
        previous = series.get(month)
        series[month] = value
        if suspect:
            self._suspect[(area, measure, month)] = suspect
        else:
            self._suspect.pop((area, measure, month), None)
        return previous

    def mark_suspect(self, area: str, measure: str, month: int, reason: str) -> None:
        """Record that a figure is likely a data fault."""
        self._check_open()
        self._suspect[(area, measure, month)] = reason

    def series(self, area: str, measure: str) -> Mapping[int, float]:
        """The months and values of one series (empty when there is none), read-only: the set never changes through it."""
        series = self._series.get((area, measure))
        return _NO_MONTHS if series is None else MappingProxyType(series)

    def suspect(self, area: str, measure: str, month: int) -> str | None:
        """Why a figure is suspect, or None."""
        return self._suspect.get((area, measure, month))

    @property
    def suspects(self) -> Mapping[tuple[str, str, int], str]:
        """Every suspect figure and why."""
        return self._suspect

    def series_keys(self) -> Iterator[tuple[str, str]]:
        """Every (area, measure) with figures."""
        return iter(self._series)

    def areas(self) -> list[str]:
        """Every area, sorted."""
        return sorted({area for area, _ in self._series})

    def measures(self) -> list[str]:
        """Every measure, sorted."""
        return sorted({measure for _, measure in self._series})

    def latest_month(self) -> int | None:
        """The latest month with any figure."""
        latest = [max(series) for series in self._series.values() if series]
        return max(latest) if latest else None

    def __len__(self) -> int:
        return sum(len(series) for series in self._series.values())

    def __iter__(self) -> Iterator[Figure]:
        for (area, measure), series in sorted(self._series.items()):
            for month in sorted(series):
                yield Figure(area=area, measure=measure, period=format_month(month), value=series[month],
                             suspect=self._suspect.get((area, measure, month)))

    def merge(self, other: FigureSet) -> None:
        """Add every figure of ``other``; duplicates raise ValueError."""
        self._check_open()
        for (area, measure), series in other._series.items():
            for month, value in series.items():
                self.add(area, measure, month, value)
        self._suspect.update(other._suspect)


def _shortlist(names: list[str], most: int = 3) -> str:
    return ", ".join(names[:most]) + (f", +{len(names) - most} more" if len(names) > most else "")
