"""Which boxes become labels on a defect verdict, and the store's side of undo: every reversal is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.flagging import Thresholds
from grace_core.review.labels import below_flag, label_plan, nested_duplicates
from grace_core.store import FrameFilter, ReviewStore
from grace_core.store.records import DetectionRecord


def box(box_id: int, name: str, score: float, xyxy, origin: str = "model") -> DetectionRecord:
    return DetectionRecord(box_id, 1, 0, name, score, tuple(float(v) for v in xyxy), origin, False)


def test_a_box_inside_a_stronger_one_of_its_class_is_a_nested_duplicate() -> None:
    boxes = [
        box(1, "crazing", 0.7, (15, 15, 40, 40)),  # inside box 2, weaker
        box(2, "crazing", 0.9, (10, 10, 60, 50)),
        box(3, "patches", 0.6, (12, 12, 30, 30)),  # inside box 2, but another class
        box(4, "crazing", 0.8, (50, 40, 90, 80)),  # overlaps box 2 by less than 80 %
        box(5, "crazing", 1.0, (20, 20, 30, 30), "reviewer"),  # a reviewer's box is never dropped
    ]
    assert nested_duplicates(boxes) == {1}
    plan = label_plan(boxes, Thresholds())
    assert [entry.is_label for entry in plan] == [False, True, True, True, True]
    assert plan[0].short == "no: nested duplicate" and plan[0].reason.startswith("nested duplicate: ")


def test_boxes_below_their_class_flag_threshold_are_marked_for_l() -> None:
    thresholds = Thresholds(flag={"crazing": 0.25}, uncertain={"crazing": 0.2})
    boxes = [
        box(1, "crazing", 0.26, (0, 0, 9, 9)),
        box(2, "patches", 0.26, (20, 0, 29, 9)),
        box(3, "patches", 0.5, (40, 0, 49, 9)),
    ]
    low = below_flag(boxes, thresholds)
    assert [entry.box.id for entry in low] == [2]  # patches at the default flag 0.5; crazing's is 0.25
    assert low[0].short == "label, below flag 0.50" and low[0].reason == (
        "below the flag threshold: score 0.26 < patches flag 0.50"
    )
    assert [entry.short for entry in label_plan(boxes, thresholds)] == ["label", "label, below flag 0.50", "label"]


@pytest.fixture
def frame(reviewed) -> tuple[ReviewStore, int]:
    return reviewed.store, reviewed.ids["D"]  # unsure, one inclusion box


def test_undoing_a_verdict_puts_back_the_one_before_and_is_audited(frame) -> None:
    store, frame_id = frame
    before = store.frame(frame_id)
    store.set_verdict(frame_id, "defect", "carol", comment="pit, not inclusion")
    store.restore_verdict(frame_id, before.verdict, before.reviewed_at, "carol")
    after = store.frame(frame_id)
    assert (after.verdict, after.reviewed, after.reviewed_at) == ("unsure", True, before.reviewed_at)
    assert after.comment == "pit, not inclusion"  # the typed comment stays
    store.restore_verdict(frame_id, None, None, "carol")
    assert (store.frame(frame_id).verdict, store.frame(frame_id).reviewed) == (None, False)
    entries = store.audit_log(frame_id=frame_id)
    assert [(e.action, e.details.get("from"), e.details.get("to")) for e in entries[:3]] == [
        ("verdict_undone", "unsure", None),
        ("verdict_undone", "defect", "unsure"),
        ("verdict", "unsure", "defect"),
    ]


def test_a_comment_is_saved_alone_and_a_deleted_box_restored(frame) -> None:
    store, frame_id = frame
    assert store.set_comment(frame_id, "look again", "carol") and not store.set_comment(frame_id, "look again", "c")
    (inclusion,) = store.detections(frame_id)
    store.delete_box(inclusion.id, "carol", reason="undo")
    store.restore_box(inclusion.id, "carol")
    assert store.detections(frame_id) == [inclusion] and store.frame(frame_id).comment == "look again"
    actions = [(e.action, e.details.get("reason")) for e in reversed(store.audit_log(frame_id=frame_id))][-3:]
    assert actions == [("comment", None), ("box_deleted", "undo"), ("box_restored", "undo")]


def test_a_frames_position_in_a_listing(reviewed) -> None:
    store = reviewed.store
    listed = [record.id for record in store.list_frames(limit=100)]
    assert [store.position(frame_id) for frame_id in listed] == list(range(len(listed)))
    unreviewed = FrameFilter(reviewed=False)
    assert store.position(reviewed.ids["A"], unreviewed) is None  # reviewed: not in that listing
    assert store.position(reviewed.ids["E"], unreviewed) == 0


def test_the_model_class_list_is_recorded_once_per_model(store_root: Path, add) -> None:
    with ReviewStore.open(store_root) as store:
        add(store, 1_700_000_000.0, [(0, 0.9, (1, 1, 30, 30))])
        add(store, 1_700_000_001.0, [(3, 0.9, (1, 1, 30, 30))])
        assert store.model_classes("grace-s.pt@0123456789ab") == ["crazing", "inclusion", "patches", "scratches"]
        assert store.model_classes("unknown@0") is None
