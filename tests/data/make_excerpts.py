"""Make the small real excerpts in tests/data from the full archives in ../shared/data.

    python3 tests/data/make_excerpts.py

The excerpts are what the real-data tests that must always run read (a clone of the
project alone has no ../shared). Rows are copied byte for byte, in their original order;
only whole rows of other districts, of other months and with no location are left out. The zip members keep
police.uk's names (``YYYY-MM/YYYY-MM-<force>-street.csv``) and fixed timestamps, so
running the script again gives the same bytes.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"

LEICESTERSHIRE = ("leicestershire-street-2019-12_2022-10.zip", "leicestershire-street-excerpt-2019-12_2020-06.zip",
                  {"2019-12", "2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06"},
                  ("Harborough ", "Oadby and Wigston ", "Charnwood "))
CITY_OF_LONDON = ("city-of-london-street-2016-01_2017-06.zip", "city-of-london-street-excerpt-2017-01_2017-06.zip",
                  {"2017-01", "2017-02", "2017-03", "2017-04", "2017-05", "2017-06"}, None)
# Leicestershire, Northamptonshire (a partnership of two districts) and City of London police force areas
LOOKUP_PLACES = ("E23000021", "E23000022", "E23000034")
FIXED_TIME = (2026, 12, 5, 0, 0, 0)


def _keep(line: bytes, districts: tuple[str, ...] | None) -> bool:
    """Keep a row of one of the districts (rows with no location are left out: with only a few districts
    kept, the force's unallocated rows would be out of all proportion to them)."""
    if districts is None:
        return True
    fields = next(csv.reader([line.decode("utf-8-sig")]), [])
    if len(fields) < 9:
        return False
    lsoa_name = fields[8]
    return lsoa_name.startswith(districts)


def excerpt_archive(source: str, target: str, months: set[str], districts: tuple[str, ...] | None) -> Path:
    out = HERE / "police-uk" / target
    with zipfile.ZipFile(SHARED / "police-uk" / source) as archive, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as excerpt:
        for name in sorted(archive.namelist()):
            if not name.endswith("-street.csv") or name[:7] not in months:
                continue
            lines = archive.read(name).splitlines(keepends=True)
            kept = [lines[0], *(line for line in lines[1:] if _keep(line, districts))]
            excerpt.writestr(zipfile.ZipInfo(name, FIXED_TIME), b"".join(kept),
                             compress_type=zipfile.ZIP_DEFLATED)
    return out


def excerpt_lookup() -> Path:
    source = (SHARED / "lookups" / "lad17-csp17-pfa17.csv").read_bytes()
    lines = source.splitlines(keepends=True)
    kept = [lines[0], *(line for line in lines[1:] if any(code.encode() in line for code in LOOKUP_PLACES))]
    out = HERE / "lookups" / "lad17-csp17-pfa17-excerpt.csv"
    out.write_bytes(b"".join(kept))
    return out


if __name__ == "__main__":
    for spec in (LEICESTERSHIRE, CITY_OF_LONDON):
        path = excerpt_archive(*spec)
        print(f"{path.relative_to(HERE)}: {path.stat().st_size:,} bytes")
    path = excerpt_lookup()
    print(f"{path.relative_to(HERE)}: {path.stat().st_size:,} bytes")
