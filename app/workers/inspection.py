"""The live-inspection worker: runs the core's :class:`InspectionSession` generator on a QThread.

Back-pressure (the failure that froze other apps after hours): the worker never queues results for the GUI. It
keeps one slot with the newest update and signals only when the slot goes from empty to full; the GUI takes the
slot when it gets to it. A result the GUI never saw is counted in ``display_dropped``; memory stays flat however
slow painting gets. Qt images are built here, off the GUI thread.

A model is trusted only once it has loaded *and* made one prediction (:func:`load_checked_engine`): the live tab
checks a new model that way beside the running one, off the GUI thread, and switches only when it passes.

Per frame, on this thread and never skipped (a frame the screen does not draw still counts): flagged frames go to
the :class:`~app.workers.flag_saver.FlagSaver` (repeats of an unchanged scene are not saved), the alarm rule is
applied (:func:`app.live.alarm.alarm_hits`; hits of frames the screen skipped are carried to the next one it
takes), and the strong-attention regions are found (:func:`app.live.attention.strong_regions`). Likewise the
frames' closed defect events and roll-mark alarms are carried to the next update the GUI takes (the coil map and the
roll-mark alarm must not miss a frame the screen skipped), with the coil and how far along it the line is.
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

from app.imaging import bgr_to_qimage, strength_to_qimage
from app.live.alarm import AlarmHit, AlarmThresholds, alarm_hits
from app.live.attention import Box, strong_regions
from app.workers.flag_saver import FlagSaver
from grace_core.engine.base import Engine, EngineInfo
from grace_core.errors import GraceError, ModelError
from grace_core.events import DefectEvent
from grace_core.inspection import InspectionSession, InspectionUpdate, SessionStarted
from grace_core.models import SHIPPED, resolve_model
from grace_core.render import DEFAULT_HEAT_RANGE, heat_strength
from grace_core.rollmarks import RollMarkAlarm

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


MAX_CARRIED_ALARMS = 50  # frames' alarm hits kept for the GUI while it is not taking results
MAX_CARRIED_EVENTS = 5000  # closed defect events kept for the GUI while it is not taking results


@dataclass(frozen=True)
class DisplayUpdate:
    """An update plus the Qt images of its frame and heatmap (None for status-only updates), the strong-attention
    regions of its heatmap, the alarm hits of every frame since the GUI last took one (one tuple per frame), and
    how many flagged frames were not saved as repeats of an unchanged scene. ``events`` and ``roll_marks``: the
    defect events closed and the roll-mark alarms raised by every frame since the GUI last took one; ``coil`` and
    ``coil_m``: the coil on the line and the metres of it passed (None: not known), at this update."""

    update: InspectionUpdate
    frame_image: QImage | None
    heat_image: QImage | None
    display_dropped: int = 0
    attention: tuple[Box, ...] = ()
    alarm_frames: tuple[tuple[AlarmHit, ...], ...] = ()
    repeats: int = 0
    events: tuple[DefectEvent, ...] = ()
    roll_marks: tuple[RollMarkAlarm, ...] = ()
    coil: str | None = None
    coil_m: float | None = None


class InspectionWorker(QObject):
    session_started = Signal(object)  # SessionStarted
    update_ready = Signal()  # the newest update waits in the slot: call take()
    failed = Signal(str)
    model_failed = Signal(str)  # the model did not load (ModelLoadError): nothing was inspected
    finished = Signal()

    def __init__(
        self,
        session: InspectionSession,
        saver_factory: Callable[[], FlagSaver] | None = None,
        alarm_thresholds: AlarmThresholds | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.alarm_thresholds = alarm_thresholds or AlarmThresholds()  # replaced whole from the GUI thread
        self.saver: FlagSaver | None = None
        self._saver_factory = saver_factory
        self._lock = threading.Lock()
        self._slot: DisplayUpdate | None = None
        self._heat_range = DEFAULT_HEAT_RANGE
        self._info: EngineInfo | None = None
        self._last: InspectionUpdate | None = None
        self.display_dropped = 0

    @Slot()
    def run(self) -> None:
        try:
            for item in self.session.run():
                if isinstance(item, SessionStarted):
                    self._info, self._heat_range = item.engine, item.engine.heat_range
                    if self._saver_factory is not None:
                        self.saver = self._saver_factory()
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
            self._close_saver()
            self.finished.emit()

    def _close_saver(self) -> None:
        """Write what is pending, then report the final counts (the last update's may predate the last write)."""
        saver = self.saver
        if saver is None:
            return
        saver.close(timeout=10.0)
        if self._last is not None:
            stats = replace(self._last.stats, saving=saver.stats())
            self._offer(DisplayUpdate(replace(self._last, stats=stats, result=None), None, None, repeats=saver.repeats))

    def take(self) -> DisplayUpdate | None:
        """The newest update (GUI thread); None if it was already taken."""
        with self._lock:
            slot, self._slot = self._slot, None
        return slot

    def _prepare(self, update: InspectionUpdate) -> DisplayUpdate:
        saver, result = self.saver, update.result
        repeats = 0
        if saver is not None:
            if result is not None and self._info is not None and result.decision.flagged:
                result = replace(result, submitted=saver.offer(result, self._info))
            update = replace(update, stats=replace(update.stats, saving=saver.stats()), result=result)
            repeats = saver.repeats
        self._last = update
        clock = self.session.coil_clock
        coil = {"coil": clock.coil, "coil_m": clock.position_m()}
        if result is None:
            return DisplayUpdate(update, None, None, repeats=repeats, **coil)
        frame = result.frame
        frame_image = bgr_to_qimage(frame.image)
        heat = result.prediction.heatmap
        heat_image, attention = None, ()
        if heat is not None:
            strength = heat_strength(heat, self._heat_range)
            heat_image = strength_to_qimage(strength)
            attention = strong_regions(strength, *frame.size)
        names = self._info.class_names if self._info is not None else ()
        hits = alarm_hits(
            result.decision, names, result.thresholds, self.alarm_thresholds, frame.source_id, frame.index,
            frame.timestamp,
        )  # fmt: skip
        return DisplayUpdate(
            update, frame_image, heat_image, 0, attention, (hits,) if hits else (), repeats,
            result.events.closed, tuple(result.roll_marks), **coil,
        )  # fmt: skip

    def _offer(self, new: DisplayUpdate) -> None:
        with self._lock:
            old = self._slot
            if old is not None:
                carried = (old.alarm_frames + new.alarm_frames)[-MAX_CARRIED_ALARMS:]  # never lose an alarm
                events = (old.events + new.events)[-MAX_CARRIED_EVENTS:]
                rolls, coil = old.roll_marks + new.roll_marks, {"coil": new.coil, "coil_m": new.coil_m}
                if old.update.result is not None and new.update.result is None:  # keep the unseen frame
                    new = replace(old, update=replace(new.update, result=old.update.result), repeats=new.repeats)
                elif old.update.result is not None:
                    self.display_dropped += 1
                new = replace(new, alarm_frames=carried, events=events, roll_marks=rolls, **coil)
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
        self._alarm_thresholds = AlarmThresholds()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def session(self) -> InspectionSession | None:
        return self._worker.session if self._worker is not None else None

    @property
    def saver(self) -> FlagSaver | None:
        """The running session's saver of flagged frames (None before it started, or without a store)."""
        return self._worker.saver if self._worker is not None else None

    def set_alarm_thresholds(self, alarm: AlarmThresholds) -> None:
        """For the running worker (from its next frame) and the next one."""
        self._alarm_thresholds = alarm
        if self._worker is not None:
            self._worker.alarm_thresholds = alarm

    def start(self, session: InspectionSession, saver_factory: Callable[[], FlagSaver] | None = None) -> None:
        """Run ``session`` on a new thread; ``saver_factory`` (called on it once the session has started) saves
        its flagged frames — pass a session without a ``store_factory`` of its own then."""
        self.stop()
        thread = QThread()
        thread.setObjectName("grace-inspection")
        worker = InspectionWorker(session, saver_factory, self._alarm_thresholds)
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
