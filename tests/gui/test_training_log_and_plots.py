"""The training tab shows the worker's log as plain text from the left edge, clears its ETA when a run stops,
marks DS-CBSM++'s warm-up epochs, and opens its file dialogs in the user's folders.

The worker's signals are emitted directly (as a worker process would emit them): no training runs here."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog

from app.settings import TrainingSettings
from app.training.process import ProcessEnd
from grace_core.training.protocol import Event

ULTRALYTICS_LINES = [
    "\x1b[34m\x1b[1mtrain: \x1b[0mScanning /data/labels/train... 8 images, 0 backgrounds, 0 corrupt: 100%",
    "      1/2         0G      3.21      5.02      4.11         12         64:  25%|██▌       | 1/4 [00:01<00:03]"
    "\r      1/2         0G      3.19      5.00      4.10         11         64:  50%|█████     | 2/4 [00:02<00:02]"
    "\r      1/2         0G      3.18      4.98      4.09         13         64: 100%|██████████| 4/4 [00:04<00:00]"
    "\x1b[K",
    "\x1b]0;grace train\x07" + "x" * 400,  # a window-title sequence, then a line far wider than the pane
]


@pytest.fixture
def tab(make_window, qtbot):
    window = make_window(training=TrainingSettings())
    window.tabs.setCurrentWidget(window.training)
    return window.training


def event(kind: str, **data) -> Event:
    return Event(kind, 1, {"v": 1, "type": kind, "time": 0.0, **data})


def test_the_log_is_plain_text_shown_from_its_left_edge(tab, qtbot):
    tab.bottom.setCurrentWidget(tab.log_view)
    for line in ULTRALYTICS_LINES:
        tab.process.log_line.emit(line)
    text = tab.log_view.toPlainText()
    assert "\x1b" not in text and "[34m" not in text and "\r" not in text and "\x07" not in text
    lines = text.splitlines()
    assert lines[0] == "train: Scanning /data/labels/train... 8 images, 0 backgrounds, 0 corrupt: 100%"
    assert lines[1].endswith("4/4 [00:04<00:00]") and "1/4" not in lines[1]  # the last state of the progress line
    assert lines[2] == "x" * 400
    qtbot.waitUntil(lambda: tab.log_view.viewport().width() > 0)
    sideways = tab.log_view.horizontalScrollBar()
    assert sideways.value() == 0 and sideways.maximum() == 0  # wrapped: nothing to scroll sideways to


def test_terminal_output_is_cleaned_before_the_log_and_the_crash_tail():
    from app.training.process import LineSplitter, clean_terminal_text

    assert clean_terminal_text("\x1b[1;31mError\x1b[0m: disk full\x1b[K") == "Error: disk full"
    assert clean_terminal_text("50%\r\x1b[K") == "50%"  # an erased line keeps the state it had
    splitter = LineSplitter()
    lines = splitter.feed(b"\x1b[32mepoch 1\x1b[0m\r  10%\r  90%\n\x1b[2K\rdone")
    assert lines == ["  90%"] and splitter.close() == ["done"]


@pytest.mark.parametrize("status", ["cancelled", "failed", "crashed", "completed"])
def test_eta_is_cleared_when_a_run_ends(tab, status):
    tab.process.event.emit(event("batch", epoch=1, epochs=3, batch=2, batches=4, eta_s=75.0))
    assert tab.eta.text() == "ETA 1:15"
    tab.process.ended.emit(ProcessEnd(status, 0, status))
    assert tab.eta.text() == ""


def test_warm_up_epochs_are_marked_on_the_class_weight_plot(tab):
    for epoch in (1, 2, 3, 4):
        sampler = {"active": epoch > 2, "class_weights": {"crazing": 1.0 + epoch / 10, "patches": 1.0 - epoch / 10}}
        tab.process.event.emit(event("epoch", epoch=epoch, epochs=4, losses={}, metrics={}, sampler=sampler))
    assert tab.history.sampler_warmup == [1, 2]
    region = tab.curves.warmup_region
    assert region.isVisible() and region.getRegion() == pytest.approx((0.5, 2.5))
    assert tab.curves.warmup_label.isVisible() and tab.curves.warmup_label.toPlainText() == "warm-up (uniform)"
    assert tab.curves.point_count("weights") == 8  # the weights are still plotted, beside the mark

    tab.curves.clear()
    assert not region.isVisible() and not tab.curves.warmup_label.isVisible()


def test_file_dialogs_open_in_the_users_folders(tab, monkeypatch):
    from grace_core.paths import user_data_dir

    asked: list[str] = []

    def open_file(parent, caption, directory="", *args, **kwargs):
        asked.append(directory)
        return "", ""

    def open_folder(parent, caption, directory="", *args, **kwargs):
        asked.append(directory)
        return ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_file)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", open_folder)
    tab.dataset.open_button.click()
    tab.settings_panel.weights_button.click()
    tab.dataset.import_button.click()
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert [Path(directory) for directory in asked] == [
        user_data_dir() / "datasets",
        Path(documents),
        Path(documents),
    ]
