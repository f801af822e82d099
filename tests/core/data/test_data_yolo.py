"""Importing (validating) an existing YOLO dataset: positions in messages, split kept, class names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grace_core.data.importer import import_dataset
from grace_core.errors import DatasetError


def _yolo(root: Path, files: dict[str, str | None], write_image, names: object = ("rust", "pit")) -> Path:
    """files: 'train/a' -> label text (None: no label file); images are 64x48 PNG under images/<split>/."""
    for key, text in files.items():
        write_image(root / "images" / f"{key}.png")
        if text is not None:
            label = root / "labels" / f"{key}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(text)
    if names is not None:
        (root / "data.yaml").write_text(yaml.safe_dump({"train": "images/train", "val": "images/val", "names": names}))
    return root


def _messages(report, kind: str) -> list[str]:
    return [issue.message for issue in report.issues if issue.kind == kind]


def test_existing_split_is_kept_and_data_yaml_rewritten(tmp_path: Path, write_image) -> None:
    files = {"train/a": "0 0.5 0.5 0.25 0.25\n", "train/b": "1 0.5 0.5 0.5 0.5\n", "val/c": "1 0.1 0.1 0.1 0.1\n"}
    src = _yolo(tmp_path / "src", files, write_image, names={0: "rust", 1: "pit"})
    report = import_dataset("yolo", src, tmp_path / "out", split=(0.5, 0.5), seed=3)
    assert report.split_from_source
    assert report.splits["train"].images == ["a.png", "b.png"] and report.splits["val"].images == ["c.png"]
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data == {
        "path": str((tmp_path / "out").resolve()),
        "train": "images/train",
        "val": "images/val",
        "nc": 2,
        "names": {0: "rust", 1: "pit"},
    }
    assert (tmp_path / "out" / "labels" / "train" / "a.txt").read_text() == "0 0.500000 0.500000 0.250000 0.250000\n"


def test_malformed_lines_skip_the_image_with_line_numbers(tmp_path: Path, write_image) -> None:
    files = {
        "train/ok": "0 0.5 0.5 0.2 0.2\n",
        "train/short": "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n",
        "train/word": "\n1 abc 0.5 0.1 0.1\n",
        "val/frac": "1.5 0.5 0.5 0.1 0.1\n",
        "val/ok2": "1 0.5 0.5 0.2 0.2\n",
    }
    src = _yolo(tmp_path / "src", files, write_image)
    report = import_dataset("yolo", src, tmp_path / "out")
    labels = src / "labels"
    assert _messages(report, "malformed_label") == [
        f"{labels / 'train' / 'short.txt'}:2: expected 5 values 'class cx cy w h', got 4: '0 0.5 0.5 0.2'",
        f"{labels / 'train' / 'word.txt'}:2: not a number in '1 abc 0.5 0.1 0.1'",
        f"{labels / 'val' / 'frac.txt'}:1: class id '1.5' is not an integer",
    ]
    assert report.n_images == 2


def test_class_id_out_of_range_stops_with_position(tmp_path: Path, write_image) -> None:
    files = {"train/a": "0 0.5 0.5 0.2 0.2\n", "val/b": "0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\n"}
    src = _yolo(tmp_path / "src", files, write_image)
    with pytest.raises(DatasetError) as caught:
        import_dataset("yolo", src, tmp_path / "out")
    label = src / "labels" / "val" / "b.txt"
    assert str(caught.value).startswith(
        f"{label}:3: class id 7 is out of range: the class list has 2 names (0..1: rust, pit)"
    )
    assert not (tmp_path / "out").exists()


def test_box_checks_use_line_numbers_and_normalised_values(tmp_path: Path, write_image) -> None:
    files = {
        "train/a": "0 0.5 0.5 0.2 0.2\n0 0.95 0.5 0.2 0.2\n",
        "train/b": "1 0.5 0.5 0 0.2\n1 0.5 0.5 0.2 0.2\n",
        "val/c": "1 0.5 0.5 0.2 0.2\n",
    }
    src = _yolo(tmp_path / "src", files, write_image)
    report = import_dataset("yolo", src, tmp_path / "out")
    (clipped,) = _messages(report, "box_clipped")
    assert clipped.startswith(
        f"{src / 'labels' / 'train' / 'a.txt'}:2: box partly outside the 64x48 image (cx=0.95, cy=0.5, w=0.2, h=0.2)"
    )
    assert _messages(report, "zero_area_box") == [
        f"{src / 'labels' / 'train' / 'b.txt'}:1: zero-area box (cx=0.5, cy=0.5, w=0, h=0.2); box dropped"
    ]
    lines = (tmp_path / "out" / "labels" / "train" / "a.txt").read_text().splitlines()
    assert lines == ["0 0.500000 0.500000 0.200000 0.200000", "0 0.925000 0.500000 0.150000 0.200000"]


def test_missing_label_is_background_and_orphan_label_is_counted(tmp_path: Path, write_image) -> None:
    files = {"train/a": "0 0.5 0.5 0.2 0.2\n", "train/bare": None, "val/b": "1 0.5 0.5 0.2 0.2\n"}
    src = _yolo(tmp_path / "src", files, write_image)
    (src / "labels" / "val" / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    report = import_dataset("yolo", src, tmp_path / "out")
    image = src / "images" / "train" / "bare.png"
    assert _messages(report, "no_label_file") == [
        f"{image}: no label file {src / 'labels' / 'train' / 'bare.txt'}; kept as a background image"
    ]
    assert _messages(report, "orphan_label") == [
        f"{src / 'labels' / 'val' / 'ghost.txt'}: label file without an image; ignored"
    ]
    assert report.splits["train"].background_images == 1
    assert (tmp_path / "out" / "labels" / "train" / "bare.txt").read_text() == ""


def test_class_names_sources(tmp_path: Path, write_image) -> None:
    files = {"train/a": "0 0.5 0.5 0.2 0.2\n", "val/b": "2 0.5 0.5 0.2 0.2\n"}
    src = _yolo(tmp_path / "src", files, write_image, names=None)
    with pytest.raises(DatasetError, match=r"no class names: add a data\.yaml with 'names' or a classes\.txt"):
        import_dataset("yolo", src, tmp_path / "out")
    (src / "classes.txt").write_text("rust\npit\n\nscale\n")
    assert import_dataset("yolo", src, tmp_path / "out").class_names == ["rust", "pit", "scale"]
    report = import_dataset("yolo", src, tmp_path / "out2", classes=["a", "b", "c", "d"])
    assert report.class_names == ["a", "b", "c", "d"]
    (src / "data.yaml").write_text("names: [rust, pit\n")
    with pytest.raises(DatasetError, match=r"data.yaml:2:1: invalid YAML"):
        import_dataset("yolo", src, tmp_path / "out3")


def test_unsplit_source_is_split(tmp_path: Path, write_image) -> None:
    files = {f"img{i}": f"{i % 2} 0.5 0.5 0.2 0.2\n" for i in range(10)}
    src = _yolo(tmp_path / "src", files, write_image)
    report = import_dataset("yolo", src, tmp_path / "out", split=(0.6, 0.2, 0.2), seed=1)
    assert not report.split_from_source
    assert {name: len(s.images) for name, s in report.splits.items()} == {"train": 6, "val": 2, "test": 2}


def test_split_folder_layout_and_incomplete_split(tmp_path: Path, write_image) -> None:
    src = tmp_path / "rf"
    for split, stems in (("train", ["a", "b", "c"]), ("valid", ["d"])):
        for stem in stems:
            write_image(src / split / "images" / f"{stem}.png")
            (src / split / "labels").mkdir(parents=True, exist_ok=True)
            (src / split / "labels" / f"{stem}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (src / "data.yaml").write_text("names: [scratch]\n")
    report = import_dataset("yolo", src, tmp_path / "out")
    assert report.split_from_source and report.splits["val"].images == ["d.png"]
    for stem in ("d",):
        (src / "valid" / "images" / f"{stem}.png").unlink()
    report = import_dataset("yolo", src, tmp_path / "out2")
    assert not report.split_from_source
    assert [issue.kind for issue in report.issues] == ["split_ignored", "orphan_label"]


def test_not_a_yolo_folder(tmp_path: Path) -> None:
    (tmp_path / "src" / "stuff").mkdir(parents=True)
    (tmp_path / "src" / "data.yaml").write_text("names: [a]\n")
    with pytest.raises(DatasetError, match="not a YOLO dataset: expected images/"):
        import_dataset("yolo", tmp_path / "src", tmp_path / "out")
