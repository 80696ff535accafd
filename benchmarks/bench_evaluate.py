"""Benchmark: a synthetic national set evaluated end to end.

300 areas x 20 measures x 72 months (432,000 figures) written as a long CSV,
then loaded and evaluated as of the last month, as the CLI does. Prints the
time of each step. Aim: under 1 second for load + evaluate on 2 cores, for the
core judgement (year to date, RAG, direction; statistics off with
``--no-statistics``). ``benchmarks/bench_statistics.py`` measures the same set
with every statistic on (aim: under 2 seconds).

    .venv/bin/python benchmarks/bench_evaluate.py [--areas 300] [--measures 20] [--months 72]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path


def build(folder: Path, areas: int, measures: int, months: int, *, statistics: bool = True) -> tuple[Path, Path]:
    rnd = random.Random(2014)
    rules = folder / "rules.yaml"
    lines = ["partnership: National benchmark", "tolerance: 5"]
    if not statistics:
        lines += ["statistics: {significance: false, projection: false, spc: {enabled: false}}"]
    lines += ["priorities:", "  - id: all", "    title: All"]
    lines.append("    measures:")
    lines += measure_lines(measures)
    rules.write_text("\n".join(lines) + "\n")
    figures = folder / "figures.csv"
    write_figures(figures, [f"area-{a}" for a in range(areas)], measures, months, rnd)
    return rules, figures


def measure_lines(measures: int) -> list[str]:
    """The rule-file lines of the benchmark's measures: half change targets, half level targets."""
    lines = []
    for m in range(measures):
        target = "      target: {change: -5%}" if m % 2 == 0 else "      target: {at_most: 5000}"
        lines += [f"    - id: measure-{m}", f"      name: Measure {m}", "      better: lower", target]
    return lines


def write_figures(path: Path, areas: list[str], measures: int, months: int, rnd: random.Random) -> None:
    """A long figures CSV from January 2016: a random level per series, random months below it."""
    start = 2016 * 12
    with path.open("w") as handle:
        handle.write("area,measure,period,value\n")
        for area in areas:
            for m in range(measures):
                level = rnd.randint(5, 500)
                for i in range(months):
                    month = start + i
                    handle.write(f"{area},measure-{m},{month // 12}-{month % 12 + 1:02d},{rnd.randint(0, level)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--measures", type=int, default=20)
    parser.add_argument("--months", type=int, default=72)
    parser.add_argument("--no-statistics", action="store_true",
                        help="turn significance, projection and SPC off (the core judgement only)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules_path, figures_path = build(Path(tmp), args.areas, args.measures, args.months,
                                         statistics=not args.no_statistics)
        t0 = time.perf_counter()
        from csp_monitor import evaluate, load_figures, load_rules

        t1 = time.perf_counter()
        rules = load_rules(rules_path)
        figures = load_figures(figures_path)
        t2 = time.perf_counter()
        evaluation = evaluate(rules, figures)
        t3 = time.perf_counter()
        print(f"figures: {len(figures):,} ({args.areas} areas x {args.measures} measures x {args.months} months), "
              f"statistics {'off' if args.no_statistics else 'on'}")
        print(f"results: {len(evaluation.results):,}, as of {evaluation.as_of}")
        print(f"import csp_monitor: {t1 - t0:.3f} s")
        print(f"load rules + figures: {t2 - t1:.3f} s")
        print(f"evaluate: {t3 - t2:.3f} s")
        print(f"load + evaluate: {t3 - t1:.3f} s")


if __name__ == "__main__":
    main()
