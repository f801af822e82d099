"""File sources: a real (tiny) video written by OpenCV, and image folders with corrupt and stray files."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from grace_core.errors import SourceError
from grace_core.sources import FolderSource, SourceState, VideoSource
from grace_core.sources.folder import natural_key

N_FRAMES, FPS, SIZE = 10, 5.0, (64, 48)


def level(i: int) -> int:
    return 20 + 20 * i  # a distinct gray per frame, well apart after JPEG


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    assert writer.isOpened()
    for i in range(N_FRAMES):
        writer.write(np.full((SIZE[1], SIZE[0], 3), level(i), np.uint8))
    writer.release()
    return path


def levels(frames) -> list[int]:
    return [round(float(f.image.mean()) / 20) * 20 for f in frames]


def test_video_yields_every_frame_in_order_then_ends(clip):
    with VideoSource(clip) as source:
        assert source.info.length == N_FRAMES and source.info.fps == FPS and source.info.size == SIZE
        assert not source.info.live and source.state is SourceState.LIVE
        frames = list(source)
        assert source.state is SourceState.ENDED
        assert source.read(timeout=0.1) is None
    assert levels(frames) == [level(i) for i in range(N_FRAMES)]
    assert [f.index for f in frames] == list(range(N_FRAMES))
    assert [f.meta["position"] for f in frames] == list(range(N_FRAMES))
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)


def test_video_loops(clip):
    with VideoSource(clip, loop=True) as source:
        frames = [source.read(timeout=1) for _ in range(2 * N_FRAMES + 3)]
        assert source.state is SourceState.LIVE
    assert levels(frames) == [level(i % N_FRAMES) for i in range(2 * N_FRAMES + 3)]
    assert frames[-1].index == 2 * N_FRAMES + 2


def test_video_pacing(clip):
    with VideoSource(clip, fps=50) as source:
        started = time.monotonic()
        frames = [source.read(timeout=1) for _ in range(6)]
        assert all(frames)
        assert time.monotonic() - started >= 5 / 50 * 0.8  # lower bound only: pacing cannot make it faster


def test_video_native_pacing(clip):
    with VideoSource(clip, fps="native") as source:
        started = time.monotonic()
        assert all(source.read(timeout=1) for _ in range(3))
        assert time.monotonic() - started >= 2 / FPS * 0.8


def test_unopenable_and_empty_videos(tmp_path):
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceError, match=r"garbage\.avi: cannot open this video|garbage\.avi: the video has no"):
        VideoSource(garbage)
    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    writer.release()  # a container with zero frames
    with pytest.raises(SourceError, match=r"empty\.avi"):
        VideoSource(empty)
    with pytest.raises(SourceError, match="no such file"):
        VideoSource(tmp_path / "missing.avi")


@pytest.fixture
def image_folder(tmp_path) -> Path:
    for name, value in (("img10.png", 100), ("img2.png", 20), ("IMG1.jpg", 10)):
        cv2.imwrite(str(tmp_path / name), np.full((12, 16, 3), value, np.uint8))
    (tmp_path / "img5.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "img3.png"), np.zeros((4, 4, 3), np.uint8))  # not recursed into
    return tmp_path


def test_folder_in_natural_order_skipping_a_corrupt_image(image_folder, caplog):
    with caplog.at_level(logging.WARNING), FolderSource(image_folder) as source:
        assert source.info.length == 4 and source.info.fps is None and not source.info.live
        frames = list(source)
        assert source.state is SourceState.ENDED
        assert source.stats()["skipped"] == 1
    assert [f.meta["name"] for f in frames] == ["IMG1.jpg", "img2.png", "img10.png"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert "img5.jpg" in caplog.text
    assert frames[0].image.shape == (12, 16, 3)


def test_folder_loops_and_counts_a_bad_file_once(image_folder):
    with FolderSource(image_folder, loop=True) as source:
        names = [source.read(timeout=1).meta["name"] for _ in range(7)]
        assert source.stats()["skipped"] == 1
    assert names == ["IMG1.jpg", "img2.png", "img10.png"] * 2 + ["IMG1.jpg"]


def test_folder_errors(tmp_path):
    with pytest.raises(SourceError, match="no images in this folder"):
        FolderSource(tmp_path)
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(SourceError, match="no images in this folder"):
        FolderSource(tmp_path)
    with pytest.raises(SourceError, match="no such folder"):
        FolderSource(tmp_path / "missing")
    (tmp_path / "broken.png").write_bytes(b"nope")
    with FolderSource(tmp_path) as source, pytest.raises(SourceError, match="none of its 1 images could be read"):
        source.read()
    assert source.state is SourceState.FAILED


def test_natural_key():
    names = ["img10.png", "img2.png", "img1.png", "Img3.png", "a.png"]
    assert sorted(names, key=natural_key) == ["a.png", "img1.png", "img2.png", "Img3.png", "img10.png"]
