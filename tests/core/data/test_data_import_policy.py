"""The bad-input policy of ``import_dataset``: which problems skip a file/box (counted) and which stop."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from grace_core.data.importer import import_dataset
from grace_core.errors import DatasetError


def _kinds(report) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for issue in report.issues:
        result.setdefault(issue.kind, []).append(issue.message)
    return result


def test_clean_source_imports_everything(neu_source: Path, tmp_path: Path) -> None:
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert report.n_images == 18 and report.n_boxes == 18
    assert report.issues == []
    assert sorted(report.splits) == ["train", "val"]
    files = sorted(p.name for p in (tmp_path / "out" / "images").glob("*/*"))
    assert len(files) == 18 and len(set(files)) == 18
    saved = json.loads((tmp_path / "out" / "import_report.json").read_text())
    assert saved["n_images"] == 18 and saved["format"] == "neu-det" and saved["seed"] == 0


def test_malformed_xml_is_skipped_with_position(neu_source: Path, tmp_path: Path, write_image) -> None:
    bad = neu_source / "ANNOTATIONS" / "bad.xml"
    bad.write_text(
        "<annotation>\n  <filename>bad.png</filename>\n  <object><name>crazing</nam></object>\n</annotation>\n"
    )
    write_image(neu_source / "IMAGES" / "bad.png")
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    (message,) = _kinds(report)["malformed_xml"]
    assert message.startswith(f"{bad}:3:26: mismatched tag")
    assert report.n_images == 18 and all(issue.skipped for issue in report.issues)


def test_structurally_bad_object_skips_the_file(neu_source: Path, tmp_path: Path, add_voc) -> None:
    xml = add_voc(neu_source, "nocoord", [("crazing", 1, 2, 30, 40)])
    xml.write_text(xml.read_text().replace("<xmin>1</xmin>", "<xmin>abc</xmin>"))
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert _kinds(report)["malformed_xml"] == [f"{xml}: object #1 'crazing': <xmin> is not a number: 'abc'"]
    assert "nocoord" not in "".join(report.splits["train"].images + report.splits["val"].images)


def test_missing_image_is_skipped(neu_source: Path, tmp_path: Path, add_voc) -> None:
    xml = add_voc(neu_source, "orphan", [("crazing", 1, 2, 30, 40)], image=False)
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    (message,) = _kinds(report)["missing_image"]
    assert message == f"{xml}: no image named orphan.* under {neu_source / 'IMAGES'}; file skipped"
    assert report.n_images == 18


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_image_is_skipped(neu_source: Path, tmp_path: Path, damage: str, add_voc) -> None:
    add_voc(neu_source, "broken", [("crazing", 1, 2, 30, 40)], suffix=".jpg")
    image = neu_source / "IMAGES" / "broken.jpg"
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not an image at all")
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    (message,) = _kinds(report)["unreadable_image"]
    assert message.startswith(f"{image}: unreadable or corrupt image")
    assert report.n_images == 18


def test_zero_and_negative_area_boxes_are_dropped(neu_source: Path, tmp_path: Path, add_voc, read_labels) -> None:
    objects = [("crazing", 4, 5, 40, 30), ("crazing", 5, 5, 5, 20), ("patches", 30, 20, 10, 25)]
    xml = add_voc(neu_source, "degenerate", objects)
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert _kinds(report)["zero_area_box"] == [
        f"{xml}: object #2 'crazing': zero-area box (xmin=5, ymin=5, xmax=5, ymax=20); box dropped",
        f"{xml}: object #3 'patches': negative-area box (xmin=30, ymin=20, xmax=10, ymax=25); box dropped",
    ]
    labels = read_labels(tmp_path / "out")
    (text,) = [text for key, text in labels.items() if key.endswith("/degenerate")]
    assert text == "0 0.343750 0.364583 0.562500 0.520833\n"


def test_box_partly_outside_is_clipped(neu_source: Path, tmp_path: Path, add_voc, read_labels) -> None:
    xml = add_voc(neu_source, "clip", [("scratches", -10, 5, 30, 60)])
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    (message,) = _kinds(report)["box_clipped"]
    assert message == (
        f"{xml}: object #1 'scratches': box partly outside the 64x48 image (xmin=-10, ymin=5, xmax=30, ymax=60); "
        "clipped to (xmin=0, ymin=5, xmax=30, ymax=48)"
    )
    (text,) = [text for key, text in read_labels(tmp_path / "out").items() if key.endswith("/clip")]
    assert text == "5 0.234375 0.552083 0.468750 0.895833\n"


def test_box_entirely_outside_is_dropped(neu_source: Path, tmp_path: Path, add_voc, read_labels) -> None:
    xml = add_voc(neu_source, "outside", [("crazing", 1, 1, 9, 9), ("crazing", 70, 10, 90, 20)])
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    (message,) = _kinds(report)["box_outside"]
    assert message == (
        f"{xml}: object #2 'crazing': box entirely outside the 64x48 image (xmin=70, ymin=10, xmax=90, ymax=20); "
        "box dropped"
    )
    (text,) = [text for key, text in read_labels(tmp_path / "out").items() if key.endswith("/outside")]
    assert text.count("\n") == 1


def test_image_without_valid_boxes_is_skipped(neu_source: Path, tmp_path: Path, add_voc, read_labels) -> None:
    xml = add_voc(neu_source, "allbad", [("crazing", 5, 5, 5, 9), ("crazing", 100, 100, 120, 130)])
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    kinds = _kinds(report)
    assert kinds["no_valid_boxes"] == [
        f"{xml}: none of its 2 boxes is usable; image skipped (it would otherwise become a false background image)"
    ]
    assert len(kinds["zero_area_box"]) == 1 and len(kinds["box_outside"]) == 1
    assert not any("allbad" in key for key in read_labels(tmp_path / "out"))


def test_xml_without_objects_is_a_background_image(neu_source: Path, tmp_path: Path, add_voc, read_labels) -> None:
    add_voc(neu_source, "clean_plate", [])
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert report.issues == []
    assert sum(summary.background_images for summary in report.splits.values()) == 1
    (text,) = [text for key, text in read_labels(tmp_path / "out").items() if key.endswith("/clean_plate")]
    assert text == ""


def test_size_mismatch_and_difficult_boxes(neu_source: Path, tmp_path: Path, add_voc) -> None:
    xml = add_voc(neu_source, "resized", [("crazing", 1, 1, 20, 20)], difficult=True)
    xml.write_text(xml.read_text().replace("<width>64</width>", "<width>200</width>"))
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert _kinds(report)["size_mismatch"] == [
        f"{xml}: <size> says 200x48 but {neu_source / 'IMAGES' / 'resized.png'} is 64x48; "
        "boxes are checked against the real image size"
    ]
    assert report.difficult_boxes == 1 and report.n_boxes == 19


def test_image_without_annotation_is_counted(neu_source: Path, tmp_path: Path, write_image) -> None:
    image = write_image(neu_source / "IMAGES" / "lonely.png")
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert _kinds(report)["no_annotation"] == [f"{image}: no annotation file with this stem; image left out"]


def test_unknown_class_stops_the_import(neu_source: Path, tmp_path: Path, add_voc) -> None:
    xml = add_voc(neu_source, "odd", [("crazing", 1, 1, 20, 20), ("rust", 1, 1, 20, 20)])
    with pytest.raises(DatasetError) as caught:
        import_dataset("neu-det", neu_source, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{xml}: object #2: unknown class name 'rust'; neu-det has the classes crazing, ")
    assert "rolled-in_scale, scratches" in message and "'voc'" in message and "--classes" in message
    assert list(tmp_path.iterdir()) == [neu_source]


def test_fixed_class_names_match_case_insensitively(neu_source: Path, tmp_path: Path, add_voc) -> None:
    add_voc(neu_source, "upper", [("Crazing", 1, 1, 20, 20)])
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert report.boxes_per_class["crazing"] == 4


def test_voc_takes_sorted_names_or_classes(tmp_path: Path, add_voc) -> None:
    src = tmp_path / "voc"
    for index, name in enumerate(["zinc", "ash", "mud", "ash"]):
        add_voc(src, f"img{index}", [(name, 1, 1, 20, 20)], images="JPEGImages", annotations="Annotations")
    report = import_dataset("voc", src, tmp_path / "out")
    assert report.class_names == ["ash", "mud", "zinc"]
    report = import_dataset("voc", src, tmp_path / "out2", classes=["zinc", "mud", "ash", "spare"])
    assert report.class_names == ["zinc", "mud", "ash", "spare"]
    assert "3: spare" in (tmp_path / "out2" / "data.yaml").read_text()
    with pytest.raises(DatasetError, match=r"img1.xml: object #1: class name 'ash' is not in --classes \(zinc, mud\)"):
        import_dataset("voc", src, tmp_path / "out3", classes=["zinc", "mud"])
    assert not (tmp_path / "out3").exists()


def test_voc_finds_images_beside_or_in_sibling_folders(tmp_path: Path, add_voc) -> None:
    src = tmp_path / "voc"
    add_voc(src, "beside", [("a", 1, 1, 9, 9)], images="set1", annotations="set1")
    add_voc(src / "set2", "sibling", [("a", 1, 1, 9, 9)], images="pics", annotations="xml")
    add_voc(src / "set3", "same", [("a", 1, 1, 9, 9)], images="pics", annotations="xml")
    add_voc(src / "set4", "same", [("a", 1, 1, 9, 9)], images="pics", annotations="xml")
    report = import_dataset("voc", src, tmp_path / "out", split=(0.5, 0.5))
    names = sorted(report.splits["train"].images + report.splits["val"].images)
    assert names == ["beside.png", "same-2.png", "same.png", "sibling.png"]
    (renamed,) = [issue.message for issue in report.issues if issue.kind == "renamed"]
    assert renamed == (
        f"{src / 'set4' / 'pics' / 'same.png'}: name already used by {src / 'set3' / 'pics' / 'same.png'}; "
        "written as same-2.png"
    )


def test_voc_prefers_jpegimages_and_ignores_mask_folders(tmp_path: Path, add_voc, write_image) -> None:
    src = tmp_path / "VOC2012"
    for stem in ("2007_000032", "2007_000039"):
        add_voc(src, stem, [("aeroplane", 1, 1, 30, 30)], images="JPEGImages", annotations="Annotations", suffix=".jpg")
        write_image(src / "SegmentationClass" / f"{stem}.png")
        write_image(src / "Thumbnails" / f"{stem}.png")
    report = import_dataset("voc", src, tmp_path / "out", split=(0.5, 0.5))
    assert [issue.kind for issue in report.issues] == ["no_annotation", "no_annotation"]
    assert all("Thumbnails" in issue.message for issue in report.issues)
    assert sorted(report.splits["train"].images + report.splits["val"].images) == ["2007_000032.jpg", "2007_000039.jpg"]


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        ("neu-det", {"src": "missing"}, "source folder not found: "),
        ("neu-det", {"src": "flat"}, "not a NEU-DET folder: expected sub-folders IMAGES/ and ANNOTATIONS/"),
        ("coco", {}, "unknown dataset format 'coco': choose one of neu-det, gc10-det, voc, yolo"),
        ("neu-det", {"split": (0.5, 0.3)}, "bad split 0.5,0.3: the fractions must sum to 1"),
        ("neu-det", {"split": (1.0,)}, "bad split 1: give 2 (train,val) or 3 (train,val,test) fractions"),
        ("neu-det", {"split": (1.2, -0.2)}, "bad split 1.2,-0.2: every fraction must be a positive number"),
        ("neu-det", {"classes": ["a"]}, "--classes does not apply to neu-det"),
        ("neu-det", {"out": "full"}, "output folder not empty: "),
    ],
)
def test_stopping_errors(neu_source: Path, tmp_path: Path, fmt: str, args: dict, expected: str, write_image) -> None:
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "a.png")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    src = tmp_path / args.pop("src") if "src" in args else neu_source
    out = tmp_path / args.pop("out", "out")
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DatasetError) as caught:
        import_dataset(fmt, src, out, **args)
    assert expected in str(caught.value)
    assert sorted(tmp_path.rglob("*")) == before


def test_output_not_empty_names_folder_and_remedy(neu_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    with pytest.raises(DatasetError, match="choose a new folder or empty it"):
        import_dataset("neu-det", neu_source, out)


def test_empty_existing_output_is_fine(neu_source: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    report = import_dataset("neu-det", neu_source, tmp_path / "out")
    assert report.n_images == 18 and (tmp_path / "out" / "data.yaml").is_file()


def test_empty_dataset_stops_and_leaves_nothing(tmp_path: Path, add_voc) -> None:
    src = tmp_path / "src"
    add_voc(src, "a", [("crazing", 1, 1, 9, 9)], image=False)
    (src / "IMAGES").mkdir()
    (src / "ANNOTATIONS" / "b.xml").write_text("<annotation>")
    with pytest.raises(DatasetError) as caught:
        import_dataset("neu-det", src, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{src}: no usable image: all 2 annotation files were skipped")
    assert "malformed_xml: 1, missing_image: 1" in message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["src"]


def test_too_few_images_for_the_split_stops(tmp_path: Path, add_voc) -> None:
    src = tmp_path / "src"
    add_voc(src, "only", [("crazing", 1, 1, 9, 9)])
    with pytest.raises(DatasetError, match="leaves val empty: only 1 usable images"):
        import_dataset("neu-det", src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_inside_source_is_refused(neu_source: Path) -> None:
    with pytest.raises(DatasetError, match="is inside the source folder"):
        import_dataset("neu-det", neu_source, neu_source / "out")


def test_progress_reaches_total(neu_source: Path, tmp_path: Path, add_voc) -> None:
    add_voc(neu_source, "orphan", [("crazing", 1, 2, 30, 40)], image=False)
    calls: list[tuple[int, int]] = []
    import_dataset("neu-det", neu_source, tmp_path / "out", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 38) and calls[-1] == (38, 38)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))
