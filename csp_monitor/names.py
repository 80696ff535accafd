"""How areas, measures and ids are matched: as slugs; and when a name is a typo of another.

``Harborough`` and ``harborough``, ``Domestic Burglary`` and
``domestic-burglary``, ``Hinckley and Bosworth`` and
``hinckley-and-bosworth`` are the same name: lower case, each run of other
characters one hyphen, no hyphen at either end.

A "did you mean" must never send a lead to a *different* partnership or crime
type: ``leicestershire`` is not a typo of ``leicester``, nor ``violent-crime``
of ``vehicle-crime``, however alike they look. So a suggestion is offered only
for a near-typo (see :func:`near_typo`); otherwise the caller lists the names
there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["display_name", "edit_distance", "near_typo", "slug", "typo_allowance"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Joining words a place name keeps in lower case ("Oadby and Wigston", "Kingston upon Hull").
_SMALL_WORDS = frozenset({"and", "of", "the", "upon", "on", "in", "with"})


def slug(text: str) -> str:
    """``Hinckley and Bosworth`` -> ``hinckley-and-bosworth``."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def display_name(area: str) -> str:
    """An area's name as a board reads it, from its id when the rules give none:
    ``north-west-leicestershire`` -> ``North West Leicestershire``, ``city-of-london`` -> ``City of London``."""
    words = [word for word in area.split("-") if word]
    return " ".join(word if index and word in _SMALL_WORDS else word[:1].upper() + word[1:]
                    for index, word in enumerate(words))


def edit_distance(first: str, second: str, limit: int | None = None) -> int:
    """The number of single-letter slips (insert, delete, replace, swap two neighbours) between two words.

    This is the optimal-string-alignment distance. With ``limit``, any distance
    above it is reported as ``limit + 1`` (and found sooner).
    """
    if limit is not None and abs(len(first) - len(second)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(second) + 1))
    for i, letter in enumerate(first, start=1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, start=1):
            cost = 0 if letter == other else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and letter == second[j - 2] and first[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if limit is not None and min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def typo_allowance(word: str) -> int:
    """How many slips still make a near-typo of a word this long: 1 up to 5 letters, 2 up to 12, then 3."""
    length = len(word)
    return 1 if length <= 5 else 2 if length <= 12 else 3


def _folded(text: str) -> str:
    """Case, spaces and underscores are not slips: ``Domestic_Burglary`` is ``domestic-burglary``."""
    return re.sub(r"[\s_-]+", "-", text.strip().lower())


def near_typo(word: str, options: Iterable[str]) -> str | None:
    """The one option ``word`` is a near-typo of, or None when no option is near enough.

    An option is near when, ignoring case, spaces, underscores and hyphens'
    differences, it is at most :func:`typo_allowance` slips (letters added,
    dropped, changed or two swapped) from ``word``. When two options are equally
    near, neither is offered: the match would be a guess.
    """
    folded = _folded(word)
    if not folded:
        return None
    limit = typo_allowance(folded)
    best: list[str] = []
    best_distance = limit + 1
    for option in dict.fromkeys(o for o in options if isinstance(o, str)):
        distance = edit_distance(folded, _folded(option), limit)
        if distance < best_distance:
            best, best_distance = [option], distance
        elif distance == best_distance and distance <= limit:
            best.append(option)
    return best[0] if len(best) == 1 else None
