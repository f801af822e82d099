"""Help → About and Help → Keyboard shortcuts: what is running, under which licence, and the keys."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from grace_core import __version__

LICENCE = "AGPL-3.0-or-later"
SHORTCUTS = (
    ("Space", "pause / resume inspection (live tab)"),
    ("F5", "start / restart inspection (live tab)"),
    ("F8", "acknowledge the alarm"),
    ("Ctrl+M", "mute / unmute the alarm's sound"),
    ("F11", "full screen on / off"),
    ("Ctrl+0", "fit the whole frame (or double-click the picture)"),
    ("Wheel · drag", "zoom about the pointer · move the picture"),
    ("Ctrl+Q", "quit"),
    ("D F U · N P · H B L", "review tab: verdicts · next / previous unreviewed · heatmap, box, drop low scores"),
)


def about_text(model: str | None) -> str:
    return (
        f"<h3>GRACE Inspect {__version__}</h3>"
        "<p>Live surface-defect inspection for steel strip: YOLO11 with Lite-FEN attention and DS-CBSM++ sampling "
        "(Chen et al., <i>Sci Rep</i> 16, 5676, 2026).</p>"
        f"<p><b>Model in use:</b> {model or 'none (not inspecting)'}</p>"
        f"<p><b>Licence:</b> {LICENCE} — you may use, study, share and change it; if you offer it to others, over "
        "a network included, you must offer them its source under the same licence. No warranty.</p>"
    )


def shortcuts_text() -> str:
    rows = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;{what}</td></tr>" for keys, what in SHORTCUTS)
    return f"<table>{rows}</table>"


def open_message(parent: QWidget, title: str, html: str) -> QMessageBox:
    """A non-blocking information box (``open()``, not ``exec()``), returned so that it can be checked or closed."""
    box = QMessageBox(QMessageBox.Icon.Information, title, html, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
