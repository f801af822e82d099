"""The current frame's detections as a table."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from grace_core.flagging import FlagDecision

COLUMNS = ("class", "score", "status", "x1", "y1", "x2", "y2")


class DetectionsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def show_decision(self, decision: FlagDecision, class_names: tuple[str, ...]) -> None:
        rows = [(d, "defect") for d in _rows(decision.defects)] + [(d, "uncertain") for d in _rows(decision.uncertain)]
        rows.sort(key=lambda item: -item[0][1])
        self.setRowCount(len(rows))
        for row, ((box, score, class_id), status) in enumerate(rows):
            values = (class_names[class_id], f"{score:.3f}", status, *(f"{v:.0f}" for v in box))
            for column, value in enumerate(values):
                self.setItem(row, column, QTableWidgetItem(value))

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
