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
    evaluate(rules_from_text(RULES), _figures(), as_of="2014-03")
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
    evaluation = evaluate(rules_from_text(RULES), _figures(), as_of="2014-03")
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


def test_what_the_pause_made_goes_to_the_oldest_generation(collector: None) -> None:
    """Containers made during a pause are in the collector's oldest generation after it, not its youngest."""
    gc.enable()
    with paused_collection():
        made = [[index] for index in range(50_000)]
        assert gc.get_count()[0] >= 50_000
    assert gc.get_count()[0] < 1_000
    assert gc.get_freeze_count() == 0
    assert any(item is made[-1] for item in gc.get_objects(generation=2))


def test_objects_the_program_froze_stay_frozen(collector: None) -> None:
    """A program that froze objects with gc.freeze finds them frozen after a pause."""
    gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with paused_collection():
            _ = [[index] for index in range(1_000)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_cycle_made_during_the_pause_is_still_collected(collector: None) -> None:
    """A reference cycle left over from a pause is freed by the next full collection."""
    import weakref

    class Node:
        pass

    gc.enable()
    with paused_collection():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        alive = weakref.ref(node)
        del node
    assert alive() is not None
    gc.collect()
    assert alive() is None
