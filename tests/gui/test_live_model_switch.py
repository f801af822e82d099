"""A new model is loaded and test-run beside the running one: a bad file never stops inspection, never replaces the
running model, and is never remembered; the status panel always names the model actually running."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.__main__ import apply_model_override, parse_args
from app.live import pickers
from app.settings import LiveSettings, load_live_settings, save_live_settings
from grace_core.engine.metadata import metadata_path
from grace_core.models import default_model

WAIT_MS = 60_000  # model load + first frames on a busy 2-core CI machine


def copy_model(folder: Path, name: str, truncate: bool = False) -> Path:
    """The shipped ONNX model (and its export metadata) as ``folder/name``; ``truncate``: cut the model file in half,
    as an interrupted copy leaves it (the metadata stays intact: only the model itself is damaged)."""
    shipped = default_model("onnxruntime")
    target = folder / name
    data = shipped.read_bytes()
    target.write_bytes(data[: len(data) // 2] if truncate else data)
    shutil.copy(metadata_path(shipped), metadata_path(target))
    return target


def pick_model_file(live, monkeypatch, path: Path) -> None:
    """What the operator does: *Open model file…* in the model picker, then the file in the file dialog."""
    monkeypatch.setattr(pickers.QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    picker = live.model_picker
    picker.activated.emit(picker.findData("?model"))


def frames_after(live, n: int):
    start = live.last_result.frame.index
    return lambda: live.last_result is not None and live.last_result.frame.index >= start + n


def test_a_truncated_model_picked_while_inspecting_leaves_the_running_model_alone(
    qtbot, make_window, tmp_path, monkeypatch
):
    window = make_window()
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None and live.view.has_frame, timeout=WAIT_MS)
    running = live.engine_info.model_id
    assert running.startswith("grace-neu-det.onnx@") and running in live.status.model.text()
    bad = copy_model(tmp_path, "half.onnx", truncate=True)

    with qtbot.waitSignal(live.model_rejected, timeout=WAIT_MS) as rejected:
        pick_model_file(live, monkeypatch, bad)
    assert rejected.args[0] == str(bad)
    banner = live.banner.text()
    assert "half.onnx was not loaded" in banner and "Inspection goes on with the shipped model" in banner
    assert live.banner.level == "warning"

    qtbot.waitUntil(frames_after(live, 3), timeout=WAIT_MS)  # the line never stopped
    assert live.controller.running and live.engine_info.model_id == running
    assert running in live.status.model.text() and "half" not in live.status.model.text()
    assert live.model_picker.spec() == "shipped"  # the picker shows what runs, not the file that failed
    assert live.settings.model == "shipped"
    qtbot.waitUntil(lambda: "half.onnx was not loaded" in live.banner.text(), timeout=5_000)  # still said
    window.close()
    assert load_live_settings().model == "shipped"


def test_a_good_model_picked_while_inspecting_is_switched_to_and_remembered(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=WAIT_MS)
    other = copy_model(tmp_path, "line2.onnx")
    pick_model_file(live, monkeypatch, other)
    assert live.checking_model is not None and live.checking_model.spec == str(other)
    assert live.engine_info.model_id.startswith("grace-neu-det.onnx@")  # not yet: it is being checked
    qtbot.waitUntil(lambda: live.engine_info.model_id.startswith("line2.onnx@"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=WAIT_MS)
    assert "line2.onnx@" in live.status.model.text() and live.settings.model == str(other)
    window.close()
    assert load_live_settings().model == str(other)


@pytest.mark.parametrize("extra", [[], ["--no-start"]])
def test_a_bad_model_override_at_start_is_not_remembered(qtbot, make_window, tmp_path, extra):
    good = copy_model(tmp_path, "good.onnx")
    save_live_settings(LiveSettings(model=str(good)))  # what the previous session left
    bad = copy_model(tmp_path, "bad.onnx", truncate=True)
    args = parse_args(["--model", str(bad), *extra])
    window = make_window(**vars(load_live_settings()))
    apply_model_override(window, args)
    live = window.live
    assert live.model_picker.spec() == str(bad) and live.settings.model == str(good)
    live.start()  # what main() does, or the operator's Start after --no-start

    qtbot.waitUntil(lambda: live.banner.level == "error", timeout=WAIT_MS)
    banner = live.banner.text()
    assert banner.startswith("Cannot load bad.onnx") and "Nothing is being inspected" in banner
    assert "set back to good.onnx" in banner
    qtbot.waitUntil(lambda: not live.controller.running, timeout=WAIT_MS)
    assert live.status.model.text() == "none" and live.status.fps.text() == "—"
    assert live.settings.model == str(good) and live.model_picker.spec() == str(good)
    window.close()
    assert load_live_settings().model == str(good)  # the next plain start opens with the good model

    again = make_window(**vars(load_live_settings()))
    again.live.start()
    qtbot.waitUntil(lambda: again.live.last_result is not None, timeout=WAIT_MS)
    assert again.live.engine_info.model_id.startswith("good.onnx@")
