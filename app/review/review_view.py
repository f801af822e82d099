"""The review picture: the live tab's frame view plus zoom (wheel), pan (right-drag) and drawing a missed box
(left-drag in draw mode). Box coordinates go in and out in source pixels."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.live.frame_view import FrameView

MAX_ZOOM = 16.0
MIN_BOX_PIXELS = 3.0  # a drag smaller than this (in source pixels) is a click, not a box


class ReviewView(FrameView):
    box_drawn = Signal(float, float, float, float)  # x1, y1, x2, y2 in source pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zoom = 1.0
        self.pan = QPointF(0.0, 0.0)
        self.draw_mode = False
        self._drag_start: QPointF | None = None
        self._drag_now: QPointF | None = None
        self._pan_from: tuple[QPointF, QPointF] | None = None
        self.setMouseTracking(False)

    def reset_view(self) -> None:
        self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
        self.update()

    def set_draw_mode(self, on: bool) -> None:
        self.draw_mode = on
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def target_rect(self) -> QRectF:
        fitted = super().target_rect()
        if self._frame is None:
            return fitted
        w, h = fitted.width() * self.zoom, fitted.height() * self.zoom
        centre = fitted.center() + self.pan
        return QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)

    def to_image(self, point: QPointF) -> QPointF:
        """A widget position in source pixels (clamped to the image)."""
        target = self.target_rect()
        x = (point.x() - target.x()) / target.width() * self._frame.width()
        y = (point.y() - target.y()) / target.height() * self._frame.height()
        return QPointF(min(max(x, 0.0), self._frame.width()), min(max(y, 0.0), self._frame.height()))

    def zoom_at(self, widget_point: QPointF, factor: float) -> None:
        """Zoom by ``factor`` keeping the image point under ``widget_point`` where it is."""
        if self._frame is None:
            return
        new_zoom = min(max(self.zoom * factor, 1.0), MAX_ZOOM)
        factor = new_zoom / self.zoom
        centre = super().target_rect().center() + self.pan
        self.pan += (centre - widget_point) * (factor - 1.0)
        self.zoom = new_zoom
        if self.zoom == 1.0:
            self.pan = QPointF(0.0, 0.0)
        self.update()

    # -- events -------------------------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(event.position(), 1.25**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._frame is None:
            return
        if event.button() == Qt.MouseButton.LeftButton and self.draw_mode:
            self._drag_start = self._drag_now = event.position()
        elif event.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            self._pan_from = (event.position(), QPointF(self.pan))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is not None:
            self._drag_now = event.position()
            self.update()
        elif self._pan_from is not None:
            start, pan = self._pan_from
            self.pan = pan + (event.position() - start)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is not None and event.button() == Qt.MouseButton.LeftButton:
            a, b = self.to_image(self._drag_start), self.to_image(event.position())
            self._drag_start = self._drag_now = None
            self.update()
            x1, x2 = sorted((a.x(), b.x()))
            y1, y2 = sorted((a.y(), b.y()))
            if x2 - x1 >= MIN_BOX_PIXELS and y2 - y1 >= MIN_BOX_PIXELS:
                self.box_drawn.emit(x1, y1, x2, y2)
        self._pan_from = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.reset_view()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._drag_start is not None and self._drag_now is not None:
            painter = QPainter(self)
            painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            painter.drawRect(QRectF(self._drag_start, self._drag_now).normalized())
