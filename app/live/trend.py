"""Defects per class over time: counts of flagged detections (defect + uncertain) per second, last few minutes."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.imaging import qcolor_for_class
from grace_core.flagging import FlagDecision

WINDOW_S = 180


class DefectTrend(QWidget):
    def __init__(self, parent: QWidget | None = None, window_s: int = WINDOW_S) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self.plot = pg.PlotWidget(background=None)
        self.plot.setLabel("left", "detections / s")
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.addLegend(offset=(-10, 10), labelTextSize="8pt", labelTextColor=self.palette().text().color())
        self.plot.setMouseEnabled(x=False, y=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._names: tuple[str, ...] = ()
        self._curves: list[pg.PlotDataItem] = []
        self._bins: deque[tuple[int, np.ndarray]] = deque(maxlen=window_s)  # (second, counts per class)

    def set_classes(self, names: tuple[str, ...]) -> None:
        if names == self._names:
            return
        self.plot.clear()
        self._names = names
        self._bins.clear()
        self._curves = [
            self.plot.plot([], [], name=name, pen=pg.mkPen(qcolor_for_class(i), width=2))
            for i, name in enumerate(names)
        ]

    def add(self, decision: FlagDecision, when: float | None = None) -> None:
        second = int(time.time() if when is None else when)
        counts = np.zeros(len(self._names), dtype=np.int64)
        for detections in (decision.defects, decision.uncertain):
            np.add.at(counts, detections.class_id, 1)
        if self._bins and self._bins[-1][0] == second:
            self._bins[-1][1][:] += counts
        else:
            self._bins.append((second, counts))

    def totals(self) -> dict[str, int]:
        """Counts per class over the window (for readouts and tests)."""
        total = np.zeros(len(self._names), dtype=np.int64)
        for _, counts in self._bins:
            total += counts
        return {name: int(total[i]) for i, name in enumerate(self._names)}

    def refresh(self, now: float | None = None) -> None:
        """Redraw (called on a timer, not per frame: the plot costs more than the data)."""
        now_s = int(time.time() if now is None else now)
        ages = np.array([now_s - second for second, _ in self._bins], dtype=np.float64)
        keep = ages <= self.window_s
        for i, curve in enumerate(self._curves):
            values = np.array([counts[i] for _, counts in self._bins], dtype=np.float64)
            curve.setData(-ages[keep], values[keep])
