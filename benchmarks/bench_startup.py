"""Benchmark: how fast ``csp-monitor --help`` starts (aim: under 150 ms).

Runs the console script repeatedly and prints the best and median wall time,
and the modules that the help screen imports.

    .venv/bin/python benchmarks/bench_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = shutil.which("csp-monitor") or str(Path(sys.executable).with_name("csp-monitor"))
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([script, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"csp-monitor --help: best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms "
          f"over {args.runs} runs")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import csp_monitor.cli"],
                         capture_output=True, text=True, check=True)
    heavy = [name for name in ("pydantic", "sqlalchemy", "apscheduler", "matplotlib", "openpyxl", "jinja2", "yaml")
             if f" {name}\n" in out.stderr or f"| {name}\n" in out.stderr]
    print(f"heavy modules imported for --help: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
