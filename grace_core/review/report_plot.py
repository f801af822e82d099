"""The flagged-frames-over-time chart of a shift report, as PNG bytes (matplotlib's Agg canvas, imported lazily)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from grace_core.render import class_color
from grace_core.review.times import local

if TYPE_CHECKING:
    from grace_core.review.report import ShiftReport

MAX_TICKS = 12
TICK_STEPS = (1, 2, 4, 6, 8, 12, 16, 24, 48)  # in bins: 15-minute bins get hourly ticks
MARKERS = "os^Dv<>p"


def timeline_png(report: ShiftReport, dpi: int = 100) -> bytes:
    """Bars: all flagged frames per bin; lines: frames per class (colours as in the app). Local time on the x axis.

    A Figure on its own Agg canvas rather than pyplot, so no global matplotlib backend is changed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    timeline = report.timeline
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    positions = list(range(len(timeline.starts)))
    if positions:  # bar i spans bin i from its start (tick i) to its end; lines sit at the bins' middles
        axes.bar(positions, timeline.total, width=0.9, align="edge", color="#d0d0d0", label="all flagged frames")
        middles = [position + 0.45 for position in positions]
        ids = {row.class_name: row.class_id for row in report.classes}
        for number, (name, counts) in enumerate(timeline.per_class.items()):
            b, g, r = class_color(ids.get(name, 0))
            marker = MARKERS[number % len(MARKERS)]
            axes.plot(middles, counts, marker=marker, markersize=4, color=(r / 255, g / 255, b / 255), label=name)
        step = next((n for n in TICK_STEPS if len(positions) / n <= MAX_TICKS), -(-len(positions) // MAX_TICKS))
        long = timeline.starts[-1] - timeline.starts[0] >= 86400
        labels = [local(t).strftime("%m-%d %H:%M" if long else "%H:%M") for t in timeline.starts[::step]]
        axes.set_xticks(positions[::step], labels, rotation=30, ha="right")
        axes.set_xlim(-0.3, len(positions) + 0.2)
        axes.legend(fontsize=8, ncols=2)
    else:
        axes.text(0.5, 0.5, "no flagged frames in this period", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
    width_min = timeline.bin_s / 60
    unit = f"{width_min:g} min" if width_min < 120 else f"{width_min / 60:g} h"
    axes.set_xlabel(f"bin start ({report.timezone}), {unit} bins")
    axes.set_ylabel("flagged frames")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("flagged frames over time")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
