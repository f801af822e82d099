"""The review tab never loses work: comments kept, undo, the list's place, which boxes become labels, full class
lists on export, and dialogs that open where the files are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers.flagged_frames import T0, make_store
from PySide6.QtCore import QPoint, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import Thresholds, decide
from grace_core.store import ReviewStore
from grace_core.types import Frame

LONG_SOURCE = "rtsp://***@10.0.0.12:554/Streaming/Channels/101"
FRAMES = [  # oldest first; the tab lists newest first
    {"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0 + 0},
    {"boxes": [(2, 0.8, (0, 0, 30, 30)), (0, 0.7, (40, 20, 90, 60))], "t": T0 + 60, "source_id": LONG_SOURCE},
    {  # a strong crazing box, a weaker one nested in it, and a 0.26 one elsewhere
        "boxes": [(0, 0.9, (10, 10, 60, 50)), (0, 0.7, (15, 15, 40, 40)), (0, 0.26, (70, 5, 90, 30))],
        "t": T0 + 120,
    },
]


@pytest.fixture
def review(make_window, tmp_path: Path, qtbot):
    """The window's review tab over a store holding FRAMES; returns (tab, frame ids oldest first, store root)."""
    root = tmp_path / "review"
    ids = make_store(root, FRAMES)
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total == len(FRAMES) and window.isActiveWindow(), timeout=10_000)
    tab.reviewer.setText("alice")
    return tab, ids, root


def select_frame(tab, frame_id: int) -> None:
    tab.select_row(tab.model.row_of(frame_id))
    assert tab.current.id == frame_id


def drag_box(qtbot, view, a: float = 0.25, b: float = 0.75) -> None:
    target = view.target_rect()
    start = QPoint(int(target.left() + target.width() * a), int(target.top() + target.height() * a))
    end = QPoint(int(target.left() + target.width() * b), int(target.top() + target.height() * b))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)


def audit_actions(root: Path, frame_id: int) -> list[str]:
    with ReviewStore.open(root) as store:
        return [entry.action for entry in reversed(store.audit_log(frame_id=frame_id))]


# -- item 8: comments, columns, the list's place, undo, the new box's class ------------------------------------


def test_a_typed_comment_is_saved_with_its_frame_when_another_is_selected(review, qtbot):
    tab, ids, root = review
    select_frame(tab, ids[2])
    tab.comment.setFocus()
    qtbot.keyClicks(tab.comment, "scratch at the edge")
    select_frame(tab, ids[1])  # leaving the frame saves what was typed, without giving a verdict
    with ReviewStore.open(root) as store:
        frame = store.frame(ids[2])
        (entry,) = store.audit_log(frame_id=ids[2])
    assert (frame.comment, frame.reviewed, frame.verdict) == ("scratch at the edge", False, None)
    assert (entry.action, entry.actor, entry.details["to"]) == ("comment", "alice", "scratch at the edge")
    assert tab.comment.text() == "" and f"Comment saved with frame {ids[2]}" in tab.banner.text()
    select_frame(tab, ids[2])
    assert tab.comment.text() == "scratch at the edge" and tab.comment_state.text() == "saved with the frame"
    qtbot.keyClicks(tab.comment, ", twice")
    assert "not saved yet" in tab.comment_state.text()  # the UI says what happens to a draft
    qtbot.keyClick(tab.comment, Qt.Key.Key_Return)  # Enter saves it too
    with ReviewStore.open(root) as store:
        assert store.frame(ids[2]).comment == "scratch at the edge, twice"


def test_the_verdict_column_is_visible_at_the_default_window_size(review, qtbot):
    tab, _, _ = review
    window = tab.window()
    assert (window.width(), window.height()) == (1400, 900)
    qtbot.waitUntil(lambda: tab.list.viewport().width() > 0)
    header = tab.list.horizontalHeader()
    verdict = tab.model.columnCount() - 1
    assert tab.model.headerData(verdict, Qt.Orientation.Horizontal) == "verdict"
    right_edge = header.sectionViewportPosition(verdict) + header.sectionSize(verdict)
    assert right_edge <= tab.list.viewport().width() and tab.list.horizontalScrollBar().maximum() == 0
    assert tab.model.record(1).source_id == LONG_SOURCE  # cut to fit; its full text is in the tooltip
    assert tab.model.data(tab.model.index(1, 1), Qt.ItemDataRole.ToolTipRole) == LONG_SOURCE


def test_the_list_keeps_its_place_after_verdicts_and_when_the_store_is_re_read(make_window, tmp_path, qtbot):
    from app.review.frame_list import PAGE_SIZE

    root = tmp_path / "review"
    make_store(root, [{"boxes": [(0, 0.9, (1, 1, 9, 9))], "t": T0 + i, "size": (16, 16)} for i in range(300)])
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total == 300 and window.isActiveWindow())  # keys go to the active window
    tab.list.scrollToBottom()  # past the first page
    qtbot.waitUntil(lambda: tab.model.rowCount() > PAGE_SIZE)
    tab.select_row(250)
    tab.list.setFocus()
    qtbot.keyClick(tab.list, Qt.Key.Key_D)
    qtbot.keyClick(tab.list, Qt.Key.Key_F)
    bar = tab.list.verticalScrollBar()
    kept_id, kept_scroll = tab.current.id, bar.value()
    assert tab.list.currentIndex().row() == 252 and kept_scroll > 200
    window.tabs.setCurrentWidget(window.live)
    window.tabs.setCurrentWidget(window.review)  # showing the tab re-reads the store
    assert tab.current.id == kept_id and tab.list.currentIndex().row() == 252
    assert bar.value() == kept_scroll
    qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    assert tab.current.id == kept_id and bar.value() == kept_scroll


def test_ctrl_z_undoes_verdicts_and_box_edits_and_records_it(review, qtbot):
    tab, ids, root = review
    select_frame(tab, ids[1])  # crazing 0.7 and patches 0.8
    tab.list.setFocus()
    qtbot.keyClick(tab.list, Qt.Key.Key_F)
    assert tab.current.id != ids[1]
    assert "false alarm" in tab.undo_button.text()
    qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tab.current.id == ids[1] and "not reviewed" in tab.verdict_label.text()  # back on the frame it undid

    tab.box_table.selectRow(0)
    tab.relabel_class.setCurrentText("scratches")
    qtbot.mouseClick(tab.relabel_button, Qt.MouseButton.LeftButton)
    tab.box_table.selectRow(1)
    qtbot.keyClick(tab.box_table, Qt.Key.Key_Delete)
    qtbot.keyClick(tab.list, Qt.Key.Key_B)
    drag_box(qtbot, tab.view)
    assert tab.box_table.rowCount() == 2
    for _ in range(3):  # the drawn box, the delete, the relabel
        qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not tab.undo_button.isEnabled()

    with ReviewStore.open(root) as store:
        frame = store.frame(ids[1])
        boxes = store.detections(ids[1])
        every_box = store.detections(ids[1], include_deleted=True)
        undo_rows = [entry for entry in store.audit_log(frame_id=ids[1]) if entry.details.get("reason") == "undo"]
    assert (frame.verdict, frame.reviewed) == (None, False)
    assert [(box.class_name, box.confidence) for box in boxes] == [
        ("patches", pytest.approx(0.8)),
        ("crazing", pytest.approx(0.7)),
    ]
    assert len(every_box) == 3 and every_box[2].deleted and every_box[2].origin == "reviewer"  # kept, marked
    assert audit_actions(root, ids[1]) == [
        "verdict",
        "verdict_undone",
        "box_relabelled",
        "box_deleted",
        "box_added",
        "box_deleted",  # undo of the drawn box
        "box_restored",  # undo of the delete
        "box_relabelled",  # undo of the relabel
    ]
    assert len(undo_rows) == 4 and all(entry.actor == "alice" for entry in undo_rows)


def test_a_new_box_takes_the_class_of_the_selected_box_else_the_last_used(review, qtbot):
    tab, ids, root = review
    select_frame(tab, ids[1])
    tab.box_table.selectRow(0)  # patches
    assert tab.new_box_class.currentText() == "patches"
    tab.draw_button.setChecked(True)
    drag_box(qtbot, tab.view)
    select_frame(tab, ids[0])  # nothing selected there: the last class used
    assert tab.new_box_class.currentText() == "patches"
    tab.draw_button.setChecked(True)
    drag_box(qtbot, tab.view, 0.1, 0.3)
    with ReviewStore.open(root) as store:
        added = [box.class_name for i in (ids[1], ids[0]) for box in store.detections(i) if box.origin == "reviewer"]
    assert added == ["patches", "patches"]


# -- item 9: which boxes become labels on D; the export keeps the model's classes -------------------------------


def test_d_shows_its_labels_l_drops_low_scores_and_nested_duplicates_go(review, qtbot):
    tab, ids, root = review
    select_frame(tab, ids[2])
    label_column = tab.box_columns.index("label")
    labels = [tab.box_table.item(row, label_column).text() for row in range(3)]
    assert labels == ["label", "no: nested duplicate", "label, below flag 0.50"]
    assert "inside a stronger crazing box" in tab.box_table.item(1, label_column).toolTip()
    assert "2 labels" in tab.defect_button.text()

    tab.list.setFocus()
    qtbot.keyClick(tab.list, Qt.Key.Key_L)  # drop the boxes below their class's flag threshold
    assert tab.box_table.rowCount() == 2 and tab.defect_button.text().endswith(": 1 label")
    assert "Dropped 1 box below the flag threshold" in tab.banner.text()
    qtbot.keyClick(tab.list, Qt.Key.Key_D)
    with ReviewStore.open(root) as store:
        boxes = store.detections(ids[2])
        deleted = [entry.details for entry in store.audit_log(frame_id=ids[2]) if entry.action == "box_deleted"]
        frame = store.frame(ids[2])
    assert frame.verdict == "defect"
    assert [(b.class_name, b.confidence) for b in boxes] == [("crazing", pytest.approx(0.9))]
    reasons = sorted(entry["reason"].split(":")[0] for entry in deleted)
    assert reasons == ["below the flag threshold", "nested duplicate"]

    qtbot.keyClick(tab.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # D and its drop, undone together
    assert tab.current.id == ids[2] and tab.box_table.rowCount() == 2


def add_six_class_frame(store: ReviewStore, boxes, t: float) -> int:
    names = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
    image = np.random.default_rng(0).integers(60, 200, (64, 96, 3), dtype=np.uint8)
    detections = Detections(np.array([b[2] for b in boxes], np.float32), [b[1] for b in boxes], [b[0] for b in boxes])
    info = EngineInfo("onnxruntime", names, 224, "neu.onnx", "neu.onnx@abcdef012345", has_heatmap=False)
    decision = decide(detections, names, Thresholds())
    frame = Frame(image=image, index=int(t - T0), timestamp=t, source_id="camera:0")
    return store.add_frame(frame, decision, Prediction(detections, None, {}), info, Thresholds())


def test_export_keeps_the_models_class_list_unless_narrowed(make_window, tmp_path, qtbot):
    root = tmp_path / "review"
    with ReviewStore.open(root) as store:  # reviewed boxes of 4 classes; none of crazing or pitted_surface
        frames = [
            [(1, 0.9, (5, 5, 40, 30)), (2, 0.8, (50, 10, 90, 60))],
            [(4, 0.9, (5, 5, 40, 30))],
            [(5, 0.9, (10, 10, 80, 20))],
            [(2, 0.95, (10, 10, 50, 50))],
        ]
        for i, boxes in enumerate(frames):
            store.set_verdict(add_six_class_frame(store, boxes, T0 + i), "defect", "alice")
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total == 4)
    with qtbot.waitSignal(tab.dataset_exported, timeout=60_000) as exported:
        tab.export_to(str(tmp_path / "full"))
    data = yaml.safe_load(Path(exported.args[0]).read_text())
    assert data["nc"] == 6
    assert list(data["names"].values()) == [
        "crazing",
        "inclusion",
        "patches",
        "pitted_surface",
        "rolled-in_scale",
        "scratches",
    ]
    assert "6 classes" in tab.banner.text()
    tab.narrow_classes.setChecked(True)  # the explicit option: only the classes of the reviewed boxes
    with qtbot.waitSignal(tab.dataset_exported, timeout=60_000) as exported:
        tab.export_to(str(tmp_path / "narrow"))
    data = yaml.safe_load(Path(exported.args[0]).read_text())
    assert data["nc"] == 4 and "crazing" not in data["names"].values()


# -- item 10: dialogs open in the user's folders; a written report can be opened -------------------------------


def test_report_and_merge_dialogs_open_in_the_users_folders_and_the_report_can_be_opened(
    review, qtbot, tmp_path, monkeypatch
):
    from grace_core.paths import user_data_dir

    tab, _, _ = review
    asked: dict[str, str] = {}

    def folder(parent, caption, directory="", *args, **kwargs):
        asked["report"] = directory
        return str(tmp_path)

    def save_name(parent, caption, directory="", *args, **kwargs):
        asked["export"] = directory
        return "", ""

    def open_name(parent, caption, directory="", *args, **kwargs):
        asked["merge"] = directory
        return "", ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "out"), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", open_name)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    assert Path(asked["merge"]) == user_data_dir() / "datasets"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    qtbot.mouseClick(tab.export_button, Qt.MouseButton.LeftButton)
    assert Path(asked["export"]).parent == user_data_dir() / "datasets"

    assert not tab.open_report_button.isVisible()
    qtbot.mouseClick(tab.report_button, Qt.MouseButton.LeftButton)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert asked["report"] == documents
    qtbot.waitUntil(lambda: tab.last_report is not None, timeout=60_000)
    _, html_path = tab.last_report
    assert tab.open_report_button.isVisible() and tab.open_report_button.isEnabled()
    assert tab.report_url() == QUrl.fromLocalFile(str(html_path))
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(tab.open_report_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(html_path))]
