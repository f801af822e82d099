"""The background writer: never blocks, survives a full disk, and shares the store with readers."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from grace_core.store import FlaggedFrameWriter, FrameFilter, ReviewStore, files

T0 = 1_700_000_000.0


def test_a_full_disk_is_reported_and_loses_nothing(store_root, flagged, monkeypatch, disk_files, row_files) -> None:
    real_write = files.write_atomic
    failing = {"mode": None}  # None: writes succeed; "all": every write fails; "heatmap": only heatmaps fail

    def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
        mode = failing["mode"]
        if mode == "all" or (mode == "heatmap" and path.name.endswith("_heat.png")):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data, durable)

    monkeypatch.setattr(files, "write_atomic", write_atomic)
    reported: list[BaseException] = []
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root), max_pending=8, on_error=reported.append)

    def submit(indexes: range) -> None:
        for i in indexes:
            assert writer.submit(*flagged(t=T0 + i, index=i).args)
        assert writer.flush(timeout=30)

    submit(range(3))
    failing["mode"] = "all"
    submit(range(3, 4))
    failing["mode"] = "heatmap"  # the image is written, then the heatmap fails: the image must not linger
    submit(range(4, 5))
    failing["mode"] = None
    submit(range(5, 7))
    assert writer.close(timeout=30)

    stats = writer.stats()
    assert (stats.written, stats.errors, stats.dropped, stats.pending) == (5, 2, 0, 0)
    assert "No space left on device" in (stats.last_error or "")
    assert [e.errno for e in reported if isinstance(e, OSError)] == [errno.ENOSPC, errno.ENOSPC]
    with ReviewStore.open(store_root) as store:
        assert sorted(r.frame_index for r in store.list_frames()) == [0, 1, 2, 5, 6]
        for record in store.list_frames():
            assert store.load_image(record.id).shape == (48, 64, 3)
            assert store.load_heatmap(record.id).shape == (48, 64)
        assert disk_files(store_root) == row_files(store)  # no partial files left by the failed writes


def test_submit_never_blocks_and_counts_drops(store_root, flagged) -> None:
    gate = threading.Event()

    def slow_factory() -> ReviewStore:
        gate.wait()  # the writer thread is stuck until we let it go: the queue can only fill up
        return ReviewStore.open(store_root)

    writer = FlaggedFrameWriter(slow_factory, max_pending=3)
    item = flagged()
    results: list[bool] = []
    submitter = threading.Thread(target=lambda: results.extend(writer.submit(*item.args) for _ in range(50)))
    submitter.start()
    submitter.join(timeout=30)
    finished_while_writer_stuck = not submitter.is_alive()
    gate.set()
    assert finished_while_writer_stuck, "submit() blocked while the writer thread was busy"

    assert results.count(True) == 3 and results.count(False) == 47
    stats = writer.stats()
    assert stats.dropped == 47 and stats.drop_reasons == {"queue_full": 47}
    assert writer.close(timeout=30)
    assert writer.stats().written == 3
    assert writer.submit(*item.args) is False
    assert writer.stats().drop_reasons == {"queue_full": 47, "closed": 1}


def test_a_store_that_cannot_open_is_an_error_not_a_crash(tmp_path, flagged) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the review folder should be")
    reported: list[BaseException] = []
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(blocker), on_error=reported.append)
    assert writer.submit(*flagged().args)
    assert writer.close(timeout=30)
    stats = writer.stats()
    assert stats.written == 0 and stats.errors == 2  # the open at start, then the retry for the frame
    assert all("cannot create the review folder" in str(e) for e in reported)


def test_writer_enforces_the_quota(store_root, flagged) -> None:
    with ReviewStore.open(store_root) as store:
        size = store.frame(store.add_frame(*flagged(t=T0).args)).bytes
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root, quota_bytes=2 * size))
    for i in range(1, 4):
        writer.submit(*flagged(t=T0 + i, index=i).args)
    assert writer.close(timeout=30)
    assert writer.stats().evicted == 2
    with ReviewStore.open(store_root) as store:
        assert [r.frame_index for r in store.list_frames()] == [3, 2]


def test_clear_frames_are_a_caller_bug(store_root, flagged) -> None:
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root))
    with pytest.raises(ValueError, match="only flagged frames"):
        writer.submit(*flagged(boxes=((0, 0.05),)).args)
    assert writer.close(timeout=30)


def test_a_writer_and_a_reader_thread_work_at_once(store_root, flagged) -> None:
    ReviewStore.open(store_root).close()
    errors: list[BaseException] = []
    done = threading.Event()
    reads = {"n": 0}
    items = [flagged(t=T0 + i, index=i, size=(32, 24), seed=i) for i in range(40)]

    def write() -> None:
        try:
            with ReviewStore.open(store_root) as store:
                for item in items:
                    store.add_frame(*item.args)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            with ReviewStore.open(store_root) as store:
                while not done.is_set() or reads["n"] == 0:
                    for record in store.list_frames(FrameFilter(reviewed=False), limit=5):
                        store.detections(record.id)
                        store.set_verdict(record.id, "defect", "reader")  # a second writer, too
                    store.count(FrameFilter(class_name="crazing"))
                    reads["n"] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    with ReviewStore.open(store_root) as store:
        assert store.count() == 40
        assert reads["n"] > 0 and store.count(FrameFilter(reviewed=True)) > 0


def test_the_writer_saves_the_coil_and_the_position_with_the_frame(store_root, flagged) -> None:
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root))
    assert writer.submit(*flagged(t=T0, index=0).args, station="line-1", coil="C4711", coil_m=7.5)
    assert writer.submit(*flagged(t=T0 + 1, index=1).args)  # no coil known
    assert writer.close(timeout=30)
    with ReviewStore.open(store_root) as store:
        assert [(r.frame_index, r.station, r.coil, r.coil_m) for r in store.list_frames()] == [
            (1, store.station, "", None),
            (0, "line-1", "C4711", 7.5),
        ]
