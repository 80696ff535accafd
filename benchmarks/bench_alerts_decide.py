"""Benchmark: deciding alerts for a synthetic national set against a real SQLite store.

300 areas x 20 measures, evaluated month by month for a year (as of each of
12 months), with three alerts (red, amber for 2 months with a reminder every
3, and a significant rise), decided and recorded against one SQLite file; then
the last month decided again (a rerun). Prints the time of the evaluation and
of each decision, the notices per month, and the store's size.

    .venv/bin/python benchmarks/bench_alerts_decide.py [--areas 300] [--measures 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_evaluate import build  # type: ignore[import-not-found]

ALERTS = """
recipients:
  board: [board@example.org]
alerts:
  - id: off-target
    when: {status: [red]}
    notify: [board]
  - id: slipping
    when: {status: [amber]}
    for: 2
    repeat: 3
    notify: [board]
  - id: real-rise
    when: {significance: significant_increase}
    notify: [board]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--measures", type=int, default=20)
    args = parser.parse_args()
    from csp_monitor import evaluate, load_figures, load_rules
    from csp_monitor.alerts import decide_and_record, open_store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rules_path, figures_path = build(folder, args.areas, args.measures, 36)
        alerts_path = folder / "alerts.yaml"
        alerts_path.write_text(ALERTS)
        rules = load_rules([rules_path, alerts_path])
        figures = load_figures(figures_path)
        now = datetime(2019, 1, 10, 7, tzinfo=UTC)
        months = [f"2018-{m:02d}" for m in range(1, 13)]
        evaluate_seconds: list[float] = []
        decide_seconds: list[float] = []
        with open_store(folder / "state.db") as store:
            for index, month in enumerate(months):
                t0 = time.perf_counter()
                evaluation = evaluate(rules, figures, as_of=month)
                t1 = time.perf_counter()
                decision = decide_and_record(store, rules, evaluation, now=now + timedelta(days=index))
                t2 = time.perf_counter()
                evaluate_seconds.append(t1 - t0)
                decide_seconds.append(t2 - t1)
                print(f"{month}: {len(evaluation.results):,} results, {len(decision.notifications):,} notices, "
                      f"{len(decision.alerts):,} alerts; evaluate {t1 - t0:.2f} s, decide + record {t2 - t1:.2f} s")
            t0 = time.perf_counter()
            rerun = decide_and_record(store, rules, evaluation, now=now + timedelta(days=30))
            rerun_seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in folder.glob("state.db*"))
        print(f"rerun of {months[-1]}: {len(rerun.notifications)} notices, {rerun_seconds:.2f} s")
        print(f"decide + record, mean per month: {sum(decide_seconds) / len(decide_seconds):.2f} s "
              f"(max {max(decide_seconds):.2f} s); evaluate mean {sum(evaluate_seconds) / len(evaluate_seconds):.2f} s")
        print(f"store after {len(months) + 1} decisions: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
