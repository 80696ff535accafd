"""Templates and alert messages run with limits: no template hangs a job or fills memory (issue 13, point 2)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from csp_monitor.alerts.messages import MessageWriter
from csp_monitor.models.alerts import AlertRule
from csp_monitor.models.results import MeasureResult
from csp_monitor.sandbox import MESSAGE_LIMITS, TEMPLATE_LIMITS, BoundedSandbox, TemplateLimitError
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES
from tests.security.bounded_cli import assert_refused, run_cli

# Each attack, as a template body; every one hung a render or took a gigabyte before the limits.
ATTACKS = {
    "nested loops": "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}"
                    "{% endfor %}{% endfor %}{% endfor %}",
    "chained powers": "{{ 2 ** 100000 ** 100 }}",
    "a big power": "{{ 10 ** 10000000 }}",
    "center a billion": "{{ 'x'.center(10**9) }}",
    "center filter": "{{ 'x'|center(10**9) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "format width": "{{ '{:>1000000000}'.format(1) }}",
    "percent width": "{{ '%1000000000d' % 1 }}",
    "format filter width": "{{ '%1000000000s'|format(1) }}",
    "indent": "{{ 'a\nb'|indent(1000000000) }}",
    "range": "{{ range(10**9)|list|length }}",
    "lipsum": "{{ lipsum(100000) }}",
    "string repetition": "{{ 'x' * 10**9 }}",
    "list repetition": "{{ [0] * 10**9 }}",
    "doubling with ~": "{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}"
                       "{% endfor %}{{ ns.x|length }}",
    "doubling with +": "{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x + ns.x %}"
                       "{% endfor %}{{ ns.x|length }}",
    "squaring": "{% set ns = namespace(x=99) %}{% for i in range(60) %}{% set ns.x = ns.x * ns.x %}{% endfor %}"
                "{{ ns.x }}",
    "replace growth": "{{ ('a' * 1000)|replace('a', 'a' * 1000)|replace('a', 'a' * 1000) }}",
    "captured output": "{% set x %}{% for i in range(10000) %}{{ 'y' * 9000 }}{% endfor %}{% endset %}"
                       "{{ x|length }}",
    "exponential macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                         "{{ f(60) }}",
    "runaway recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
}


@pytest.mark.parametrize("limits", [MESSAGE_LIMITS, TEMPLATE_LIMITS], ids=["message", "template"])
@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_every_attack_is_stopped_by_the_bounded_sandbox(attack: str, limits: object) -> None:
    """Each attack ends with a TemplateLimitError, within the time limit and a little more."""
    environment = BoundedSandbox(limits=limits)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(TemplateLimitError):
        environment.from_string(attack).render()
    assert time.monotonic() - started < environment.limits.seconds + 2


def test_ordinary_templates_render_as_before() -> None:
    """Widths, formats, loops and arithmetic within the limits give Jinja2's usual output."""
    environment = BoundedSandbox(limits=MESSAGE_LIMITS)
    text = ("{{ 3 * 4 }} {{ '%.1f' % 2.25 }} {{ '{:,}'.format(1234567) }} [{{ 'x'|center(5) }}] "
            "{{ [1, 2]|join(',') }} {{ 2 ** 10 }} {{ 'ab' ~ 'cd' }} {{ 'a-b'.replace('-', '+') }} "
            "{% for i in range(3) %}{{ loop.index }}{% endfor %} {{ '%5s' % 'x' }}|{{ 'y'.ljust(3) }}|")
    assert environment.from_string(text).render() == \
        "12 2.2 1,234,567 [  x  ] 1,2 1024 abcd a+b 123     x|y  |"


def _alert_file(folder: Path, message: str) -> Path:
    path = folder / "alerts.yaml"
    quoted = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    path.write_text(
        "recipients:\n"
        "  board: [csp-board@example.org]\n"
        "alerts:\n"
        "  - id: off-target\n"
        "    when: {status: [red]}\n"
        "    notify: [board]\n"
        f'    message: "{quoted}"\n', encoding="utf-8")
    return path


CHECKED = ["nested loops", "chained powers", "center a billion", "range", "lipsum", "doubling with ~",
           "exponential macro"]


@pytest.mark.parametrize("name", CHECKED)
def test_rules_check_refuses_a_message_that_cannot_render_within_the_limits(tmp_path: Path, name: str) -> None:
    """`rules check` refuses such a message at the message's file:line:col, exit 1, no traceback."""
    alerts = _alert_file(tmp_path, ATTACKS[name])
    run = run_cli("rules", "check", HARBOROUGH_RULES, alerts)
    assert_refused(run, codes=(1,))
    assert f"{alerts}:7:14: the message template cannot be written within the limits" in run.stderr


def test_rules_check_accepts_an_ordinary_message(tmp_path: Path) -> None:
    """A message with a loop and formatting well within the limits passes the same check."""
    alerts = _alert_file(tmp_path, "{{ result.name }}: {{ '%.1f' % result.current }}"
                                   "{% for m in result.missing_months %} {{ m }}{% endfor %}")
    run = run_cli("rules", "check", HARBOROUGH_RULES, alerts)
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize("name", ["nested loops", "chained powers", "center a billion", "range", "lipsum",
                                  "captured output", "exponential macro", "format width"])
def test_a_user_report_template_is_stopped_with_a_located_message(tmp_path: Path, name: str) -> None:
    """An override template that goes beyond the limits stops `report` with file:line, exit 1, nothing written."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text("<p>report</p>\n" + ATTACKS[name] + "\n", encoding="utf-8")
    out = tmp_path / "report.html"
    run = run_cli("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--no-charts",
                  "--templates", templates, "--out", out)
    assert_refused(run, codes=(1,))
    assert f"{templates / 'report.html.j2'}:2: the template was stopped: " in run.stderr
    assert not out.exists()


@pytest.mark.parametrize("source", ["{% extends 'summary.txt.j2' %}{% extends 'summary.txt.j2' %}",
                                    "{% extends 'summary.txt.j2' %}\n{% extends 'alert.txt.j2' %}"])
def test_a_report_template_extending_twice_is_refused_with_a_located_message(tmp_path: Path, source: str) -> None:
    """Regression (found by the template fuzz test): a report override that extends two templates stopped
    `report` with Jinja's own TemplateRuntimeError; now exit 1 names the file and nothing is written."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text(source + "\n", encoding="utf-8")
    out = tmp_path / "report.html"
    run = run_cli("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--no-charts",
                  "--templates", templates, "--out", out)
    assert_refused(run, codes=(1,))
    assert f"{templates / 'report.html.j2'}:1: the template failed: extended multiple times" in run.stderr
    assert not out.exists()


def _red_result() -> MeasureResult:
    from csp_monitor.models.alerts import _sample_result

    return _sample_result()


def test_a_message_beyond_the_limits_at_run_time_falls_back_to_the_summary() -> None:
    """A message that passes no check (built in code) but hits a limit keeps the alert, with its summary."""
    rule = AlertRule.model_construct(id="hostile", when=None, notify=["owner"], severity="medium", for_=1,
                                     repeat=None, scope=None, description=None, message=ATTACKS["nested loops"])
    writer = MessageWriter()
    result = _red_result()
    assert writer.write(rule, "firing", result, {}) == result.summary
    assert "could not be written" in writer.warnings[0] and "steps" in writer.warnings[0]


def test_the_built_in_report_renders_identically_inside_the_limits(tmp_path: Path) -> None:
    """With a templates folder (so every template runs in the bounded sandbox) the charted report is unchanged."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "unused.txt.j2").write_text("{{ summary.partnership }}\n", encoding="utf-8")
    plain, bounded = tmp_path / "plain.html", tmp_path / "bounded.html"
    for out, extra in ((plain, ()), (bounded, ("--templates", templates))):
        run = run_cli("report", HARBOROUGH_RULES, "--figures", HARBOROUGH_FIGURES, "--as-of", "2014-03",
                      "--out", out, *extra)
        assert run.exit_code == 0, run.output
    assert "data:image/png;base64," in plain.read_text(encoding="utf-8")
    assert bounded.read_bytes() == plain.read_bytes()
