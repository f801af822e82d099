"""Colour legend of the heatmap on the model's fixed scale (the same colour means the same attention on every
frame: the scale is calibrated per model, never stretched per image)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from app.imaging import legend_qimage
from grace_core.render import DEFAULT_HEAT_RANGE


class HeatLegend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ramp = legend_qimage()
        self.heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE
        self.available = True
        self.setMinimumHeight(110)
        self._update_tooltip()

    def set_range(self, heat_range: tuple[float, float], available: bool = True) -> None:
        self.heat_range, self.available = heat_range, available
        self._update_tooltip()
        self.update()

    def labels(self) -> tuple[str, str]:
        low, high = self.heat_range
        return f"{high:.4g}  strong attention", f"{low:.4g}  none (transparent)"

    def _update_tooltip(self) -> None:
        low, high = self.heat_range
        self.setToolTip(
            "Lite-FEN spatial attention at P3, on this model's fixed scale "
            f"[{low:.4g}, {high:.4g}]: values at or below {low:.4g} are not drawn; the scale never changes per frame."
        )

    def sizeHint(self) -> QSize:
        return QSize(200, 120)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if not self.available:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "This model has no Lite-FEN heatmap")
            return
        bar = QRectF(4, 6, 16, self.height() - 12)
        painter.drawImage(bar, self._ramp)
        painter.setPen(self.palette().text().color())
        painter.drawRect(bar)
        top, bottom = self.labels()
        painter.drawText(QRectF(26, 0, self.width() - 26, 20), Qt.AlignmentFlag.AlignLeft, top)
        painter.drawText(QRectF(26, self.height() - 20, self.width() - 26, 20), Qt.AlignmentFlag.AlignLeft, bottom)
        painter.drawText(
            QRectF(26, 0, self.width() - 26, self.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            "Lite-FEN attention\n(fixed scale)",
        )
