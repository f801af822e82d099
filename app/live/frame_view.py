"""The live picture: frame, Lite-FEN heatmap overlay and boxes, painted with QPainter, aspect ratio kept."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.imaging import qcolor_for_class
from grace_core.flagging import FlagDecision


@dataclass(frozen=True)
class DrawnBox:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    class_id: int
    uncertain: bool


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
            drawn.append(DrawnBox(float(x1), float(y1), float(x2), float(y2), label, int(class_id), uncertain))
    return drawn


class FrameView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._frame: QImage | None = None
        self._heat: QImage | None = None
        self._boxes: list[DrawnBox] = []
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
    def has_frame(self) -> bool:
        return self._frame is not None

    @property
    def showing_heat(self) -> bool:
        return self._heat is not None and self.heat_visible and self.opacity > 0

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    # -- painting -----------------------------------------------------------------------------------------------

    def target_rect(self) -> QRectF:
        """Where the frame lands in the widget: centred, as large as fits, aspect ratio kept."""
        if self._frame is None:
            return QRectF(self.rect())
        scale = min(self.width() / self._frame.width(), self.height() / self._frame.height())
        w, h = self._frame.width() * scale, self._frame.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        if self._frame is None:
            painter.setPen(QColor(170, 170, 180))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self.target_rect()
        painter.drawImage(target, self._frame)
        if self.showing_heat:
            painter.setOpacity(self.opacity)
            painter.drawImage(target, self._heat)
            painter.setOpacity(1.0)
        self._paint_boxes(painter, target)

    def _paint_boxes(self, painter: QPainter, target: QRectF) -> None:
        sx = target.width() / self._frame.width()
        sy = target.height() / self._frame.height()
        font = QFont(painter.font())
        font.setPointSizeF(max(8.0, min(12.0, target.height() / 40)))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for box in self._boxes:
            color = qcolor_for_class(box.class_id)
            pen = QPen(color, 2, Qt.PenStyle.DashLine if box.uncertain else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            rect = QRectF(
                target.x() + box.x1 * sx, target.y() + box.y1 * sy, (box.x2 - box.x1) * sx, (box.y2 - box.y1) * sy
            )
            painter.drawRect(rect)
            text_w, text_h = metrics.horizontalAdvance(box.label) + 6, metrics.height() + 2
            top = rect.top() - text_h if rect.top() - text_h >= target.top() else rect.top()
            label_rect = QRectF(rect.left(), top, text_w, text_h)
            painter.fillRect(label_rect, color)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, box.label)
