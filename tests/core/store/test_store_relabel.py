"""Relabelling a box: the class changes, the audit row keeps the old one; unknown and deleted boxes are refused."""

from __future__ import annotations

import pytest

from grace_core.store import ReviewStore, StoreError


def test_relabel_changes_the_class_and_audits_the_old_one(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged(boxes=((0, 0.9),)).args)
    (box,) = store.detections(frame_id)
    assert (box.class_id, box.class_name) == (0, "crazing")

    store.relabel_box(box.id, 2, "patches", "alice")

    (after,) = store.detections(frame_id)
    assert (after.id, after.class_id, after.class_name) == (box.id, 2, "patches")
    assert (after.origin, after.confidence, after.xyxy) == (box.origin, box.confidence, box.xyxy)
    (row,) = store.audit_log(frame_id)
    assert (row.actor, row.action, row.frame_id) == ("alice", "box_relabelled", frame_id)
    assert row.details == {
        "detection_id": box.id,
        "origin": "model",
        "from": "crazing",
        "to": "patches",
        "from_class_id": 0,
        "to_class_id": 2,
    }


def test_relabel_twice_keeps_every_step_in_the_trail(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged().args)
    added = store.add_box(frame_id, 1, "inclusion", (5, 6, 30, 40), "alice")
    store.relabel_box(added, 0, "crazing", "bob")
    store.relabel_box(added, 2, "patches", "carol")
    store.relabel_box(added, 2, "patches", "carol")  # already that class: nothing to record

    relabels = [row for row in store.audit_log(frame_id) if row.action == "box_relabelled"]
    steps = [(row.actor, row.details["from"], row.details["to"]) for row in relabels]
    assert steps == [("carol", "crazing", "patches"), ("bob", "inclusion", "crazing")]
    assert store.audit_log(frame_id)[0].details["origin"] == "reviewer"
    assert [b.class_name for b in store.detections(frame_id)] == ["crazing", "patches"]


def test_unknown_deleted_or_nameless_boxes_change_nothing(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged(boxes=((0, 0.9), (1, 0.8))).args)
    first, second = store.detections(frame_id)
    store.delete_box(first.id, "alice")
    with pytest.raises(StoreError, match="box 98765 is not in the review store"):
        store.relabel_box(98765, 1, "inclusion", "alice")
    with pytest.raises(StoreError, match=f"box {first.id} was deleted"):
        store.relabel_box(first.id, 1, "inclusion", "alice")
    with pytest.raises(ValueError, match="class name"):
        store.relabel_box(second.id, 1, " ", "alice")
    with pytest.raises(ValueError, match="class id"):
        store.relabel_box(second.id, -1, "inclusion", "alice")

    assert [a.action for a in store.audit_log(frame_id)] == ["box_deleted"]
    assert [(b.class_id, b.class_name, b.deleted) for b in store.detections(frame_id, include_deleted=True)] == [
        (0, "crazing", True),
        (1, "inclusion", False),
    ]
