"""A frame view that zooms and pans: wheel zooms about the cursor, a drag pans, a double-click fits the frame.

Made for the whole of a large camera frame (4096×2048, 8192×1024 strips inspected by slicing): fitted, a defect
is a few screen pixels; zoomed, every source pixel can be seen. The zoom goes up to ``PIXEL_ZOOM`` screen pixels
per source pixel (at least ``MAX_ZOOM`` × the fitted size). The picture cannot be dragged out of the widget: a
zoomed frame always covers the widget along the axes where it is larger than it, and stays centred along the
others. A new frame of the same size keeps the zoom and pan (a live picture can be watched at one spot); a frame
of another size is fitted.

Boxes, tiles and marks are in source pixels and go through :meth:`target_rect`, so they follow the zoom. The
review tab's view (``app/review/review_view.py``) implements the same gestures on its own; it can become a
subclass of this one (keeping only its draw mode).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QWidget

from app.live.frame_view import FrameView

MAX_ZOOM = 16.0  # times the fitted size, at least
PIXEL_ZOOM = 8.0  # screen pixels per source pixel the zoom may reach, for frames much larger than the widget
WHEEL_STEP = 1.25  # zoom factor per wheel notch
PAN_BUTTONS = (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton)


class ZoomableFrameView(FrameView):
    view_changed = Signal()  # zoom or pan changed (by the operator or a new frame size)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zoom = 1.0
        self.pan = QPointF(0.0, 0.0)  # offset of the frame's centre from the fitted centre, in widget pixels
        self._pan_from: tuple[QPointF, QPointF] | None = None

    # -- state --------------------------------------------------------------------------------------------------

    def show_frame(self, frame: QImage, heat: QImage | None) -> None:
        if self._frame is not None and frame.size() != self._frame.size():
            self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
            self.view_changed.emit()
        super().show_frame(frame, heat)

    def clear(self, placeholder: str) -> None:
        self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
        super().clear(placeholder)

    @property
    def fitted(self) -> bool:
        return self.zoom == 1.0

    def max_zoom(self) -> float:
        """Up to ``PIXEL_ZOOM`` screen pixels per source pixel, and at least ``MAX_ZOOM`` × the fitted size."""
        if self._frame is None:
            return MAX_ZOOM
        fitted_scale = self.fit_rect().width() / self._frame.width()
        return max(MAX_ZOOM, PIXEL_ZOOM / max(fitted_scale, 1e-9))

    def reset_view(self) -> None:
        """The whole frame, fitted (double-click)."""
        self.zoom, self.pan = 1.0, QPointF(0.0, 0.0)
        self.view_changed.emit()
        self.update()

    def target_rect(self) -> QRectF:
        fitted = self.fit_rect()
        if self._frame is None or self.fitted:
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
        """Zoom by ``factor`` keeping the image point under ``widget_point`` where it is (as far as the edges
        allow)."""
        if self._frame is None:
            return
        new_zoom = min(max(self.zoom * factor, 1.0), self.max_zoom())
        factor = new_zoom / self.zoom
        centre = self.fit_rect().center() + self.pan
        self.pan += (centre - widget_point) * (factor - 1.0)
        self.zoom = new_zoom
        self._settle()

    def pan_by(self, delta: QPointF) -> None:
        self.pan += delta
        self._settle()

    def _settle(self) -> None:
        """Keep the frame on screen (see the module doc), then repaint."""
        if self.fitted:
            self.pan = QPointF(0.0, 0.0)
        else:
            target = self.target_rect()
            dx = _clamp_shift(target.left(), target.right(), 0.0, float(self.width()))
            dy = _clamp_shift(target.top(), target.bottom(), 0.0, float(self.height()))
            self.pan += QPointF(dx, dy)
            if target.width() <= self.width():  # narrower than the widget: centred along x
                self.pan.setX(0.0)
            if target.height() <= self.height():
                self.pan.setY(0.0)
        self.view_changed.emit()
        self.update()

    # -- events -------------------------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(event.position(), WHEEL_STEP**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._frame is not None and event.button() in PAN_BUTTONS:
            self._pan_from = (event.position(), QPointF(self.pan))
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            start, pan = self._pan_from
            self.pan = QPointF(pan)
            self.pan_by(event.position() - start)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._pan_from = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.reset_view()


def _clamp_shift(low: float, high: float, edge_low: float, edge_high: float) -> float:
    """How far to move an extent [low, high], longer than [edge_low, edge_high], so that it covers it; 0 when it
    already does or is shorter (the caller centres a shorter one)."""
    if high - low <= edge_high - edge_low:
        return 0.0
    if low > edge_low:
        return edge_low - low
    if high < edge_high:
        return edge_high - high
    return 0.0
