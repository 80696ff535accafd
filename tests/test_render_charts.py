"""The SPC and peer-comparison charts: what they show, their alt text and their tables."""

from __future__ import annotations

from csp_monitor.evaluation.engine import evaluate
from csp_monitor.load.figures import load_figures
from csp_monitor.load.rules import load_rules
from csp_monitor.models.results import MeasureResult
from csp_monitor.periods import format_month
from csp_monitor.render.chart_data import charts_for
from csp_monitor.render.charts import draw
from csp_monitor.statistics.peers import compare_with_peers
from csp_monitor.statistics.spc import analyse_spc
from tests.conftest import HARBOROUGH_FIGURES, HARBOROUGH_RULES

RULES = load_rules(HARBOROUGH_RULES)
FIGURES = load_figures(HARBOROUGH_FIGURES)
EVALUATION = evaluate(RULES, FIGURES, as_of="2014-03")


def _burglary() -> MeasureResult:
    result = EVALUATION.get("harborough", "domestic-burglary")
    assert result is not None
    return result


def test_an_spc_chart_marks_each_special_cause_in_its_table() -> None:
    """Mean and limits come from the statistics; every flagged month is named in the table and the alt text."""
    series = FIGURES.series("harborough", "domestic-burglary")
    spc = analyse_spc([(format_month(m), v) for m, v in sorted(series.items())], better="lower")
    assert spc.variation.startswith("special_cause") and spc.special_causes
    result = _burglary().model_copy(update={"spc": spc})
    (chart,) = [c for c in charts_for(RULES, FIGURES, EVALUATION, [result]) if c.kind == "spc"]
    assert (chart.spec.mean, chart.spec.lower_limit, chart.spec.upper_limit) == (
        spc.mean, spc.lower_limit, spc.upper_limit)
    flagged = {row[0] for row in chart.rows if row[2]}
    assert flagged == {cause.period for cause in spc.special_causes if cause.period in {r[0] for r in chart.rows}}
    assert [row[1] for row in chart.rows] == [f"{v:g}" for v in spc.values[-len(chart.rows):]]
    assert "Special causes:" in chart.alt and "process limits" in chart.alt
    assert draw(chart.spec, width=chart.width, height=chart.height).startswith(b"\x89PNG")


def test_no_spc_chart_without_a_special_cause() -> None:
    """Common-cause variation gets no SPC chart: the trend says enough."""
    spc = analyse_spc([(f"2013-{m:02d}", 10.0 + (m % 3)) for m in range(1, 13)], better="lower")
    assert spc.variation == "common_cause"
    result = _burglary().model_copy(update={"spc": spc})
    assert [c.kind for c in charts_for(RULES, FIGURES, EVALUATION, [result])] == ["trend"]


def test_the_peer_chart_ranks_the_group_and_highlights_the_area() -> None:
    """Rates lowest first, this area highlighted and labelled, the average and band in the alt text."""
    group = {"harborough": (253.0, 87_000.0), "blaby": (300.0, 94_000.0), "melton": (150.0, 50_000.0),
             "rutland": (80.0, 37_000.0), "south-northamptonshire": (330.0, 88_000.0)}
    peers = compare_with_peers(group, "harborough")
    result = _burglary().model_copy(update={"peers": peers})
    (chart,) = [c for c in charts_for(RULES, FIGURES, EVALUATION, [result]) if c.kind == "peers"]
    rates = [rate for rate, _ in sorted((count / people * 1000, area) for area, (count, people) in group.items())]
    assert list(chart.spec.values) == rates
    assert [row[1] for row in chart.rows if "(this area)" in row[1]] == ["Harborough (this area)"]
    assert chart.spec.highlight == tuple(label == "Harborough" for label in chart.spec.labels)
    assert f"The group average is {peers.group_average:.2f}." in chart.alt
    assert draw(chart.spec, width=chart.width, height=chart.height).startswith(b"\x89PNG")


def test_the_peer_chart_names_the_months_its_rates_cover_and_where_the_area_stands() -> None:
    """The title and alt text say the rates are of April 2013 to March 2014, and an area in line is "within
    the group's band" (the alt text said "is in line the group's band")."""
    group = {"harborough": (253.0, 87_000.0), "blaby": (300.0, 94_000.0), "melton": (150.0, 50_000.0)}
    peers = compare_with_peers(group, "harborough")
    assert peers.position == "in_line"
    result = _burglary().model_copy(update={"peers": peers})
    (chart,) = [c for c in charts_for(RULES, FIGURES, EVALUATION, [result]) if c.kind == "peers"]
    assert chart.title == "Domestic Burglary: rate per 1,000, April 2013 to March 2014, in the most similar group"
    assert "rate per 1,000 population over April 2013 to March 2014" in chart.alt
    assert chart.alt.endswith(" Harborough is within the group's band.")


def test_long_area_names_are_not_cut_off_at_the_peer_charts_left_edge() -> None:
    """With "North West Leicestershire" in the group the left margin widens: the image's first columns stay
    white (with the fixed 130-pixel margin the name ran off the left edge, "t-leicestershire")."""
    import io

    from PIL import Image

    group = {"north-west-leicestershire": (300.0, 104_700.0), "harborough": (128.0, 97_600.0),
             "hinckley-and-bosworth": (261.0, 113_600.0), "blaby": (312.0, 102_900.0)}
    peers = compare_with_peers(group, "harborough")
    result = _burglary().model_copy(update={"peers": peers})
    (chart,) = [c for c in charts_for(RULES, FIGURES, EVALUATION, [result]) if c.kind == "peers"]
    with Image.open(io.BytesIO(draw(chart.spec, width=chart.width, height=chart.height))) as image:
        rgb = image.convert("RGB")
        edge = [rgb.getpixel((x, y)) for x in range(3) for y in range(rgb.height)]
    assert all(pixel == (255, 255, 255) for pixel in edge)
