"""The live-inspection worker: runs the core's :class:`InspectionSession` generator on a QThread.

Back-pressure (the failure that froze other apps after hours): the worker never queues results for the GUI. It
keeps one slot with the newest update and signals only when the slot goes from empty to full; the GUI takes the
slot when it gets to it. A result the GUI never saw is counted in ``display_dropped``; memory stays flat however
slow painting gets. Qt images are built here, off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from app.imaging import bgr_to_qimage, heatmap_to_qimage
from grace_core.errors import GraceError
from grace_core.inspection import InspectionSession, InspectionUpdate, SessionStarted
from grace_core.render import DEFAULT_HEAT_RANGE

log = logging.getLogger(__name__)


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
