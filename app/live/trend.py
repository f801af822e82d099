"""Defects per class over time: counts of flagged detections (defect + uncertain) per second, last few minutes.

The legend is a column of Qt labels beside the plot, never over its lines; each entry also gives the class's
count over the window.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

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
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.legend = QWidget()
        self._legend_layout = QVBoxLayout(self.legend)
        self._legend_layout.setContentsMargins(2, 4, 2, 4)
        self._legend_layout.setSpacing(1)
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self._names: tuple[str, ...] = ()
        self._curves: list[pg.PlotDataItem] = []
        self._entries: list[QLabel] = []
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
        while self._legend_layout.count():
            widget = self._legend_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self._entries = []
        for name in names:
            entry = QLabel()
            entry.setTextFormat(Qt.TextFormat.RichText)
            entry.setToolTip(f"{name}: detections (defect and uncertain) over the last {self.window_s} s")
            self._legend_layout.addWidget(entry)
            self._entries.append(entry)
        self._legend_layout.addStretch(1)
        self._update_legend()

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
        self._update_legend()

    def _update_legend(self) -> None:
        totals = self.totals()
        for i, (name, entry) in enumerate(zip(self._names, self._entries, strict=True)):
            color = qcolor_for_class(i).name()
            entry.setText(f"<span style='color:{color}; font-size:14px'>■</span> {name} <b>{totals[name]}</b>")
