"""Benchmark: import a synthetic national year of police.uk street files.

Builds 12 months x 43 forces of street-level CSVs in police.uk's exact format
(the 12 columns, 64-hex crime ids, empty ids for anti-social behaviour,
"No Location" rows, quoted locations with commas, CRLF line endings), zipped
as police.uk hands them out, about 6.5 million rows in all; then times
``import_police_uk`` on it and a plain pandas ``read_csv`` + ``groupby``
doing the same counting, and prints rows per second and the ratio.

    .venv/bin/python benchmarks/bench_police_uk_import.py            # the national year
    .venv/bin/python benchmarks/bench_police_uk_import.py --rows 500000
    .venv/bin/python benchmarks/bench_police_uk_import.py --engine python --no-pandas

The data is written to a temporary folder and removed afterwards, unless
``--data DIR`` names a folder to build it in (and reuse next time).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csp_monitor.importers import CRIME_TYPES, import_police_uk

FORCES = 43
MONTHS = 12
FIRST_MONTH = (2023, 4)
NATIONAL_ROWS = 6_500_000

# Shares of police.uk's national rows by type (roughly 2022/23).
TYPE_WEIGHTS = {
    "Anti-social behaviour": 17, "Bicycle theft": 1.3, "Burglary": 4.5, "Criminal damage and arson": 8.5,
    "Drugs": 3, "Other theft": 7.5, "Possession of weapons": 0.8, "Public order": 10, "Robbery": 1.3,
    "Shoplifting": 5.5, "Theft from the person": 1.8, "Vehicle crime": 6.5,
    "Violence and sexual offences": 30, "Other crime": 2.3,
}
OUTCOMES = [
    "Investigation complete; no suspect identified", "Unable to prosecute suspect",
    "Under investigation", "Status update unavailable", "Court result unavailable",
    "Local resolution", "Offender given a caution", "Awaiting court outcome",
]
SYLLABLES = ["ash", "bor", "den", "ford", "ham", "ley", "mar", "ton", "wick", "by", "stow", "ing",
             "wood", "brook", "chester", "dale", "field", "well", "more", "bury"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def build(folder: Path, rows: int, seed: int = 2024) -> tuple[Counter[str], int]:
    """Write the synthetic archive; return the true count per crime type and the rows written."""
    rng = random.Random(seed)
    forces = []
    used: set[str] = set()
    for number in range(FORCES):
        name = _name(rng)
        while name in used:
            name = _name(rng)
        used.add(name)
        districts = []
        for _ in range(rng.randint(3, 12)):
            district = _name(rng) + rng.choice(["", " and " + _name(rng), " Vale", "shire"])
            lsoas = [f"E01{rng.randrange(10**6):06d},{district} {i:03d}{rng.choice('ABCDE')}"
                     for i in range(1, rng.randint(40, 160))]
            places = []
            for code_name in lsoas:
                for _ in range(4):
                    street = _name(rng) + rng.choice([" Road", " Street", " Lane", " Close"])
                    location = f"On or near {street}"
                    if rng.random() < 0.01:
                        location = f'"On or near {street}, {_name(rng)}"'
                    lon, lat = rng.uniform(-3, 1), rng.uniform(50.5, 54.5)
                    places.append(f"{lon:.6f},{lat:.6f},{location},{code_name}")
            districts.append(places)
        weight = 8.0 if number == 0 else rng.uniform(0.5, 2.5)
        forces.append((f"{name} Police", name.lower() + "-police", districts, weight))
    total_weight = sum(f[3] for f in forces)
    types = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    truth: Counter[str] = Counter()
    written = 0
    archive = folder / "national-street.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for month_offset in range(MONTHS):
            year, month = divmod(FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + month_offset, 12)
            period = f"{year:04d}-{month + 1:02d}"
            for force_name, slug, districts, weight in forces:
                n = max(1, round(rows * weight / total_weight / MONTHS))
                places = [p for d in districts for p in d]
                chosen_types = rng.choices(types, weights, k=n)
                truth.update(chosen_types)
                chosen_places = rng.choices(places, k=n)
                ids = os.urandom(32 * n).hex()
                prefix = f"{period},{force_name},{force_name},"
                lines = ["Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                         "LSOA name,Crime type,Last outcome category,Context"]
                for i, (kind, place) in enumerate(zip(chosen_types, chosen_places, strict=True)):
                    if rng.random() < 0.025:
                        place = ",,No Location,,"
                    if kind == "Anti-social behaviour":
                        lines.append(f",{prefix}{place},{kind},,")
                    else:
                        outcome = OUTCOMES[i % len(OUTCOMES)]
                        lines.append(f"{ids[64 * i:64 * i + 64]},{prefix}{place},{kind},{outcome},")
                out.writestr(f"{period}/{period}-{slug}-street.csv", "\r\n".join(lines) + "\r\n")
                written += n
    return truth, written


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pure-Python engine forks workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pandas_count(archive: Path) -> tuple[int, float]:
    """The plain way: pandas read_csv + groupby per file; return (rows, seconds)."""
    import pandas as pd

    started = time.perf_counter()
    rows = 0
    with zipfile.ZipFile(archive) as source:
        for member in source.namelist():
            if not member.endswith("-street.csv"):
                continue
            with source.open(member) as handle:
                frame = pd.read_csv(handle, usecols=["Month", "LSOA name", "Crime type"], dtype=str)
            frame["district"] = frame["LSOA name"].str[:-5]
            counts = frame.groupby(["Month", "district", "Crime type"], dropna=False).size()
            rows += int(counts.sum())
    return rows, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=NATIONAL_ROWS, help="rows in all (default 6,500,000)")
    parser.add_argument("--data", type=Path, help="folder to build the data in and keep (reused if there)")
    parser.add_argument("--engine", default="auto", choices=["auto", "arrow", "python", "checked"])
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    parser.add_argument("--memory", action="store_true", help="trace the peak Python memory (slower)")
    args = parser.parse_args()

    folder = args.data or Path(tempfile.mkdtemp(prefix="csp-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "national-street.zip"
    try:
        if not archive.exists():
            started = time.perf_counter()
            # Built in a child process, so that this one's peak memory is the import's alone.
            with ProcessPoolExecutor(1) as pool:
                truth, written = pool.submit(build, folder, args.rows).result()
            print(f"built {written:,} rows ({archive.stat().st_size / 1e6:,.0f} MB zipped) "
                  f"in {time.perf_counter() - started:.1f} s")
        else:
            truth, written = Counter(), 0
        if args.memory:
            tracemalloc.start()
        cpu = _cpu_seconds()
        result = import_police_uk(archive, engine=args.engine, workers=args.workers,
                                  out=folder / "figures.csv")
        cpu = _cpu_seconds() - cpu
        peak = f", peak Python allocations {tracemalloc.get_traced_memory()[1] / 1e6:.0f} MB" if args.memory else ""
        rate = result.rows_read / result.seconds
        print(f"csp-monitor import: {result.rows_read:,} rows in {result.seconds:.2f} s = {rate:,.0f} rows/s "
              f"(engine {result.engine}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
        print(f"  CPU time {cpu:.1f} s = {result.rows_read / cpu:,.0f} rows per CPU-second; "
              f"peak resident memory {_peak_mb():.0f} MB{peak}")
        if truth:
            counted: Counter[str] = Counter()
            for (_area, measure, _period), value in result.figures.items():
                counted[measure] += value
            expected = sum(truth.values())
            assert result.rows_read == expected == written, (result.rows_read, expected)
            slugs = {name: CRIME_TYPES[name] for name in truth}
            located = sum(counted[slugs[name]] for name in truth) + sum(result.unallocated.values())
            assert located == expected, (located, expected)
            print("counts check: every row counted once")
        if not args.no_pandas:
            cpu = _cpu_seconds()
            rows, seconds = pandas_count(archive)
            cpu = _cpu_seconds() - cpu
            print(f"pandas read_csv + groupby: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s "
                  f"(CPU time {cpu:.1f} s)")
            print(f"ratio: csp-monitor is {seconds / result.seconds:.1f}x the speed of plain pandas")
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
