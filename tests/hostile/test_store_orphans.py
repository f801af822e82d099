"""Crash leftovers (image files without a row) are removed when the live writer opens the store, and counted."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from helpers.flagged_frames import T0, make_store

from grace_core.store import FlaggedFrameWriter, ReviewStore


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "review"


def _leftover(path: Path, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 half a jpeg")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_the_writer_removes_crash_leftovers_when_it_opens_the_store(
    store_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (frame_id,) = make_store(store_root, [{"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0}])
    with ReviewStore.open(store_root) as store:
        record = store.frame(frame_id)
        kept = [store.image_file(record), store.heatmap_file(record)]
    day = kept[0].parent
    old = [
        _leftover(day / f"{'a' * 32}.jpg", 3600),  # written, then the app died before the row
        _leftover(day / f"{'b' * 32}_heat.png.tmp", 3600),  # died mid-write
        _leftover(store_root / "frames" / "2020" / "01" / "02" / f"{'c' * 32}.jpg", 86400),
    ]
    fresh = _leftover(day / f"{'d' * 32}.jpg", 0)  # may be another writer's, about to get its row

    with caplog.at_level(logging.INFO, logger="grace_core"):
        writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root))
        assert writer.close(timeout=30)

    assert [path.exists() for path in old] == [False, False, False]
    assert fresh.exists() and all(path is not None and path.exists() for path in kept)
    assert not (store_root / "frames" / "2020").exists()  # emptied day folders go too
    assert writer.stats().orphans_removed == 3
    assert any("3 orphan" in record.getMessage() for record in caplog.records)


def test_the_writer_can_be_told_not_to_clean_up(store_root: Path) -> None:
    make_store(store_root, [{"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0}])
    orphan = _leftover(store_root / "frames" / "2020" / "01" / "02" / f"{'c' * 32}.jpg", 86400)
    writer = FlaggedFrameWriter(lambda: ReviewStore.open(store_root), cleanup_orphans=False)
    assert writer.close(timeout=30)
    assert orphan.exists() and writer.stats().orphans_removed == 0
