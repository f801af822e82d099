"""Disk use: quota eviction (oldest unreviewed first, reviewed kept) and crash-orphan cleanup."""

from __future__ import annotations

import os
import time

from grace_core.store import ReviewStore

T0 = 1_700_000_000.0


def _six_frames(store: ReviewStore, flagged) -> tuple[list[int], int]:
    """Six byte-identical frames one second apart (ids in capture order), frames 1 and 3 reviewed."""
    ids = [store.add_frame(*flagged(t=T0 + i, index=i).args) for i in range(6)]
    sizes = {store.frame(i).bytes for i in ids}
    assert len(sizes) == 1
    store.set_verdict(ids[0], "defect", "op")
    store.set_verdict(ids[2], "false_alarm", "op")
    return ids, sizes.pop()


def test_under_quota_nothing_is_evicted(store: ReviewStore, flagged) -> None:
    _, size = _six_frames(store, flagged)
    assert store.usage_bytes() == 6 * size
    report = store.enforce_quota()
    assert (report.removed, report.freed_bytes, report.over_quota, report.message) == ((), 0, False, "")
    assert store.count() == 6


def test_eviction_takes_the_oldest_unreviewed_first(store_root, flagged, disk_files) -> None:
    with ReviewStore.open(store_root) as store:
        ids, size = _six_frames(store, flagged)
    with ReviewStore.open(store_root, quota_bytes=int(3.5 * size)) as store:
        gone = [store.frame(i) for i in (ids[1], ids[3], ids[4])]
        report = store.enforce_quota()

        assert report.removed == (ids[1], ids[3], ids[4])
        assert report.freed_bytes == 3 * size
        assert report.usage_bytes == store.usage_bytes() == 3 * size
        assert not report.over_quota and "3 oldest unreviewed" in report.message
        assert [r.id for r in store.list_frames()] == [ids[5], ids[2], ids[0]]
        for record in gone:
            assert not store.image_file(record).exists() and not store.heatmap_file(record).exists()
            assert store.detections(record.id) == []  # cascaded
        assert len(disk_files(store_root)) == 3 * 2
        (evicted,) = [a for a in store.audit_log() if a.action == "evicted"]
        assert evicted.details == {"reason": "quota", "frame_ids": list(report.removed), "bytes": 3 * size}


def test_reviewed_frames_are_never_evicted(store_root, flagged) -> None:
    with ReviewStore.open(store_root) as store:
        ids, size = _six_frames(store, flagged)
    with ReviewStore.open(store_root, quota_bytes=size) as store:
        report = store.enforce_quota()
        assert report.removed == (ids[1], ids[3], ids[4], ids[5])
        assert report.over_quota
        assert report.usage_bytes == 2 * size
        assert "the 2 frames left are all reviewed" in report.message
        assert [r.id for r in store.list_frames()] == [ids[2], ids[0]]

        again = store.enforce_quota()
        assert again.removed == () and again.over_quota and "never deleted automatically" in again.message


def test_cleanup_removes_only_files_without_rows(store: ReviewStore, flagged, disk_files, row_files) -> None:
    for i in range(2):
        store.add_frame(*flagged(t=T0 + i).args)
    kept = row_files(store)
    day = store.root / "frames" / "2023" / "11" / "14"
    leftovers = [day / "0123_partial.jpg.tmp", day / "deadbeef.jpg", store.root / "frames/2024/01/02/cafe.jpg"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    old = time.time() - 3600
    for path in leftovers[1:]:
        os.utime(path, (old, old))

    # The fresh temp file may belong to a write in progress elsewhere: left alone unless min_age_s=0.
    assert sorted(store.cleanup_orphans()) == ["frames/2023/11/14/deadbeef.jpg", "frames/2024/01/02/cafe.jpg"]
    assert disk_files(store.root) == kept | {"frames/2023/11/14/0123_partial.jpg.tmp"}
    assert store.cleanup_orphans(min_age_s=0) == ["frames/2023/11/14/0123_partial.jpg.tmp"]
    assert disk_files(store.root) == kept
    assert not (store.root / "frames" / "2024").exists()  # empty day folders go too
    assert store.count() == 2
