"""The picture: frame, Lite-FEN heatmap overlay and boxes, painted with QPainter, aspect ratio kept.

The base of the live view (:mod:`app.live.live_view`) and of the review tab's view, so that a flagged frame is
reviewed exactly as the operator saw it. ``target_rect()`` is where the frame lands (here: fitted to the widget;
zooming subclasses override it); everything is painted through it, so boxes stay in source pixels.

How boxes read at a glance:

* a **defect** is a solid 2 px box in its class colour with its label on a filled tag;
* an **uncertain** detection is a thin, dashed, half-transparent box whose label ends in "?" and sits on a hollow
  tag (a dark see-through fill with a class-coloured outline and text): it differs by weight, opacity, line and
  tag, not by the dash alone;
* labels never overlap (:mod:`app.live.label_placement`): defects and stronger scores are placed first; a label
  with no free place is left out, its box is still drawn.

The heatmap may be smaller than the frame (sliced frames have a bounded map): it is stretched over the same
target. Only the visible part of a (large, zoomed) image is sampled when painting.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.imaging import HEAT_MAX_OPACITY, qcolor_for_class
from app.live.label_placement import Rect, place_labels
from grace_core.flagging import FlagDecision

DEFECT_PEN = 2.0
UNCERTAIN_PEN = 1.2
UNCERTAIN_ALPHA = 170  # of 255: an uncertain box is drawn half see-through
HOLLOW_TAG = QColor(0, 0, 0, 150)


@dataclass(frozen=True)
class DrawnBox:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    class_id: int
    uncertain: bool
    score: float = 0.0  # orders label placement: stronger first

    @property
    def priority(self) -> tuple[int, float]:
        """Sort key, most important first: defects before uncertain ones, then by falling score."""
        return (int(self.uncertain), -self.score)


def boxes_for(decision: FlagDecision, class_names: tuple[str, ...]) -> list[DrawnBox]:
    """What to draw for a decision: defects solid, uncertain ones dashed with a question mark. Uncertain boxes come
    first, so defects and their labels are painted on top."""
    drawn = []
    for detections, uncertain in ((decision.uncertain, True), (decision.defects, False)):
        for (x1, y1, x2, y2), score, class_id in zip(
            detections.xyxy, detections.confidence, detections.class_id, strict=True
        ):
            name = class_names[int(class_id)]
            label = f"{name} {score:.2f}" + (" ?" if uncertain else "")
            drawn.append(
                DrawnBox(float(x1), float(y1), float(x2), float(y2), label, int(class_id), uncertain, float(score))
            )
    return drawn


class FrameView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._frame: QImage | None = None
        self._heat: QImage | None = None
        self._boxes: list[DrawnBox] = []
        self._labels: list[tuple[DrawnBox, QRectF | None]] = []  # where the last paint put each label
        self.heat_visible = True
        self.opacity = 0.6
        self.placeholder = "No picture yet"

    # -- state --------------------------------------------------------------------------------------------------

    def show_frame(self, frame: QImage, heat: QImage | None) -> None:
        self._frame, self._heat = frame, heat
        self.update()

    def set_boxes(self, boxes: list[DrawnBox]) -> None:
        self._boxes = boxes
        self.update()

    def clear(self, placeholder: str) -> None:
        self._frame, self._heat, self._boxes = None, None, []
        self.placeholder = placeholder
        self.update()

    def set_heat_visible(self, visible: bool) -> None:
        self.heat_visible = visible
        self.update()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(max(opacity, 0.0), 1.0)
        self.update()

    @property
    def boxes(self) -> list[DrawnBox]:
        return list(self._boxes)

    @property
    def placed_labels(self) -> list[tuple[DrawnBox, QRectF | None]]:
        """Each box with the widget rectangle its label was painted in (None: no room, left out), as last painted."""
        return list(self._labels)

    @property
    def has_frame(self) -> bool:
        return self._frame is not None

    @property
    def frame_size(self) -> QSize | None:
        return self._frame.size() if self._frame is not None else None

    @property
    def showing_heat(self) -> bool:
        return self._heat is not None and self.heat_visible and self.opacity > 0

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    # -- geometry -----------------------------------------------------------------------------------------------

    def fit_rect(self) -> QRectF:
        """The frame centred in the widget, as large as fits, aspect ratio kept (the whole widget when empty)."""
        if self._frame is None:
            return QRectF(self.rect())
        scale = min(self.width() / self._frame.width(), self.height() / self._frame.height())
        w, h = self._frame.width() * scale, self._frame.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def target_rect(self) -> QRectF:
        """Where the frame lands in the widget (fitted here; zooming views override this)."""
        return self.fit_rect()

    def to_widget_rect(self, x1: float, y1: float, x2: float, y2: float, target: QRectF | None = None) -> QRectF:
        """A rectangle in source pixels → widget coordinates."""
        target = target if target is not None else self.target_rect()
        sx = target.width() / self._frame.width()
        sy = target.height() / self._frame.height()
        return QRectF(target.x() + x1 * sx, target.y() + y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy)

    # -- painting -----------------------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        if self._frame is None:
            self._labels = []
            painter.setPen(QColor(170, 170, 180))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self.target_rect()
        self._draw_image(painter, self._frame, target)
        if self.showing_heat:
            painter.setOpacity(self.opacity * HEAT_MAX_OPACITY)
            self._draw_image(painter, self._heat, target)
            painter.setOpacity(1.0)
        self._paint_under_boxes(painter, target)
        self._paint_boxes(painter, target)

    def _draw_image(self, painter: QPainter, image: QImage, target: QRectF) -> None:
        """Draw ``image`` stretched over ``target``, sampling only the part inside the widget."""
        visible = target.intersected(QRectF(self.rect()))
        if visible.isEmpty() or target.width() <= 0 or target.height() <= 0:
            return
        sx, sy = image.width() / target.width(), image.height() / target.height()
        left, top = (visible.x() - target.x()) * sx, (visible.y() - target.y()) * sy
        source = QRectF(left, top, visible.width() * sx, visible.height() * sy)
        painter.drawImage(visible, image, source)

    def _paint_under_boxes(self, painter: QPainter, target: QRectF) -> None:
        """Overlays between the heatmap and the boxes (the live view's tile grid and attention marks)."""

    def _paint_boxes(self, painter: QPainter, target: QRectF) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(max(8.0, min(11.0, target.height() / 40)))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        rects = [self.to_widget_rect(b.x1, b.y1, b.x2, b.y2, target) for b in self._boxes]
        order = sorted(range(len(self._boxes)), key=lambda i: self._boxes[i].priority)
        visible = target.intersected(QRectF(self.rect()))
        spots = place_labels(
            [_rect(rects[i]) for i in order],
            [(metrics.horizontalAdvance(self._boxes[i].label) + 8, metrics.height() + 2) for i in order],
            _rect(visible),
        )
        label_at: dict[int, QRectF | None] = {
            i: (QRectF(s.x, s.y, s.w, s.h) if s is not None else None) for i, s in zip(order, spots, strict=True)
        }
        for box, rect in zip(self._boxes, rects, strict=True):  # uncertain ones come first: defects paint on top
            color = qcolor_for_class(box.class_id)
            if box.uncertain:
                color.setAlpha(UNCERTAIN_ALPHA)
                pen = QPen(color, UNCERTAIN_PEN, Qt.PenStyle.DashLine)
            else:
                pen = QPen(color, DEFECT_PEN, Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        for i, box in enumerate(self._boxes):
            spot = label_at[i]
            if spot is not None:
                _paint_label(painter, box, spot)
        self._labels = [(box, label_at[i]) for i, box in enumerate(self._boxes)]


def _paint_label(painter: QPainter, box: DrawnBox, spot: QRectF) -> None:
    color = qcolor_for_class(box.class_id)
    if box.uncertain:  # hollow tag: the text in the class colour on a dark see-through fill, outlined
        painter.fillRect(spot, HOLLOW_TAG)
        painter.setPen(QPen(color, 1.0))
        painter.drawRect(spot.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.setPen(color)
    else:
        painter.fillRect(spot, color)
        painter.setPen(QColor(0, 0, 0))
    painter.drawText(spot, Qt.AlignmentFlag.AlignCenter, box.label)


def _rect(rect: QRectF) -> Rect:
    return Rect(rect.x(), rect.y(), rect.width(), rect.height())
