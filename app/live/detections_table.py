"""The current frame's detections as a table: class (with its colour), score, status, box.

Columns are sized to what they hold — the class column takes the spare width and elides only when the table is
narrower than the longest class name (the full name is in the tooltip) — so "inclusion" is never "incl…".
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.imaging import qcolor_for_class
from grace_core.flagging import FlagDecision

COLUMNS = ("class", "score", "status", "box x1, y1 – x2, y2")
STATUS_COLOR = {"defect": QColor("#d32f2f"), "uncertain": QColor("#b28704")}


class DetectionsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(40)

    def show_decision(self, decision: FlagDecision, class_names: tuple[str, ...]) -> None:
        rows = [(d, "defect") for d in _rows(decision.defects)] + [(d, "uncertain") for d in _rows(decision.uncertain)]
        rows.sort(key=lambda item: -item[0][1])
        self.setRowCount(len(rows))
        for row, ((box, score, class_id), status) in enumerate(rows):
            x1, y1, x2, y2 = (f"{v:.0f}" for v in box)
            values = (class_names[class_id], f"{score:.3f}", status, f"{x1}, {y1} – {x2}, {y2}")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if column == 0:
                    item.setData(Qt.ItemDataRole.DecorationRole, qcolor_for_class(class_id))
                elif column == 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                elif column == 2:
                    item.setForeground(STATUS_COLOR[status])
                self.setItem(row, column, item)

    def row_values(self) -> list[tuple[str, ...]]:
        return [
            tuple(self.item(row, column).text() for column in range(self.columnCount()))
            for row in range(self.rowCount())
        ]


def _rows(detections):
    return [
        (box.tolist(), float(score), int(class_id))
        for box, score, class_id in zip(detections.xyxy, detections.confidence, detections.class_id, strict=True)
    ]
