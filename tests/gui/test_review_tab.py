"""The review tab over a real review store: keyboard verdicts, filters, box corrections, paging."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.flagged_frames import T0, make_store
from PySide6.QtCore import QPoint, Qt

from app.review.frame_list import COLUMNS
from grace_core.store import ReviewStore

FRAMES = [  # oldest first; the tab lists newest first
    {"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0 + 0, "source_id": "camera:0"},
    {"boxes": [(1, 0.3, (10, 10, 50, 40))], "t": T0 + 60, "source_id": "camera:0"},  # uncertain only
    {"boxes": [(2, 0.8, (0, 0, 30, 30)), (0, 0.7, (40, 20, 90, 60))], "t": T0 + 120, "source_id": "camera:1"},
    {"boxes": [(3, 0.95, (20, 5, 80, 15))], "t": T0 + 180, "source_id": "camera:1"},
    {"boxes": [(0, 0.6, (1, 1, 20, 20))], "t": T0 + 240, "source_id": "camera:0"},
]


@pytest.fixture
def review(make_window, tmp_path: Path, qtbot):
    """The window's review tab over a store holding FRAMES; returns (tab, frame ids oldest first, store root)."""
    root = tmp_path / "review"
    ids = make_store(root, FRAMES)
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total == len(FRAMES), timeout=10_000)
    tab.reviewer.setText("alice")
    return tab, ids, root


def listed_ids(tab) -> list[int]:
    return [tab.model.record(row).id for row in range(tab.model.rowCount())]


def test_frames_are_listed_newest_first_with_image_boxes_and_heatmap(review):
    tab, ids, _ = review
    assert listed_ids(tab) == ids[::-1]
    assert tab.current.id == ids[-1] and tab.view.has_frame and tab.view.showing_heat
    assert [box.label for box in tab.view.boxes] == ["crazing 0.60"]
    assert tab.box_table.rowCount() == 1 and tab.box_table.item(0, 0).text() == "crazing"
    assert "not reviewed" in tab.verdict_label.text()
    assert tab.list.isColumnHidden(COLUMNS.index("coil"))  # no frame carries a coil: no empty column
    assert tab.class_filter.itemText(0) == "any" and "scratches" in [
        tab.class_filter.itemText(i) for i in range(tab.class_filter.count())
    ]


def test_keyboard_review_records_verdicts_comments_and_who(review, qtbot):
    tab, ids, root = review
    tab.list.setFocus()
    qtbot.keyClick(tab.list, Qt.Key.Key_D)  # newest: defect → moves on to the next unreviewed
    assert tab.current.id == ids[3]
    tab.comment.setText("oil stain")
    qtbot.keyClick(tab.list, Qt.Key.Key_F)
    qtbot.keyClick(tab.list, Qt.Key.Key_U)
    assert tab.current.id == ids[1]
    qtbot.keyClick(tab.list, Qt.Key.Key_P)  # previous unreviewed: none above (all reviewed), stays put
    assert tab.current.id == ids[1] and "No more unreviewed" in tab.banner.text()
    with ReviewStore.open(root) as store:
        verdicts = {i: (store.frame(i).verdict, store.frame(i).comment) for i in ids}
        audit = store.audit_log()
    assert verdicts[ids[4]] == ("defect", None)
    assert verdicts[ids[3]] == ("false_alarm", "oil stain")
    assert verdicts[ids[2]][0] == "unsure" and verdicts[ids[1]] == (None, None)
    assert [(a.actor, a.action, a.frame_id) for a in audit][:3] == [
        ("alice", "verdict", ids[2]),
        ("alice", "verdict", ids[3]),
        ("alice", "verdict", ids[4]),
    ]
    assert tab.model.record(0).verdict == "defect"  # the list shows it at once
    assert tab.model.data(tab.model.index(1, COLUMNS.index("verdict"))) == "false alarm"


def test_filters_narrow_the_list(review):
    tab, ids, _ = review
    tab.class_filter.setCurrentText("crazing")
    assert listed_ids(tab) == [ids[4], ids[2], ids[0]]
    tab.source_filter.setCurrentText("camera:1")
    assert listed_ids(tab) == [ids[2]]
    tab.class_filter.setCurrentText("any")
    tab.source_filter.setCurrentText("any")
    tab.uncertain_only.setChecked(True)
    assert listed_ids(tab) == [ids[1]]
    tab.uncertain_only.setChecked(False)
    tab.select_row(0)
    tab.set_verdict("defect")  # the newest
    tab.verdict_filter.setCurrentText("unreviewed")
    assert ids[4] not in listed_ids(tab) and len(listed_ids(tab)) == 4
    tab.verdict_filter.setCurrentText("defect")
    assert listed_ids(tab) == [ids[4]]
    tab.verdict_filter.setCurrentText("any")
    tab.period.setCurrentText("last 24 hours")  # the frames are from 2023
    assert listed_ids(tab) == [] and not tab.view.has_frame


def test_boxes_are_relabelled_deleted_and_drawn_with_an_audit_trail(review, qtbot):
    tab, ids, root = review
    tab.select_row(2)  # the frame with two boxes
    assert tab.current.id == ids[2] and tab.box_table.rowCount() == 2
    tab.box_table.selectRow(0)
    tab.relabel_class.setCurrentText("inclusion")
    qtbot.mouseClick(tab.relabel_button, Qt.MouseButton.LeftButton)
    tab.box_table.selectRow(1)
    qtbot.keyClick(tab.box_table, Qt.Key.Key_Delete)
    qtbot.keyClick(tab.list, Qt.Key.Key_B)  # draw mode
    assert tab.view.draw_mode
    tab.new_box_class.setCurrentText("scratches")
    target = tab.view.target_rect()  # drag across the middle of the picture
    start = QPoint(int(target.left() + target.width() * 0.25), int(target.top() + target.height() * 0.25))
    end = QPoint(int(target.left() + target.width() * 0.75), int(target.top() + target.height() * 0.75))
    qtbot.mousePress(tab.view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(tab.view, end)
    qtbot.mouseRelease(tab.view, Qt.MouseButton.LeftButton, pos=end)
    assert not tab.view.draw_mode
    with ReviewStore.open(root) as store:
        boxes = store.detections(ids[2])
        all_boxes = store.detections(ids[2], include_deleted=True)
        actions = [(a.actor, a.action) for a in store.audit_log(frame_id=ids[2])]
    assert [(b.class_name, b.origin) for b in boxes] == [("inclusion", "model"), ("scratches", "reviewer")]
    x1, y1, x2, y2 = boxes[1].xyxy
    assert (x1, y1, x2, y2) == pytest.approx((24, 16, 72, 48), abs=1.5)  # a quarter in from each side of 96×64
    assert len(all_boxes) == 3 and all_boxes[1].deleted  # deleted, not erased
    assert actions == [("alice", "box_added"), ("alice", "box_deleted"), ("alice", "box_relabelled")]
    assert [row for row in range(tab.box_table.rowCount())] == [0, 1]  # the table shows the result


def test_zoom_keeps_the_point_under_the_cursor(review):
    tab, _, _ = review
    view = tab.view
    target = view.target_rect()
    point = target.center() + (target.topLeft() - target.center()) * 0.5
    before = view.to_image(point)
    view.zoom_at(point, 2.0)
    assert view.zoom == 2.0 and view.to_image(point).x() == pytest.approx(before.x(), abs=0.01)
    view.reset_view()
    assert view.zoom == 1.0


def test_a_large_store_is_paged_not_loaded_whole(make_window, tmp_path, qtbot):
    from app.review.frame_list import PAGE_SIZE

    n = 2 * PAGE_SIZE + 50
    root = tmp_path / "review"
    make_store(root, [{"boxes": [(0, 0.9, (1, 1, 9, 9))], "t": T0 + i, "size": (16, 16)} for i in range(n)])
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    assert tab.model.total == n and tab.model.rowCount() == PAGE_SIZE
    tab.list.scrollToBottom()
    qtbot.waitUntil(lambda: tab.model.rowCount() > PAGE_SIZE, timeout=5_000)
    while tab.model.canFetchMore(tab.list.rootIndex()):
        tab.model.fetchMore(tab.list.rootIndex())
    assert tab.model.rowCount() == n
    times = [tab.model.record(row).captured_at for row in range(n)]
    assert times == sorted(times, reverse=True)


def test_reviewed_frames_export_to_a_dataset_that_opens_in_the_training_tab(review, qtbot, tmp_path):
    from grace_core.data.stats import dataset_stats

    tab, _, _ = review
    window = tab.window()
    tab.select_row(0)
    tab.set_verdict("defect")  # ids[4]: one crazing box
    tab.set_verdict("false_alarm")  # ids[3]: a background image
    tab.set_verdict("unsure")  # ids[2]: not exported
    out = tmp_path / "reviewed"
    with qtbot.waitSignal(tab.dataset_exported, timeout=60_000) as exported:
        tab.export_to(str(out))
    stats = dataset_stats(exported.args[0])
    assert stats.total.images == 2 and stats.total.background_images == 1
    assert stats.total.instances_per_class[stats.class_names.index("crazing")] == 1
    assert window.tabs.currentWidget() is window.training
    qtbot.waitUntil(lambda: window.training.dataset.valid_path == exported.args[0], timeout=30_000)


def test_a_shift_report_is_written_with_the_counts(review, qtbot, tmp_path):
    tab, _, _ = review
    tab.select_row(0)
    tab.set_verdict("defect")
    job = tab.write_report(str(tmp_path))
    qtbot.waitUntil(lambda: tab.last_report is not None, timeout=60_000)
    job.join(5)
    csv_path, html_path = tab.last_report
    import csv

    with open(csv_path, newline="") as handle:
        rows = {row["class_name"]: row for row in csv.DictReader(handle)}
    assert (rows["crazing"]["boxes"], rows["crazing"]["frames"], rows["crazing"]["confirmed_frames"]) == ("3", "3", "1")
    assert (rows["scratches"]["boxes"], rows["scratches"]["confirmed_frames"]) == ("1", "0")
    html = Path(html_path).read_text()
    assert "data:image/png;base64," in html and "crazing" in html
    assert "Report written" in tab.banner.text()


def test_what_the_live_tab_flags_is_there_to_review(make_window, qtbot):
    window = make_window()
    counts: list[int] = []
    window.live.flagged_count.connect(counts.append)
    window.live.start()
    qtbot.waitUntil(lambda: bool(counts) and counts[-1] >= 3, timeout=60_000)
    window.live.stop()
    window.tabs.setCurrentWidget(window.review)  # showing the tab re-reads the store
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total >= 3, timeout=10_000)
    assert tab.current is not None and tab.current.model_id == window.live.engine_info.model_id
    assert tab.view.has_frame and tab.view.showing_heat and tab.box_table.rowCount() >= 1
    assert set(tab.facets.class_names) <= set(window.live.engine_info.class_names)


def test_the_coil_filter_lists_the_coils_and_narrows_the_list(make_window, tmp_path: Path, qtbot):
    root = tmp_path / "review"
    placed = [("C4711", 0.0), ("C4711", 12.34), ("C4712", 3.0), (None, None)]  # the last: no coil known
    ids = make_store(
        root,
        [
            {"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0 + 60 * i, "coil": coil, "coil_m": metres}
            for i, (coil, metres) in enumerate(placed)
        ],
    )
    window = make_window(store_root=root)
    window.tabs.setCurrentWidget(window.review)
    tab = window.review
    qtbot.waitUntil(lambda: tab.model.total == len(placed), timeout=10_000)
    assert [tab.coil_filter.itemText(i) for i in range(tab.coil_filter.count())] == ["any", "C4711", "C4712"]
    coil = COLUMNS.index("coil")
    assert not tab.list.isColumnHidden(coil)  # frames carry coils: the column says where
    assert tab.list.isColumnHidden(COLUMNS.index("station"))  # one station: the same on every row
    assert [tab.model.data(tab.model.index(row, coil)) for row in range(4)] == [
        "", "C4712 @ 3.0 m", "C4711 @ 12.3 m", "C4711 @ 0.0 m",
    ]  # fmt: skip
    tab.coil_filter.setCurrentText("C4711")
    assert listed_ids(tab) == [ids[1], ids[0]] and tab.current_filter().coil == "C4711"
    tab.select_row(0)
    assert "coil C4711 @ 12.3 m" in tab.frame_info.text() and "station " in tab.frame_info.text()
    tab.coil_filter.setCurrentText("any")
    assert listed_ids(tab) == ids[::-1]
