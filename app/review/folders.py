"""Where file dialogs open: the user's documents folder, or the app's datasets folder — never the working directory
the app happened to start in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from grace_core.paths import user_data_dir


def documents_dir() -> str:
    """The user's documents folder (``QStandardPaths``), else the home folder."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return location or str(Path.home())


def datasets_dir() -> str:
    """The per-user datasets folder, where imports and review exports go (created if needed), else documents."""
    folder = user_data_dir() / "datasets"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return documents_dir()
    return str(folder)
