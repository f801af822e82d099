"""The training tab drives real ``grace train`` / ``grace val`` worker processes on a tiny synthetic dataset."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from helpers.dialogs import when_modal
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.settings import TrainingSettings
from grace_core.store import ReviewStore

RUN_MS = 240_000  # a worker's start (torch + ultralytics import) and a few tiny epochs on a busy 2-core machine


def tiny(data: Path, epochs: int = 2) -> TrainingSettings:
    return TrainingSettings(data=str(data), epochs=epochs, imgsz=64, batch=4, workers=0, dscbsm_warmup=1)


def training_window(qtbot, make_window, data: Path, epochs: int = 2):
    window = make_window(training=tiny(data, epochs))
    tab = window.training
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.dataset.valid_path is not None, timeout=30_000)
    return window, tab


def wait_for_event(qtbot, tab, predicate) -> None:
    with qtbot.waitSignal(tab.process.event, timeout=RUN_MS, check_params_cb=predicate):
        pass


def test_a_run_end_to_end_curves_done_and_promotion(qtbot, make_window, synthetic_yolo, tmp_path):
    window, tab = training_window(qtbot, make_window, synthetic_yolo)
    assert "scratch" in tab.dataset.stats.toPlainText()  # the stats summary is shown before training
    assert tab.settings_panel.summary.text().startswith("GRACE-n")
    with qtbot.waitSignal(tab.process.ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        assert not tab.start_button.isEnabled() and tab.cancel_button.isEnabled()
    assert ended.args[0].status == "completed", tab.log_view.toPlainText()[-3000:]
    assert tab.history.epochs == [1, 2]
    assert tab.curves.point_count("losses") >= 2 and tab.curves.point_count("metrics") >= 2
    weights = tab.history.class_weights  # DS-CBSM++ reports per-class weights from the end of its warm-up on
    assert list(weights) == ["scratch", "pit", "patch", "inclusion"]
    n_weights = sum(len(points) for points in weights.values())
    assert n_weights >= 4 and tab.curves.point_count("weights") == n_weights
    assert "Completed" in tab.phase.text() and tab.progress.value() == 1000
    assert "ultralytics" in tab.log_view.toPlainText().lower()  # the worker's stderr reached the log pane
    assert [run.status for run in tab.runs.runs] == ["completed"]
    assert tab.runs.table.item(0, 1).text() == "grace-n"

    promotion = tab.promotion
    assert tab.bottom.currentWidget() is promotion and promotion.run is not None
    assert not promotion.promote_button.isEnabled()  # no evidence yet
    qtbot.mouseClick(promotion.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: promotion.compare_button.isEnabled(), timeout=RUN_MS)
    # the shipped live model knows NEU-DET's classes, not these: it is not scored under the wrong names
    assert "not the classes of" in promotion.status.text()
    assert [row.name for row in promotion.rows] == ["all", "scratch", "pit", "patch", "inclusion"]
    assert promotion.rows[0].candidate_ap50 is not None and promotion.rows[0].live_ap50 is None

    qtbot.mouseClick(promotion.export_button, Qt.MouseButton.LeftButton)  # ONNX, for the live tab's speed
    qtbot.waitUntil(lambda: promotion.export_button.isEnabled(), timeout=RUN_MS)
    onnx = tab.runs.runs[0].best.with_suffix(".onnx")
    assert onnx.is_file() and promotion.status.text() == f"exported: {onnx}"

    def promote_with_a_reason(dialog) -> None:  # the live model was not scored: nothing shows the run is not worse
        assert "No like-for-like comparison" in dialog.verdict.text() and not dialog.confirm_button.isEnabled()
        qtbot.keyClicks(dialog.reason_edit, "first model for these classes")
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)

    asked = when_modal(promote_with_a_reason)
    qtbot.mouseClick(promotion.promote_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    # the export goes live when there is one, once the live tab has loaded and test-run it
    qtbot.waitUntil(lambda: window.live.settings.model == str(onnx), timeout=RUN_MS)
    with ReviewStore.open(tmp_path / "review") as store:
        (entry,) = store.audit_log()
    assert entry.action == "model_promoted" and entry.actor
    assert entry.details["model"] == str(onnx) and entry.details["previous_model"] == "shipped"
    assert entry.details["run_map50_95"] == promotion.rows[0].candidate_ap50_95
    assert entry.details["verdict"] == "not_compared" and entry.details["override_reason"]

    # now the live model is this run's: a like-for-like comparison, identical on every class
    qtbot.mouseClick(promotion.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: promotion.compare_button.isEnabled(), timeout=RUN_MS)
    assert all(row.delta_ap50_95 == pytest.approx(0.0) for row in promotion.rows), promotion.status.text()

    # a past run's curves come back from its folder
    tab.curves.clear()
    assert tab.curves.point_count("metrics") == 0
    tab.runs.table.selectRow(0)
    qtbot.mouseClick(tab.runs.open_button, Qt.MouseButton.LeftButton)
    assert tab.curves.point_count("metrics") >= 2 and tab.curves.point_count("weights") == n_weights


def test_cancel_stops_cleanly_and_resume_finishes_the_run(qtbot, make_window, synthetic_yolo):
    _, tab = training_window(qtbot, make_window, synthetic_yolo, epochs=3)
    tab.start()
    wait_for_event(qtbot, tab, lambda event: event.type == "batch")
    with qtbot.waitSignal(tab.process.ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "cancelled"
    assert "Cancelled" in tab.phase.text() and tab.resume_button.isEnabled()
    assert tab.runs.runs[0].status == "cancelled" and tab.runs.runs[0].resumable

    with qtbot.waitSignal(tab.process.ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(tab.resume_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "completed", tab.log_view.toPlainText()[-3000:]
    assert tab.history.epochs[-1] == 3 and tab.runs.runs[0].status == "completed"
    assert len(tab.runs.runs) == 1  # resumed in place, not a new run


def test_a_killed_worker_is_reported_with_its_last_words_and_can_be_resumed(qtbot, make_window, synthetic_yolo):
    _, tab = training_window(qtbot, make_window, synthetic_yolo, epochs=3)
    tab.start()
    wait_for_event(qtbot, tab, lambda event: event.type == "epoch")  # ultralytics saves last.pt just before it
    with qtbot.waitSignal(tab.process.ended, timeout=RUN_MS) as ended:
        os.kill(tab.process.pid(), signal.SIGKILL)
    end = ended.args[0]
    assert end.crashed and "killed or crashed" in end.message and "last output" in end.message
    assert tab.banner.isVisible() and "stopped unexpectedly" in tab.banner.text()
    assert "Resume continues" in tab.banner.text() and tab.resume_button.isEnabled()
    assert tab.runs.runs[0].status == "interrupted"

    with qtbot.waitSignal(tab.process.ended, timeout=RUN_MS) as ended:
        qtbot.mouseClick(tab.resume_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "completed", tab.log_view.toPlainText()[-3000:]
    assert tab.history.epochs == [1, 2, 3]


def test_a_malformed_dataset_is_a_readable_error_and_blocks_training(qtbot, make_window, tmp_path):
    bad = tmp_path / "bad"
    (bad / "images" / "train").mkdir(parents=True)
    (bad / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\n", encoding="utf-8")
    window = make_window(training=TrainingSettings(data=str(bad / "data.yaml")))
    tab = window.training
    qtbot.waitUntil(lambda: not tab.dataset.error.isHidden(), timeout=30_000)
    assert "no class names" in tab.dataset.error.text() and str(bad / "data.yaml") in tab.dataset.error.text()
    assert not tab.start_button.isEnabled()
    tab.start()  # even when called directly: nothing starts, and the banner says why
    assert not tab.running and "Choose a dataset" in tab.banner.text()

    (bad / "data.yaml").write_text("path: .\nnames: [a]\ntrain: images/train\nval: images/val\n", encoding="utf-8")
    tab.dataset.set_dataset(str(bad / "data.yaml"))
    qtbot.waitUntil(lambda: "images/val are not there" in tab.dataset.error.text(), timeout=30_000)


def test_a_folder_is_imported_with_progress_and_its_stats_shown(qtbot, make_window, tmp_path):
    from grace_core.data.synthetic import write_synthetic_voc

    source = write_synthetic_voc(tmp_path / "voc-source", n_images=10, seed=1, size=(64, 64))
    window = make_window()
    panel = window.training.dataset
    seen: list[tuple[int, int]] = []
    panel.progress_changed.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(panel.dataset_ready, timeout=60_000) as ready:
        panel.import_folder("voc", str(source), str(tmp_path / "imported"))
        assert panel.progress.isVisibleTo(panel)
    assert ready.args[0] == str(tmp_path / "imported" / "data.yaml")
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached its total
    assert "imbalance ratio" in panel.stats.toPlainText() and window.training.start_button.isEnabled()
    assert window.training.settings.data == ready.args[0]  # remembered for the next start


def test_closing_during_a_run_asks_and_never_leaves_an_orphan(qtbot, make_window, synthetic_yolo, monkeypatch):
    window, tab = training_window(qtbot, make_window, synthetic_yolo, epochs=50)
    tab.start()
    wait_for_event(qtbot, tab, lambda event: event.type == "batch")
    pid = tab.process.pid()
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: asked.append(args[2]) or answers.pop(0))
    window.close()
    assert window.isVisible() and tab.running  # "No": nothing happens
    window.close()
    assert len(asked) == 2 and "training run is in progress" in asked[0]
    assert not tab.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert tab.runs.runs[0].last is not None  # it stopped cleanly: last.pt saved, resumable


def test_the_form_shows_saved_settings_and_makes_the_job(qtbot, make_window, tmp_path):
    saved = TrainingSettings(scale="s", lite_fen=False, dscbsm=False, epochs=7, imgsz=96, batch=3, seed=5)
    window = make_window(training=saved)
    panel = window.training.settings_panel
    assert (panel.epochs.value(), panel.imgsz.value(), panel.batch.value(), panel.seed.value()) == (7, 96, 3, 5)
    assert panel.summary.text() == "YOLO11s baseline, uniform sampling"
    job = panel.job("d/data.yaml", str(tmp_path))
    assert (job.model, job.sampler, job.epochs, job.imgsz) == ("yolo11s", "uniform", 7, 96)
    panel.lite_fen.setChecked(True)
    assert panel.job("d", str(tmp_path)).model == "grace-s" and window.training.settings.lite_fen
    from app.settings import load_training_settings

    assert load_training_settings().lite_fen and load_training_settings().imgsz == 96  # saved as it changed


APP_THAT_DIES = """
import sys
from PySide6.QtCore import QCoreApplication
from app.training.process import WorkerProcess
from grace_core.training.job import TrainJob

app = QCoreApplication([])
worker = WorkerProcess()
job = TrainJob(data=sys.argv[1], model="grace-n", epochs=50, imgsz=64, batch=4, workers=0, project=sys.argv[2])
def on_event(event):
    if event.type == "batch":
        print(worker.pid(), flush=True)  # the test kills this process now
worker.event.connect(on_event)
worker.start(["train", *job.cli_args(), "--events", "jsonl", "--stop-when-stdin-closes"])
app.exec()
"""


def test_a_worker_does_not_outlive_an_app_that_is_killed(synthetic_yolo, tmp_path):
    import subprocess
    import sys
    import time

    app = subprocess.Popen(
        [sys.executable, "-c", APP_THAT_DIES, str(synthetic_yolo), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    worker_pid = int(app.stdout.readline())
    app.kill()  # no clean-up code runs in the app
    app.wait(timeout=30)
    deadline = time.monotonic() + RUN_MS / 1000
    while time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{worker_pid}/stat") as stat:  # an exited child of init may linger as a zombie a moment
            if stat.read().split()[2] == "Z":
                break
        time.sleep(0.5)
    else:
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the training worker kept running after its app was killed")
    assert (tmp_path / "grace-n-dscbsm" / "weights" / "last.pt").is_file()  # it stopped cleanly, resumable
