"""The live-inspection loop (grace_core.inspection): no Qt, a scripted engine, real sources and a real store."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.fake_camera import FakeDevice

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.errors import ModelError
from grace_core.flagging import Thresholds
from grace_core.inspection import InspectionSession, InspectionUpdate, RollingStats, SessionStarted
from grace_core.sources import FolderSource, LiveSource, SourceState
from grace_core.store import ReviewStore

NAMES = ("crazing", "scratches")


class ScriptedEngine:
    """Every frame: one 'scratches' box scoring ``score`` and a constant heatmap."""

    def __init__(self, score: float = 0.8) -> None:
        self.score = score
        self.conf, self.iou = 0.25, 0.7
        self.closed = False
        self.seen_conf: list[float] = []
        self.info = EngineInfo("scripted", NAMES, 64, "scripted.onnx", "scripted.onnx@0123456789ab", True)

    def predict(self, image: np.ndarray) -> Prediction:
        self.seen_conf.append(self.conf)
        detections = Detections(np.array([[1, 1, 10, 10]]), np.array([self.score]), np.array([1]))
        detections = detections[detections.confidence >= self.conf]
        heatmap = np.full(image.shape[:2], 0.9, np.float32)
        return Prediction(detections, heatmap, {"preprocess": 1.0, "inference": 2.0, "postprocess": 0.5})

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    import cv2

    images = tmp_path / "images"
    images.mkdir()
    for i in range(4):
        cv2.imwrite(str(images / f"{i}.png"), np.full((32, 48, 3), 40 * i, np.uint8))
    return images


def session_for(source, engine: ScriptedEngine, **options) -> InspectionSession:
    return InspectionSession(
        source, "scripted.onnx", engine_loader=lambda *a: engine, source_opener=lambda spec, **o: spec, **options
    )


def test_a_folder_is_inspected_frame_by_frame_then_ends(folder):
    engine = ScriptedEngine()
    items = list(session_for(FolderSource(folder), engine).run())
    assert isinstance(items[0], SessionStarted) and items[0].engine.class_names == NAMES
    results = [i.result for i in items[1:] if i.result is not None]
    assert [r.frame.index for r in results] == [0, 1, 2, 3]
    assert all(r.decision.status == "defect" for r in results)  # 0.8 >= the default flag threshold 0.5
    final = items[-1]
    assert final.result is None and final.state is SourceState.ENDED
    assert final.stats.frames == 4 and final.stats.flagged == 4
    assert final.stats.latency_p50_ms == pytest.approx(3.5)
    assert engine.closed


def test_thresholds_set_from_another_thread_apply_to_the_next_frame(folder):
    engine = ScriptedEngine(score=0.4)
    session = session_for(FolderSource(folder), engine)
    statuses = []
    for item in session.run():
        if isinstance(item, InspectionUpdate) and item.result is not None:
            statuses.append(item.result.decision.status)
            if len(statuses) == 2:  # assigned mid-run, as the GUI does
                session.thresholds = Thresholds(default_flag=0.3, default_uncertain=0.1)
    assert statuses == ["uncertain", "uncertain", "defect", "defect"]
    assert engine.seen_conf[-1] == pytest.approx(0.05)  # engine keeps low scores so a viewer can re-threshold


def test_flagged_frames_are_saved_to_the_store_with_their_context(folder, tmp_path):
    root = tmp_path / "review"
    thresholds = Thresholds(flag={"scratches": 0.7}, uncertain={"scratches": 0.2})
    session = session_for(
        FolderSource(folder), ScriptedEngine(), thresholds=thresholds, store_factory=lambda: ReviewStore.open(root)
    )
    items = list(session.run())
    assert items[-1].stats.saving.written == 4  # the writer is flushed when the session ends
    with ReviewStore.open(root) as store:
        records = store.list_frames(limit=10)
        assert len(records) == 4
        record = records[0]
        assert record.model_id == "scripted.onnx@0123456789ab" and record.status == "defect"
        assert record.thresholds == thresholds
        assert store.image_file(record).is_file() and store.heatmap_file(record).is_file()
        assert [d.class_name for d in store.detections(record.id)] == ["scratches"]


def test_a_silent_camera_yields_status_updates_that_say_stale():
    device = FakeDevice(fps=50.0)
    source = LiveSource(device.factory, source_id="fake", stale_after=0.2, backoff_initial=0.01, backoff_max=0.05)
    session = session_for(source, ScriptedEngine(), status_interval=0.05)
    states = []
    for item in session.run():
        if isinstance(item, SessionStarted):
            continue
        if item.result is not None and not states:
            device.running.clear()  # the camera stops delivering
        states.append(item.state)
        if item.state is SourceState.STALE or len(states) > 400:
            session.stop()
    device.running.set()
    assert states[-1] is SourceState.STALE


def test_pause_stops_inspecting_and_stop_ends_the_loop(folder):
    session = session_for(FolderSource(folder, loop=True), ScriptedEngine(), status_interval=0.02)
    frames_when_paused = None
    paused_updates = 0
    for item in session.run():
        if isinstance(item, SessionStarted):
            continue
        if item.stats.frames >= 3 and frames_when_paused is None:
            session.pause()
            frames_when_paused = item.stats.frames
        elif item.paused:
            paused_updates += 1
            assert item.result is None and item.stats.frames == frames_when_paused
            if paused_updates == 5:
                session.stop()
    assert paused_updates == 5


def test_a_model_that_fails_to_load_raises_and_opens_nothing():
    opened = []

    def failing_loader(*args):
        raise ModelError("model not found: nowhere.onnx")

    session = InspectionSession("demo", "nowhere.onnx", engine_loader=failing_loader, source_opener=opened.append)
    with pytest.raises(ModelError, match="not found"):
        next(session.run())
    assert opened == []


def test_the_session_leaves_no_thread_behind(folder, tmp_path):
    before = set(threading.enumerate())
    session = session_for(
        FolderSource(folder, loop=True), ScriptedEngine(), store_factory=lambda: ReviewStore.open(tmp_path / "r")
    )
    for item in session.run():
        if isinstance(item, InspectionUpdate) and item.stats.frames >= 5:
            session.stop()
    assert set(threading.enumerate()) - before == set()


def test_rolling_stats_rate_and_percentiles():
    stats = RollingStats()
    for i in range(11):
        stats.add(latency_ms=float(i), now=100.0 + i * 0.1)  # 10 fps
    assert stats.fps(now=101.0) == pytest.approx(10.0)
    assert stats.percentile(50) == pytest.approx(5.0)
    assert stats.fps(now=110.0) == 0.0  # nothing in the last few seconds: not a stale figure


def test_flagged_frames_are_saved_with_the_coil_and_where_on_it_they_lie(folder, tmp_path):
    from grace_core.coil import CoilClock

    root = tmp_path / "review"
    session = session_for(
        FolderSource(folder),
        ScriptedEngine(),
        store_factory=lambda: ReviewStore.open(root),
        coil_clock=CoilClock("C4711", line_speed_m_min=60.0),
    )
    results = [item.result for item in session.run() if isinstance(item, InspectionUpdate) and item.result]
    assert [r.coil for r in results] == ["C4711"] * 4 and results[0].coil_m == 0.0  # the coil begins at frame 0
    with ReviewStore.open(root) as store:
        saved = sorted(store.list_frames(limit=10), key=lambda r: r.frame_index)
    assert [(r.coil, r.coil_m) for r in saved] == [(r.coil, r.coil_m) for r in results]  # each frame's own place
