"""`grace detect` over a folder (with a corrupt image), a real video, and sources that cannot be opened."""

import csv
import json

import cv2
import numpy as np
import pytest

from grace_core.cli.main import main


@pytest.fixture
def folder(tmp_path, steel_images):
    images = tmp_path / "images"
    images.mkdir()
    for i, image in enumerate(steel_images):
        cv2.imwrite(str(images / f"strip_{i}.png"), image)
    (images / "strip_9.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    (images / "notes.txt").write_text("not an image")
    return images


def test_detect_over_a_folder_writes_every_output(folder, exported, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["detect", str(folder), "--model", str(exported["onnxruntime"]), "--conf", "0.02", "--save-dir", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "5 frames" in printed.out and "skipped 1 unreadable image" in printed.out
    assert "strip_9.jpg" in printed.err  # the warning names the file
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"strip_{i}.png.jpg" for i in range(5)]  # unique names
    lines = [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()]
    assert [line["name"] for line in lines] == [f"strip_{i}.png" for i in range(5)]
    rows = list(csv.DictReader((out / "detections.csv").open()))
    assert len(rows) == sum(len(line["detections"]) for line in lines) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 5 and summary["skipped_unreadable"] == 1
    assert sum(summary["detections_per_class"].values()) == len(rows)


def test_detect_over_a_video_writes_an_annotated_video(exported, steel_images, tmp_path):
    video = tmp_path / "strip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (200, 200))
    for i in range(6):
        writer.write(steel_images[i % 2] if steel_images[i % 2].shape[:2] == (200, 200) else steel_images[0])
    writer.release()
    out = tmp_path / "out"
    assert main(["detect", str(video), "--model", str(exported["openvino"]), "--save-dir", str(out)]) == 0
    annotated = cv2.VideoCapture(str(out / "annotated.avi"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    annotated.release()
    assert len((out / "detections.jsonl").read_text().splitlines()) == 6


def test_class_filter(folder, exported, tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "detect",
                str(folder),
                "--model",
                str(exported["torch"]),
                "--conf",
                "0.02",
                "--classes",
                "pit",
                "--save-dir",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((out / "detections.csv").open()))
    assert {row["class"] for row in rows} <= {"pit"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing_folder", "no such file or folder"),
        ("ftp://example.invalid/stream", "unknown source type 'ftp://'"),
    ],
)
def test_sources_that_cannot_be_opened(exported, tmp_path, capsys, source, message):
    code = main(
        [
            "detect",
            str(tmp_path / source) if "://" not in source else source,
            "--model",
            str(exported["onnxruntime"]),
            "--save-dir",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert message in err.lower() and "Traceback" not in err


def test_unknown_class_and_bad_thresholds(folder, exported, tmp_path, capsys):
    model = str(exported["onnxruntime"])
    assert main(["detect", str(folder), "--model", model, "--classes", "dent", "--save-dir", str(tmp_path)]) == 2
    assert "unknown class 'dent'" in capsys.readouterr().err
    assert main(["detect", str(folder), "--model", model, "--conf", "1.5", "--save-dir", str(tmp_path)]) == 2
    assert "--conf and --iou must be between 0 and 1" in capsys.readouterr().err


def test_heatmap_overlay_is_drawn_on_a_fixed_scale():
    from grace_core.render import heatmap_colors, overlay_heatmap

    image = np.full((4, 4, 3), 100, np.uint8)
    neutral, strong = np.full((4, 4), 0.5, np.float32), np.ones((4, 4), np.float32)
    assert np.array_equal(overlay_heatmap(image, neutral), image)  # the gate's neutral value draws nothing
    assert np.array_equal(overlay_heatmap(image, np.zeros((4, 4), np.float32)), image)
    assert not np.array_equal(overlay_heatmap(image, strong), image)
    mid = heatmap_colors(np.full((4, 4), 0.75, np.float32))
    assert not np.array_equal(mid[0, 0], heatmap_colors(strong)[0, 0])  # 0.75 stays 0.75: no per-image stretching
    same = overlay_heatmap(image, np.full((4, 4), 0.75, np.float32))
    assert np.array_equal(
        same, overlay_heatmap(image, np.pad(np.full((2, 2), 0.75, np.float32), 1, constant_values=0.75))
    )
