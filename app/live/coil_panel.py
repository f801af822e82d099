"""Below the picture: one row with the coil entry (:mod:`app.live.coil_bar`) and the golden-check status
(:mod:`app.live.golden_status`), over the live coil map (:mod:`app.live.coil_map_view`)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.live.coil_bar import CoilBar
from app.live.coil_map_view import CoilMapView
from app.live.golden_status import GoldenStatus


class CoilPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = CoilBar()
        self.golden = GoldenStatus()
        self.map_view = CoilMapView()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 3)
        row.addWidget(self.golden, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.map_view, 1)
