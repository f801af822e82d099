"""The central store (PostgreSQL, a real server) behind the same interface as the local one: schema, round trip,
queries that agree with SQLite, images in the database, read-only, a server that is not there."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.central_station import flagged
from helpers.flagged_frames import T0, add_flagged
from helpers.pg_server import free_port

from grace_core.store import (
    LATEST_VERSION,
    FrameFilter,
    NoStoreError,
    ReviewStore,
    StoreError,
    StoreUnavailable,
    postgres,
    store_exists,
    transfer,
)
from grace_core.store.location import parse_location
from grace_core.store.spool import Spool
from grace_core.store.writer import FlaggedFrameWriter

psycopg = pytest.importorskip("psycopg", reason="NO POSTGRESQL DRIVER: psycopg is not installed (the dev extra)")

BOXES = [(0, 0.9, (2.0, 3.0, 30.0, 40.0)), (2, 0.4, (10.0, 10.0, 50.0, 60.0))]


def _fill(store: ReviewStore, n: int = 40) -> list[int]:
    """Frames from two sources and two stations, several classes; some reviewed."""
    ids = []
    for i in range(n):
        boxes = [(i % 4, 0.3 + (i % 7) / 10, (1.0 + i, 2.0, 20.0 + i, 30.0))]
        if i % 5 == 0:
            boxes.append((3, 0.95, (5.0, 5.0, 9.0, 9.0)))
        store.station = "line-1" if i % 3 else "line-2"
        ids.append(add_flagged(store, boxes, T0 + 7.5 * i, source_id=f"camera:{i % 2}", size=(32, 24), seed=i))
    for frame_id in ids[::4]:
        store.set_verdict(frame_id, ("defect", "false_alarm", "unsure")[frame_id % 3], "alice")
    return ids


def _same(record) -> tuple:
    """A record without what differs between two stores filled alike (ids, uids, when it was written)."""
    return (record.captured_at, record.source_id, record.station, record.status, record.verdict, record.reviewed,
            record.width, record.height, record.bytes, record.frame_index)  # fmt: skip


def test_a_new_database_gets_the_latest_schema_once(central_url: str) -> None:
    with ReviewStore.open(central_url) as store:
        assert store.central and store.root is None and store.db_path is None
        assert store.schema_version == LATEST_VERSION
        store_id = store.store_id
    with ReviewStore.open(central_url) as again:  # nothing to do the second time
        assert again.store_id == store_id and len(store_id) == 32
    assert store_exists(central_url)
    assert str(parse_location(central_url)) == central_url  # no password in it to hide


def test_one_schema_definition_gives_the_same_columns_on_both_engines(central_url: str, tmp_path: Path) -> None:
    ReviewStore.open(central_url).close()
    ReviewStore.open(tmp_path / "local").close()
    sqlite = sqlite3.connect(tmp_path / "local" / "review.db")
    tables = ("frames", "detections", "audit", "meta", "images")
    local = {t: [row[1] for row in sqlite.execute(f"PRAGMA table_info({t})")] for t in tables}
    with psycopg.connect(central_url) as conn:
        central = {
            t: [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (t,),
            )]
            for t in tables
        }  # fmt: skip
        types = dict(conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'frames'"
        ).fetchall())  # fmt: skip
    assert local == central
    assert types["captured_at"] == "double precision" and types["id"] == "bigint"  # not float4, not int4


def test_frames_and_images_round_trip_as_in_a_local_store(central_url: str, tmp_path: Path) -> None:
    with ReviewStore.open(tmp_path / "local") as local, ReviewStore.open(central_url, station="line-1") as central:
        for store in (local, central):
            add_flagged(store, BOXES, T0, size=(48, 32), seed=3)
        (a,), (b,) = local.list_frames(), central.list_frames()
        assert b.station == "line-1" and b.bytes > 0 and b.image_path == a.image_path.replace(a.uid, b.uid)
        assert np.array_equal(local.load_image(a.id), central.load_image(b.id))
        assert np.array_equal(local.load_heatmap(a.id), central.load_heatmap(b.id))
        assert central.image_bytes(b) == local.image_file(a).read_bytes()  # the same JPEG, byte for byte
        assert b.bytes == len(central.image_bytes(b)) + len(central.image_bytes(b, heatmap=True))
        cached = central.image_file(b)  # for the export, which copies files: a private cache
        assert cached.read_bytes() == central.image_bytes(b) and cached.name == f"{b.uid}.jpg"
        assert [d.class_name for d in central.detections(b.id)] == ["crazing", "patches"]
        assert central.model_classes("grace-n.onnx@0123456789ab") == ["crazing", "inclusion", "patches", "scratches"]
    assert not cached.exists()  # the cache goes with the store


def test_queries_agree_with_sqlite(central_url: str, tmp_path: Path) -> None:
    with ReviewStore.open(tmp_path / "local") as local, ReviewStore.open(central_url) as central:
        _fill(local), _fill(central)
        filters = [
            FrameFilter(),
            FrameFilter(reviewed=False),
            FrameFilter(class_name="scratches"),
            FrameFilter(station="line-2", source_id="camera:1"),
            FrameFilter(since=T0 + 30, until=T0 + 200, status="defect"),
            FrameFilter(verdict="defect"),
        ]
        for where in filters:
            assert [_same(r) for r in local.list_frames(where, 7, 3)] == [
                _same(r) for r in central.list_frames(where, 7, 3)
            ], where
            assert local.count(where) == central.count(where)
            newest = central.list_frames(where, 1)
            if newest:
                assert central.position(newest[0].id, where) == 0
        assert local.facets() == central.facets()
        assert central.facets().stations == ("line-1", "line-2")
        for method in (
            "status_counts",
            "verdict_counts",
            "class_counts",
            "time_range",
            "models",
            "sources",
            "stations",
        ):
            assert getattr(local.select(), method)() == getattr(central.select(), method)(), method
        assert local.select().timeline(T0, 60, 6) == central.select().timeline(T0, 60, 6)  # truncated, not rounded
        top_local = [(h.captured_at, h.confidence, h.classes) for h in local.select().top_frames(5)]
        assert top_local == [(h.captured_at, h.confidence, h.classes) for h in central.select().top_frames(5)]
        assert any("idx_frames" in line for line in central.query_plan(FrameFilter(reviewed=False)))


def test_adding_a_uid_twice_stores_it_once(central_url: str) -> None:
    with ReviewStore.open(central_url) as store:
        frame_id = add_flagged(store, BOXES, T0)
        record = store.frame(frame_id)
        again, copied = store.insert_frame(
            {k: v for k, v in record.__dict__.items() if k != "id"} | {"reviewed": 0}, [], b"x", None
        )
        assert (again, copied) == (frame_id, False) and store.count() == 1


def test_two_reviewers_on_one_frame_last_write_wins_and_the_conflict_is_kept(central_url: str) -> None:
    with ReviewStore.open(central_url) as store:
        frame_id = add_flagged(store, BOXES, T0)
    barrier = threading.Barrier(2)
    outcomes = {}

    def review(actor: str, verdict: str) -> None:
        with ReviewStore.open(central_url) as mine:
            barrier.wait()
            outcomes[actor] = mine.set_verdict(frame_id, verdict, actor)

    threads = [threading.Thread(target=review, args=a) for a in (("alice", "defect"), ("bob", "false_alarm"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with ReviewStore.open(central_url) as store:
        record = store.frame(frame_id)
        later, earlier = store.audit_log(frame_id)
        # the row lock serialised them: the later one saw (and replaced) exactly the earlier one's verdict
        assert (later.details["from"], later.details["from_actor"]) == (earlier.details["to"], earlier.actor)
        assert (record.verdict, record.reviewed_by) == (later.details["to"], later.actor)
        assert [c.id for c in store.conflicts()] == [later.id]
        assert outcomes[later.actor].conflict and not outcomes[earlier.actor].conflict


def test_quota_eviction_takes_the_images_with_the_rows(central_url: str) -> None:
    with ReviewStore.open(central_url, quota_bytes=10**9) as store:
        ids = [add_flagged(store, BOXES, T0 + i, seed=i) for i in range(6)]
        store.set_verdict(ids[0], "defect", "alice")
        store.quota_bytes = store.usage_bytes() // 2
        report = store.enforce_quota()
        assert report.removed and ids[0] not in report.removed and not report.over_quota
        left = store.database.execute("SELECT COUNT(*) FROM images").fetchone()[0]
        assert left == store.count() and store.usage_bytes() <= store.quota_bytes
        assert store.audit_log(limit=1)[0].action == "evicted"


def test_opening_what_is_not_a_store(central_url: str) -> None:
    with pytest.raises(NoStoreError, match="no review store tables yet") as caught:
        ReviewStore.open_existing(central_url)
    assert not caught.value.found_file and not store_exists(central_url)
    with psycopg.connect(central_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE frames (x int)")  # another program's table
    with pytest.raises(StoreError, match="not a GRACE Inspect review store"):
        ReviewStore.open(central_url)


def test_read_only_and_newer_schemas(central_url: str) -> None:
    with ReviewStore.open(central_url) as store:
        frame_id = add_flagged(store, BOXES, T0)
    with ReviewStore.open_existing(central_url) as reader:
        assert reader.readonly and reader.count() == 1
        with pytest.raises(StoreError, match="read-only"):
            reader.set_verdict(frame_id, "defect", "alice")
        with pytest.raises(StoreError, match="refused a request"):  # the server refuses too
            reader.database.execute("DELETE FROM frames")
    with psycopg.connect(central_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(LATEST_VERSION + 1),))
    with pytest.raises(StoreError, match="written by a newer version of GRACE Inspect"):
        ReviewStore.open(central_url)


def test_a_server_that_is_not_there_says_so() -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/nowhere"  # nothing listens there
    with pytest.raises(StoreUnavailable) as caught:
        ReviewStore.open(url)
    message = str(caught.value)
    assert "cannot reach the central review store postgresql://postgres:***@127.0.0.1" in message
    assert "s3cret" not in message and "server is running" in message
    assert not store_exists(url)


def test_a_v3_central_store_migrates_to_v4_and_frames_keep_their_coil(central_url: str) -> None:
    database = postgres.connect(central_url)
    try:
        postgres.migrate(database, target=3)  # the central store as the release before coils left it
    finally:
        database.close()
    with ReviewStore.open(central_url, station="line-1") as store:  # the same v4 step as SQLite's, upgraded on open
        assert store.schema_version == LATEST_VERSION >= 4
        old = add_flagged(store, BOXES, T0)
        new = add_flagged(store, BOXES, T0 + 1, coil="C4711", coil_m=12.25)
        assert [(store.frame(i).coil, store.frame(i).coil_m) for i in (old, new)] == [("", None), ("C4711", 12.25)]
        assert [r.id for r in store.list_frames(FrameFilter(coil="C4711"))] == [new]
        assert store.facets().coils == ("C4711",)
    with psycopg.connect(central_url) as conn:
        types = dict(conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'frames'"
        ).fetchall())  # fmt: skip
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'frames'")}
    assert (types["coil"], types["coil_m"]) == ("text", "double precision")  # metres, not float4
    assert "idx_frames_coil_captured_at" in indexes


def test_migrate_and_the_spool_carry_the_coil_to_the_central_store(central_url: str, tmp_path: Path) -> None:
    with ReviewStore.open(tmp_path / "local", station="line-1") as local:
        add_flagged(local, BOXES, T0, coil="C4711", coil_m=3.5)
        add_flagged(local, BOXES, T0 + 1)
        with ReviewStore.open(central_url) as central:
            assert transfer.migrate(local, central).frames_copied == 2  # what `grace review migrate` runs
    spool = Spool(central_url, tmp_path / "spool", station="line-2")
    writer = FlaggedFrameWriter(spool.open_store)
    try:
        assert writer.submit(*flagged(7, "line-2"), station="line-2", coil="C4712", coil_m=250.0)
        assert writer.flush(30) and spool.flush(30)
    finally:
        writer.close(30)
        spool.close(30)
    with ReviewStore.open_existing(central_url) as central:
        rows = [(r.station, r.coil, r.coil_m) for r in central.list_frames(FrameFilter(), limit=10)]
        assert sorted(rows, key=str) == sorted(
            [("line-1", "C4711", 3.5), ("line-1", "", None), ("line-2", "C4712", 250.0)], key=str
        )
        assert central.facets().coils == ("C4711", "C4712")
        assert central.count(FrameFilter(coil="C4712", station="line-2")) == 1
