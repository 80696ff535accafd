"""evaluate and the figures column reader pause the cyclic garbage collector while they work, and leave it as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from csp_monitor import FigureSet, evaluate, load_figures, rules_from_text
from csp_monitor.evaluation.collection_pause import paused_collection

RULES = """\
partnership: Pause
priorities:
  - id: all
    title: All
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {change: -5%}
"""


@pytest.fixture
def collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def _figures() -> FigureSet:
    figures = FigureSet()
    for offset in range(24):
        figures.add("town", "burglary", 2012 * 12 + 3 + offset, float(30 - offset % 5))
    return figures


def test_the_collector_is_off_inside_and_on_again_after(collector: None) -> None:
    """Inside the pause the collector is off; after it, on again."""
    gc.enable()
    with paused_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_the_pause_still_switches_the_collector_back_on(collector: None) -> None:
    """An exception raised inside the pause does not leave the collector off."""
    gc.enable()
    with pytest.raises(ZeroDivisionError), paused_collection():
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off(collector: None) -> None:
    """A caller that turned the collector off finds it off after evaluate."""
    gc.disable()
    evaluate(rules_from_text(RULES), _figures(), "2014-03")
    assert not gc.isenabled()


def test_nested_pauses_switch_it_back_on_only_at_the_outermost_end(collector: None) -> None:
    """A pause inside a pause leaves the collector off until the outer one ends."""
    gc.enable()
    with paused_collection():
        with paused_collection():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_evaluate_leaves_the_collector_on(collector: None) -> None:
    """After evaluate the collector is on, as it was before."""
    gc.enable()
    evaluation = evaluate(rules_from_text(RULES), _figures(), "2014-03")
    assert evaluation.results[0].status in {"green", "amber", "red"}
    assert gc.isenabled()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_column_reader_leaves_the_collector_as_it_found_it(collector: None, tmp_path: Path,
                                                               enabled: bool) -> None:
    """load_figures' column reader pauses the collector and leaves it on, or off, as it was."""
    path = tmp_path / "figures.csv"
    path.write_text("area,measure,period,value\n" + "".join(f"town,burglary,2013-{m:02d},{m}\n" for m in range(1, 13)))
    gc.enable() if enabled else gc.disable()
    figures = load_figures(path)
    assert len(figures) == 12
    assert gc.isenabled() is enabled
