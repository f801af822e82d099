"""GC10-DET layout: numbered image folders, XML in lable/, Chinese-pinyin or English class names."""

from __future__ import annotations

from pathlib import Path

import pytest

from grace_core.data.importer import import_dataset
from grace_core.data.importers import GC10_DET_CLASSES, GC10_DET_XML_NAMES
from grace_core.errors import DatasetError


def _gc10(root: Path, add_voc, xml_folder: str = "lable") -> Path:
    for number, xml_name in enumerate(GC10_DET_XML_NAMES, 1):
        for copy in range(2):
            stem = f"img_{number:02d}_{copy}"
            name = xml_name if copy == 0 else GC10_DET_CLASSES[number - 1]  # both spellings are accepted
            add_voc(
                root,
                stem,
                [(name, 10, 10, 90, 40)],
                size=(128, 60),
                images=str(number),
                annotations=xml_folder,
                suffix=".jpg",
            )
    return root


@pytest.mark.parametrize("xml_folder", ["lable", "label", "Annotations"])
def test_gc10_import_maps_names_and_copies_bytes(tmp_path: Path, add_voc, xml_folder: str) -> None:
    src = _gc10(tmp_path / "src", add_voc, xml_folder)
    report = import_dataset("gc10-det", src, tmp_path / "out")
    assert report.class_names == list(GC10_DET_CLASSES)
    assert report.boxes_per_class == dict.fromkeys(GC10_DET_CLASSES, 2)
    assert report.issues == []
    for split, summary in report.splits.items():
        for name in summary.images:
            number = int(name.split("_")[1])
            assert (tmp_path / "out" / "images" / split / name).read_bytes() == (src / str(number) / name).read_bytes()
    labels = sorted((tmp_path / "out" / "labels").glob("*/img_03_*.txt"))
    assert len(labels) == 2 and all(
        path.read_text().startswith("2 0.390625 0.416667 0.625000 0.500000") for path in labels
    )


def test_gc10_repeated_stem_is_reported_and_resolved_by_path(tmp_path: Path, add_voc, write_image) -> None:
    src = _gc10(tmp_path / "src", add_voc)
    write_image(src / "9" / "img_03_0.jpg", 128, 60)
    report = import_dataset("gc10-det", src, tmp_path / "out")
    (issue,) = report.issues
    assert issue.kind == "ambiguous_image"
    assert issue.message == (
        f"{src / 'lable' / 'img_03_0.xml'}: several images named img_03_0.*; using {src / '3' / 'img_03_0.jpg'} "
        f"(not {src / '9' / 'img_03_0.jpg'})"
    )


def test_gc10_unknown_name_and_layout_errors(tmp_path: Path, add_voc) -> None:
    src = _gc10(tmp_path / "src", add_voc)
    xml = add_voc(src, "img_x", [("11_liewen", 1, 1, 9, 9)], images="1", annotations="lable")
    with pytest.raises(DatasetError) as caught:
        import_dataset("gc10-det", src, tmp_path / "out")
    assert str(caught.value).startswith(
        f"{xml}: object #1: unknown class name '11_liewen'; gc10-det has the classes punching_hole, welding_line,"
    )
    (tmp_path / "plain" / "1").mkdir(parents=True)
    with pytest.raises(
        DatasetError, match="not a GC10-DET folder: expected the XML files in a sub-folder named lable/"
    ):
        import_dataset("gc10-det", tmp_path / "plain", tmp_path / "out")
