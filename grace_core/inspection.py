"""Live inspection: source → engine → flag decision → review store, as one plain generator.

:class:`InspectionSession` is what the app's worker thread (and anything headless) runs. ``run()`` loads the model
*in the calling thread* (a model belongs to the thread that uses it), opens the source, and yields:

* one :class:`SessionStarted` once both are open (what was loaded, what is being read);
* then :class:`InspectionUpdate` items — one per inspected frame, plus a status-only one (``result is None``)
  every ``status_interval`` seconds while no frame arrives, so a consumer always knows the source's state
  (stale, reconnecting, ended) and never mistakes silence for a healthy picture.

Thresholds, pause and stop may be changed from any thread while it runs. Flagged frames go to a
:class:`~grace_core.store.writer.FlaggedFrameWriter` on its own thread, so a slow disk never stalls inspection.

The engine keeps every detection down to ``RESULT_FLOOR`` (or the lowest uncertain threshold, if lower) in each
result, so a viewer can re-apply changed thresholds to the frame on screen without running the model again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from grace_core.coil import CoilClock
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.events import DefectTracker, EventUpdate
from grace_core.flagging import REPEAT_WINDOW_S, FlagDecision, RepeatFilter, Thresholds, decide
from grace_core.rollmarks import RollMarkDetector
from grace_core.sinks.base import InspectionContext, InspectionRecord, Sink, SinkStats
from grace_core.sources.types import SourceInfo, SourceState
from grace_core.store.review_store import ReviewStore
from grace_core.store.writer import FlaggedFrameWriter, WriterStats
from grace_core.strip import StripReport, StripScale, StripStitcher
from grace_core.types import Frame

RESULT_FLOOR = 0.05
LATENCY_WINDOW = 200  # frames the latency percentiles are taken over
FPS_WINDOW_S = 3.0


@dataclass(frozen=True)
class LiveStats:
    """Rolling figures. ``latency_*``: preprocess + inference + postprocess per frame, over the last frames.
    ``dropped``: frames the source captured that were never inspected (inspection slower than the camera).
    ``flagged``: frames flagged since the start; ``saving``: the store writer's counters (None without a store)."""

    frames: int
    fps: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    dropped: int
    flagged: int
    saving: WriterStats | None
    events: int = 0  # defect events opened since the start (one per physical defect, however many frames show it)
    sinks: tuple[SinkStats, ...] = ()


@dataclass(frozen=True)
class FrameResult:
    """One inspected frame and everything that was decided about it."""

    frame: Frame
    prediction: Prediction
    decision: FlagDecision
    thresholds: Thresholds
    submitted: bool  # handed to the review-store writer
    strip: StripReport | None = None  # strip sources: which detections are new, and where they lie on the strip
    events: EventUpdate = field(default_factory=EventUpdate)  # events this frame opened, and those closed after it
    roll_marks: tuple = ()  # RollMarkAlarm(s) the events closed with this frame completed (grace_core/rollmarks.py)
    coil: str | None = None  # the coil on the line at this frame (None: not known), saved with the flagged frame
    coil_m: float | None = None  # metres of that coil passed at this frame (None: nothing measures the strip)


@dataclass(frozen=True)
class InspectionUpdate:
    state: SourceState
    seconds_since_frame: float
    stats: LiveStats
    result: FrameResult | None
    paused: bool = False


@dataclass(frozen=True)
class SessionStarted:
    engine: EngineInfo
    source: SourceInfo


class RollingStats:
    """Frame rate over the last few seconds and latency percentiles over the last frames; bounded memory."""

    def __init__(self) -> None:
        self.frames = 0
        self._latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._times: deque[float] = deque()

    def add(self, latency_ms: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.frames += 1
        self._latencies.append(latency_ms)
        self._times.append(now)
        while self._times and now - self._times[0] > FPS_WINDOW_S:
            self._times.popleft()

    def fps(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        recent = [t for t in self._times if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self._latencies, q)) if self._latencies else None


def strip_metres(frame, info: SourceInfo) -> float | None:
    """Metres of strip passed at this frame's first new row (strip sources with a known resolution)."""
    if not info.strip or info.mm_per_px is None or "strip_row" not in frame.meta:
        return None
    return (frame.meta["strip_row"] + frame.meta.get("carried_rows", 0)) * info.mm_per_px / 1000.0


def strip_stitcher(engine, info: SourceInfo) -> StripStitcher | None:
    """A stitcher for a strip source: it carries one tile's height of rows (the longest defect the model sees at
    its scale) into the next frame; None for other sources."""
    if not info.strip:
        return None
    slicing = getattr(engine, "slicing", None)
    tile = slicing.tile_size(engine.info.imgsz, engine.info.pixel_scale) if slicing is not None else engine.info.imgsz
    return StripStitcher(overlap=tile, scale=StripScale(info.mm_per_px, info.mm_per_px))


class InspectionSession:
    """See the module docstring. ``engine_loader(model, backend, device)`` and ``source_opener(spec)`` default to
    :func:`~grace_core.engine.load_engine` and :func:`~grace_core.sources.open_source`; tests may pass others.
    ``store_factory`` opens the review store (on the writer's thread); None disables saving. Every inspected frame
    goes to each of ``sinks`` as an :class:`~grace_core.sinks.base.InspectionRecord` carrying ``context`` (station,
    coil) and the frame's defect events; when the session ends, the events still open are closed and delivered.
    ``coil_from``: the plant's coil id (an ``mqtt://…`` topic or ``opc.tcp://…`` node, see
    :func:`grace_core.plant.follow_coil`) is followed while the session runs — waited for up to ``coil_wait_s``
    before the first frame, applied with :meth:`set_coil`, its reader (``coil_reader``) closed when the session
    ends."""

    def __init__(
        self,
        source: Any,
        model: str | Path,
        *,
        backend: str = "auto",
        device: str = "cpu",
        thresholds: Thresholds | None = None,
        store_factory: Callable[[], ReviewStore] | None = None,
        source_options: Mapping[str, Any] | None = None,
        trust: bool = False,
        status_interval: float = 0.25,
        max_pending_saves: int = 32,
        engine_loader: Callable[..., Any] | None = None,
        source_opener: Callable[..., Any] | None = None,
        sinks: Sequence[Sink] = (),
        context: InspectionContext | None = None,
        coil_clock: CoilClock | None = None,
        repeat_window_s: float = REPEAT_WINDOW_S,
        coil_from: str | None = None,
        coil_wait_s: float = 0.0,
    ) -> None:
        self.source_spec = source
        self.model = model
        self.backend, self.device, self.trust = backend, device, trust
        self.thresholds = thresholds or Thresholds()
        self.store_factory = store_factory
        self.source_options = dict(source_options or {})
        self.status_interval = status_interval
        self.max_pending_saves = max_pending_saves
        self._engine_loader = engine_loader
        self._source_opener = source_opener
        self.sinks = list(sinks)
        self.context = context or InspectionContext()
        self.coil_clock = coil_clock or CoilClock(self.context.coil)
        self.coil_from, self.coil_wait_s = coil_from or None, coil_wait_s
        self.coil_reader: Any = None  # the plant's coil id, followed while the session runs (``coil_from``)
        self.repeats = RepeatFilter(repeat_window_s)  # an unchanged scene is not saved again and again
        self.roll_marks = RollMarkDetector()  # the same class at a constant pitch along the coil: a damaged roll
        self._stop = threading.Event()
        self._paused = threading.Event()

    # -- control, from any thread -------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def set_coil(self, coil: str | None) -> None:
        """A new coil is on the line (from any thread): later events carry it, their positions restart at 0."""
        self.coil_clock.set_coil(coil)
        self.context = replace(self.context, coil=coil or None)

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> Iterator[SessionStarted | InspectionUpdate]:
        """Inspect until the source ends, ``stop()`` is called, or an error is raised (ModelError, SourceError)."""
        try:
            engine = self._load_engine()
        except BaseException:  # the sinks were opened for this session: they must not outlive it (a server, a thread)
            for sink in self.sinks:
                sink.close(timeout=10.0)
            raise
        source = None
        writer = None
        tracker = DefectTracker(engine.info.class_names)
        try:
            if self.coil_from:
                from grace_core.plant import follow_coil

                self.coil_reader = follow_coil(self.coil_from, self.set_coil, self.coil_wait_s)
            source = self._open_source()
            tracker = DefectTracker(engine.info.class_names, sequence=source.info.sequence, place=self.coil_clock.place)
            if self.store_factory is not None:
                writer = FlaggedFrameWriter(self.store_factory, max_pending=self.max_pending_saves)
            yield SessionStarted(engine=engine.info, source=source.info)
            yield from self._loop(engine, source, writer, tracker)
        finally:
            try:
                self._deliver(InspectionRecord(None, EventUpdate(closed=tracker.finish()), engine.info, self.context))
            finally:
                if source is not None:
                    source.close()
                if writer is not None:
                    writer.close(timeout=10.0)
                for sink in self.sinks:
                    sink.close(timeout=10.0)
                if self.coil_reader is not None:
                    self.coil_reader.close()
                engine.close()

    def _deliver(self, record: InspectionRecord) -> None:
        """Hand a record to every sink (never blocking: a sink that cannot keep up drops and counts)."""
        if record.result is None and not record.events.closed:
            return
        for sink in self.sinks:
            sink.submit(record)

    def _loop(
        self, engine, source, writer: FlaggedFrameWriter | None, tracker: DefectTracker
    ) -> Iterator[InspectionUpdate]:
        stats = RollingStats()
        flagged = events = 0
        names = engine.info.class_names
        last_status = 0.0

        def update(result: FrameResult | None) -> InspectionUpdate:
            live = LiveStats(
                frames=stats.frames,
                fps=stats.fps(),
                latency_p50_ms=stats.percentile(50),
                latency_p95_ms=stats.percentile(95),
                dropped=int(source.stats().get("dropped", 0)),
                flagged=flagged,
                saving=writer.stats() if writer is not None else None,
                events=events,
                sinks=tuple(sink.stats() for sink in self.sinks),
            )
            return InspectionUpdate(source.state, source.seconds_since_last_frame, live, result, self.paused)

        stitcher = strip_stitcher(engine, source.info)
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(self.status_interval)
                yield update(None)
                continue
            frame = source.read(timeout=self.status_interval)
            if frame is None:
                if source.finished:
                    if writer is not None:
                        writer.flush(timeout=10.0)  # the last update's counts are final
                    yield update(None)
                    return
                now = time.monotonic()
                if now - last_status >= self.status_interval:
                    last_status = now
                    yield update(None)
                continue
            thresholds = self.thresholds  # one consistent set per frame, whatever another thread assigns
            engine.conf = min(RESULT_FLOOR, thresholds.default_uncertain, *thresholds.uncertain.values())
            engine.iou = thresholds.iou
            if stitcher is not None:  # a line-scan segment: inspected with the rows carried over from the last one
                frame = stitcher.assemble(frame)
            prediction = engine.predict(frame.image)
            stats.add(sum(prediction.timings_ms.values()))
            strip = stitcher.report(frame, prediction.detections) if stitcher is not None else None
            new = prediction.detections if strip is None else prediction.detections[strip.new]
            decision = decide(new, names, thresholds)  # a defect already reported with the last segment is not news
            self.coil_clock.observe(frame, strip_metres(frame, source.info))
            coil, coil_m = self.coil_clock.reading()  # where this frame lies: saved with it when it is flagged
            submitted = False
            if decision.flagged:
                flagged += 1
                news = not source.info.sequence or self.repeats.admit(frame.source_id, frame.timestamp, decision)
                if writer is not None and news:  # unrelated images (a folder) are never repeats of each other
                    submitted = writer.submit(
                        frame, decision, prediction, engine.info, thresholds, coil=coil, coil_m=coil_m
                    )
            result = FrameResult(frame, prediction, decision, thresholds, submitted, strip, coil=coil, coil_m=coil_m)
            changes = tracker.update(frame, decision.shown, thresholds, strip, evidence=result)
            events += len(changes.opened) + (len(changes.closed) if strip is not None else 0)
            alarms = tuple(a for a in (self.roll_marks.add(e) for e in changes.closed) if a is not None)
            result = replace(result, events=changes, roll_marks=alarms)
            self._deliver(InspectionRecord(result, changes, engine.info, self.context))
            yield update(result)

    def _load_engine(self):
        if self._engine_loader is not None:
            return self._engine_loader(self.model, self.backend, self.device)
        from grace_core.engine import load_engine

        return load_engine(self.model, backend=self.backend, device=self.device, trust=self.trust)

    def _open_source(self):
        if self._source_opener is not None:
            return self._source_opener(self.source_spec, **self.source_options)
        from grace_core.sources import open_source

        return open_source(self.source_spec, **self.source_options)
