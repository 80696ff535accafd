"""Builders of small police.uk street files and archives for the importer's tests."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import pytest

from csp_monitor.importers import slugify

SHARED = Path(__file__).resolve().parents[2] / "shared"
POLICE_UK = SHARED / "data" / "police-uk"
LEICESTERSHIRE = POLICE_UK / "leicestershire-street-2019-12_2022-10.zip"
CITY_OF_LONDON = POLICE_UK / "city-of-london-street-2016-01_2017-06.zip"
LOOKUP = SHARED / "data" / "lookups" / "lad17-csp17-pfa17.csv"

# Small real excerpts committed with the project (tests/data/make_excerpts.py made them from the
# archives above), for the real-data tests that must run in a clone of the project alone.
EXCERPTS = Path(__file__).resolve().parent / "data"
LEICESTERSHIRE_EXCERPT = EXCERPTS / "police-uk" / "leicestershire-street-excerpt-2019-12_2020-06.zip"
CITY_OF_LONDON_EXCERPT = EXCERPTS / "police-uk" / "city-of-london-street-excerpt-2017-01_2017-06.zip"
LOOKUP_EXCERPT = EXCERPTS / "lookups" / "lad17-csp17-pfa17-excerpt.csv"

needs_shared = pytest.mark.skipif(
    not all(path.is_file() for path in (LEICESTERSHIRE, CITY_OF_LONDON, LOOKUP)),
    reason="needs the full police.uk archives and ONS lookup in ../shared/data (absent beside this clone)",
)
"""For tests that need the full archives: they skip, with that one-line reason, without ../shared."""

# Two measures of a rule file that reads police.uk figures, as YAML indented for a priority's measures.
TOTAL_AND_VIOLENCE_MEASURES = """\
      - id: total-crime-policeuk
        name: Total crime (police.uk)
        better: lower
        source: total-crime
        target: {change: -5%}
      - id: violence-policeuk
        name: Violence and sexual offences (police.uk)
        better: lower
        source: violent-crime
        target: {change: -2%}
"""

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context")


def street_row(month: str, lsoa_name: str, crime_type: str, *, force: str = "Test Police",
               location: str = "On or near High Street") -> list[str]:
    """One street-level row as police.uk writes it (no id for anti-social behaviour, none for no location)."""
    crime_id = "" if crime_type == "Anti-social behaviour" else "ab" * 32
    if not lsoa_name:
        return [crime_id, month, force, force, "", "", "No Location", "", "", crime_type, "", ""]
    return [crime_id, month, force, force, "-0.9", "52.5", location, "E01000001", lsoa_name, crime_type,
            "Under investigation", ""]


def street_csv(rows: Iterable[Sequence[str]], *, bom: bool = False, crlf: bool = True) -> bytes:
    """A street CSV's bytes, with the real header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def month_rows(month: str, counts: dict[tuple[str, str], int], **kwargs: str) -> list[list[str]]:
    """Rows for a month: {(lsoa name, crime type): how many}."""
    rows: list[list[str]] = []
    for (lsoa, kind), number in counts.items():
        rows.extend(street_row(month, lsoa, kind, **kwargs) for _ in range(number))
    return rows


def write_archive(path: Path, members: dict[str, bytes]) -> Path:
    """A police.uk-style zip of {member name: bytes}."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def member(month: str, force: str = "test") -> str:
    """``YYYY-MM/YYYY-MM-<force>-street.csv``."""
    return f"{month}/{month}-{force}-street.csv"


@lru_cache(maxsize=4)
def independent_count(archive: Path) -> tuple[Counter[tuple[str, str, str]], Counter[str]]:
    """Count an archive with the csv module alone: (district, type name, month) -> rows; unallocated per month."""
    counts: Counter[tuple[str, str, str]] = Counter()
    unallocated: Counter[str] = Counter()
    with zipfile.ZipFile(archive) as source:
        for name in source.namelist():
            if not name.endswith("-street.csv"):
                continue
            with source.open(name) as handle:
                reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
                for row in reader:
                    lsoa = row["LSOA name"].strip()
                    if not lsoa:
                        unallocated[row["Month"]] += 1
                        continue
                    district = slugify(lsoa.rsplit(" ", 1)[0])
                    counts[(district, row["Crime type"], row["Month"])] += 1
    return counts, unallocated


def district_total(archive: Path, district: str, crime_type: str | None, months: Collection[str]) -> int:
    """An archive's crimes of one type (None: every crime but anti-social behaviour) in ``district`` and
    ``months``, counted with the csv module alone."""
    counts, _ = independent_count(archive)
    return sum(n for (where, kind, month), n in counts.items()
               if where == district and month in months
               and (kind == crime_type if crime_type else kind != "Anti-social behaviour"))
