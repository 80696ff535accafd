"""Benchmark: a national run against a bare-Python year-to-date loop over the same CSV.

300 areas x 20 measures x 72 months (432,000 figures), every statistic on (the set of
``bench_statistics.py``). Three child processes, each measured by the kernel (CPU time
and peak resident memory), so the figures include start-up and imports as a user sees them:

1. the floor: a plain Python loop that reads the CSV with the csv module and works out
   each series' year to date against the same months of last year, nothing else;
2. ``load_rules`` + ``load_figures`` + ``evaluate`` through the library;
3. ``csp-monitor evaluate --format json --out FILE``, the whole command.

Then the library run's own split, timed inside its process: importing the package, reading
the rules, reading the CSV and evaluating.

The package's bytecode is compiled first, as installing it would (in a working tree with
PYTHONDONTWRITEBYTECODE set, every run would otherwise compile each module from source).
It prints each one's CPU seconds (the least of ``--repeat`` runs, taken in rounds of one
run of each so that all three meet the same load: other work on a shared machine only ever
adds CPU time), its ratio to the floor and its peak memory, and the JSON's size. Aim (issue 14): the library run <= 2x the floor's CPU with statistics on,
<= 150 MB peak.

    .venv/bin/python benchmarks/bench_national_ratio.py [--areas 300] [--measures 20] [--months 72]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench_statistics import build

FLOOR = textwrap.dedent('''
    import csv, sys
    current_start, current_end = sys.argv[2], sys.argv[3]
    baseline_start, baseline_end = sys.argv[4], sys.argv[5]
    current, baseline = {}, {}
    with open(sys.argv[1], newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        for area, measure, period, value in rows:
            key = (area, measure)
            if current_start <= period <= current_end:
                current[key] = current.get(key, 0.0) + float(value)
            elif baseline_start <= period <= baseline_end:
                baseline[key] = baseline.get(key, 0.0) + float(value)
    changes = {key: (value - baseline[key]) / baseline[key] * 100 if baseline.get(key) else None
               for key, value in current.items()}
    print(len(changes))
''')

LIBRARY = textwrap.dedent('''
    import sys
    from csp_monitor import evaluate, load_figures, load_rules
    evaluation = evaluate(load_rules(sys.argv[1]), load_figures(sys.argv[2]))
    print(len(evaluation.results))
''')

# The library run again, timed step by step inside the process (CPU seconds): where its time goes.
SPLIT = textwrap.dedent('''
    import sys, time
    clock = time.process_time
    start = clock()
    from csp_monitor import evaluate, load_figures, load_rules
    imported = clock()
    rules = load_rules(sys.argv[1])
    ruled = clock()
    figures = load_figures(sys.argv[2])
    loaded = clock()
    evaluate(rules, figures)
    done = clock()
    print(f"import {imported - start:.2f} s, rules {ruled - imported:.2f} s, CSV {loaded - ruled:.2f} s, "
          f"evaluate {done - loaded:.2f} s")
''')


def measure(command: list[str]) -> tuple[float, float, str]:
    """Run ``command`` in a child; return its CPU seconds, its peak memory in MB and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # A fresh child per measurement: ru_maxrss of RUSAGE_CHILDREN is the largest child so far, so
    # each run goes through its own intermediate process whose only child is the one measured.
    wrapper = ("import resource, subprocess, sys; out = subprocess.run(sys.argv[1:], capture_output=True, "
               "text=True, check=True).stdout; u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print(u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, out.strip().splitlines()[-1])")
    done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True)
    del before
    cpu, peak, printed = done.stdout.split(maxsplit=2)
    return float(cpu), float(peak), printed.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--measures", type=int, default=20)
    parser.add_argument("--months", type=int, default=72)
    parser.add_argument("--repeat", type=int, default=3,
                        help="run each command this many times and keep its least CPU (the machine may be shared)")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("csp-monitor"))
    # An installed package has its bytecode compiled (pip does it); a working tree run with
    # PYTHONDONTWRITEBYTECODE would compile every module from source in every run, about 0.05 s
    # the user never pays. Compile it once, as an install would.
    package = Path(__file__).resolve().parents[1] / "csp_monitor"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        rules, figures = build(Path(tmp), args.areas, args.measures, args.months)
        last = 2016 * 12 + args.months - 1
        month = lambda index: f"{index // 12}-{index % 12 + 1:02d}"  # noqa: E731
        year_start = last - (last % 12 - 3) % 12  # April of the reporting year holding the last month
        window = [month(year_start), month(last), month(year_start - 12), month(last - 12)]
        out = Path(tmp) / "results.json"
        runs = {
            "floor: csv-module year-to-date loop": [sys.executable, "-c", FLOOR, str(figures), *window],
            "library: load + evaluate, every statistic": [sys.executable, "-c", LIBRARY, str(rules), str(figures)],
            "cli: csp-monitor evaluate --format json": [cli, "evaluate", str(rules), "--figures", str(figures),
                                                        "--format", "json", "--out", str(out)],
        }
        print(f"{args.areas} areas x {args.measures} measures x {args.months} months, on {os.cpu_count()} cores")
        # Round by round, each command once a round, so that the floor and the library meet the
        # same load from other work on a shared machine; each keeps its least CPU.
        best: dict[str, tuple[float, float, str]] = {}
        for _ in range(max(1, args.repeat)):
            for label, command in runs.items():
                figures_now = measure(command)
                best[label] = min(best.get(label, figures_now), figures_now)
        floor = best[next(iter(runs))][0]
        for label, (cpu, peak, printed) in best.items():
            print(f"{label}: cpu {cpu:.2f} s, {cpu / floor:.1f}x the floor, peak {peak:.0f} MB ({printed})")
        print(f"JSON written: {out.stat().st_size / 1e6:.1f} MB")
        # The least of each step over the rounds, as above.
        steps = [measure([sys.executable, "-c", SPLIT, str(rules), str(figures)])[2] for _ in range(max(1, args.repeat))]
        least = {}
        for line in steps:
            for part in line.split(", "):
                name, seconds, _unit = part.split()
                least[name] = min(least.get(name, float(seconds)), float(seconds))
        print("library, in the process (interpreter start-up aside): "
              + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in least.items()))


if __name__ == "__main__":
    main()
