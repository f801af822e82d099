"""The live picture: the zoomable frame view plus the tile grid of a sliced frame and marks on strong attention
that no box explains.

* **Tiles** ("Show tiles"): the overlapping grid a large frame was cut into for inspection
  (``Prediction.tiles``), as thin see-through outlines — where one tile ends and the next begins is where a defect
  may have been cut in two.
* **Attention marks**: a small dotted corner bracket around each strong Lite-FEN region without a box
  (:mod:`app.live.attention`): subtle on purpose — the model looked hard there but reported nothing above the
  thresholds, which an operator may want to glance at.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.live.attention import Box
from app.live.zoom_view import ZoomableFrameView

TILE_COLOR = QColor(255, 255, 255, 90)
MARK_COLOR = QColor(255, 255, 255, 200)
MARK_CORNER = 0.3  # of the mark's shorter side: the length of each corner bracket


class LiveView(ZoomableFrameView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: tuple[Box, ...] = ()
        self._marks: list[Box] = []
        self.show_tiles = False

    def set_tiles(self, tiles: Sequence[object]) -> None:
        """The sliced frame's grid (``Tile`` objects with x0, y0, x1, y1); empty for a frame inspected whole."""
        self._tiles = tuple((float(t.x0), float(t.y0), float(t.x1), float(t.y1)) for t in tiles)
        self.update()

    def set_show_tiles(self, show: bool) -> None:
        self.show_tiles = show
        self.update()

    def set_marks(self, marks: Sequence[Box]) -> None:
        self._marks = list(marks)
        self.update()

    @property
    def tiles(self) -> tuple[Box, ...]:
        return self._tiles

    @property
    def marks(self) -> list[Box]:
        return list(self._marks)

    @property
    def drawing_tiles(self) -> bool:
        return self.show_tiles and bool(self._tiles) and self.has_frame

    def clear(self, placeholder: str) -> None:
        self._tiles, self._marks = (), []
        super().clear(placeholder)

    def _paint_under_boxes(self, painter: QPainter, target: QRectF) -> None:
        if self.drawing_tiles:
            pen = QPen(TILE_COLOR, 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for tile in self._tiles:
                painter.drawRect(self.to_widget_rect(*tile, target))
        if self._marks:
            pen = QPen(MARK_COLOR, 1.5, Qt.PenStyle.DotLine)
            painter.setPen(pen)
            for mark in self._marks:
                _corner_brackets(painter, self.to_widget_rect(*mark, target))


def _corner_brackets(painter: QPainter, rect: QRectF) -> None:
    """Four L-shaped corners of ``rect`` (a hint, lighter than a box)."""
    arm = max(4.0, MARK_CORNER * min(rect.width(), rect.height()))
    for corner, dx, dy in (
        (rect.topLeft(), 1, 1),
        (rect.topRight(), -1, 1),
        (rect.bottomLeft(), 1, -1),
        (rect.bottomRight(), -1, -1),
    ):
        painter.drawLine(corner, corner + QPointF(dx * arm, 0))
        painter.drawLine(corner, corner + QPointF(0, dy * arm))
