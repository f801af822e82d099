"""A collapsible side-panel section: a header button with an arrow and a one-line summary, over its content.

The live tab's side panel holds more than fits at 1400×900; sections the operator rarely changes (the model, the
picture options, the alarm's thresholds) fold away, and the header still says what they are set to.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QSizePolicy, QToolButton, QVBoxLayout, QWidget


class Section(QWidget):
    toggled = Signal(bool)  # expanded

    def __init__(self, title: str, content: QWidget, expanded: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.summary = ""
        self.header = QToolButton()
        self.header.setCheckable(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setAutoRaise(True)
        font = QFont(self.header.font())
        font.setBold(True)
        self.header.setFont(font)
        self.content = content
        self.frame = QFrame()
        self.frame.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(self.frame)
        inner.setContentsMargins(6, 4, 6, 6)
        inner.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.frame)
        self.header.toggled.connect(self._on_toggled)
        self.header.setChecked(expanded)
        self._on_toggled(expanded)

    @property
    def expanded(self) -> bool:
        return self.header.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.header.setChecked(expanded)

    def set_summary(self, summary: str) -> None:
        """What the section is set to, shown in the header while it is folded."""
        self.summary = summary
        self._update_header()

    def _on_toggled(self, expanded: bool) -> None:
        self.frame.setVisible(expanded)
        self._update_header()
        self.toggled.emit(expanded)

    def _update_header(self) -> None:
        expanded = self.header.isChecked()
        self.header.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        text = self.title if expanded or not self.summary else f"{self.title} — {self.summary}"
        self.header.setText(self.header.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, 300))
        self.header.setToolTip(f"{self.title}: click to {'fold' if expanded else 'open'}")
