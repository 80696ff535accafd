"""Benchmark: render the Harborough risk summary with its charts (aim: under 1 second).

Prints, for a fresh process and then warm:

* the time to import matplotlib's object API (paid once per process);
* evaluating March 2014 and February 2014 (for "changes since last month");
* building the summary with every chart drawn (and how many charts);
* rendering the email (three templates, CSS inlined) and the MIME message;
* rendering the standalone HTML report.

    .venv/bin/python benchmarks/bench_render_summary.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Time each step once cold, then the whole render warm ``--repeat`` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm repetitions (default 5)")
    repeat = parser.parse_args().repeat

    from csp_monitor.delivery.message import build_message, serialise
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import load_rules
    from csp_monitor.render.messages import render_report, render_summary_email
    from csp_monitor.render.summary import build_summary, previous_evaluation

    rules = load_rules([ROOT / "rules" / "harborough-2013-14.yaml", ROOT / "rules" / "harborough-alerts.yaml"])
    figures = load_figures(ROOT / "examples" / "harborough" / "figures.csv")

    def step(label: str, started: float) -> float:
        now = time.perf_counter()
        print(f"{label:<44} {1000 * (now - started):8.1f} ms")
        return now

    print("cold (a fresh process):")
    total = started = time.perf_counter()
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    started = step("import matplotlib (object API)", started)
    evaluation = evaluate(rules, figures, as_of="2014-03")
    previous = previous_evaluation(rules, figures, evaluation)
    started = step("evaluate March and February 2014", started)
    summary = build_summary(rules, figures, evaluation, previous=previous)
    started = step(f"build the summary, {len(summary.charts)} charts drawn", started)
    email = render_summary_email(summary)
    message = serialise(build_message(email, sender="CSP <csp@example.org>", recipients=["board@example.org"],
                                      key="bench", date=datetime(2014, 4, 10, tzinfo=UTC)))
    started = step(f"render the email ({len(message) // 1024} KiB MIME)", started)
    render_report(summary)
    step("render the HTML report", started)
    print(f"{'cold total':<44} {1000 * (time.perf_counter() - total):8.1f} ms")

    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        evaluation = evaluate(rules, figures, as_of="2014-03")
        summary = build_summary(rules, figures, evaluation, previous=previous_evaluation(rules, figures, evaluation))
        render_summary_email(summary)
        timings.append(time.perf_counter() - started)
    print(f"warm: evaluate + summary with charts + email, median of {repeat}: "
          f"{1000 * statistics.median(timings):.1f} ms (min {1000 * min(timings):.1f} ms)")


if __name__ == "__main__":
    main()
