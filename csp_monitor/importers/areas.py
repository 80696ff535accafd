"""Areas of police.uk rows: district from the LSOA name, partnership from the ONS lookup.

police.uk gives each located crime the name of its lower layer super output
area (LSOA), which starts with the name of its local authority district:
``Harborough 012B``. The district is the name without the code; a
Community Safety Partnership covers one district or, now and then, several
(Daventry and South Northamptonshire), which the ONS LAD17-CSP17-PFA17
lookup says.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from csp_monitor.errors import FiguresError, Problem
from csp_monitor.files import open_regular
from csp_monitor.names import slug as slugify

__all__ = ["AreaLookup", "district_of_lsoa", "load_area_lookup", "slugify"]

_LSOA_CODE = re.compile(r"^\d{3}[A-Z]$")
_LOOKUP_COLUMNS = ("LAD17NM", "CSP17NM", "PFA17NM")
_MAX_LOOKUP_BYTES = 16 * 1024 * 1024


def district_of_lsoa(lsoa_name: str) -> str | None:
    """The district slug of an LSOA name (``Harborough 012B`` -> ``harborough``), or None if it has no code."""
    district, _, code = lsoa_name.strip().rpartition(" ")
    if not district or not _LSOA_CODE.match(code):
        return None
    slug = slugify(district)
    return slug or None


@dataclass(frozen=True)
class AreaLookup:
    """Districts (as slugs) mapped to their partnership and police force area (as slugs)."""

    partnership_of: dict[str, str] = field(default_factory=dict)
    force_area_of: dict[str, str] = field(default_factory=dict)
    source: str = "<lookup>"

    def partnership(self, district: str) -> str | None:
        """The partnership slug of a district slug, or None when the lookup does not list it."""
        return self.partnership_of.get(district)

    def force_area(self, area: str) -> str | None:
        """The police force area of a district or partnership slug, or None."""
        return self.force_area_of.get(area)


def load_area_lookup(path: str | Path) -> AreaLookup:
    """Read the ONS ``LAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM`` lookup (with or without BOM)."""
    name = str(path)
    try:
        size = Path(path).stat().st_size
        if size > _MAX_LOOKUP_BYTES:
            raise FiguresError([Problem(f"the lookup is {size} bytes: far too large for a district lookup", file=name)])
        with io.TextIOWrapper(open_regular(path), encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            rows = list(reader)
    except FileNotFoundError:
        raise FiguresError([Problem("no such lookup file", file=name)]) from None
    except IsADirectoryError:
        raise FiguresError([Problem("this is a folder, not a lookup CSV file", file=name)]) from None
    except UnicodeDecodeError as exc:
        raise FiguresError([Problem(f"the lookup is not UTF-8 text ({exc.reason})", file=name)]) from None
    except csv.Error as exc:
        reason = (f"a value on this line is longer than {csv.field_size_limit():,} characters: this is not the ONS "
                  "lookup" if "field limit" in str(exc) else f"the lookup is not a readable CSV file ({exc})")
        raise FiguresError([Problem(reason, file=name, line=max(reader.line_num, 1))]) from None
    except OSError as exc:
        raise FiguresError([Problem(f"the lookup cannot be read: {exc.strerror or exc}", file=name)]) from None
    if not rows:
        raise FiguresError([Problem("the lookup is empty", file=name, line=1)])
    header = [cell.strip() for cell in rows[0]]
    missing = [column for column in _LOOKUP_COLUMNS if column not in header]
    if missing:
        raise FiguresError([Problem(
            f"the lookup has no {', '.join(missing)} column: expected the ONS LAD17-CSP17-PFA17 "
            f"lookup (LAD17CD,LAD17NM,CSP17CD,CSP17NM,PFA17CD,PFA17NM)", file=name, line=1, column=1)])
    lad_i, csp_i, pfa_i = (header.index(column) for column in _LOOKUP_COLUMNS)
    width = max(lad_i, csp_i, pfa_i) + 1
    partnership_of: dict[str, str] = {}
    force_area_of: dict[str, str] = {}
    problems: list[Problem] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            problems.append(Problem(f"the row has {len(row)} columns, the header {len(header)}",
                                    file=name, line=number, column=1))
            continue
        district, partnership, force_area = (slugify(row[i]) for i in (lad_i, csp_i, pfa_i))
        if not district or not partnership:
            problems.append(Problem("the row has no district or partnership name", file=name, line=number, column=1))
            continue
        previous = partnership_of.get(district)
        if previous is not None and previous != partnership:
            problems.append(Problem(f"the district '{row[lad_i]}' is listed twice, in different partnerships",
                                    file=name, line=number, column=lad_i + 1))
            continue
        partnership_of[district] = partnership
        force_area_of[district] = force_area
        force_area_of[partnership] = force_area
    if problems:
        raise FiguresError(problems)
    return AreaLookup(partnership_of=partnership_of, force_area_of=force_area_of, source=name)
