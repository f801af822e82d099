"""The synthetic steel generator: seeded, boxes inside the image and on the marks, fast, importable."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from grace_core.data.importer import import_dataset
from grace_core.data.stats import dataset_stats
from grace_core.data.synthetic import SYNTHETIC_CLASSES, make_steel_image, write_synthetic_voc, write_synthetic_yolo


def test_same_seed_same_image_and_boxes() -> None:
    first, boxes = make_steel_image(5, (64, 80))
    again, boxes_again = make_steel_image(np.random.default_rng(5), (64, 80))
    other, _ = make_steel_image(6, (64, 80))
    assert first.shape == (64, 80, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again) and boxes == boxes_again
    assert not np.array_equal(first, other)


def test_boxes_are_inside_and_cover_visible_marks() -> None:
    rng = np.random.default_rng(0)
    seen: set[int] = set()
    for _ in range(40):
        image, boxes = make_steel_image(rng, (96, 128), n_defects=(1, 4))
        assert 1 <= len(boxes) <= 4
        for box in boxes:
            assert 0 <= box.x1 < box.x2 <= 128 and 0 <= box.y1 < box.y2 <= 96
            assert 0 <= box.class_id < len(SYNTHETIC_CLASSES)
            seen.add(box.class_id)
        assert image.std() > 2  # textured, not flat
    assert seen == set(range(len(SYNTHETIC_CLASSES)))


def test_defects_change_the_pixels_inside_their_boxes() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        seed = int(rng.integers(1 << 30))
        marked, boxes = make_steel_image(seed, (128, 128), n_defects=(1, 1))
        (box,) = boxes
        plain, _ = make_steel_image(seed, (128, 128), n_defects=(0, 0))
        region = (slice(int(box.y1), int(box.y2)), slice(int(box.x1), int(box.x2)))
        assert np.abs(marked[region].astype(int) - plain[region].astype(int)).max() > 15


def test_fast_enough() -> None:
    start = time.perf_counter()
    for seed in range(20):
        make_steel_image(seed, (64, 64))
    assert time.perf_counter() - start < 0.5


def test_voc_and_yolo_writers(tmp_path: Path) -> None:
    voc = write_synthetic_voc(tmp_path / "voc", 12, seed=1, size=(64, 64))
    assert len(list((voc / "IMAGES").glob("*.jpg"))) == 12 and len(list((voc / "ANNOTATIONS").glob("*.xml"))) == 12
    report = import_dataset("voc", voc, tmp_path / "imported", classes=list(SYNTHETIC_CLASSES))
    assert report.n_images == 12 and report.n_boxes > 12
    data_yaml = write_synthetic_yolo(tmp_path / "yolo", 12, seed=1, size=(64, 64))
    again = write_synthetic_yolo(tmp_path / "yolo2", 12, seed=1, size=(64, 64))
    stats = dataset_stats(data_yaml)
    assert stats.class_names == list(SYNTHETIC_CLASSES)
    assert stats.total.images == 12 and stats.splits["train"].images == 9 and stats.splits["val"].images == 3
    assert sum(stats.total.instances_per_class) == report.n_boxes
    for label in (tmp_path / "yolo" / "labels").rglob("*.txt"):
        assert label.read_bytes() == (again.parent / label.relative_to(tmp_path / "yolo")).read_bytes()
