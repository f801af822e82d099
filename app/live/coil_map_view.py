"""The live coil map: the current coil's defect events at (metres along, millimetres across), in the app's class
colours (filled: defect, hollow: only uncertain), over a per-metre density strip, with the line's position and the
turns of any roll mark found. It grows as the strip runs: the whole coil so far always fits the width.

Cheap by design: the tab hands it the :class:`~app.live.coil_track.CoilTrack` as often as frames arrive; the map
(:func:`grace_core.coil_report.build_coil_map`) is rebuilt and repainted at most every ``REPAINT_MS``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.imaging import qcolor_for_class
from app.live.coil_track import CoilTrack
from grace_core.coil_report import CoilDefect, CoilMap
from grace_core.rollmarks import RollMark

REPAINT_MS = 500
DENSITY_BIN_M = 1.0  # events per metre; on a long coil a bin spans several metres (at least DENSITY_BIN_PX wide)
DENSITY_BIN_PX = 3.0
LEFT, RIGHT, TOP, BOTTOM = 62, 10, 4, 16  # margins: axis labels left and below
DENSITY_H = 18  # the density strip's height
UNKNOWN_ACROSS_H = 10  # the band above the map for events whose position across is unknown
DOT_R = 3.0
HIT_PX = 6.0  # a tooltip names a dot within this many pixels of the pointer


def nice_step(span: float, pixels: float, min_px: float = 70.0) -> float:
    """A tick step of 1, 2 or 5 × 10^k covering ``span`` with ticks at least ``min_px`` apart."""
    if span <= 0 or pixels <= 0:
        return 1.0
    raw = span * min_px / pixels
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


class CoilMapView(QWidget):
    """See the module doc. ``show_track`` as often as wanted; ``flush`` repaints now (tests, screenshots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(TOP + UNKNOWN_ACROSS_H + 30 + DENSITY_H + BOTTOM)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.coil_map: CoilMap | None = None
        self.position_m: float | None = None
        self.marks: tuple[RollMark, ...] = ()
        self.repaints = 0  # how often the map was rebuilt (tests check the throttle)
        self._track: CoilTrack | None = None
        self._names: tuple[str, ...] = ()
        self._class_ids: dict[str, int] = {}
        self._timer = QTimer(self, singleShot=True, interval=REPAINT_MS, timeout=self.flush)
        self.setToolTip(
            "The current coil's defects: metres along (→) × mm across (↓); filled dot: defect, ring: uncertain. "
            "Below: events per metre. The line marks where the strip is now; ▼ marks the turns of a roll mark."
        )

    # -- data ----------------------------------------------------------------------------------------------------

    def show_track(self, track: CoilTrack, class_names: Sequence[str], marks: Sequence[RollMark] = ()) -> None:
        """The coil to show; drawn within ``REPAINT_MS`` (several calls in that time are one repaint)."""
        self._track, self._names = track, tuple(class_names)
        self._class_ids = {name: i for i, name in enumerate(self._names)}
        self.marks = tuple(m for m in marks if m.coil == track.coil)
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        self._timer.stop()
        self._track, self.coil_map, self.position_m, self.marks = None, None, None, ()
        self.update()

    def flush(self) -> None:
        """Rebuild the map from the track and repaint now."""
        self._timer.stop()
        track = self._track
        if track is None:
            return
        self.coil_map = track.coil_map(self._names or None)
        self.position_m = track.position_m
        self.repaints += 1
        self.update()

    # -- geometry ------------------------------------------------------------------------------------------------

    def _length_m(self) -> float:
        length = self.coil_map.length_m if self.coil_map is not None else 0.0
        return max(length, self.position_m or 0.0, 1.0)

    def _width_mm(self) -> float:
        width = self.coil_map.width_mm if self.coil_map is not None else None
        return max(100.0, math.ceil((width or 0.0) / 100.0) * 100.0)

    def _areas(self) -> tuple[QRectF, QRectF, QRectF]:
        """(unknown-across band, map, density strip)."""
        width = max(10.0, self.width() - LEFT - RIGHT)
        band = QRectF(LEFT, TOP, width, UNKNOWN_ACROSS_H)
        map_top = band.bottom() + 2
        map_h = max(10.0, self.height() - map_top - DENSITY_H - BOTTOM - 4)
        plot = QRectF(LEFT, map_top, width, map_h)
        density = QRectF(LEFT, plot.bottom() + 4, width, DENSITY_H)
        return band, plot, density

    def _point(self, defect: CoilDefect, band: QRectF, plot: QRectF) -> QPointF:
        x = plot.left() + defect.coil_m / self._length_m() * plot.width()
        if defect.across_mm is None:
            return QPointF(x, band.center().y())
        return QPointF(x, plot.top() + min(defect.across_mm / self._width_mm(), 1.0) * plot.height())

    def _color(self, defect: CoilDefect) -> QColor:
        return qcolor_for_class(self._class_ids.get(defect.class_name, defect.class_id))

    # -- painting ------------------------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.windowText().color()
        band, plot, density = self._areas()
        painter.fillRect(plot, QColor(60, 62, 66))  # the strip: steel grey in either theme
        if self.coil_map is None or not (self.coil_map.defects or self.coil_map.unplaced or self.position_m):
            painter.setPen(QColor(200, 200, 205))
            painter.drawText(
                plot, Qt.AlignmentFlag.AlignCenter, "No defect on this coil yet: events appear here as the strip runs"
            )
            painter.end()
            return
        self._draw_axes(painter, plot, density, text)
        self._draw_density(painter, density, text)
        self._draw_position(painter, band, density)
        self._draw_marks(painter, band, plot)
        self._draw_dots(painter, band, plot)
        painter.end()

    def _draw_axes(self, painter: QPainter, plot: QRectF, density: QRectF, text: QColor) -> None:
        painter.setPen(text)
        metrics = painter.fontMetrics()
        length, width = self._length_m(), self._width_mm()
        step = nice_step(length, plot.width())
        grid = QPen(QColor(255, 255, 255, 40))
        x_m = 0.0
        while x_m <= length + 1e-9:
            x = plot.left() + x_m / length * plot.width()
            painter.setPen(grid)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.setPen(text)
            label = f"{x_m:g} m"
            wide = metrics.horizontalAdvance(label)
            left = min(x - wide / 2, self.width() - RIGHT - wide)
            painter.drawText(QPointF(max(LEFT, left), density.bottom() + metrics.ascent() + 1), label)
            x_m += step
        painter.drawText(
            QRectF(0, plot.top(), LEFT - 4, metrics.height()), Qt.AlignmentFlag.AlignRight, "0 mm"
        )  # fmt: skip
        painter.drawText(
            QRectF(0, plot.bottom() - metrics.height(), LEFT - 4, metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            f"{width:g} mm",
        )
        painter.drawText(QRectF(0, density.top(), LEFT - 4, density.height()), Qt.AlignmentFlag.AlignRight, "per m")

    def _draw_density(self, painter: QPainter, area: QRectF, text: QColor) -> None:
        coil_map = self.coil_map
        if coil_map is None or not coil_map.defects:
            return
        length = self._length_m()
        bin_m = max(DENSITY_BIN_M, nice_step(length, area.width(), DENSITY_BIN_PX))
        per_m = [count / bin_m for count in coil_map.density(bin_m).total]
        top = max(per_m) or 1.0
        painter.setPen(Qt.PenStyle.NoPen)
        for index, value in enumerate(per_m):
            if not value:
                continue
            x0 = area.left() + index * bin_m / length * area.width()
            x1 = area.left() + min((index + 1) * bin_m, length) / length * area.width()
            h = max(2.0, value / top * area.height())
            shade = int(120 + 135 * value / top)
            painter.fillRect(QRectF(x0, area.bottom() - h, max(1.0, x1 - x0 - 1), h), QColor(shade, 70, 50))
        painter.setPen(text)
        painter.drawText(
            QRectF(area.right() - 160, area.top() - 1, 158, area.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            f"max {top:.3g} events/m" + (f" (per {bin_m:g} m)" if bin_m > DENSITY_BIN_M else ""),
        )

    def _draw_position(self, painter: QPainter, band: QRectF, density: QRectF) -> None:
        if self.position_m is None:
            return
        x = band.left() + self.position_m / self._length_m() * band.width()
        painter.setPen(QPen(QColor(90, 200, 255), 1.5))
        painter.drawLine(QPointF(x, band.top()), QPointF(x, density.bottom()))

    def _draw_marks(self, painter: QPainter, band: QRectF, plot: QRectF) -> None:
        for mark in self.marks:
            color = qcolor_for_class(self._class_ids.get(mark.class_name, mark.class_id or 0))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            for position in mark.positions:
                x = plot.left() + position / self._length_m() * plot.width()
                triangle = QPainterPath()
                triangle.moveTo(x - 4, band.top())
                triangle.lineTo(x + 4, band.top())
                triangle.lineTo(x, band.top() + 7)
                triangle.closeSubpath()
                painter.drawPath(triangle)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_dots(self, painter: QPainter, band: QRectF, plot: QRectF) -> None:
        if self.coil_map is None:
            return
        for defect in self.coil_map.defects:
            color = self._color(defect)
            centre = self._point(defect, band, plot)
            if defect.status == "defect":
                painter.setPen(QPen(QColor(0, 0, 0, 160), 0.8))
                painter.setBrush(color)
            else:
                painter.setPen(QPen(color, 1.4))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, DOT_R, DOT_R)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    # -- hover ---------------------------------------------------------------------------------------------------

    def defect_at(self, pos: QPointF) -> CoilDefect | None:
        """The dot under the pointer (the nearest within ``HIT_PX``), if any."""
        if self.coil_map is None:
            return None
        band, plot, _ = self._areas()
        best, best_d = None, HIT_PX
        for defect in self.coil_map.defects:
            point = self._point(defect, band, plot)
            distance = math.hypot(point.x() - pos.x(), point.y() - pos.y())
            if distance <= best_d:
                best, best_d = defect, distance
        return best

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            defect = self.defect_at(QPointF(event.pos()))
            if defect is not None:
                across = "across unknown" if defect.across_mm is None else f"{defect.across_mm:.0f} mm across"
                what = f"{defect.class_name} ({defect.status}, {defect.confidence:.2f})"
                QToolTip.showText(event.globalPos(), f"{what} at {defect.coil_m:.2f} m, {across}", self)
                return True
        return super().event(event)
