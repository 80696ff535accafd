"""Build a frozen result model from fields already known to be valid, without validating them again.

A national run builds tens of thousands of result models (a result, its
chart, its test, its projection, ...) from numbers that are finite floats
and labels that are well formed by construction. pydantic's validation of
each costs more than the arithmetic behind it, and its ``model_construct``
more still (it is a Python loop over the fields), so the engine's fast path
fills the instance directly, as ``model_construct`` would.

Only for the package's own result models: frozen, ``extra="forbid"``, no
private attributes and no post-init hook (checked once per class). The
caller passes every field, exactly the types validation would give (floats
as floats, tuples as tuples); ``unset`` names fields given their default
that a validated construction would not count as set. The fast path's
property test (tests/test_evaluation_batch.py) checks that the models equal,
and dump to the same JSON as, the validated ones.

Every instance of a class built with the same ``unset`` shares one set of
field names: a set of forty names is a few kB, and a national run builds
tens of thousands of models. The models are frozen, so pydantic never adds
to the set (``model_copy`` copies it before adding the updated names).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["prevalidated"]

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__
_FIELDS_SET: dict[tuple[type[BaseModel], tuple[str, ...]], set[str]] = {}


def prevalidated(cls: type[_M], fields: dict[str, Any], unset: tuple[str, ...] = ()) -> _M:
    """An instance of ``cls`` holding ``fields`` (every field of the model, in order), unvalidated."""
    fields_set = _FIELDS_SET.get((cls, unset))
    if fields_set is None:
        _check(cls)
        fields_set = _FIELDS_SET[cls, unset] = set(cls.model_fields).difference(unset)
    model = cls.__new__(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _check(cls: type[BaseModel]) -> None:
    config = cls.model_config
    if (config.get("extra") != "forbid" or not config.get("frozen") or cls.__private_attributes__
            or cls.__pydantic_post_init__ is not None or cls.__pydantic_root_model__):
        raise TypeError(f"{cls.__name__} cannot be built unvalidated: it is not a plain frozen result model")
