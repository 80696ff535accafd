"""The public API's common arguments, checked once and the same way at every entry point.

``as_of`` is a month, written ``"YYYY-MM"`` or given as a :class:`datetime.date`
(its month); ``now`` is a timezone-aware :class:`datetime.datetime` (a naive one
would be read differently on a server in UTC and a laptop in BST); ``areas`` is a
collection of names, matched as slugs as the figures' areas are; paths are
``str`` or :class:`os.PathLike`. A wrong one is an :class:`ArgumentError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from csp_monitor.errors import ArgumentError, shown_value
from csp_monitor.names import slug
from csp_monitor.periods import format_month, parse_month

__all__ = ["check_areas", "check_as_of", "check_kind", "check_now", "check_path", "check_paths"]


T = TypeVar("T")


def check_kind(value: object, kind: type[T], *, argument: str, made_by: str) -> T:
    """``value`` itself when it is a ``kind`` (a RuleSet, a FigureSet, a StateStore...); ``made_by`` says where one comes from."""
    if not isinstance(value, kind):
        raise ArgumentError(f"{argument} must be a {kind.__name__} ({made_by}), not {type(value).__name__} "
                            f"{_shown(value)}", argument=argument)
    return value


def _shown(value: object) -> str:
    """``repr(value)`` as a message quotes it: a 10 MB string is not repeated in full."""
    return shown_value(repr(value), most=80)


def check_as_of(value: object, *, argument: str = "as_of") -> str | None:
    """``"YYYY-MM"`` for a month given as text or a date; None stays None."""
    if value is None:
        return None
    if isinstance(value, date):  # a datetime is a date too: its month
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str):
        try:
            return format_month(parse_month(value))
        except ValueError as exc:
            raise ArgumentError(str(exc), argument=argument) from None
    raise ArgumentError(
        f"{argument} must be a month written \"YYYY-MM\" or a datetime.date, not {type(value).__name__} "
        f"{_shown(value)}", argument=argument)


def check_now(value: object, *, argument: str = "now") -> datetime:
    """``value`` itself, when it is a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ArgumentError(f"{argument} must be a timezone-aware datetime such as datetime.now(UTC), "
                            f"not {type(value).__name__} {_shown(value)}", argument=argument)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ArgumentError(f"{argument} must be timezone-aware (a naive {value.isoformat()} means different "
                            "moments on different servers): give it a tzinfo, e.g. datetime.now(UTC)",
                            argument=argument)
    return value


def check_areas(value: object, *, argument: str = "areas") -> list[str] | None:
    """The areas as slugs (``"Hinckley and Bosworth"`` -> ``"hinckley-and-bosworth"``), in order, once each."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        shown = f"[{_shown(value)}]" if isinstance(value, str) else "['harborough']"
        raise ArgumentError(f"{argument} must be a list of area names, not {type(value).__name__} {_shown(value)}: "
                            f"write {argument}={shown}", argument=argument)
    areas: list[str] = []
    for item in value:
        name = slug(item) if isinstance(item, str) else ""
        if not name:
            raise ArgumentError(f"{_shown(item)} is not an area name", argument=argument)
        if name not in areas:
            areas.append(name)
    return areas


def check_path(value: object, *, argument: str = "path") -> str | Path:
    """A ``str`` (kept as written, for messages) or an :class:`os.PathLike` (as a :class:`~pathlib.Path`)."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        path = os.fspath(value)
        if isinstance(path, str) and path.strip():
            _check_length(path, argument)
            return value if isinstance(value, str | Path) else Path(path)
    raise ArgumentError(f"{argument} must be a file path (str or pathlib.Path), not {type(value).__name__} "
                        f"{_shown(value)}", argument=argument)


_MOST_PATH = 4096
_MOST_NAME = 255
"""Linux's limits (PATH_MAX, NAME_MAX, in bytes); longer is no file's name, and would be repeated in every message."""


def _check_length(path: str, argument: str) -> None:
    longest = max((len(part.encode("utf-8", "surrogateescape")) for part in re.split(r"[/\\]", path)), default=0)
    if len(path.encode("utf-8", "surrogateescape")) > _MOST_PATH or longest > _MOST_NAME:
        raise ArgumentError(f"{argument} is too long to be a file path ({_shown(path)}): a path has at most "
                            f"{_MOST_PATH:,} bytes and each name in it at most {_MOST_NAME}", argument=argument)


def check_paths(value: object, *, argument: str = "paths") -> list[str | Path]:
    """One path or a sequence of paths, as a list (each as :func:`check_path` gives it)."""
    if isinstance(value, str | os.PathLike):
        return [check_path(value, argument=argument)]
    if isinstance(value, bytes) or not isinstance(value, Iterable):
        raise ArgumentError(f"{argument} must be a file path or a list of them, not {type(value).__name__} "
                            f"{_shown(value)}", argument=argument)
    return [check_path(item, argument=argument) for item in value]
