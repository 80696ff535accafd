"""How areas, measures and ids are matched: as slugs.

``Harborough`` and ``harborough``, ``Domestic Burglary`` and
``domestic-burglary``, ``Hinckley and Bosworth`` and
``hinckley-and-bosworth`` are the same name: lower case, each run of other
characters one hyphen, no hyphen at either end.
"""

from __future__ import annotations

import re

__all__ = ["slug"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """``Hinckley and Bosworth`` -> ``hinckley-and-bosworth``."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")
