"""Benchmark: loading a large JSON figures file, in a fresh process each time.

Writes a figures file of N single-month entries (tab-indented, as editors
write JSON; 225,000 entries make about 18 MB) and the same figures as runs of
months (``from``/``values``), then loads each with ``load_figures`` in a new
process and prints the time and the peak memory (resident set) of the load.

    .venv/bin/python benchmarks/bench_json_figures.py [--entries 225000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_LOAD = """
import sys, time
from csp_monitor.load.figures import load_figures
start = time.perf_counter()
figures = load_figures(sys.argv[1])
seconds = time.perf_counter() - start
# VmHWM starts afresh at exec (ru_maxrss would carry the parent's peak over).
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
print(f"{len(figures):,} figures in {seconds:.2f} s, peak {peak:.0f} MB resident")
"""


def entries(count: int, *, runs: bool) -> list[dict[str, object]]:
    """``count`` figures over 250 areas and 20 measures from April 2000, single months or runs."""
    series = [(f"area-{a}", f"measure-{m}") for a in range(250) for m in range(20)]
    months = -(-count // len(series))
    found: list[dict[str, object]] = []
    for number, (area, measure) in enumerate(series):
        values = [(number * 7 + month * 13) % 500 for month in range(months)]
        if runs:
            found.append({"area": area, "measure": measure, "from": "2000-04", "values": values})
            continue
        for month, value in enumerate(values):
            index = 2000 * 12 + 3 + month
            found.append({"area": area, "measure": measure, "period": f"{index // 12}-{index % 12 + 1:02d}",
                          "value": value})
    return found[:count] if not runs else found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=225_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for runs in (False, True):
            path = Path(folder) / ("runs.json" if runs else "single.json")
            path.write_text(json.dumps({"figures": entries(options.entries, runs=runs)}, indent="\t"))
            size = path.stat().st_size / 2**20
            shape = "as runs of months" if runs else "one month an entry"
            result = subprocess.run([sys.executable, "-c", _LOAD, str(path)], capture_output=True, text=True,
                                    check=True)
            print(f"{size:5.1f} MB {shape}: {result.stdout.strip()}")


if __name__ == "__main__":
    main()
