"""The optional packages, the extra that installs each, and a plain error when one is missing.

``pip install csp-monitor`` does the whole monthly job (rules, figures, alerts,
summaries with charts, email, the daemon). A few packages serve only some
councils and stay extras: spreadsheets (``xlsx``), a PostgreSQL state store
(``postgres``) and fast national police.uk imports (``fast``, which has a
pure-Python fallback). Code that needs one calls :func:`require` first, so a
missing package is a :class:`~csp_monitor.errors.MissingExtraError` naming
the extra (exit code 1), never an internal error.
"""

from __future__ import annotations

import importlib

from csp_monitor.errors import MissingExtraError

__all__ = ["CORE_PACKAGES", "EXTRAS", "extra_for", "require"]

EXTRAS: dict[str, str] = {
    "openpyxl": "xlsx",
    "psycopg": "postgres",
    "pyarrow": "fast",
    "isal": "fast",
}
"""Importable top-level package -> the extra that installs it."""

CORE_PACKAGES: frozenset[str] = frozenset({
    "pydantic", "yaml", "jinja2", "click", "sqlalchemy", "apscheduler", "tzdata", "matplotlib", "css_inline",
})
"""Importable top-level packages that ``pip install csp-monitor`` always installs."""


def extra_for(module: str | None) -> str | None:
    """The extra that installs ``module`` (a dotted name is judged by its top-level package)."""
    if not module:
        return None
    return EXTRAS.get(module.partition(".")[0])


def require(package: str, *, purpose: str) -> None:
    """Import ``package`` or raise :class:`MissingExtraError` saying which extra ``purpose`` needs."""
    extra = extra_for(package)
    if extra is None:
        raise ValueError(f"{package!r} is not an optional package of csp-monitor")
    try:
        importlib.import_module(package)
    except ImportError:
        raise MissingExtraError(package, extra=extra, purpose=purpose) from None
