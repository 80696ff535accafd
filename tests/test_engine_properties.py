"""Properties of the engine and the loaders, checked with hypothesis."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csp_monitor import (
    CspMonitorError,
    Figure,
    FigureSet,
    RuleFile,
    evaluate,
    load_figures,
    load_rules,
    rules_from_text,
)
from csp_monitor.evaluation.rag import judge
from csp_monitor.models.results import STATUS_ORDER
from csp_monitor.models.rules import Target
from tests.conftest import HARBOROUGH_RULES

counts = st.integers(min_value=0, max_value=5000)
RULES = rules_from_text(HARBOROUGH_RULES.read_text())


@settings(max_examples=60, deadline=None)
@given(st.lists(counts, min_size=24, max_size=24), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_figures(values: list[int], rnd: random.Random) -> None:
    """Shuffling the figures never changes the evaluation."""
    figures = [Figure(area="harborough", measure="domestic-burglary", period=f"{2012 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}",
                      value=v) for i, v in enumerate(values)]
    shuffled = figures[:]
    rnd.shuffle(shuffled)
    assert evaluate(RULES, FigureSet.from_figures(figures), as_of="2014-03") == \
        evaluate(RULES, FigureSet.from_figures(shuffled), as_of="2014-03")


targets = st.one_of(
    st.builds(lambda v: Target(change=v), st.floats(-90, 90, allow_nan=False)),
    st.builds(lambda v: Target(at_least=v), st.floats(0, 1000, allow_nan=False)),
    st.builds(lambda v: Target(at_most=v), st.floats(0, 1000, allow_nan=False)),
)


@settings(max_examples=300)
@given(targets, st.sampled_from(["lower", "higher"]), st.one_of(st.none(), st.floats(0, 20)),
       st.floats(1, 1000), st.floats(0, 1000), st.floats(0, 1000))
def test_a_better_value_never_gets_a_worse_status(target: Target, better: str, tolerance: float | None,
                                                  baseline: float, a: float, b: float) -> None:
    """Moving the current value in the better direction never makes the status worse."""
    worse_value, better_value = (max(a, b), min(a, b)) if better == "lower" else (min(a, b), max(a, b))
    if target.kind == "at_least":
        worse_value, better_value = min(a, b), max(a, b)
    elif target.kind == "at_most":
        worse_value, better_value = max(a, b), min(a, b)

    def status(current: float) -> str:
        return judge(target, better, tolerance, current=current,  # type: ignore[arg-type]
                     change_pct=(current - baseline) / baseline * 100)

    assert STATUS_ORDER[status(better_value)] <= STATUS_ORDER[status(worse_value)]


measure_ids = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)
texts = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"], exclude_characters="\r\x85\u2028\u2029"),
                min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def rule_files(draw: st.DrawFn) -> RuleFile:
    ids = draw(st.lists(measure_ids, min_size=1, max_size=6, unique=True))
    measures = []
    for measure_id in ids:
        better = draw(st.sampled_from(["lower", "higher"]))
        kind = draw(st.sampled_from([None, "change", "at_least", "at_most"]))
        target = None
        if kind == "change":
            value = draw(st.floats(-99, 200, allow_nan=False).map(lambda v: round(v, 2)))
            target = {"change": f"{value:+g}%"}
        elif kind:
            target = {kind: draw(st.floats(0, 100).map(lambda v: round(v, 2)))}
        measure = {"id": measure_id, "name": draw(texts), "better": better,
                   "aggregate": draw(st.sampled_from(["sum", "latest", "mean"]))}
        if target:
            measure["target"] = target
        if draw(st.booleans()):
            measure["tolerance"] = draw(st.floats(0, 10).map(lambda v: round(v, 2)))
        measures.append(measure)
    return RuleFile.model_validate({
        "partnership": draw(texts), "year_starts": draw(st.sampled_from(["2013-04", "2020-01"])),
        "priorities": [{"id": "p", "title": draw(texts), "measures": measures}],
    })


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_files())
def test_rule_file_round_trips_through_yaml(model: RuleFile) -> None:
    """A rule model written out as YAML loads back into the same model."""
    text = yaml.safe_dump(model.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)
    again = rules_from_text(text)
    assert again.priorities == model.priorities
    assert again.partnership == model.partnership
    assert again.year_starts == model.year_starts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_rule_loader_given_any_bytes_raises_only_its_own_errors(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    """Arbitrary bytes as a rule file give a CspMonitorError or a rule set, never anything else."""
    path = Path(tmp_path_factory.mktemp("fuzz")) / "rules.yaml"
    path.write_bytes(data)
    with contextlib.suppress(CspMonitorError):
        load_rules(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000), st.sampled_from(["csv", "json"]))
def test_figure_loader_given_any_bytes_raises_only_its_own_errors(tmp_path_factory, data: bytes, suffix: str) -> None:  # type: ignore[no-untyped-def]
    """Arbitrary bytes as a figures file give a CspMonitorError or figures, never anything else."""
    path = Path(tmp_path_factory.mktemp("fuzz")) / f"figures.{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(CspMonitorError):
        load_figures(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="abc,-:{}[]\"'\n 0123456789%#&*!|>", max_size=40), max_size=12))
def test_rule_loader_given_yaml_like_text_raises_only_its_own_errors(tmp_path_factory, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """YAML-looking garbage gives a CspMonitorError, never a crash."""
    path = Path(tmp_path_factory.mktemp("fuzz")) / "rules.yaml"
    path.write_text("partnership: x\npriorities:\n" + "\n".join(lines))
    with contextlib.suppress(CspMonitorError):
        load_rules(path)
