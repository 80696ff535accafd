"""Read-only mappings for the models, so a result or a rule set cannot be changed after it is made.

pydantic's ``frozen=True`` stops a field being re-assigned, but a ``dict`` field
could still be changed in place (``rules.recipients["board"] = ...``), changing
what every holder of the same rule set sees. Lists become tuples; mappings
become :class:`FrozenDict`, a ``dict`` (so it serialises, compares and prints as
one) that refuses every change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import AfterValidator

__all__ = ["FrozenDict", "FrozenMapping"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A ``dict`` that cannot be changed once made."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"this {type(self).__name__} cannot be changed: make a new model (model_copy(update=...))")

    def __setitem__(self, key: K, value: V) -> NoReturn:
        self._refuse()

    def __delitem__(self, key: K) -> NoReturn:
        self._refuse()

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse()

    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        return self


def _freeze(value: Mapping[Any, Any]) -> FrozenDict[Any, Any]:
    return value if isinstance(value, FrozenDict) else FrozenDict(value)


FrozenMapping = Annotated[Mapping[K, V], AfterValidator(_freeze)]
"""A model field holding a mapping that cannot be changed (validated as a dict, kept as a :class:`FrozenDict`)."""
