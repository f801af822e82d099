"""Hostile files in a run: an image header claiming 100000x100000 pixels, same-stem images, a video that changes
resolution or is truncated, a nonsensical --max-frames (issue 17, items 3 and 9)."""

import json
import logging
import struct
import zlib

import cv2
import numpy as np
import pytest
import torch

from grace_core.cli.main import build_parser, main
from grace_core.detections import Detections
from grace_core.engine.base import EngineInfo, Prediction
from grace_core.inspection import InspectionSession
from grace_core.sources import FolderSource, VideoSource
from grace_core.sources.convert import MAX_PIXELS, MAX_PIXELS_ENV, ImageTooLarge, decode_image_file
from grace_core.sources.image_header import claimed_size


def huge_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid 8x8 PNG whose IHDR (CRC recomputed) claims ``width`` x ``height`` pixels."""
    data = bytearray(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def huge_jpeg(width: int = 65_000, height: int = 65_000) -> bytes:
    """A valid 8x8 JPEG whose frame header (SOF0) claims ``width`` x ``height`` pixels."""
    data = bytearray(cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    """A tiny untrained YOLO11n checkpoint (3 classes, 64 px): enough to drive `grace detect` end to end."""
    from grace_core.nn import build_model

    path = tmp_path_factory.mktemp("detector") / "det.pt"
    torch.save({"model": build_model("yolo11n", names=["a", "b", "c"]).half(), "train_args": {"imgsz": 64}}, path)
    return path


@pytest.fixture
def folder_with_bomb(tmp_path):
    """23 files, the 12th (f11.png) a PNG claiming 100000x100000 pixels."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(23):
        path = folder / f"f{i:02d}.png"
        if i == 11:
            path.write_bytes(huge_png())
        else:
            cv2.imwrite(str(path), np.full((64, 64, 3), 10 * i, np.uint8))
    return folder


# -- item 3: image size checked from the header, before decoding --------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tiff"])
def test_claimed_size_reads_every_listed_format(suffix):
    data = cv2.imencode(suffix, np.zeros((37, 53, 3), np.uint8))[1]
    assert claimed_size(memoryview(data)) == (53, 37)
    assert claimed_size(b"\xff\xd8 not a jpeg") is None and claimed_size(b"") is None


@pytest.mark.parametrize(("make", "claim"), [(huge_png, "100000x100000"), (huge_jpeg, "65000x65000")])
def test_decoding_refuses_a_header_claiming_too_many_pixels(tmp_path, make, claim):
    path = tmp_path / "huge.img"
    path.write_bytes(make())
    with pytest.raises(ImageTooLarge) as caught:
        decode_image_file(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: its header claims {claim} pixels")
    assert f"{MAX_PIXELS:,} pixel cap" in message and MAX_PIXELS_ENV in message


def test_the_cap_can_be_changed(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    cv2.imwrite(str(path), np.zeros((64, 64, 3), np.uint8))
    assert decode_image_file(str(path)).shape == (64, 64, 3)
    with pytest.raises(ImageTooLarge, match="64x64 pixels"):
        decode_image_file(str(path), limit=64 * 64 - 1)
    monkeypatch.setenv(MAX_PIXELS_ENV, "1000")
    with pytest.raises(ImageTooLarge, match="more than the 1,000 pixel cap"):
        decode_image_file(str(path))


def test_folder_source_skips_the_file_with_a_counted_warning(folder_with_bomb, caplog):
    with caplog.at_level(logging.WARNING, logger="grace_core"), FolderSource(folder_with_bomb) as source:
        names = [frame.meta["name"] for frame in source]
        assert source.stats()["skipped"] == 1
    assert len(names) == 22 and "f11.png" not in names and names[-1] == "f22.png"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "f11.png: its header claims 100000x100000 pixels" in warnings[0] and "skipped" in warnings[0]


def test_detect_goes_on_past_the_file_and_writes_its_summary(folder_with_bomb, detector, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["detect", str(folder_with_bomb), "--model", str(detector), "--save-dir", str(out)]) == 0
    assert "f11.png: its header claims 100000x100000 pixels" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 22 and summary["skipped_unreadable"] == 1


class _NoDefects:
    """An engine that finds nothing: the inspection loop's source handling is what is tested."""

    conf, iou = 0.25, 0.7
    info = EngineInfo("stub", ("a",), 64, "stub.onnx", "stub.onnx@000000000000", False)

    def predict(self, image):
        empty = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
        return Prediction(empty, None, {"inference": 1.0})

    def close(self):
        pass


def test_the_app_inspection_loop_goes_on_past_the_file(folder_with_bomb):
    session = InspectionSession(folder_with_bomb, "stub.onnx", engine_loader=lambda *args: _NoDefects())
    results = [u.result for u in session.run() if getattr(u, "result", None) is not None]
    assert len(results) == 22


# -- item 9: output names, resolution changes, truncated videos, --max-frames ----------------------------------


def test_same_stem_images_do_not_overwrite_each_other(detector, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), np.full((64, 64, 3), 30, np.uint8))
    cv2.imwrite(str(folder / "a.png"), np.full((64, 64, 3), 220, np.uint8))
    out = tmp_path / "out"
    assert main(["detect", str(folder), "--model", str(detector), "--conf", "1", "--save-dir", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.jpg")) == ["a.jpg.jpg", "a.png.jpg"]
    assert cv2.imread(str(out / "a.jpg.jpg")).mean() < 60 < 190 < cv2.imread(str(out / "a.png.jpg")).mean()


def test_a_resolution_change_is_letterboxed_and_warned_once(detector, tmp_path, capsys, monkeypatch):
    import grace_core.sources

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):  # 96x64 dark frames, then 32x64 white ones: a stream that changed resolution
        shape, value = ((64, 96, 3), 40) if i < 3 else ((64, 32, 3), 255)
        cv2.imwrite(str(folder / f"{i}.png"), np.full(shape, value, np.uint8))
    monkeypatch.setattr(grace_core.sources, "open_source", lambda spec, **_: FolderSource(spec, fps=1000))  # video
    out = tmp_path / "out"
    assert main(["detect", str(folder), "--model", str(detector), "--conf", "1", "--save-dir", str(out)]) == 0
    assert capsys.readouterr().err.count("the source changed resolution from 96x64 to 32x64") == 1
    video = cv2.VideoCapture(str(out / "annotated.avi"))
    frames = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    video.release()
    assert len(frames) == 6 and all(f.shape == (64, 96, 3) for f in frames)
    late = frames[4].astype(float)
    assert late[:, 40:56].mean() > 200  # the white frame, in the middle, at its own aspect ratio
    assert late[:, :28].mean() < 30 and late[:, -28:].mean() < 30  # black borders, not a stretched picture


@pytest.fixture
def truncated_video(tmp_path):
    """A 30-frame MJPG AVI cut in half: its header still announces 30 frames."""
    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(30):
        writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return whole, cut


def test_a_truncated_video_warns_that_it_ended_early(truncated_video, caplog):
    whole, cut = truncated_video
    with caplog.at_level(logging.WARNING, logger="grace_core"):
        with VideoSource(whole) as source:
            assert sum(1 for _ in source) == 30 and not source.ended_early
        assert not caplog.records  # a complete video says nothing
        with VideoSource(cut) as source:
            assert source.info.length == 30
            delivered = sum(1 for _ in source)
            assert 0 < delivered < 30 and source.ended_early
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == [
        f"{cut}: the video ended after {delivered} of the 30 frames it announces; the file may be truncated or damaged"
    ]


def test_detect_says_a_truncated_video_ended_early(truncated_video, detector, tmp_path, capsys):
    _, cut = truncated_video
    assert main(["detect", str(cut), "--model", str(detector), "--save-dir", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.count("of the 30 frames it announces; the file may be truncated") == 1


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "many"])
def test_max_frames_must_be_a_positive_count(value, capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["detect", "demo", "--model", "m.onnx", "--max-frames", value])
    assert caught.value.code == 2
    assert f"--max-frames: expected a number of frames, 1 or more, got '{value}'" in capsys.readouterr().err
    assert build_parser().parse_args(["detect", "demo", "--model", "m.onnx", "--max-frames", "3"]).max_frames == 3
