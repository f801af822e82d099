"""The window's theme: the platform's own (light) or a dark one for control rooms (View → Dark theme, saved).

The dark theme is Qt's Fusion style with a dark palette: every widget that takes its colours from the palette
follows, and the few with fixed colours (the banner, the verdict, the alarm, the picture's background) were chosen
to read on both. Switching back restores the style and palette the application started with.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_original: tuple[str, QPalette] | None = None
_dark = False


def dark_palette() -> QPalette:
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#17181a",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Text: "#e8eaed",
        role.Button: "#2d2f33",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ff6e6e",
        role.Light: "#3c4043",
        role.Midlight: "#34373b",
        role.Mid: "#2a2c2f",
        role.Dark: "#111214",
        role.Shadow: "#000000",
        role.Highlight: "#3d6fb4",
        role.HighlightedText: "#ffffff",
        role.Link: "#8ab4f8",
        role.LinkVisited: "#c58af9",
    }
    for r, color in colors.items():
        palette.setColor(r, QColor(color))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, r, QColor("#7f8388"))
    return palette


def apply_theme(app: QApplication, dark: bool) -> None:
    """Dark or the original theme; nothing happens when it is already the one asked for."""
    global _original, _dark
    if _original is None:
        _original = (app.style().name(), QPalette(app.palette()))
    if dark == _dark:
        return
    _dark = dark
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    else:
        app.setStyle(_original[0])
        app.setPalette(_original[1])


def is_dark() -> bool:
    return _dark
