"""The live tab, end to end with the shipped model: real widgets, real worker thread, real review store."""

from __future__ import annotations

import errno
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from grace_core.store import ReviewStore

WAIT_MS = 60_000  # model load + first frames on a busy 2-core CI machine


def wait_for_frames(qtbot, window, n: int = 1) -> None:
    def enough() -> bool:
        result = window.live.last_result
        return result is not None and window.live.view.has_frame and result.frame.index >= n - 1

    qtbot.waitUntil(enough, timeout=WAIT_MS)


def set_all_thresholds(window, uncertain: float, flag: float) -> None:
    panel = window.live.thresholds_panel
    for name in panel.class_names:
        panel.slider(name).setValue((uncertain, flag))


def test_the_demo_starts_with_the_shipped_model_and_results_render(qtbot, make_window):
    window = make_window()
    window.live.start()
    wait_for_frames(qtbot, window, 3)
    live = window.live
    assert live.engine_info.backend == "onnxruntime" and "crazing" in live.classes_label.text()
    qtbot.waitUntil(lambda: len(live.view.boxes) > 0, timeout=WAIT_MS)  # the demo strip has defects everywhere
    assert live.table.rowCount() == len(live.view.boxes)
    assert live.view.showing_heat
    assert "fps" in live.status.fps.text() and "ms" in live.status.latency.text()
    image = live.view.grab().toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    assert centre != live.view.palette().window().color()  # a picture, not the empty background
    assert live.legend.heat_range == live.engine_info.heat_range


def test_a_threshold_changes_what_is_drawn_and_what_is_flagged(qtbot, make_window):
    window = make_window()
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: len(live.view.boxes) > 0, timeout=WAIT_MS)
    live.set_paused(True)
    set_all_thresholds(window, 0.99, 1.0)  # nothing the model says is that sure
    assert live.view.boxes == [] and live.table.rowCount() == 0  # re-decided at once, even paused
    assert live.controller.session.thresholds.flag_for("crazing") == 1.0
    live.set_paused(False)
    # a frame that was mid-inference when the slider moved is still judged by the old thresholds: start counting
    # from the first result decided with the new ones
    qtbot.waitUntil(lambda: live.last_result.thresholds.flag_for("crazing") == 1.0, timeout=WAIT_MS)
    flagged_before = int(window.flagged.text().split()[-1])
    frame_before = live.last_result.frame.index
    qtbot.waitUntil(lambda: live.last_result.frame.index >= frame_before + 4, timeout=WAIT_MS)
    assert int(window.flagged.text().split()[-1]) == flagged_before  # no new flag
    set_all_thresholds(window, 0.05, 0.1)
    assert len(live.view.boxes) > 0
    qtbot.waitUntil(lambda: int(window.flagged.text().split()[-1]) > flagged_before, timeout=WAIT_MS)
    visible = live.thresholds_panel.visibility("patches")
    visible.setChecked(False)
    assert all(box.label.split()[0] != "patches" for box in live.view.boxes)


def test_flagged_frames_land_in_the_store_with_their_fields(qtbot, make_window, tmp_path):
    root = tmp_path / "store"
    window = make_window(store_root=root)
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: _saved(live) >= 3, timeout=WAIT_MS)
    info = live.engine_info
    live.stop()
    with ReviewStore.open(root) as store:
        records = store.list_frames(limit=100)
        assert len(records) >= 3
        record = records[0]
        assert record.model_id == info.model_id and record.model_hash in info.model_id
        assert record.source_id == "demo" and record.status in ("defect", "uncertain")
        assert record.thresholds.to_dict() == live.settings.thresholds_value().to_dict()
        assert store.image_file(record).is_file() and store.heatmap_file(record).is_file()
        assert store.detections(record.id), "a flagged frame keeps the boxes that flagged it"
        assert record.captured_at > 0


def _saved(live) -> int:
    session = live.controller.session
    text = live.status.flagged.text()
    if session is None or "saved" not in text:
        return 0
    return int(text.split(", ")[1].split()[0])


def test_pause_stop_and_close_leave_no_threads(qtbot, make_window):
    window = make_window()
    live = window.live
    live.start()
    wait_for_frames(qtbot, window, 2)
    live.pause_button.click()
    qtbot.waitUntil(lambda: live.banner.isVisible() and "Paused" in live.banner.text(), timeout=WAIT_MS)
    live.stop_button.click()
    assert not live.controller.running
    assert not live.stop_button.isEnabled() and live.start_button.text() == "Start"
    live.start_button.click()
    wait_for_frames(qtbot, window, 1)
    window.close()  # the autouse fixture fails the test if any worker, reader or writer thread survives
    assert not live.controller.running


def test_a_missing_model_says_so_and_the_app_stays_usable(qtbot, make_window, tmp_path):
    window = make_window(model=str(tmp_path / "nowhere.onnx"))
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.banner.level == "error", timeout=WAIT_MS)
    assert "model not found" in live.banner.text() and "nowhere.onnx" in live.banner.text()
    live.model_picker.set_spec("shipped")
    live.settings.model = "shipped"
    live.start()
    wait_for_frames(qtbot, window, 1)
    assert live.banner.level != "error"


def test_a_corrupt_model_file_says_so(qtbot, make_window, tmp_path):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"this is not an ONNX model" * 10)
    window = make_window(model=str(corrupt))
    window.live.start()
    qtbot.waitUntil(lambda: window.live.banner.level == "error", timeout=WAIT_MS)
    assert "corrupt.onnx" in window.live.banner.text()


def test_a_camera_that_will_not_open_is_reported(qtbot, make_window):
    window = make_window(source="camera:57")
    window.live.start()
    qtbot.waitUntil(lambda: "Cannot connect to Camera 57" in window.live.banner.text(), timeout=WAIT_MS)
    assert window.live.banner.level == "error" and not window.live.view.has_frame


def test_a_video_that_ends_says_so(qtbot, make_window, tmp_path):
    video = tmp_path / "strip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (200, 200))
    demo = sorted(Path("resources/demo").glob("*.jpg"))[:5]
    for path in demo:
        writer.write(cv2.imread(str(path)))
    writer.release()
    window = make_window(source=str(video))
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.banner.level == "warning" and "ended" in live.banner.text(), timeout=WAIT_MS)
    assert live.last_result.frame.index == len(demo) - 1
    qtbot.waitUntil(lambda: live.start_button.text() == "Start", timeout=WAIT_MS)  # the session ended by itself
    assert not live.controller.running and not live.stop_button.isEnabled()


def test_a_stream_that_drops_shows_the_stale_banner(qtbot, make_window, monkeypatch):
    from helpers.fake_camera import FakeDevice

    import grace_core.sources as sources

    device = FakeDevice(shape=(200, 200, 3), fps=10.0, delay=0.05)

    def fake_open(spec, **options):
        return sources.LiveSource(device.factory, source_id="rtsp", backoff_initial=0.05, backoff_max=0.1)

    monkeypatch.setattr(sources, "open_source", fake_open)
    window = make_window(source="rtsp://camera.plant/line1")
    live = window.live
    live.start()
    wait_for_frames(qtbot, window, 2)
    device.broken = True  # the stream drops
    qtbot.waitUntil(lambda: live.banner.level == "error", timeout=WAIT_MS)
    assert "STALE" in live.banner.text() or "reconnecting" in live.banner.text()
    device.broken = False  # it comes back: the banner goes
    qtbot.waitUntil(lambda: not live.banner.isVisible(), timeout=WAIT_MS)


def test_a_full_disk_is_reported_inspection_goes_on_and_saved_frames_stay(qtbot, make_window, tmp_path, monkeypatch):
    from grace_core.store import files

    root = tmp_path / "store"
    window = make_window(store_root=root)
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: _saved(live) >= 2, timeout=WAIT_MS)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "write_all", disk_full)
    qtbot.waitUntil(lambda: "cannot be saved" in live.banner.text(), timeout=WAIT_MS)
    assert "No space left" in live.banner.text()
    frame = live.last_result.frame.index
    qtbot.waitUntil(lambda: live.last_result.frame.index >= frame + 3, timeout=WAIT_MS)  # still inspecting
    saved = _saved(live)
    live.stop()
    with ReviewStore.open(root) as store:
        assert store.count() == saved >= 2
        assert all(store.image_file(r).is_file() for r in store.list_frames(limit=100))


def test_settings_persist_across_restarts(qtbot, make_window, tmp_path):
    from app.settings import load_live_settings

    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((64, 64, 3), np.uint8))
    window = make_window()
    live = window.live
    live.thresholds_panel.set_classes(("crazing", "scratches"), live.settings.thresholds_value())
    live.thresholds_panel.slider("scratches").setValue((0.3, 0.8))
    live.opacity.setValue(35)
    live.heat_toggle.setChecked(False)
    live.open_source(str(folder), start=False)
    live.main_splitter.setSizes([500, 437])
    sizes = live.main_splitter.sizes()
    window.close()
    restored = load_live_settings()
    assert restored.source == str(folder)
    assert restored.opacity == pytest.approx(0.35) and restored.heatmap is False
    thresholds = restored.thresholds_value()
    assert (thresholds.uncertain_for("scratches"), thresholds.flag_for("scratches")) == (0.3, 0.8)
    again = make_window(**vars(restored))
    assert again.live.source_picker.spec() == str(folder)
    assert again.live.opacity.value() == 35 and not again.live.heat_toggle.isChecked()
    assert again.live.main_splitter.sizes()[1] == sizes[1]  # the side panel keeps the width the operator dragged


def test_dropping_a_folder_on_the_window_inspects_it(qtbot, make_window, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    for i, path in enumerate(sorted(Path("resources/demo").glob("*.jpg"))[:3]):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.imread(str(path)))
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)
    assert window.live.source_picker.spec() == str(folder)
    qtbot.waitUntil(lambda: "ended" in window.live.banner.text(), timeout=WAIT_MS)
    assert window.live.last_result.frame.source_id.endswith("drop") or window.live.last_result.frame.index == 2
