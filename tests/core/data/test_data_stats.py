"""``dataset_stats`` on a crafted dataset whose numbers are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from grace_core.data.stats import dataset_stats
from grace_core.data.stats_report import format_stats, plot_stats
from grace_core.errors import DatasetError

# split/stem: (width, height, label text or None for no label file)
CRAFTED = {
    "train/t1": (
        100,
        100,
        "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.5 0.5\n1 0.5 0.5 1 1\n",
    ),  # 20² small, 50² medium, 100² large
    "train/t2": (200, 100, "0 0.5 0.5 0.1 0.3\n"),  # 20x30 = 600 px²: small
    "train/t3": (50, 50, ""),  # background (empty label file)
    "val/v1": (400, 200, "0 0.5 0.5 0.25 0.5\n"),  # 100x100: large
    "val/v2": (64, 64, "1 0.5 0.5 0.5 0.5\n"),  # exactly 32x32: medium (small is < 32²)
    "val/v3": (64, 64, None),  # background (no label file)
}


@pytest.fixture
def crafted(tmp_path: Path, write_image) -> Path:
    root = tmp_path / "ds"
    for key, (width, height, text) in CRAFTED.items():
        write_image(root / "images" / f"{key}.png", width, height)
        if text is not None:
            (root / "labels" / key).parent.mkdir(parents=True, exist_ok=True)
            (root / "labels" / f"{key}.txt").write_text(text)
    data = {"path": "/nowhere/moved", "train": "images/train", "val": "images/val", "names": ["a", "b", "c"]}
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    return root


def test_counts_per_split_and_class(crafted: Path) -> None:
    stats = dataset_stats(crafted)
    assert stats.class_names == ["a", "b", "c"]
    train, val, total = stats.splits["train"], stats.splits["val"], stats.total
    assert (train.images, train.instances_per_class, train.images_per_class) == (3, [3, 1, 0], [2, 1, 0])
    assert (val.images, val.instances_per_class, val.images_per_class) == (3, [1, 1, 0], [1, 1, 0])
    assert (total.images, total.instances_per_class, total.images_per_class) == (6, [4, 2, 0], [3, 2, 0])
    assert stats.imbalance_ratio == 2.0  # 4 / 2; class c has no instance and is left out


def test_box_sizes_and_boxes_per_image(crafted: Path) -> None:
    total = dataset_stats(crafted / "data.yaml").total
    assert total.size_counts == {"small": 2, "medium": 2, "large": 2}
    assert total.size_shares == pytest.approx({"small": 1 / 3, "medium": 1 / 3, "large": 1 / 3})
    assert total.boxes_per_image_mean == 1.0
    assert total.boxes_per_image_median == 1.0
    assert total.boxes_per_image_max == 3
    assert total.background_images == 2 and total.background_share == pytest.approx(1 / 3)
    train = dataset_stats(crafted).splits["train"]
    assert train.size_counts == {"small": 2, "medium": 1, "large": 1}
    assert train.boxes_per_image_median == 1.0 and train.boxes_per_image_mean == pytest.approx(4 / 3)


def test_table_json_and_plot(crafted: Path, tmp_path: Path) -> None:
    stats = dataset_stats(crafted)
    table = format_stats(stats)
    assert "imbalance ratio (max/min instances): 2.00 (a 4 / b 2)" in table
    assert "small (<32²) 33.3% (2)" in table and "max 3; background images 33.3%" in table
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["total"]["instances_per_class"] == {"a": 4, "b": 2, "c": 0}
    assert data["total"]["boxes_per_image"] == {"mean": 1.0, "median": 1.0, "max": 3}
    png = plot_stats(stats, tmp_path / "plots" / "stats.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_no_boxes_has_no_imbalance(tmp_path: Path, write_image) -> None:
    write_image(tmp_path / "images" / "train" / "a.png")
    write_image(tmp_path / "images" / "val" / "b.png")
    (tmp_path / "data.yaml").write_text("train: images/train\nval: images/val\nnames: {0: x}\n")
    stats = dataset_stats(tmp_path)
    assert stats.imbalance_ratio is None and stats.total.background_share == 1.0
    assert "imbalance ratio: n/a (no boxes)" in format_stats(stats)


def test_stats_errors(crafted: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no data\.yaml in"):
        dataset_stats(tmp_path / "ds" / "images")
    with pytest.raises(DatasetError, match="dataset not found"):
        dataset_stats(tmp_path / "nothing")
    (crafted / "labels" / "val" / "v1.txt").write_text("0 0.5 0.5 0.25 0.5\n0 0.5\n")
    with pytest.raises(DatasetError, match=r"v1.txt:2: expected 5 values"):
        dataset_stats(crafted)
    (crafted / "labels" / "val" / "v1.txt").write_text("5 0.5 0.5 0.25 0.5\n")
    with pytest.raises(DatasetError, match=r"v1.txt:1: class id 5 is not in 0..2"):
        dataset_stats(crafted)
    (crafted / "data.yaml").write_text("train: images/train\nval: images/missing\nnames: [a]\n")
    with pytest.raises(DatasetError, match=r"the 'val' images .* are not there"):
        dataset_stats(crafted)
