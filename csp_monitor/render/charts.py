"""Draw charts as PNG images with matplotlib's object API.

The daemon runs for years and may draw from more than one thread, so this
module never touches ``pyplot`` and its global figure registry or style
state: each chart is its own :class:`~matplotlib.figure.Figure` on its own
Agg canvas, sized and styled by arguments, and dropped when drawn.
matplotlib is imported here only, and only when a chart is drawn.
"""

from __future__ import annotations

import io
import math
from typing import Any

from csp_monitor.evaluation.wording import format_number
from csp_monitor.render.chart_data import ChartSpec

__all__ = ["draw"]

_CURRENT = "#1f4e79"
_EARLIER = "#9fb7d0"
_REFERENCE = "#b03a2e"
_FLAG = "#d35400"
_LINE = "#4d4d4d"
_LIMIT = "#7f8c8d"
_TEXT = "#222222"
_SCALE = 1.5  # pixels per CSS pixel: sharp on phones, still small


def draw(spec: ChartSpec, *, width: int = 600, height: int = 250) -> bytes:
    """The chart as PNG bytes, ``width`` x ``height`` CSS pixels (drawn at 1.5x)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / 100, height / 100), dpi=100 * _SCALE)
    FigureCanvasAgg(figure)
    # Fixed margins (in pixels): a layout engine would draw every chart twice.
    # A peer chart's area names are its y labels: room for the longest ("North West Leicestershire"), up to
    # 45% of the width, or they are cut off at the left edge.
    longest = max((len(label) for label in spec.labels), default=0)
    left = min(max(130, 9 * longest + 12), int(0.45 * width)) if spec.kind == "peers" else 58
    right = 120 if spec.kind != "peers" else 20
    top = 30 if spec.kind in ("spc", "peers") else 12
    bottom = 46 if spec.kind == "peers" and spec.y_label else 30  # room for the "per 1,000" axis title
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    axes = figure.add_subplot()
    if spec.kind == "trend":
        _trend(axes, spec)
    elif spec.kind == "spc":
        _spc(axes, spec)
    else:
        _peers(axes, spec)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=11.5, colors=_TEXT)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def _label(value: float, spec: ChartSpec) -> str:
    return format_number(value, "percent" if spec.percent else "count")


def _trend(axes: Any, spec: ChartSpec) -> None:
    positions = list(range(len(spec.labels)))
    shown = [v if v is not None else 0.0 for v in spec.values]
    colours = [_CURRENT if flag else _EARLIER for flag in spec.highlight]
    suspect = spec.suspect or (False,) * len(positions)
    bars = axes.bar(positions, shown, color=colours, width=0.6)
    for bar, colour, flag in zip(bars, colours, suspect, strict=True):
        if flag:  # a suspect bar is drawn hatched and hollow: not to be read as a real level
            bar.set_facecolor("white")
            bar.set_edgecolor(colour)
            bar.set_hatch("//")
    top = max([v for v in spec.values if v is not None] + [spec.reference or 0.0, 1.0])
    for bar, value, flag in zip(bars, spec.values, suspect, strict=True):
        text = _label(value, spec) if value is not None else "not shown"
        text += "\nsuspect" if flag else ""
        axes.text(bar.get_x() + bar.get_width() / 2, (value or 0.0) + top * 0.02, text,
                  ha="center", va="bottom", fontsize=12, color=_TEXT)
    right = len(positions) - 0.5
    if spec.reference is not None:
        axes.hlines(spec.reference, -0.5, right, color=_REFERENCE, linestyle="--", linewidth=1.2)
        axes.text(right, spec.reference, f" {spec.reference_label}\n {_label(spec.reference, spec)}",
                  va="center", ha="left", fontsize=12, color=_REFERENCE, clip_on=False)
    axes.set_xticks(positions, spec.labels)
    axes.set_ylim(0, top * 1.18)
    axes.set_xlim(-0.5, right)
    if spec.percent:
        axes.set_ylabel("%", fontsize=12, color=_TEXT)


def _spc(axes: Any, spec: ChartSpec) -> None:
    positions = list(range(len(spec.labels)))
    values = [v if v is not None else math.nan for v in spec.values]
    axes.plot(positions, values, color=_LINE, linewidth=1.2, marker="o", markersize=3)
    flagged = [(x, v) for x, v, flag in zip(positions, spec.values, spec.highlight, strict=True)
               if flag and v is not None]
    if flagged:
        axes.scatter([x for x, _ in flagged], [v for _, v in flagged], color=_FLAG, s=24, zorder=3,
                     label="special cause")
    suspect = [(x, v) for x, v, flag in zip(positions, spec.values, spec.suspect, strict=False)
               if flag and v is not None]
    if suspect:
        axes.scatter([x for x, _ in suspect], [v for _, v in suspect], facecolors="white", edgecolors=_FLAG,
                     marker="s", s=30, zorder=4, label="suspect, left out of the limits")
    right = positions[-1] + 0.5 if positions else 0.5
    for start, end, mean, lower, upper in spec.segments:
        for level, style in ((mean, "-"), (upper, "--"), (lower, "--")):
            if level is not None:
                axes.hlines(level, start - 0.5, end - 0.5, color=_LIMIT, linestyle=style, linewidth=1)
    if spec.segments:
        _, _, mean, lower, upper = spec.segments[-1]
        for level, name in ((mean, "mean"), (upper, "upper limit"), (lower, "lower limit")):
            if level is not None:
                axes.text(right, level, f" {name}\n {_label(level, spec)}", va="center", ha="left", fontsize=10.5,
                          color=_LIMIT, clip_on=False)
    step = max(1, -(-len(positions) // 5))
    axes.set_xticks(positions[::step], [spec.labels[i] for i in positions[::step]])
    axes.set_xlim(-0.5, right)
    if flagged or suspect:
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=11, frameon=False, borderaxespad=0.1)
    if spec.percent:
        axes.set_ylabel("%", fontsize=12, color=_TEXT)


def _peers(axes: Any, spec: ChartSpec) -> None:
    positions = list(range(len(spec.labels)))
    values = [v if v is not None else 0.0 for v in spec.values]
    colours = [_CURRENT if flag else _EARLIER for flag in spec.highlight]
    if spec.lower_limit is not None and spec.upper_limit is not None:
        axes.axvspan(spec.lower_limit, spec.upper_limit, color="#eef1f4", zorder=0, label="in line")
    axes.barh(positions, values, color=colours, height=0.65, zorder=2)
    axes.set_yticks(positions, spec.labels)
    axes.invert_yaxis()
    if spec.reference is not None:
        axes.axvline(spec.reference, color=_REFERENCE, linestyle="--", linewidth=1.2, zorder=3,
                     label=f"{spec.reference_label} {spec.reference:.2f}")
        # Above the bars, as on the SPC chart: inside the axes the legend covered the longest bars.
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=10.5, frameon=False, borderaxespad=0.1,
                    ncols=2)
    if spec.y_label:
        axes.set_xlabel(spec.y_label, fontsize=12, color=_TEXT)
