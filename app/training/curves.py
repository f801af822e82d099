"""Live training curves: losses (per batch and per epoch), validation metrics, DS-CBSM++ class weights per epoch."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.imaging import qcolor_for_class
from grace_core.training.history import METRICS_SHOWN, TrainingHistory

WARMUP_LABEL = "warm-up (uniform)"
SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=None, title=title)
    plot.setLabel("left", y_label)
    plot.setLabel("bottom", "epoch")
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.addLegend(offset=(-10, 10), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 190))
    return plot


def _points(values: list[float | None], epochs: list[int]) -> tuple[list[int], list[float]]:
    pairs = [(e, v) for e, v in zip(epochs, values, strict=False) if v is not None]
    return [e for e, _ in pairs], [v for _, v in pairs]


class TrainingCurves(QWidget):
    """Three plots redrawn from a :class:`TrainingHistory` (cheap: one point per epoch, a few per batch)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.losses = _plot("Training losses", "loss")
        self.metrics = _plot("Validation", "value")
        self.metrics.setYRange(0, 1)
        self.weights = _plot("DS-CBSM++ class weights", "sampling weight")
        self.weights.addLine(y=1.0, pen=pg.mkPen("#888", style=Qt.PenStyle.DotLine))
        self.warmup_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(128, 128, 128, 45), pen=pg.mkPen(None))
        self.warmup_region.setToolTip("DS-CBSM++ warm-up: weights measured, images still drawn uniformly")
        self.warmup_label = pg.TextItem(WARMUP_LABEL, color="#555", anchor=(0, 0))
        for item in (self.warmup_region, self.warmup_label):
            item.setVisible(False)
            self.weights.addItem(item, ignoreBounds=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.losses, self.metrics, self.weights):
            layout.addWidget(plot)
        self._items: dict[tuple[int, str], pg.PlotDataItem] = {}

    def clear(self) -> None:
        for plot in (self.losses, self.metrics, self.weights):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self._items.clear()
        self._mark_warmup([], 1.0)

    def show_history(self, history: TrainingHistory) -> None:
        for index, (name, points) in enumerate(sorted(history.batch_losses.items())):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            self._set(self.losses, f"batch:{name}", [x for x, _ in points], [y for _, y in points], colour, name)
        for index, (name, values) in enumerate(sorted(history.losses.items())):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            xs, ys = _points(values, history.epochs)
            self._set(self.losses, f"epoch:{name}", xs, ys, colour, None, symbol="o")
        for index, name in enumerate(METRICS_SHOWN):
            xs, ys = _points(history.metrics.get(name, []), history.epochs)
            self._set(self.metrics, name, xs, ys, SERIES_COLOURS[index], name, symbol="o")
        for class_id, (name, points) in enumerate(history.class_weights.items()):  # reported in class order
            colour = qcolor_for_class(class_id)
            self._set(self.weights, f"w:{name}", [e for e, _ in points], [w for _, w in points], colour, name, "o")
        top = max((w for points in history.class_weights.values() for _, w in points), default=1.0)
        self._mark_warmup(history.sampler_warmup, top)

    def _mark_warmup(self, epochs: list[int], top: float) -> None:
        """Shade the warm-up epochs on the class-weight plot: their weights did not steer sampling yet."""
        shown = bool(epochs)
        self.warmup_region.setVisible(shown)
        self.warmup_label.setVisible(shown)
        if shown:
            self.warmup_region.setRegion((min(epochs) - 0.5, max(epochs) + 0.5))
            self.warmup_label.setPos(min(epochs) - 0.5, max(top, 1.0))

    def point_count(self, plot: str) -> int:
        """How many points the named plot (losses, metrics, weights) holds — what tests look at."""
        widget = getattr(self, plot)
        return sum(len(item.xData) for item in widget.listDataItems() if item.xData is not None)

    def _set(self, plot: pg.PlotWidget, key: str, xs: list, ys: list, colour, label: str | None, symbol=None) -> None:
        item = self._items.get((id(plot), key))
        if not xs and item is None:
            return
        if item is None:
            pen = pg.mkPen(QColor(colour), width=1 if key.startswith("batch:") else 2)
            item = plot.plot([], [], pen=pen, name=label, symbol=symbol, symbolSize=6, symbolBrush=QColor(colour))
            self._items[(id(plot), key)] = item
        item.setData(xs, ys)
