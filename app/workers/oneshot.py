"""Run a short blocking job (probing cameras, reading a model's class names) off the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class OneShot(QObject):
    """``OneShot(fn).start()``; ``done(result)`` or ``failed(message)`` arrive on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Callable[[], Any], name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._thread = threading.Thread(target=self._run, name=f"grace-oneshot[{name}]", daemon=True)

    def start(self) -> OneShot:
        self._thread.start()
        return self

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._job()
        except Exception as exc:
            log.warning("%s failed: %s", self._thread.name, exc)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
