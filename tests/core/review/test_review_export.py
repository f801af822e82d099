"""Exporting reviewed frames: which verdicts go where, exact labels, class lists, merging, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grace_core.data.stats import dataset_stats
from grace_core.data.synthetic import write_synthetic_yolo
from grace_core.data.yolo import load_yaml
from grace_core.errors import DatasetError
from grace_core.review import export_reviewed
from grace_core.store import ReviewStore


def _labels(out: Path) -> dict[str, str]:
    """label stem -> text, over every split."""
    return {path.stem: path.read_text() for path in sorted((out / "labels").glob("*/*.txt"))}


def _split_of(out: Path) -> dict[str, str]:
    return {path.stem: path.parent.name for path in (out / "images").glob("*/*")}


def test_defects_with_boxes_false_alarms_as_background_the_rest_left_out(reviewed, tmp_path: Path) -> None:
    out = tmp_path / "export"
    report = export_reviewed(reviewed.store, out)

    stats = dataset_stats(out / "data.yaml")
    assert stats.class_names == ["crazing", "inclusion", "patches", "scratches"]  # the model's, in its order
    assert (stats.total.images, stats.total.background_images) == (4, 2)
    assert stats.total.instances_per_class == [1, 0, 2, 1]
    assert stats.total.images_per_class == [1, 0, 2, 1]
    assert sorted(stats.splits) == ["train", "val"]
    assert {name: split.images for name, split in stats.splits.items()} == {"train": 3, "val": 1}

    assert report.exported == {"defect": 2, "false_alarm": 2}
    assert report.skipped == {"unsure": 1, "unreviewed": 1}
    assert report.boxes_per_class == {"crazing": 1, "inclusion": 0, "patches": 2, "scratches": 1}
    assert report.class_source == "the classes of grace-s.pt@0123456789ab, which flagged the newest exported frame"
    assert report.images_per_split == {"train": 3, "val": 1}
    assert report.data_yaml == str(out.resolve() / "data.yaml")
    assert [issue.kind for issue in report.issues] == ["box_clipped"]  # the reviewer's box past the right edge

    names = {key: f"review_{reviewed.uid(key)}" for key in "ABCDEF"}
    labels = _labels(out)
    assert sorted(labels) == sorted(names[key] for key in "ABCF")
    assert labels[names["C"]] == "" and labels[names["F"]] == ""  # false alarms: background images
    assert labels[names["A"]].splitlines() == [
        "0 0.175000 0.312500 0.250000 0.375000",  # crazing (10, 20, 60, 80) on 200 x 160
        "2 0.625000 0.375000 0.250000 0.375000",  # inclusion relabelled patches (100, 30, 150, 90)
        "3 0.500000 0.781250 1.000000 0.312500",  # the reviewer's scratches (0, 100, 250, 150) clipped to x2 = 200
    ]  # the deleted scratches box is gone
    assert labels[names["B"]] == "2 0.400000 0.437500 0.400000 0.375000\n"

    split = _split_of(out)
    image = out / "images" / split[names["A"]] / f"{names['A']}.jpg"
    store_image = reviewed.store.image_file(reviewed.store.frame(reviewed.ids["A"]))
    assert image.read_bytes() == store_image.read_bytes()  # copied as stored, not re-encoded

    data = load_yaml(out / "data.yaml")
    assert (data["path"], data["train"], data["val"]) == (str(out.resolve()), "images/train", "images/val")
    saved = json.loads((out / "export_report.json").read_text())
    assert saved == report.to_dict() and saved["frames_exported"] == 4
    assert not list(tmp_path.glob("*.partial-*"))


NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def _six_class_store(root: Path) -> ReviewStore:
    """Frames of a six-class model, reviewed as defects with boxes of four classes (none of crazing, pitted)."""
    from grace_core.detections import Detections
    from grace_core.engine.base import EngineInfo, Prediction
    from grace_core.flagging import Thresholds, decide
    from grace_core.types import Frame

    store = ReviewStore.open(root)
    info = EngineInfo("onnxruntime", NEU_DET, 224, "neu.onnx", "neu.onnx@abcdef012345", has_heatmap=False)
    image = np.random.default_rng(0).integers(60, 200, (64, 96, 3), dtype=np.uint8)
    for i, (class_id, score) in enumerate([(1, 0.9), (2, 0.8), (4, 0.9), (5, 0.9), (2, 0.95)]):
        detections = Detections(np.array([[5, 5, 60, 40]], np.float32), [score], [class_id])
        decision = decide(detections, NEU_DET, Thresholds())
        frame = Frame(image=image, index=i, timestamp=1_700_000_000.0 + i, source_id="camera:0")
        frame_id = store.add_frame(frame, decision, Prediction(detections, None, {}), info, Thresholds())
        store.set_verdict(frame_id, "defect", "alice")
    return store


def test_the_models_full_class_list_is_kept_unless_narrowed(tmp_path: Path) -> None:
    with _six_class_store(tmp_path / "review") as store:
        assert store.model_classes("neu.onnx@abcdef012345") == list(NEU_DET)
        report = export_reviewed(store, tmp_path / "full")
        narrowed = export_reviewed(store, tmp_path / "narrow", narrow_classes=True)
    data = load_yaml(tmp_path / "full" / "data.yaml")
    assert data["nc"] == 6 and list(data["names"].values()) == list(NEU_DET)  # crazing and pitted_surface kept
    assert report.boxes_per_class == {name: count for name, count in zip(NEU_DET, [0, 1, 2, 0, 1, 1], strict=True)}
    assert dataset_stats(tmp_path / "full").total.instances_per_class == [0, 1, 2, 0, 1, 1]
    assert "neu.onnx@abcdef012345" in report.class_source
    narrow = load_yaml(tmp_path / "narrow" / "data.yaml")
    assert narrow["nc"] == 4
    assert list(narrow["names"].values()) == ["inclusion", "patches", "rolled-in_scale", "scratches"]
    assert narrowed.class_source == "the classes of the reviewed boxes"


def test_a_store_without_the_models_class_list_uses_the_classes_its_boxes_show(tmp_path: Path) -> None:
    from grace_core.store.review_store import MODEL_CLASSES_KEY

    with _six_class_store(tmp_path / "review") as store:
        store._conn.execute("DELETE FROM meta WHERE key LIKE ?", (MODEL_CLASSES_KEY + "%",))  # an older app's store
        first = store.detections(1)[0]
        store.delete_box(first.id, "alice")  # a deleted model box still shows its class
        store.add_box(1, 7, "rust", (1, 1, 20, 20), "alice")  # a reviewer's class the model does not know
        report = export_reviewed(store, tmp_path / "out")
    assert report.class_names == ["inclusion", "patches", "rolled-in_scale", "scratches", "rust"]
    assert "not recorded" in report.class_source and "rust" in report.class_source


def test_the_split_is_seeded(reviewed, tmp_path: Path) -> None:
    export_reviewed(reviewed.store, tmp_path / "a", seed=3)
    export_reviewed(reviewed.store, tmp_path / "b", seed=3)
    assert _split_of(tmp_path / "a") == _split_of(tmp_path / "b")


def test_given_class_list_maps_boxes_by_name(reviewed, tmp_path: Path) -> None:
    names = ["rolled-in_scale", "scratches", "crazing", "patches", "inclusion"]
    export_reviewed(reviewed.store, tmp_path / "out", class_names=names)
    stats = dataset_stats(tmp_path / "out")
    assert stats.class_names == names
    assert stats.total.instances_per_class == [0, 1, 1, 2, 0]
    a_label = _labels(tmp_path / "out")[f"review_{reviewed.uid('A')}"]
    assert [line.split()[0] for line in a_label.splitlines()] == ["2", "3", "1"]


def test_a_class_missing_from_the_list_is_refused_naming_frame_and_class(reviewed, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(DatasetError) as error:
        export_reviewed(reviewed.store, out, class_names=["crazing", "patches"])
    message = str(error.value)
    assert f"frame {reviewed.ids['A']} (review_{reviewed.uid('A')}, camera:0)" in message
    assert "class 'scratches', which is not in the class list (--classes) (crazing, patches)" in message
    assert not out.exists() and not list(tmp_path.glob("*.partial-*"))


def test_merge_refuses_unknown_classes_then_adds_the_dataset(reviewed, tmp_path: Path) -> None:
    base = write_synthetic_yolo(tmp_path / "synthetic", 8, seed=0)  # scratch, pit, patch, inclusion
    before = dataset_stats(base)
    with pytest.raises(
        DatasetError, match=r"has a box of class 'crazing', which is not in the classes of .*data\.yaml"
    ):
        export_reviewed(reviewed.store, tmp_path / "refused", merge_with=base)
    assert not (tmp_path / "refused").exists()

    rename = {"crazing": (3, "inclusion"), "patches": (2, "patch"), "scratches": (0, "scratch")}
    store = reviewed.store
    for key in ("A", "B"):
        for box in store.detections(reviewed.ids[key]):
            store.relabel_box(box.id, *rename[box.class_name], "alice")
    out = tmp_path / "merged"
    report = export_reviewed(store, out, merge_with=base)

    stats = dataset_stats(out)
    assert stats.class_names == ["scratch", "pit", "patch", "inclusion"]
    review_boxes = [1, 0, 2, 1]  # scratch, pit, patch, inclusion
    assert stats.total.instances_per_class == [
        a + b for a, b in zip(before.total.instances_per_class, review_boxes, strict=True)
    ]
    assert stats.total.images == before.total.images + 4
    assert stats.total.background_images == before.total.background_images + 2
    for split in ("train", "val"):
        assert stats.splits[split].images == before.splits[split].images + report.images_per_split[split]
    assert report.merged_images == {split: s.images for split, s in before.splits.items()}
    assert report.merged_from == str(base.resolve())
    base_labels = {p.stem: p.read_text() for p in (base.parent / "labels").glob("*/*.txt")}
    assert {stem: text for stem, text in _labels(out).items() if stem in base_labels} == base_labels  # as they were

    calls: list[tuple[int, int]] = []
    progress = lambda done, total: calls.append((done, total))  # noqa: E731
    again = export_reviewed(store, tmp_path / "again", merge_with=out / "data.yaml", seed=9, progress=progress)
    assert calls[-1] == (calls[-1][1], calls[-1][1])  # the bar ends full
    assert again.replaced == 4  # the frames exported before: replaced by their current review, not duplicated
    assert dataset_stats(tmp_path / "again").total.images == stats.total.images
    assert _split_of(tmp_path / "again") == _split_of(out)  # and kept in the split they had


def test_merge_and_class_list_must_agree(reviewed, tmp_path: Path) -> None:
    base = write_synthetic_yolo(tmp_path / "synthetic", 8, seed=0)
    with pytest.raises(DatasetError, match="--classes crazing differs from the classes of"):
        export_reviewed(reviewed.store, tmp_path / "out", class_names=["crazing"], merge_with=base)


def test_a_defect_without_boxes_is_left_out_not_made_background(reviewed, tmp_path: Path) -> None:
    store = reviewed.store
    for box in store.detections(reviewed.ids["B"]):
        store.delete_box(box.id, "alice")
    report = export_reviewed(store, tmp_path / "out")
    assert report.exported == {"defect": 1, "false_alarm": 2}
    assert report.skipped == {"unsure": 1, "unreviewed": 1, "defect_without_boxes": 1}
    stats = dataset_stats(tmp_path / "out")
    assert (stats.total.images, stats.total.background_images) == (3, 2)
    assert stats.total.instances_per_class == [1, 0, 1, 1]


def test_where_narrows_the_export(reviewed, tmp_path: Path) -> None:
    from grace_core.store import FrameFilter

    report = export_reviewed(reviewed.store, tmp_path / "out", where=FrameFilter(until=reviewed.start + 1950))
    assert report.exported == {"defect": 2, "false_alarm": 1}  # A, B, C
    assert report.skipped == {"unsure": 0, "unreviewed": 0}


def test_nothing_to_export(store_root: Path, tmp_path: Path, add) -> None:
    with ReviewStore.open(store_root) as store:
        with pytest.raises(DatasetError, match=r"nothing to export: .*\(the store has no matching frames\)"):
            export_reviewed(store, tmp_path / "out")
        frame_id = add(store, 1_700_000_000.0, [(0, 0.9, (1, 1, 30, 30))])
        with pytest.raises(DatasetError, match=r"nothing to export: .*\(1 unreviewed\)"):
            export_reviewed(store, tmp_path / "out")
        store.set_verdict(frame_id, "defect", "alice")
        with pytest.raises(DatasetError, match="only 1 frames to export: val would be empty"):
            export_reviewed(store, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("share", [0.0, 1.0, -0.2, 1.5])
def test_bad_validation_share(reviewed, tmp_path: Path, share: float) -> None:
    with pytest.raises(DatasetError, match="bad validation share"):
        export_reviewed(reviewed.store, tmp_path / "out", val_fraction=share)


def test_output_folder_must_be_new_or_empty(reviewed, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="output folder not empty"):
        export_reviewed(reviewed.store, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_progress_reaches_its_total(reviewed, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    export_reviewed(reviewed.store, tmp_path / "out", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 8) and calls[-1] == (8, 8)  # 4 frames checked, 4 written
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
