"""Listing frames: filters, paging, newest first, and index use at 10 000 rows."""

from __future__ import annotations

import itertools
import sqlite3

import pytest

from grace_core.store import FrameFilter, ReviewStore

T0 = 1_700_000_000.0


@pytest.fixture
def filled(store: ReviewStore, flagged) -> dict[str, int]:
    """Six frames, one per second; returns their ids by name."""
    specs = {
        "a": dict(boxes=((0, 0.9),), source_id="camera:0"),
        "b": dict(boxes=((1, 0.3),), source_id="camera:0"),  # uncertain
        "c": dict(boxes=((2, 0.7), (1, 0.9)), source_id="camera:1"),
        "d": dict(boxes=((0, 0.4),), source_id="camera:1", model_id="grace-n.pt@fedcba987654"),  # uncertain
        "e": dict(boxes=((1, 0.6),), source_id="camera:0"),
        "f": dict(boxes=((2, 0.95),), source_id="camera:0", model_id="grace-n.pt@fedcba987654"),
    }
    ids = {}
    for i, (name, spec) in enumerate(specs.items()):
        ids[name] = store.add_frame(*flagged(t=T0 + i, index=i, size=(16, 16), **spec).args)
    store.set_verdict(ids["a"], "false_alarm", "op")
    store.set_verdict(ids["c"], "defect", "op")
    store.set_verdict(ids["d"], "unsure", "op")
    return ids


def names(store: ReviewStore, ids: dict[str, int], where: FrameFilter | None = None, **page) -> str:
    by_id = {v: k for k, v in ids.items()}
    return "".join(by_id[r.id] for r in store.list_frames(where, **page))


def test_newest_first_and_paging(store: ReviewStore, filled) -> None:
    assert names(store, filled) == "fedcba"
    assert names(store, filled, limit=2) == "fe"
    assert names(store, filled, limit=2, offset=2) == "dc"
    assert names(store, filled, limit=10, offset=5) == "a"
    assert names(store, filled, limit=10, offset=6) == ""
    assert store.count() == 6


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (FrameFilter(class_name="inclusion"), "ecb"),
        (FrameFilter(class_name="patches"), "fc"),
        (FrameFilter(verdict="defect"), "c"),
        (FrameFilter(verdict="false_alarm"), "a"),
        (FrameFilter(status="uncertain"), "db"),
        (FrameFilter(status="defect"), "feca"),
        (FrameFilter(reviewed=True), "dca"),
        (FrameFilter(reviewed=False), "feb"),
        (FrameFilter(since=T0 + 1, until=T0 + 4), "dcb"),
        (FrameFilter(since=T0 + 4), "fe"),
        (FrameFilter(until=T0 + 1), "a"),
        (FrameFilter(source_id="camera:1"), "dc"),
        (FrameFilter(model_id="grace-n.pt@fedcba987654"), "fd"),
        (FrameFilter(class_name="inclusion", reviewed=False, source_id="camera:0"), "eb"),
        (FrameFilter(status="uncertain", reviewed=True), "d"),
    ],
)
def test_filters(store: ReviewStore, filled, where: FrameFilter, expected: str) -> None:
    assert names(store, filled, where) == expected
    assert store.count(where) == len(expected)


def test_deleted_boxes_do_not_match_the_class_filter(store: ReviewStore, filled) -> None:
    (patches_box,) = [b for b in store.detections(filled["f"]) if b.class_name == "patches"]
    store.delete_box(patches_box.id, "op")
    assert names(store, filled, FrameFilter(class_name="patches")) == "c"


def test_bad_filter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="verdict"):
        FrameFilter(verdict="maybe")
    with pytest.raises(ValueError, match="status"):
        FrameFilter(status="clear")


def _bulk_insert(store: ReviewStore, n: int) -> None:
    """``n`` frame rows (no files) with two boxes each, straight into the database in one transaction."""
    conn = sqlite3.connect(store.db_path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO frames (id, uid, captured_at, source_id, source_kind, frame_index, image_path, width, "
            "height, status, model_id, thresholds_json, bytes, reviewed, created_at) "
            "VALUES (?, ?, ?, ?, 'camera', ?, ?, 64, 48, ?, 'm@1', '{}', 1000, ?, ?)",
            (
                (i + 1, f"{i:032x}", T0 + i, f"camera:{i % 3}", i, f"frames/x/{i}.jpg",
                 "defect" if i % 4 else "uncertain", int(i % 5 == 0), T0 + i)
                for i in range(n)
            ),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2) "
            "VALUES (?, ?, ?, 0.8, 0, 0, 10, 10)",
            ((i // 2 + 1, i % 3, ("crazing", "inclusion", "patches")[i % 3]) for i in range(2 * n)),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_listing_10000_frames_uses_indexes(store: ReviewStore) -> None:
    _bulk_insert(store, 10_000)
    assert store.count() == 10_000
    page = store.list_frames(FrameFilter(reviewed=False), limit=50, offset=100)
    assert len(page) == 50
    assert all(a.captured_at > b.captured_at for a, b in itertools.pairwise(page))
    for where in (
        None,
        FrameFilter(reviewed=False),
        FrameFilter(since=T0 + 5000, until=T0 + 6000),
        FrameFilter(class_name="patches"),
        FrameFilter(reviewed=True, status="uncertain"),
    ):
        plan = " | ".join(store.query_plan(where))
        assert "USING INDEX" in plan, (where, plan)
        assert "SCAN f |" not in plan + " |", (where, plan)  # never a full table scan of frames


def test_facets_list_what_the_filters_can_offer(store: ReviewStore, flagged) -> None:
    store.add_frame(*flagged(boxes=((2, 0.9),), source_id="camera:1", model_id="b@2").args)
    first = store.add_frame(*flagged(boxes=((0, 0.9), (1, 0.8)), source_id="camera:0", model_id="a@1").args)
    store.delete_box(store.detections(first)[1].id, actor="alice")  # inclusion: no box of it is left
    facets = store.facets()
    assert facets.class_names == ("crazing", "patches")  # in class-id order; deleted boxes do not count
    assert facets.sources == ("camera:0", "camera:1") and facets.models == ("a@1", "b@2")


def test_frames_carry_their_coil_and_the_coil_filter_selects_them(store: ReviewStore, flagged) -> None:
    placed = [("C4711", 0.0), ("C4711", 12.5), ("C4712", 3.25), (None, None), ("C4712", None)]
    ids = [
        store.add_frame(*flagged(t=T0 + i, index=i, size=(16, 16)).args, coil=coil, coil_m=metres)
        for i, (coil, metres) in enumerate(placed)
    ]
    assert [(r.coil, r.coil_m) for r in map(store.frame, ids)] == [
        ("C4711", 0.0), ("C4711", 12.5), ("C4712", 3.25), ("", None), ("C4712", None),
    ]  # fmt: skip
    assert [r.id for r in store.list_frames(FrameFilter(coil="C4711"))] == [ids[1], ids[0]]  # newest first
    assert store.count(FrameFilter(coil="C4712")) == 2 and store.count(FrameFilter(coil="C1")) == 0
    assert store.count(FrameFilter(coil="")) == 1  # frames flagged with no coil known
    assert store.facets().coils == ("C4711", "C4712")  # what the review tab's coil filter offers
    assert "idx_frames_coil_captured_at" in " ".join(store.query_plan(FrameFilter(coil="C4711")))
