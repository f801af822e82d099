"""Schema versions: migrating an old database, refusing one from a newer app, refusing a non-database."""

from __future__ import annotations

import sqlite3

import pytest

from grace_core.store import LATEST_VERSION, FrameFilter, ReviewStore, StoreError
from grace_core.store.schema import migrate

V1_FRAME = {
    "uid": "a" * 32,
    "captured_at": 1_700_000_000.0,
    "source_id": "camera:0",
    "source_kind": "camera",
    "frame_index": 3,
    "image_path": "frames/2023/11/14/" + "a" * 32 + ".jpg",
    "width": 64,
    "height": 48,
    "status": "defect",
    "model_id": "m.pt@1",
    "thresholds_json": "{}",
    "bytes": 10,
    "reviewed": 1,
    "verdict": "defect",
    "created_at": 1_700_000_001.0,
}


def _indexes(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_v1_database_migrates_to_the_latest(store_root) -> None:
    store_root.mkdir(parents=True)
    conn = sqlite3.connect(store_root / "review.db", isolation_level=None)
    assert migrate(conn, target=1) == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "idx_frames_reviewed_captured_at" not in _indexes(conn)
    conn.execute(f"INSERT INTO frames ({', '.join(V1_FRAME)}) VALUES ({', '.join('?' * len(V1_FRAME))})",
                 list(V1_FRAME.values()))  # fmt: skip
    conn.execute("INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2) "
                 "VALUES (1, 0, 'crazing', 0.9, 1, 2, 3, 4)")  # fmt: skip
    conn.close()

    assert LATEST_VERSION >= 2
    with ReviewStore.open(store_root) as store:
        assert store.schema_version == LATEST_VERSION
        record = store.frame(1)
        assert (record.uid, record.verdict, record.reviewed) == ("a" * 32, "defect", True)
        assert record.reviewed_at == 1_700_000_001.0  # v2 backfills it for frames reviewed before
        assert [b.class_name for b in store.detections(1)] == ["crazing"]
        plan = " ".join(store.query_plan())
        assert "USING INDEX" in plan

    conn = sqlite3.connect(store_root / "review.db")
    assert {"idx_frames_reviewed_captured_at", "idx_detections_class_name"} <= _indexes(conn)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reopening_the_latest_is_a_no_op(store_root) -> None:
    ReviewStore.open(store_root).close()
    conn = sqlite3.connect(store_root / "review.db", isolation_level=None)
    assert migrate(conn) == LATEST_VERSION
    conn.close()


def test_a_database_from_a_newer_app_is_refused(store_root) -> None:
    ReviewStore.open(store_root).close()
    conn = sqlite3.connect(store_root / "review.db")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=r"review\.db was written by a newer version of GRACE Inspect") as caught:
        ReviewStore.open(store_root)
    assert f"schema v{LATEST_VERSION + 1}" in str(caught.value)
    conn = sqlite3.connect(store_root / "review.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1  # left untouched
    conn.close()


def test_a_file_that_is_not_a_database_is_refused(store_root) -> None:
    store_root.mkdir(parents=True)
    (store_root / "review.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable review database"):
        ReviewStore.open(store_root)


def test_a_v3_database_migrates_to_v4_keeping_its_rows_without_a_coil(store_root, flagged) -> None:
    store_root.mkdir(parents=True)
    conn = sqlite3.connect(store_root / "review.db", isolation_level=None)
    migrate(conn, target=3)  # a store written by the release before coils were stored
    v3_frame = {**V1_FRAME, "station": "line-1"}
    conn.execute(f"INSERT INTO frames ({', '.join(v3_frame)}) VALUES ({', '.join('?' * len(v3_frame))})",
                 list(v3_frame.values()))  # fmt: skip
    assert "coil" not in {row[1] for row in conn.execute("PRAGMA table_info(frames)")}
    conn.close()

    assert LATEST_VERSION >= 4
    with ReviewStore.open(store_root) as store:
        assert store.schema_version == LATEST_VERSION
        old = store.frame(1)
        assert (old.uid, old.station, old.verdict, old.coil, old.coil_m) == ("a" * 32, "line-1", "defect", "", None)
        new = store.add_frame(*flagged().args, coil="C4711", coil_m=12.25)
        assert (store.frame(new).coil, store.frame(new).coil_m) == ("C4711", 12.25)
        assert [r.id for r in store.list_frames(FrameFilter(coil="C4711"))] == [new]
        assert store.facets().coils == ("C4711",)  # the old frame has no coil to offer
    conn = sqlite3.connect(store_root / "review.db")
    assert "idx_frames_coil_captured_at" in _indexes(conn)
    conn.close()
