"""The JSON of an evaluation holds exactly the evaluation's data, whichever way it is written."""

from __future__ import annotations

import io
import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from csp_monitor import FigureSet, evaluate, rules_from_text
from csp_monitor.models.results import RESULTS_SCHEMA_VERSION, Evaluation
from csp_monitor.render.table import _SERIES_FIELDS, render_json, write_json

RULES = rules_from_text("""\
partnership: Random partnership
tolerance: 5
statistics:
  spc: {baseline_points: 12, screen_outliers: true}
  peers:
    method: sd
    populations: {north: 120000, south: 90000, east: 150000, west: 60000}
    groups:
      msg: [north, south, east, west]
priorities:
  - id: crime
    title: Crime
    measures:
      - id: burglary
        name: Burglary
        better: lower
        target: {change: -5%}
      - id: asb
        name: Anti-social behaviour
        better: lower
        target: {at_most: 400}
      - id: satisfaction
        name: Satisfaction
        better: higher
        unit: percent
        aggregate: mean
        target: {at_least: 80}
      - id: repeat-rate
        name: Repeat rate
        better: lower
        unit: percent
        aggregate: latest
""")
AREAS = ("north", "south", "east", "west")
FIRST = 2019 * 12 + 3  # April 2019
MONTHS = 30


def random_figures(seed: int) -> FigureSet:
    """Random series of every area and measure, with months missing and months marked suspect."""
    rnd = random.Random(seed)
    figures = FigureSet()
    for area in AREAS:
        for measure in ("burglary", "asb", "satisfaction", "repeat-rate"):
            level = rnd.randint(0, 300)
            for month in range(FIRST, FIRST + MONTHS):
                kind = rnd.choice(["value"] * 8 + ["missing", "suspect"])
                if kind == "missing":
                    continue
                if measure in ("satisfaction", "repeat-rate"):
                    value = rnd.uniform(0, 100)
                else:
                    value = float(rnd.randint(0, level))
                figures.add(area, measure, month, value)
                if kind == "suspect":
                    figures.mark_suspect(area, measure, month, "Ünusual drop: 80% fewer")
    return figures


def _as_of(draw_month: int) -> str:
    month = FIRST + draw_month
    return f"{month // 12}-{month % 12 + 1:02d}"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), month=st.integers(13, MONTHS - 1), series=st.booleans())
def test_json_holds_what_the_evaluation_dumps(seed: int, month: int, series: bool) -> None:
    """Read back, the JSON equals the evaluation's own dump, with or without the charts' series."""
    evaluation = evaluate(RULES, random_figures(seed), as_of=_as_of(month))
    text = render_json(evaluation, include_series=series)
    assert json.loads(text) == {"schema_version": RESULTS_SCHEMA_VERSION,
                                **evaluation.model_dump(mode="json", exclude=None if series else _SERIES_FIELDS)}
    if series:  # with its series a chart can be read back whole
        document = json.loads(text)
        del document["schema_version"]
        assert Evaluation.model_validate(document) == evaluation


def test_json_keeps_names_readable() -> None:
    """Letters beyond ASCII are written as themselves, not as escapes, and the text is indented."""
    figures = FigureSet()
    for month in range(FIRST, FIRST + 24):
        figures.add("north", "burglary", month, 10.0)
    figures.mark_suspect("north", "burglary", FIRST + 23, "Ünusual drop")
    text = render_json(evaluate(RULES, figures, as_of=_as_of(23), areas=["north"]))
    assert "Ünusual drop" in text and "\\u00dc" not in text
    assert text.startswith(f'{{\n  "schema_version": {RESULTS_SCHEMA_VERSION},\n  "partnership": "Random partnership",\n')


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), series=st.booleans(), chunk=st.integers(1, 20),
       areas=st.lists(st.sampled_from(AREAS), max_size=4, unique=True))
def test_json_written_in_pieces_is_the_json_text(seed: int, series: bool, chunk: int, areas: list[str]) -> None:
    """JSON written a few results at a time is byte for byte the JSON text, for any number of results."""
    evaluation = evaluate(RULES, random_figures(seed), as_of=_as_of(MONTHS - 1), areas=areas)
    stream = io.BytesIO()
    write_json(evaluation, stream, include_series=series, chunk=chunk)
    assert stream.getvalue() == render_json(evaluation, include_series=series).encode()
