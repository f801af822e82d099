"""The coil entry: the operator types the coil (product) id now on the line and applies it (Apply or Enter); beside
it, the coil in use and how far along it the strip is.

A typed id that is not applied yet is shown in italics, so the field never passes for the coil in use.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QWidget

MAX_COIL_CHARS = 64


class CoilBar(QWidget):
    applied = Signal(str)  # the coil id applied ("" for none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.applied_coil = ""
        title = QLabel("Coil")
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        self.edit = QLineEdit()
        self.edit.setMaxLength(MAX_COIL_CHARS)
        self.edit.setPlaceholderText("coil id")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "The coil (product) id on the line now: Apply (or Enter) marks the start of a new coil. Its defect "
            "events carry it, their positions restart at 0 m, and the coil map starts afresh."
        )
        width = self.edit.fontMetrics().horizontalAdvance("C4711-2024-000000") + 30
        self.edit.setFixedWidth(width)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Use this coil id from now on (Enter does the same)")
        self.position = QLabel("no coil set")
        self.position.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.position.setToolTip(
            "The coil in use, how far along it the strip is, and its defect events so far. Positions are known "
            "for a strip camera, or with a line speed or an encoder; other events are counted but not placed."
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.edit)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.position, 1)
        self.edit.returnPressed.connect(self.apply)
        self.apply_button.clicked.connect(self.apply)
        self.edit.textChanged.connect(self._show_pending)
        self._show_pending()

    def text(self) -> str:
        return self.edit.text().strip()

    def apply(self) -> None:
        """Apply the typed id (also when it is the same: a new coil of the same id, e.g. a re-run, starts at 0)."""
        self.applied_coil = self.text()
        self.edit.setText(self.applied_coil)
        self._show_pending()
        self.applied.emit(self.applied_coil)

    def set_applied(self, coil: str) -> None:
        """A coil applied elsewhere (the plant's system): shown as in use, unless the operator is typing one."""
        typing = self.text() != self.applied_coil
        self.applied_coil = coil
        if not typing:
            self.edit.setText(coil)
        self._show_pending()

    def show_position(self, text: str) -> None:
        self.position.setText(text)

    def _show_pending(self, *_: object) -> None:
        font = QFont(self.edit.font())
        font.setItalic(self.text() != self.applied_coil)
        self.edit.setFont(font)
