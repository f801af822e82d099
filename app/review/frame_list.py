"""The flagged frames as a lazily paged table model: newest first, one page (a few hundred rows) at a time, so a
store of 10 000+ frames opens at once and scrolls without loading everything."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from grace_core.store import FrameFilter, ReviewStore
from grace_core.store.records import FrameRecord

PAGE_SIZE = 200
# station: who flagged it (a central store); coil: the coil on the line then, and how far along it
COLUMNS = ("time", "source", "station", "coil", "status", "classes", "verdict")
VERDICT_TEXT = {None: "–", "defect": "defect", "false_alarm": "false alarm", "unsure": "unsure"}

Index = QModelIndex | QPersistentModelIndex


def coil_place(record: FrameRecord) -> str:
    """``C4711 @ 12.3 m``: the coil and the metres of it passed when the frame was flagged ('' when no coil was
    known; the coil alone when nothing measured the strip)."""
    if not record.coil:
        return ""
    return record.coil if record.coil_m is None else f"{record.coil} @ {record.coil_m:.1f} m"


class FrameListModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: ReviewStore | None = None
        self.where = FrameFilter()
        self.total = 0
        self._rows: list[FrameRecord] = []
        self._classes: dict[int, str] = {}  # frame id → "crazing, patches" (read when first shown)

    def reset(self, store: ReviewStore | None, where: FrameFilter) -> None:
        self.beginResetModel()
        self.store, self.where = store, where
        self._rows, self._classes = [], {}
        self.total = store.count(where) if store is not None else 0
        if store is not None:
            self._rows = store.list_frames(where, limit=PAGE_SIZE, offset=0)
        self.endResetModel()

    def record(self, row: int) -> FrameRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, frame_id: int) -> int | None:
        return next((i for i, record in enumerate(self._rows) if record.id == frame_id), None)

    def locate(self, frame_id: int) -> int | None:
        """The frame's row, loading the pages down to it if it lies past those loaded; None if it is not listed."""
        row = self.row_of(frame_id)
        if row is not None or self.store is None:
            return row
        position = self.store.position(frame_id, self.where)
        if position is None or position < len(self._rows):
            return None
        self._load(position + 1 - len(self._rows))
        return self.row_of(frame_id)

    def _load(self, count: int) -> None:
        """Append the next ``count`` rows, rounded up to whole pages (one query)."""
        assert self.store is not None
        limit = -(-count // PAGE_SIZE) * PAGE_SIZE
        page = self.store.list_frames(self.where, limit=limit, offset=len(self._rows))
        if not page:
            self.total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()

    def refresh_row(self, row: int) -> None:
        """Re-read one frame after a change (verdict, boxes)."""
        record = self.record(row)
        if record is None or self.store is None:
            return
        self._rows[row] = self.store.frame(record.id)
        self._classes.pop(record.id, None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # -- Qt model -------------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self._rows) < self.total

    def fetchMore(self, parent: Index) -> None:
        if self.store is not None and not parent.isValid():
            self._load(PAGE_SIZE)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        record = self.record(index.row())
        if record is None:
            return None
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text: columns are cut to fit the list's width
            return self._tooltip(record, column)
        return None

    def _text(self, record: FrameRecord, column: str) -> str:
        if column == "time":
            return time.strftime("%m-%d %H:%M:%S", time.localtime(record.captured_at))
        if column == "source":
            return record.source_id
        if column == "station":
            return record.station
        if column == "coil":
            return coil_place(record)
        if column == "status":
            return record.status
        if column == "classes":
            return self._class_text(record.id)
        return VERDICT_TEXT.get(record.verdict, str(record.verdict))

    def _tooltip(self, record: FrameRecord, column: str) -> str:
        if column == "time":
            return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(record.captured_at))
        if column == "verdict" and record.comment:
            return f"{self._text(record, column)}: {record.comment}"
        return self._text(record, column)

    def _class_text(self, frame_id: int) -> str:
        if frame_id not in self._classes and self.store is not None:
            names = sorted({box.class_name for box in self.store.detections(frame_id)})
            self._classes[frame_id] = ", ".join(names)
        return self._classes.get(frame_id, "")
