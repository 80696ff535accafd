"""``model_dump``, ``model_dump_json`` and ``model_validate`` for the few results that are dataclasses.

Most of csp-monitor's results are pydantic models; :class:`~csp_monitor.errors.Problem`
and the delivery reports are frozen dataclasses (they are made in hot loops or
carry bytes). This mixin gives them the same three methods, so a council tool
serialises every result the same way. pydantic is imported only when one is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from typing import Self

    from pydantic import TypeAdapter

__all__ = ["PlainData"]


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


class PlainData:
    """Mixed into frozen dataclasses: serialise and read back like the pydantic models."""

    __slots__ = ()
    # Read by pydantic for dataclasses: raw email bytes travel as base64 in JSON (they need not be UTF-8).
    __pydantic_config__: ClassVar[dict[str, str]] = {"ser_json_bytes": "base64", "val_json_bytes": "base64"}

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The fields as a dict; ``mode="json"`` gives only JSON types (tuples as lists, paths as text)."""
        dumped: dict[str, Any] = _adapter(type(self)).dump_python(self, mode=mode)
        return dumped

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """The fields as JSON text."""
        return _adapter(type(self)).dump_json(self, indent=indent).decode("utf-8")

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """Read back what :meth:`model_dump` gave (in either mode)."""
        validated: Self = _adapter(cls).validate_python(data)
        return validated

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Self:
        """Read back what :meth:`model_dump_json` gave."""
        validated: Self = _adapter(cls).validate_json(text)
        return validated
