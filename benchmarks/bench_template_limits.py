"""Benchmark: what the bounded sandbox costs, against Jinja2's plain immutable sandbox.

Renders a typical alert message (a loop, filters, formatting) many times in
each environment, and the longest attack the limits stop (loops to the step
limit), and prints the times.

    .venv/bin/python benchmarks/bench_template_limits.py [--renders 5000]
"""

from __future__ import annotations

import argparse
import time

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from csp_monitor.models.alerts import _sample_result
from csp_monitor.sandbox import MESSAGE_LIMITS, TEMPLATE_LIMITS, BoundedSandbox, TemplateLimitError

MESSAGE = ("{{ result.name }} in {{ area }} is {{ '%.0f' % result.current }} so far this year against "
           "{{ result.baseline|int }} ({{ result.change_pct|round(1) }}%)."
           "{% for month in ['2013-04', '2013-05', '2013-06'] %} {{ month }}{% endfor %}")


def _time(environment: object, source: str, renders: int) -> float:
    template = environment.from_string(source)  # type: ignore[attr-defined]
    context = {"result": _sample_result(), "area": "harborough"}
    started = time.perf_counter()
    for _ in range(renders):
        template.render(context)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=5000)
    renders = parser.parse_args().renders
    plain = _time(ImmutableSandboxedEnvironment(undefined=StrictUndefined), MESSAGE, renders)
    bounded = _time(BoundedSandbox(limits=MESSAGE_LIMITS, undefined=StrictUndefined), MESSAGE, renders)
    print(f"typical message, {renders} renders: plain sandbox {plain * 1e6 / renders:.0f} us each, "
          f"bounded {bounded * 1e6 / renders:.0f} us each ({bounded / plain:.2f}x)")
    for name, limits in (("message", MESSAGE_LIMITS), ("template", TEMPLATE_LIMITS)):
        environment = BoundedSandbox(limits=limits)
        started = time.perf_counter()
        try:
            environment.from_string("{% for a in range(100000) %}{% for b in range(100000) %}"
                                    "{% endfor %}{% endfor %}").render()
        except TemplateLimitError as exc:
            print(f"nested loops stopped under the {name} limits after {time.perf_counter() - started:.2f} s: {exc}")


if __name__ == "__main__":
    main()
