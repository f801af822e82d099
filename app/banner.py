"""A full-width message strip (error, warning, info) that every tab uses the same way."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

_LEVEL_STYLE = {
    "error": "background:#b3261e;color:white;",
    "warning": "background:#f2b705;color:black;",
    "info": "background:#2a5d9f;color:white;",
}


class Banner(QLabel):
    """A full-width strip above the picture; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.level: str | None = None
        self.hide()

    def show_message(self, level: str, text: str) -> None:
        self.level = level
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ {_LEVEL_STYLE[level]} padding:6px; font-weight:bold; }}")
        self.show()

    def clear_message(self) -> None:
        self.level = None
        self.setText("")
        self.hide()
