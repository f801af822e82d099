"""Colour legend of the heatmap, in words an operator reads: "Attention: none → strong".

The scale is the model's fixed one (the same colour means the same attention on every frame: calibrated per model,
never stretched per image). Its numbers — Lite-FEN gate logits, meaningless on the line — are in the tooltip only.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.imaging import legend_qimage
from grace_core.render import DEFAULT_HEAT_RANGE

TITLE = "Attention"
RAMP_WIDTH = 80


class HeatLegend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ramp = legend_qimage(256, 12, horizontal=True)
        self.heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE
        self.available = True
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._update_tooltip()

    def set_range(self, heat_range: tuple[float, float], available: bool = True) -> None:
        self.heat_range, self.available = heat_range, available
        self._update_tooltip()
        self.updateGeometry()
        self.update()

    def labels(self) -> tuple[str, str]:
        """The words at the strong and at the calm end of the ramp (after the title, "Attention")."""
        return "strong", "none"

    def _update_tooltip(self) -> None:
        low, high = self.heat_range
        self.setToolTip(
            "Where the model looked (Lite-FEN spatial attention), on this model's fixed scale: the same colour means "
            "the same attention on every frame, so plain steel stays clear.\n"
            f"Scale in gate logits: {low:.4g} (none, transparent) to {high:.4g} (strong); it never changes per frame."
        )

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        strong, none = self.labels()
        if not self.available:
            return QSize(metrics.horizontalAdvance("No attention map for this model") + 8, metrics.height() + 8)
        width = sum(metrics.horizontalAdvance(t) for t in (TITLE, none, strong)) + RAMP_WIDTH + 4 * 8
        return QSize(width, max(metrics.height() + 8, 22))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        text_color = self.palette().text().color()
        middle = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        if not self.available:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(self.rect(), middle, "No attention map for this model")
            return
        strong, none = self.labels()
        x = 0.0
        for text, is_ramp in ((TITLE, False), (none, False), ("", True), (strong, False)):
            if is_ramp:
                bar = QRectF(x, (self.height() - 12) / 2, RAMP_WIDTH, 12)
                painter.drawImage(bar, self._ramp)
                painter.setPen(text_color)
                painter.drawRect(bar)
                x += RAMP_WIDTH + 8
                continue
            painter.setPen(text_color)
            font = painter.font()
            font.setBold(text == TITLE)
            painter.setFont(font)
            width = painter.fontMetrics().horizontalAdvance(text)
            painter.drawText(QRectF(x, 0, width + 2, self.height()), middle, text)
            x += width + 8
