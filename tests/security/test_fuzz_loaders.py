"""Fuzzing: random and hostile input to every loader and template raises only CspMonitorError, in bounded time.

Each property writes a random structure (nested mappings, lists, strings,
numbers, hostile strings), or a valid document with one part replaced by one,
to a file and loads it; or renders the templates with hostile names and
messages. Any exception that is not a :class:`CspMonitorError` fails the test,
as does an example that takes longer than the issue's 10 seconds or a run
that grows the process by more than its 300 MB. Example counts are modest so
the file runs in seconds; run with ``--hypothesis-seed`` to reproduce.
"""

from __future__ import annotations

import contextlib
import copy
import json
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csp_monitor.errors import CspMonitorError
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES, ROOT

ALERTS = ROOT / "rules" / "harborough-alerts.yaml"
RULE_TESTS = ROOT / "rules" / "harborough-2013-14.test.yaml"
CONFIG = ROOT / "examples" / "harborough" / "csp-monitor.yaml"

SECONDS = 10.0
MEGABYTES = 300

FUZZ = settings(max_examples=30, deadline=None, derandomize=False, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

HOSTILE = [
    "", " ", "\x00", "\x1b[2J\x1b]2;owned\x07", "\r\n", "\ufeff", "\ufffe", "\u202e", "=cmd|'/c calc'!A1",
    "+1+1", "@SUM(A1)", "{{ 7*7 }}", "{% for x in range(10**9) %}", "{{ 'x'.center(10**9) }}", "<script>x</script>",
    'Total ="Crime', "Smith, John <j@x.gov.uk>", "Dr. Who <who@x.gov.uk>", "a@b", "1e308", "-1e308", "1e-300",
    "nan", "inf", "-0", "85%", "-13%", "1,159", "2200-12", "1899-12", "2014-13", "0000-00", "2014-03-01", "~",
    "null", "true", "!!python/object/apply:os.system ['true']", "&a", "*a", "<<", "%", "\\", '"', "'", "../..",
    "/dev/zero", "x" * 600, "é" * 300, "😀", "\x85", "\u2028", "-", "?", ":", "#", "[", "{",
]
KEYS = [
    "partnership", "area", "areas", "year_start", "tolerance", "priorities", "id", "title", "owner", "measures",
    "name", "better", "target", "change", "at_least", "at_most", "aggregate", "unit", "sensitive", "source",
    "statistics", "confidence", "spc", "peers", "populations", "groups", "per", "method", "recipients", "alerts",
    "when", "status", "current", "above", "below", "scope", "for", "repeat", "notify", "message", "severity",
    "rules", "figures", "state", "delivery", "from", "folder", "smtp", "host", "port", "security", "summary", "to",
    "timezone", "schedules", "cron", "run", "tests", "as_of", "expect", "expect_alerts", "figures_file", "measure",
    "period", "value", "values", "templates", "password_file", "password_env",
]

text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
numbers = st.one_of(st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
                    st.floats(allow_nan=True, allow_infinity=True))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), text), children, max_size=5)),
    max_leaves=25)


@pytest.fixture(autouse=True)
def _within_memory() -> Iterator[None]:
    """The whole test may grow the process by no more than the issue's 300 MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown < MEGABYTES, f"the process grew by {grown:.0f} MB"


def _only_our_errors(action: Callable[[], object]) -> None:
    """Run ``action``: it may succeed or raise CspMonitorError, nothing else, within the time limit."""
    started = time.monotonic()
    with contextlib.suppress(CspMonitorError):
        action()
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"


def _dump(document: Any, suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(document, allow_nan=True, default=str)
    return yaml.safe_dump(document, allow_unicode=True, default_flow_style=None, sort_keys=False)


def _replace_somewhere(data: st.DataObject, document: Any) -> Any:
    """The document with one node, chosen at random, replaced by a random structure."""
    document = copy.deepcopy(document)
    if not isinstance(document, (dict, list)) or not document:
        return data.draw(structures)
    node = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, (dict, list)) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(structures)
        return document


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


RULES_DOCUMENT = _load_yaml(HARBOROUGH_RULES)
ALERTS_DOCUMENT = _load_yaml(ALERTS)


def _absolute_config() -> dict[str, Any]:
    document = _load_yaml(CONFIG)
    document["rules"] = [str(HARBOROUGH_RULES), str(ALERTS)]
    document["figures"] = [str(HARBOROUGH_FIGURES)]
    document["state"] = "fuzz-state.db"
    return document


def _absolute_rule_tests() -> dict[str, Any]:
    document = _load_yaml(RULE_TESTS)
    document["rules"] = [str(HARBOROUGH_RULES), str(ALERTS)]
    for test in document["tests"]:
        if "figures_file" in test:
            test["figures_file"] = str(HARBOROUGH_FIGURES)
    return document


CONFIG_DOCUMENT = _absolute_config()
RULE_TESTS_DOCUMENT = _absolute_rule_tests()


def _write(folder: str, name: str, content: str | bytes) -> Path:
    path = Path(folder) / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


def _load_rules_text(content: str | bytes, name: str = "rules.yaml") -> None:
    from csp_monitor.authoring.lint import rule_warnings
    from csp_monitor.load.rules import combine, load_rule_files

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, name, content)

        def load() -> None:
            files = load_rule_files([path, ALERTS])
            combine(files)
            rule_warnings(files)

        _only_our_errors(load)


@FUZZ
@given(structures)
def test_a_random_structure_as_a_rule_file(document: Any) -> None:
    """Any YAML document given as a rule file is loaded or refused with CspMonitorError."""
    _load_rules_text(_dump(document, ".yaml"))


@FUZZ
@given(st.data())
def test_a_rule_file_with_one_part_replaced(data: st.DataObject) -> None:
    """The Harborough rules with any one node replaced by a random structure: loaded or refused cleanly."""
    _load_rules_text(_dump(_replace_somewhere(data, RULES_DOCUMENT), ".yaml"))


@FUZZ
@given(st.data())
def test_an_alert_rule_file_with_one_part_replaced(data: st.DataObject) -> None:
    """The Harborough alerts with any one node replaced, beside the rules: loaded or refused cleanly."""
    from csp_monitor.load.rules import load_rules

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "alerts.yaml", _dump(_replace_somewhere(data, ALERTS_DOCUMENT), ".yaml"))
        _only_our_errors(lambda: load_rules([HARBOROUGH_RULES, path]))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_random_text_as_a_rule_file(content: str | bytes) -> None:
    """Any bytes or text as a rule file: loaded or refused with CspMonitorError."""
    _load_rules_text(content)


csv_cells = st.one_of(text, numbers.map(str))


@FUZZ
@given(st.booleans(), st.lists(st.lists(csv_cells, min_size=0, max_size=6), max_size=8))
def test_a_random_csv_figures_file(header: bool, rows: list[list[str]]) -> None:
    """A CSV figures file of random cells (with or without the right header): loaded or refused cleanly."""
    import csv
    import io

    from csp_monitor.load.figures import load_figures

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(["area", "measure", "period", "value"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "figures.csv", buffer.getvalue())
        _only_our_errors(lambda: load_figures([path]))


figure_entry = st.fixed_dictionaries(
    {"area": scalars, "measure": scalars},
    optional={"period": scalars, "value": scalars, "from": scalars,
              "values": st.lists(st.one_of(numbers, st.none(), text), max_size=30)})


@FUZZ
@given(st.one_of(structures, st.lists(figure_entry, max_size=5), st.fixed_dictionaries(
    {"figures": st.lists(figure_entry, max_size=5)})))
def test_a_random_json_figures_file(document: Any) -> None:
    """A JSON figures file holding any structure (entries with random fields included): loaded or refused."""
    from csp_monitor.load.figures import load_figures

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "figures.json", _dump(document, ".json"))
        _only_our_errors(lambda: load_figures([path]))


@FUZZ
@given(st.data())
def test_a_configuration_with_one_part_replaced(data: st.DataObject) -> None:
    """The example configuration with any one node replaced: loaded or refused with CspMonitorError."""
    from csp_monitor.load.config import figure_files, load_config

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "csp-monitor.yaml", _dump(_replace_somewhere(data, CONFIG_DOCUMENT), ".yaml"))

        def load() -> None:
            config = load_config(path)
            figure_files(config)

        _only_our_errors(load)


@FUZZ
@given(structures)
def test_a_random_structure_as_a_configuration(document: Any) -> None:
    """Any YAML document as a configuration: loaded or refused with CspMonitorError."""
    from csp_monitor.load.config import load_config

    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "csp-monitor.yaml", _dump(document, ".yaml"))
        _only_our_errors(lambda: load_config(path))


@settings(FUZZ, max_examples=15)
@given(st.data())
def test_a_rule_test_file_with_one_part_replaced(data: st.DataObject) -> None:
    """The Harborough rule tests with any one node replaced: they run, or are refused with CspMonitorError."""
    from csp_monitor.authoring.rule_tests import run_rule_test_file

    with tempfile.TemporaryDirectory() as folder:
        document = _replace_somewhere(data, RULE_TESTS_DOCUMENT)
        document["tests"] = document["tests"][:3] if isinstance(document.get("tests"), list) else document.get(
            "tests")
        path = _write(folder, "fuzz.test.yaml", _dump(document, ".yaml"))
        _only_our_errors(lambda: run_rule_test_file(path))


TEMPLATE_PIECES = [
    "{{ result.summary }}", "{{ result.current }}", "{{ result.name|upper }}", "{{ alert.id }}", "{{ kind }}",
    "{{ area }}", "{% if result.status == 'red' %}", "{% endif %}", "{% for m in result.missing_months %}",
    "{% endfor %}", "{{ range(10**6)|list|length }}", "{{ 'x' * 10**7 }}", "{{ 2 ** 10 ** 6 }}",
    "{{ '%1000000000d' % 1 }}", "{{ result.__class__ }}", "{{ lipsum(10**5) }}", "{% for i in range(10000) %}",
    "{{ 'a'.center(10**9) }}", "{{ result.summary|replace('', result.summary) }}", "{{", "}}", "{%", "%}",
    "{{ result.current / 0 }}", "{{ result.current|int|format }}", "{{ undefined_name }}", "{{ result.nope }}",
]
templates = st.lists(st.one_of(st.sampled_from(TEMPLATE_PIECES), text), min_size=1, max_size=8).map("".join)


@FUZZ
@given(templates)
def test_a_random_message_template_is_checked_or_refused_and_never_breaks_an_alert(source: str) -> None:
    """A random message template is refused with ValueError at load, or writes a bounded message; never more."""
    from csp_monitor.alerts.messages import MAX_MESSAGE_LENGTH, MessageWriter
    from csp_monitor.models.alerts import AlertRule, _sample_result, check_message_template

    started = time.monotonic()
    with contextlib.suppress(ValueError):
        check_message_template(source)
    rule = AlertRule.model_construct(id="fuzz", when=None, notify=["owner"], severity="medium", for_=1,
                                     repeat=None, scope=None, description=None, message=source)
    message = MessageWriter().write(rule, "firing", _sample_result(), {"area": "a", "measure": "m"})
    assert isinstance(message, str) and 0 < len(message) <= MAX_MESSAGE_LENGTH
    assert time.monotonic() - started < SECONDS


@FUZZ
@given(templates)
def test_a_random_user_template_renders_or_stops_with_a_template_error(source: str) -> None:
    """A random user override template renders, or raises TemplateError (a CspMonitorError), within limits."""
    from csp_monitor.models.alerts import _sample_result
    from csp_monitor.render.templates import render_template, template_environment

    with tempfile.TemporaryDirectory() as folder:
        _write(folder, "summary.txt.j2", source)
        environment = template_environment(folder)
        _only_our_errors(lambda: render_template(environment, "summary.txt.j2",
                                                 {"result": _sample_result(), "alert": None, "kind": "firing",
                                                  "area": "harborough"}))


NAMES = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=60))


@settings(FUZZ, max_examples=10)
@given(partnership=NAMES, measure=NAMES, priority=NAMES, message=st.one_of(st.none(), templates))
def test_every_built_in_template_renders_hostile_names_or_refuses_them(partnership: str, measure: str,
                                                                       priority: str, message: str | None) -> None:
    """Summary, alert and report templates render hostile names and messages, or the rules refuse them."""
    from csp_monitor.delivery.run import plan_messages
    from csp_monitor.load.config import load_config
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import load_rules
    from csp_monitor.render.messages import render_report
    from csp_monitor.render.summary import build_summary

    rules = copy.deepcopy(RULES_DOCUMENT)
    rules["partnership"] = partnership
    rules["priorities"][0]["title"] = priority
    rules["priorities"][0]["measures"][0]["name"] = measure
    alerts = copy.deepcopy(ALERTS_DOCUMENT)
    if message is not None:
        alerts["alerts"][0]["message"] = message
    with tempfile.TemporaryDirectory() as folder:
        rules_path = _write(folder, "rules.yaml", _dump(rules, ".yaml"))
        alerts_path = _write(folder, "alerts.yaml", _dump(alerts, ".yaml"))
        config = dict(CONFIG_DOCUMENT, rules=[str(rules_path), str(alerts_path)],
                      state=str(Path(folder) / "state.db"), summary={"to": ["board"], "charts": False})
        config_path = _write(folder, "csp-monitor.yaml", _dump(config, ".yaml"))

        def render() -> None:
            from csp_monitor.evaluation.engine import evaluate

            plan_messages(load_config(config_path), as_of="2014-03", now=datetime(2014, 4, 10, tzinfo=UTC),
                          include_sent=True)
            rule_set, figure_set = load_rules([rules_path, alerts_path]), load_figures([HARBOROUGH_FIGURES])
            evaluation = evaluate(rule_set, figure_set, as_of="2014-03")
            render_report(build_summary(rule_set, figure_set, evaluation, charts=False))

        _only_our_errors(render)


BUILT_IN_TEMPLATES = ["summary.subject.j2", "summary.txt.j2", "summary.html.j2", "alert.subject.j2", "alert.txt.j2",
                      "alert.html.j2", "report.html.j2"]
CONTEXT_PIECES = [
    "{{ summary }}", "{{ summary.partnership }}", "{% for p in summary.priorities %}{{ p }}{% endfor %}",
    "{{ alerts }}", "{% for item in alerts.items %}{{ item }}{% endfor %}", "{{ subject }}", "{{ title }}",
    "{{ summary.__class__.__init__.__globals__ }}", "{{ alerts.__class__.__mro__ }}", "{% include 'x.j2' %}",
    "{% include '../secret.txt' %}", "{% extends 'summary.txt.j2' %}", "{{ self }}", "{{ summary|tojson }}",
    "{{ summary.charts|length * 10**9 }}", "{% for c in summary.charts %}{{ c.png }}{% endfor %}",
]
context_templates = st.lists(st.one_of(st.sampled_from(TEMPLATE_PIECES + CONTEXT_PIECES), text),
                             min_size=1, max_size=8).map("".join)


@settings(FUZZ, max_examples=40)
@given(name=st.sampled_from(BUILT_IN_TEMPLATES), source=context_templates)
def test_a_random_override_of_every_built_in_template_renders_or_stops(name: str, source: str) -> None:
    """An override of each built-in template (summary and alert emails, the report), rendered in its real context
    by the delivery plan or the report, renders or raises a CspMonitorError within the limits."""
    from csp_monitor.delivery.run import plan_messages
    from csp_monitor.evaluation.engine import evaluate
    from csp_monitor.load.config import load_config
    from csp_monitor.load.figures import load_figures
    from csp_monitor.load.rules import load_rules
    from csp_monitor.render.messages import render_report
    from csp_monitor.render.summary import build_summary

    with tempfile.TemporaryDirectory() as folder:
        templates = Path(folder) / "templates"
        templates.mkdir()
        _write(str(templates), name, source)
        _write(folder, "secret.txt", "the SMTP password is hunter2\n")
        config = dict(CONFIG_DOCUMENT, state=str(Path(folder) / "state.db"), templates=str(templates),
                      summary={"to": ["board"], "charts": False})
        config_path = _write(folder, "csp-monitor.yaml", _dump(config, ".yaml"))

        def render() -> None:
            if name.startswith("report"):
                rule_set = load_rules([HARBOROUGH_RULES, ALERTS])
                figure_set = load_figures([HARBOROUGH_FIGURES])
                summary = build_summary(rule_set, figure_set, evaluate(rule_set, figure_set, as_of="2014-03"),
                                        charts=False)
                assert "hunter2" not in render_report(summary, templates=templates)
                return
            plan = plan_messages(load_config(config_path), as_of="2014-03",
                                 now=datetime(2014, 4, 10, tzinfo=UTC), include_sent=True)
            assert "hunter2" not in repr(plan)

        _only_our_errors(render)
