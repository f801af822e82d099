"""Label arithmetic, split determinism and stratification."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from grace_core.data.boxes import check_box
from grace_core.data.importer import import_dataset
from grace_core.data.records import Box, ImageRecord
from grace_core.data.split import assign_splits, parse_split
from grace_core.data.yolo import LabelLine, format_label_line
from grace_core.errors import DatasetError


def test_box_converts_to_exact_normalised_numbers() -> None:
    # 200x100 image, box x 50..150, y 10..35: centre (100, 22.5), size 100x25.
    assert format_label_line(Box(3, 50, 10, 150, 35), 200, 100) == "3 0.500000 0.225000 0.500000 0.250000"
    # thirds round to 6 decimals: cx = 1.5/3, w = 1/3 of a 3-px-wide image.
    assert format_label_line(Box(0, 1, 0, 2, 3), 3, 3) == "0 0.500000 0.500000 0.333333 1.000000"


def test_yolo_line_round_trips_to_pixels() -> None:
    box = LabelLine(1, 2, 0.5, 0.25, 0.5, 0.25).to_box(200, 100)
    assert (box.class_id, box.x1, box.y1, box.x2, box.y2) == (2, 50.0, 12.5, 150.0, 37.5)


def test_check_box_keeps_a_box_touching_the_edges() -> None:
    box = Box(0, 0, 0, 64, 48)
    assert check_box(box, 64, 48, "x") == (box, None)


def _records(classes_per_image: list[list[int]]) -> list[ImageRecord]:
    return [
        ImageRecord(Path(f"/src/{i}.png"), f"img{i:03d}.png", 10, 10, [Box(c, 0, 0, 5, 5) for c in classes])
        for i, classes in enumerate(classes_per_image)
    ]


def _split_of(records: list[ImageRecord]) -> dict[str, str | None]:
    return {record.name: record.split for record in records}


def test_split_is_deterministic_and_seed_dependent() -> None:
    layout = [[0]] * 30 + [[1]] * 12 + [[0, 1]] * 5 + [[]] * 6
    first, again, other = _records(layout), _records(layout), _records(layout)
    assign_splits(first, (0.8, 0.2), seed=7)
    assign_splits(again, (0.8, 0.2), seed=7)
    assign_splits(other, (0.8, 0.2), seed=8)
    assert _split_of(first) == _split_of(again)
    assert _split_of(first) != _split_of(other)
    assert Counter(_split_of(first).values()) == Counter(_split_of(other).values())


def test_split_sizes_follow_fractions() -> None:
    records = _records([[0]] * 50 + [[1]] * 30 + [[2]] * 20)
    assign_splits(records, (0.7, 0.2, 0.1), seed=0)
    assert Counter(record.split for record in records) == {"train": 70, "val": 20, "test": 10}


def test_rare_classes_reach_every_split() -> None:
    # class 3 is in only 3 images and always together with the common class 0 (stratified by the rarest class).
    layout = [[0]] * 40 + [[1]] * 8 + [[2]] * 2 + [[0, 3]] * 3
    records = _records(layout)
    assign_splits(records, (0.8, 0.1, 0.1), seed=1)
    for split in ("train", "val", "test"):
        present = {c for record in records if record.split == split for c in record.class_ids}
        assert {0, 1, 3} <= present, split
    assert {c for record in records if record.split == "val" for c in record.class_ids} >= {2} or {
        c for record in records if record.split == "test" for c in record.class_ids
    } >= {2}


def test_stratified_import_puts_each_class_in_val(tmp_path: Path, add_voc) -> None:
    src = tmp_path / "src"
    counts = {"crazing": 12, "inclusion": 2, "patches": 3, "pitted_surface": 2, "rolled-in_scale": 5, "scratches": 2}
    for name, count in counts.items():
        for copy in range(count):
            add_voc(src, f"{name}_{copy}", [(name, 1, 1, 20, 20)])
    for seed in range(5):
        report = import_dataset("neu-det", src, tmp_path / f"out{seed}", seed=seed)
        assert all(report.splits["val"].images_per_class[name] >= 1 for name in counts), seed
        assert all(report.splits["train"].images_per_class[name] >= 1 for name in counts), seed


def test_same_seed_gives_identical_files_and_other_seed_another_split(
    neu_source: Path, tmp_path: Path, read_labels
) -> None:
    a = import_dataset("neu-det", neu_source, tmp_path / "a", seed=3)
    b = import_dataset("neu-det", neu_source, tmp_path / "b", seed=3)
    c = import_dataset("neu-det", neu_source, tmp_path / "c", seed=4)
    assert read_labels(tmp_path / "a") == read_labels(tmp_path / "b")
    assert {s: x.images for s, x in a.splits.items()} == {s: x.images for s, x in b.splits.items()}
    assert a.splits["val"].images != c.splits["val"].images
    for path in (tmp_path / "a" / "images").rglob("*.png"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


@pytest.mark.parametrize("text", ["0.8", "a,b", "0.8,0.3", "0.5,0.5,0,0", "0.9,0.1,0", "nan,0.5"])
def test_bad_split_text(text: str) -> None:
    with pytest.raises(DatasetError, match="split"):
        parse_split(text)


def test_good_split_text() -> None:
    assert parse_split("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_split(" 0.75 , 0.25") == (0.75, 0.25)
