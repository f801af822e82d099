"""The audit trail: verdicts, box edits and app events append rows; nothing is overwritten silently."""

from __future__ import annotations

import pytest

from grace_core.store import ReviewStore, StoreError


def test_verdicts_mark_reviewed_and_are_audited(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged().args)
    store.set_verdict(frame_id, "unsure", "alice", comment="edge glare?")
    store.set_verdict(frame_id, "false_alarm", "bob")  # comment=None keeps the comment

    record = store.frame(frame_id)
    assert (record.reviewed, record.verdict, record.comment) == (True, "false_alarm", "edge glare?")
    assert record.reviewed_at is not None and record.reviewed_at >= record.created_at

    newest, oldest = store.audit_log(frame_id)
    assert (oldest.actor, oldest.action, oldest.frame_id) == ("alice", "verdict", frame_id)
    assert oldest.details == {"from": None, "to": "unsure", "comment_from": None, "comment": "edge glare?"}
    assert (newest.actor, newest.action) == ("bob", "verdict")
    assert newest.details == {
        "from": "unsure",
        "to": "false_alarm",
        "comment_from": "edge glare?",
        "comment": "edge glare?",
        # bob overrode alice's different verdict: last write wins, and the trail says whose verdict it replaced
        "from_actor": "alice",
        "conflict": True,
        "overridden_at": oldest.at,
    }
    assert newest.at >= oldest.at
    assert record.reviewed_by == "bob"
    assert [entry.id for entry in store.conflicts()] == [newest.id]


def test_bad_verdicts_and_missing_frames_change_nothing(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged().args)
    with pytest.raises(ValueError, match="verdict must be one of"):
        store.set_verdict(frame_id, "ok", "alice")
    with pytest.raises(StoreError, match="frame 12345"):
        store.set_verdict(12345, "defect", "alice")
    assert store.audit_log() == []
    assert not store.frame(frame_id).reviewed


def test_box_edits_are_audited_and_deleted_boxes_kept(store: ReviewStore, flagged) -> None:
    frame_id = store.add_frame(*flagged().args)
    (model_box,) = store.detections(frame_id)
    added = store.add_box(frame_id, 1, "inclusion", (5, 6, 30, 40), "alice")
    store.delete_box(model_box.id, "alice")

    assert [(b.id, b.origin, b.confidence) for b in store.detections(frame_id)] == [(added, "reviewer", 1.0)]
    assert [b.deleted for b in store.detections(frame_id, include_deleted=True)] == [True, False]
    deleted, created = store.audit_log(frame_id)
    assert created.action == "box_added"
    assert created.details == {"detection_id": added, "class_name": "inclusion", "xyxy": [5.0, 6.0, 30.0, 40.0]}
    assert deleted.action == "box_deleted"
    assert deleted.details["detection_id"] == model_box.id and deleted.details["origin"] == "model"


def test_app_events_are_audited(store: ReviewStore) -> None:
    store.record_event("alice", "model_promoted", {"from": "a.pt@1", "to": "b.pt@2"})
    store.record_event("alice", "thresholds_changed", {"flag": {"crazing": 0.6}})
    assert [(a.action, a.frame_id) for a in store.audit_log()] == [
        ("thresholds_changed", None),
        ("model_promoted", None),
    ]
    assert store.audit_log()[1].details == {"from": "a.pt@1", "to": "b.pt@2"}
