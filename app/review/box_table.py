"""The boxes of the shown frame, with what confirming it as a defect (D) makes of each: a label or not."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from grace_core.review.labels import BoxLabel

BOX_COLUMNS = ("class", "label", "score", "origin", "x1", "y1", "x2", "y2")


class BoxTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(BOX_COLUMNS), parent)
        self.setHorizontalHeaderLabels(BOX_COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("label: what D (defect) makes of each box; L drops the boxes below their flag threshold")

    def show_plan(self, plan: list[BoxLabel]) -> None:
        self.clearSelection()
        self.setRowCount(len(plan))
        for row, entry in enumerate(plan):
            box = entry.box
            values = (box.class_name, entry.short, f"{box.confidence:.3f}", box.origin, *(f"{v:.0f}" for v in box.xyxy))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if BOX_COLUMNS[column] == "label":
                    item.setToolTip(entry.note)
                self.setItem(row, column, item)

    def selected_row(self) -> int | None:
        rows = {index.row() for index in self.selectionModel().selectedRows()}
        return min(rows) if rows else None
