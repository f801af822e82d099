"""The live-inspection worker: runs the core's :class:`InspectionSession` generator on a QThread.

Back-pressure (the failure that froze other apps after hours): the worker never queues results for the GUI. It
keeps one slot with the newest update and signals only when the slot goes from empty to full; the GUI takes the
slot when it gets to it. A result the GUI never saw is counted in ``display_dropped``; memory stays flat however
slow painting gets. Qt images are built here, off the GUI thread.

A model is trusted only once it has loaded *and* made one prediction (:func:`load_checked_engine`): the live tab
checks a new model that way beside the running one, off the GUI thread, and switches only when it passes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from app.imaging import bgr_to_qimage, heatmap_to_qimage
from grace_core.engine.base import Engine
from grace_core.errors import GraceError, ModelError
from grace_core.inspection import InspectionSession, InspectionUpdate, SessionStarted
from grace_core.models import SHIPPED, resolve_model
from grace_core.render import DEFAULT_HEAT_RANGE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelChoice:
    """A model as the operator chooses it: ``spec`` is "shipped" or a file path; backend and device as chosen."""

    spec: str
    backend: str = "auto"
    device: str = "cpu"

    @property
    def name(self) -> str:
        return "the shipped model" if self.spec in ("", SHIPPED) else Path(self.spec).name

    def describe(self) -> str:
        """The file and runtime it will load, e.g. "grace-neu-det.onnx on onnxruntime" (as chosen if unresolvable)."""
        try:
            path, backend = resolve_model(self.spec, self.backend)
            from grace_core.engine.factory import backend_for

            return f"{path.name} on {backend_for(path) if backend == 'auto' else backend}"
        except GraceError:
            return f"{self.name} on {self.backend}"


class ModelLoadError(ModelError):
    """The session's model did not load or failed its test prediction (as opposed to a source that failed)."""


def load_checked_engine(choice: ModelChoice) -> Engine:
    """Load ``choice`` and run one prediction on a blank image: a file that loads but cannot predict (a truncated
    or mismatched export) fails here, not on the line. Raises :class:`ModelLoadError` naming the file and why."""
    try:
        path, backend = resolve_model(choice.spec, choice.backend)
        from grace_core.engine import load_engine

        engine = load_engine(path, backend=backend, device=choice.device)
    except GraceError as error:
        raise ModelLoadError(str(error)) from error
    except Exception as error:  # a runtime's own exception for a damaged file: still the file's fault
        raise ModelLoadError(f"{choice.spec} cannot be loaded ({type(error).__name__}: {error})") from error
    try:
        size = engine.info.imgsz
        engine.predict(np.zeros((size, size, 3), np.uint8))
    except Exception as error:
        engine.close()
        raise ModelLoadError(
            f"{choice.name} loaded but failed its test prediction ({type(error).__name__}: {error})"
        ) from error
    return engine


def engine_loader_for(engine: Engine | None = None) -> Callable[[str | Path, str, str], Engine]:
    """An ``InspectionSession`` engine loader: hands over ``engine`` (already loaded and checked beside the
    running session; the checking thread has finished with it), else loads and checks the model in the session's
    thread. Either way a model failure raises :class:`ModelLoadError`."""

    def load(model: str | Path, backend: str, device: str) -> Engine:
        if engine is not None:
            return engine
        return load_checked_engine(ModelChoice(str(model), backend, device))

    return load


@dataclass(frozen=True)
class DisplayUpdate:
    """An update plus the Qt images of its frame and heatmap (None for status-only updates)."""

    update: InspectionUpdate
    frame_image: QImage | None
    heat_image: QImage | None
    display_dropped: int = 0


class InspectionWorker(QObject):
    session_started = Signal(object)  # SessionStarted
    update_ready = Signal()  # the newest update waits in the slot: call take()
    failed = Signal(str)
    model_failed = Signal(str)  # the model did not load (ModelLoadError): nothing was inspected
    finished = Signal()

    def __init__(self, session: InspectionSession) -> None:
        super().__init__()
        self.session = session
        self._lock = threading.Lock()
        self._slot: DisplayUpdate | None = None
        self._heat_range = DEFAULT_HEAT_RANGE
        self.display_dropped = 0

    @Slot()
    def run(self) -> None:
        try:
            for item in self.session.run():
                if isinstance(item, SessionStarted):
                    self._heat_range = item.engine.heat_range
                    self.session_started.emit(item)
                else:
                    self._offer(self._prepare(item))
        except ModelLoadError as exc:
            self.model_failed.emit(str(exc))
        except GraceError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a crash in inspection must reach the operator, not kill the thread silently
            log.exception("live inspection failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()

    def take(self) -> DisplayUpdate | None:
        """The newest update (GUI thread); None if it was already taken."""
        with self._lock:
            slot, self._slot = self._slot, None
        return slot

    def _prepare(self, update: InspectionUpdate) -> DisplayUpdate:
        if update.result is None:
            return DisplayUpdate(update, None, None)
        prediction = update.result.prediction
        frame_image = bgr_to_qimage(update.result.frame.image)
        heat = prediction.heatmap
        heat_image = heatmap_to_qimage(heat, self._heat_range) if heat is not None else None
        return DisplayUpdate(update, frame_image, heat_image)

    def _offer(self, new: DisplayUpdate) -> None:
        with self._lock:
            old = self._slot
            if old is not None and old.update.result is not None:
                if new.update.result is None:  # keep the unseen frame, refresh the status
                    new = replace(old, update=replace(new.update, result=old.update.result))
                else:
                    self.display_dropped += 1
            self._slot = replace(new, display_dropped=self.display_dropped)
            notify = old is None
        if notify:
            self.update_ready.emit()


class LiveController(QObject):
    """Owns the worker thread of one inspection session at a time; everything it emits arrives on the GUI thread."""

    session_started = Signal(object)  # SessionStarted
    update = Signal(object)  # DisplayUpdate
    failed = Signal(str)
    model_failed = Signal(str)
    stopped = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: InspectionWorker | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def session(self) -> InspectionSession | None:
        return self._worker.session if self._worker is not None else None

    def start(self, session: InspectionSession) -> None:
        self.stop()
        thread = QThread()
        thread.setObjectName("grace-inspection")
        worker = InspectionWorker(session)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.session_started.connect(self.session_started)
        worker.update_ready.connect(self._deliver)
        worker.failed.connect(self.failed)
        worker.model_failed.connect(self.model_failed)
        # Direct: stop() blocks the GUI thread in wait(), so a queued quit() would never be delivered.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()

    def resume(self) -> None:
        if self.session is not None:
            self.session.resume()

    def stop(self, timeout_ms: int = 15000) -> bool:
        """Stop the session and wait for its thread (which closes the source, the writer and the engine)."""
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return True
        worker.session.stop()
        finished = thread.wait(timeout_ms)
        if not finished:
            log.error("inspection thread did not stop within %d ms", timeout_ms)
            return False
        self._on_thread_finished()
        return True

    @Slot()
    def _deliver(self) -> None:
        worker = self._worker
        item = worker.take() if worker is not None else None
        if item is not None:
            self.update.emit(item)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or thread.isRunning():
            return
        self._thread = self._worker = None
        if worker is not None:
            item = worker.take()  # the last status (e.g. "ended") must still reach the view
            if item is not None:
                self.update.emit(item)
            worker.deleteLater()
        thread.deleteLater()
        self.stopped.emit()
