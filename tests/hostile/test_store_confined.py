"""Rows are data, not orders: a ``frames`` row whose image or heatmap path leads out of the store's frames folder
(``..``, an absolute path, the database itself) is never deleted, read or exported through."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.flagged_frames import T0, make_store
from helpers.store_damage import tamper

from grace_core.errors import StoreError
from grace_core.review.export import export_reviewed
from grace_core.store import ReviewStore

FRAMES = [{"boxes": [(i % 4, 0.9, (5, 5, 40, 30))], "t": T0 + i, "seed": i} for i in range(4)]


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "review"


def _jpeg(path: Path) -> bytes:
    image = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)
    return path.read_bytes()


@pytest.mark.parametrize("target", ["../victim.txt", "{absolute}", "frames/../../victim.txt", "review.db"])
def test_eviction_never_deletes_a_file_a_tampered_row_points_to(
    store_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    ids = make_store(store_root, FRAMES)
    path = target.format(absolute=victim)
    tamper(store_root / "review.db", ids[0], image_path=path, heatmap_path=path)  # the oldest: evicted first
    db_bytes_before = (store_root / "review.db").stat().st_size

    with caplog.at_level(logging.WARNING, logger="grace_core"), ReviewStore.open(store_root, quota_bytes=1) as store:
        report = store.enforce_quota()
        assert set(report.removed) == set(ids)  # the rows go (they are the store's), the outside file stays
        assert store.count() == 0

    assert victim.read_text() == "precious"
    assert (store_root / "review.db").stat().st_size >= db_bytes_before  # the database was not deleted either
    with ReviewStore.open(store_root) as store:
        assert store.audit_log()[0].action == "evicted"
    assert any("outside" in record.getMessage() and path in record.getMessage() for record in caplog.records)


def test_reading_a_tampered_row_refuses_to_follow_it(store_root: Path, tmp_path: Path) -> None:
    _jpeg(tmp_path / "secret.jpg")
    ids = make_store(store_root, FRAMES)
    tamper(store_root / "review.db", ids[1], image_path="../secret.jpg", heatmap_path="/etc/hostname")
    with ReviewStore.open_existing(store_root) as store:
        with pytest.raises(StoreError, match="outside"):
            store.load_image(ids[1])
        with pytest.raises(StoreError, match="outside"):
            store.load_heatmap(ids[1])
        assert store.load_image(ids[0]).shape == (64, 96, 3)  # the untouched rows still read


def test_export_leaves_out_a_frame_whose_row_points_outside_the_store(store_root: Path, tmp_path: Path) -> None:
    secret = _jpeg(tmp_path / "secret.jpg")
    ids = make_store(store_root, FRAMES)
    with ReviewStore.open(store_root) as store:
        for frame_id, verdict in zip(ids, ("defect", "defect", "false_alarm", "false_alarm"), strict=True):
            store.set_verdict(frame_id, verdict, "alice")
    tamper(store_root / "review.db", ids[0], image_path="../secret.jpg")

    out = tmp_path / "dataset"
    with ReviewStore.open_existing(store_root) as store:
        report = export_reviewed(store, out)
    assert report.skipped.get("outside_store") == 1
    assert report.exported == {"defect": 1, "false_alarm": 2}
    copied = [p.read_bytes() for p in (out / "images").rglob("*") if p.is_file()]
    assert len(copied) == 3 and secret not in copied
