"""Answering the app's real modal dialogs from a test: the handler runs inside the dialog's own ``exec()``."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

POLL_MS = 20


def when_modal(handle: Callable[[QWidget], None], timeout_ms: int = 10_000) -> list[QWidget]:
    """Call ``handle(dialog)`` on the next modal dialog once it is open; returns a list that then holds the dialog
    (empty if none opened within ``timeout_ms``: the test's own assertions then say what is missing)."""
    seen: list[QWidget] = []
    waited = [0]

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            waited[0] += POLL_MS
            if waited[0] < timeout_ms:
                QTimer.singleShot(POLL_MS, poll)
            return
        seen.append(dialog)
        handle(dialog)

    QTimer.singleShot(0, poll)
    return seen
