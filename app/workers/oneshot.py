"""Run a short blocking job (probing cameras, reading a model's class names) off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.workers.progress_job import ProgressJob


class OneShot(ProgressJob):
    """``OneShot(fn).start()``: a :class:`ProgressJob` without progress; ``done(result)`` or ``failed(message)``
    arrive on the GUI thread."""

    def __init__(self, job: Callable[[], Any], name: str, parent: QObject | None = None) -> None:
        super().__init__(lambda progress: job(), f"oneshot:{name}", parent)
