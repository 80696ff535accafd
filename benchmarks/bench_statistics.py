"""Benchmark: the national synthetic set evaluated with every statistic on.

300 areas x 20 measures x 72 months (432,000 figures), loaded from a long
CSV and evaluated as of the last month, as the CLI does, with significance,
year-end projection, SPC (limits on the first 12 months, screening on) and
peers (20 most similar groups of 15, sd method) all on. Prints the time of
each step, the CPU cost of each statistic (evaluating with it alone against
evaluating with none; the funnel method for peers separately) and what the
statistics found. Aim: load + evaluate under 2 seconds on 2 cores.

    .venv/bin/python benchmarks/bench_statistics.py [--areas 300] [--measures 20] [--months 72]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_evaluate import measure_lines, write_figures

GROUP_SIZE = 15


def build(folder: Path, areas: int, measures: int, months: int) -> tuple[Path, Path]:
    """Write the rules (every statistic on) and the figures; return their paths."""
    rnd = random.Random(2014)
    names = [f"area-{a}" for a in range(areas)]
    populations = {name: rnd.randint(40_000, 300_000) for name in names}
    groups = [names[i : i + GROUP_SIZE] for i in range(0, areas, GROUP_SIZE)]
    lines = [
        "partnership: National benchmark",
        "tolerance: 5",
        "statistics:",
        "  confidence: 95%",
        "  spc: {baseline_points: 12, screen_outliers: true}",
        "  peers:",
        "    method: sd",
        "    populations: {" + ", ".join(f"{n}: {p}" for n, p in populations.items()) + "}",
        "    groups:",
        *(f"      msg-{i}: [{', '.join(group)}]" for i, group in enumerate(groups) if len(group) > 1),
        "priorities:",
        "  - id: all",
        "    title: All",
        "    measures:",
    ]
    lines += measure_lines(measures)
    rules = folder / "rules.yaml"
    rules.write_text("\n".join(lines) + "\n")
    figures = folder / "figures.csv"
    write_figures(figures, names, measures, months, rnd)
    return rules, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--measures", type=int, default=20)
    parser.add_argument("--months", type=int, default=72)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules_path, figures_path = build(Path(tmp), args.areas, args.measures, args.months)
        from csp_monitor import evaluate, load_figures, load_rules
        from csp_monitor.models.statistics import SpcRules, StatisticsRules

        t1, c1 = time.perf_counter(), time.process_time()
        rules = load_rules(rules_path)
        figures = load_figures(figures_path)
        t2, c2 = time.perf_counter(), time.process_time()
        evaluation = evaluate(rules, figures)
        t3, c3 = time.perf_counter(), time.process_time()

        print(f"figures: {len(figures):,} ({args.areas} areas x {args.measures} measures x {args.months} months)")
        print(f"results: {len(evaluation.results):,}, as of {evaluation.as_of}")
        # CPU time beside wall-clock time: on a shared machine it shows the work done.
        print(f"load rules + figures: {t2 - t1:.3f} s (cpu {c2 - c1:.3f} s)")
        print(f"evaluate, every statistic on: {t3 - t2:.3f} s (cpu {c3 - c2:.3f} s)")
        print(f"load + evaluate: {t3 - t1:.3f} s (cpu {c3 - c1:.3f} s)")

        # The cost of each statistic: evaluate with it alone, against none at all.
        none = StatisticsRules(significance=False, projection=False, spc=SpcRules(enabled=False))
        variants = {
            "no statistics": none,
            "significance only": none.model_copy(update={"significance": True}),
            "projection only": none.model_copy(update={"projection": True}),
            "spc only": none.model_copy(update={"spc": rules.statistics.spc if rules.statistics else SpcRules()}),
            "peers only": none.model_copy(update={"peers": rules.statistics.peers if rules.statistics else None}),
        }
        if rules.statistics and rules.statistics.peers:
            funnel = rules.statistics.peers.model_copy(update={"method": "funnel"})
            variants["peers only, by funnel"] = none.model_copy(update={"peers": funnel})
        plain = rules.model_copy(update={"priorities": [
            p.model_copy(update={"measures": [m.model_copy(update={"statistics": None}) for m in p.measures]})
            for p in rules.priorities]})
        baseline = None
        for label, statistics in variants.items():
            variant = plain.model_copy(update={"statistics": statistics})
            started = time.process_time()
            evaluate(variant, figures)
            took = time.process_time() - started
            baseline = took if baseline is None else baseline
            extra = "" if label == "no statistics" else f" (+{took - baseline:.3f} s)"
            print(f"evaluate, {label}: cpu {took:.3f} s{extra}")

        verdicts = Counter(r.significance.verdict for r in evaluation.results if r.significance)
        variation = Counter(r.spc.variation for r in evaluation.results if r.spc)
        positions = Counter(r.peers.position for r in evaluation.results if r.peers)
        projected = Counter(r.projection.status for r in evaluation.results if r.projection)
        print(f"significance: {dict(verdicts)}")
        print(f"spc, latest month: {dict(variation)}")
        print(f"projected status: {dict(projected)}")
        print(f"peers: {dict(positions)}")


if __name__ == "__main__":
    main()
