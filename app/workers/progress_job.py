"""A blocking job with progress (importing a dataset) off the GUI thread; results arrive as queued signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from grace_core.errors import GraceError
from grace_core.progress import ProgressCallback

log = logging.getLogger(__name__)


class ProgressJob(QObject):
    """``ProgressJob(lambda progress: work(progress=progress), name).start()``: ``progress(done, total)``, then
    ``done(result)`` or ``failed(message)``. A :class:`GraceError` fails with its own message (it is written for
    users); anything else with its type name in front."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, job: Callable[[ProgressCallback], Any], name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._thread = threading.Thread(target=self._run, name=f"grace-job[{name}]", daemon=True)

    def start(self) -> ProgressJob:
        self._thread.start()
        return self

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._job(self.progress.emit)
        except GraceError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("%s failed", self._thread.name)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
