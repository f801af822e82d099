"""The demo: bundled NEU-DET images with their annotations, tiles and scroll modes, pacing and looping."""

from __future__ import annotations

import hashlib
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from grace_core.errors import SourceError
from grace_core.sources import DemoSource, SourceState, demo_dir
from grace_core.sources.demo import defect_class

CLASSES = {"crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"}


def test_the_demo_images_and_annotations_are_bundled():
    folder = demo_dir()
    stems = sorted(p.stem for p in folder.glob("*.jpg"))
    assert len(stems) == 24
    assert Counter(defect_class(s) for s in stems) == dict.fromkeys(CLASSES, 4)
    for stem in stems:
        root = ET.parse(folder / "annotations" / f"{stem}.xml").getroot()
        assert root.findtext("filename").startswith(stem)
        assert root.find("object") is not None
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "NEU" in readme and "Song" in readme and "He, K. Song" in readme


def test_the_demo_images_are_unchanged_copies(neu_det_dir: Path):
    for path in demo_dir().glob("*.jpg"):
        original = neu_det_dir / "IMAGES" / path.name
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
        xml = demo_dir() / "annotations" / f"{path.stem}.xml"
        assert xml.read_bytes() == (neu_det_dir / "ANNOTATIONS" / xml.name).read_bytes()


def test_tiles_are_neu_images_with_their_stem():
    with DemoSource(fps=1000, noise=0) as source:
        assert source.info.live and source.info.length is None and source.info.size == (200, 200)
        assert source.state is SourceState.LIVE
        frames = [source.read(timeout=1) for _ in range(len(source.stems) + 2)]
    first = frames[0]
    assert first.image.shape == (200, 200, 3) and first.image.dtype == np.uint8
    assert first.meta["stem"] == source.stems[0]
    assert Path(first.meta["annotation"]).is_file()
    assert np.array_equal(first.image, cv2.imread(str(demo_dir() / f"{first.meta['stem']}.jpg")))
    assert {defect_class(f.meta["stem"]) for f in frames[:6]} == CLASSES  # interleaved: variety at once
    assert [f.meta["stem"] for f in frames[-2:]] == source.stems[:2]  # loops
    assert [f.index for f in frames] == list(range(len(frames)))


def test_noise_is_small():
    with DemoSource(fps=1000, noise=2.0, seed=1) as noisy, DemoSource(fps=1000, noise=0) as clean:
        a, b = noisy.read(timeout=1).image, clean.read(timeout=1).image
    difference = np.abs(a.astype(int) - b.astype(int))
    assert 0 < difference.mean() < 4
    assert np.array_equal(a[..., 0], a[..., 2])  # gray noise keeps R = G = B


def test_demo_is_paced():
    with DemoSource(fps=25) as source:
        started = time.monotonic()
        assert all(source.read(timeout=1) for _ in range(5))
        assert time.monotonic() - started >= 4 / 25 * 0.8  # lower bound only
        assert source.read(timeout=0) is None  # the next one is not due yet


def test_scroll_mode_moves_the_window_and_wraps():
    with DemoSource(mode="scroll", fps=1000, speed=50, window=120, noise=0) as source:
        assert source.info.size == (200, 120)
        strip_length = 200 * len(source.stems)
        frames = [source.read(timeout=1) for _ in range(strip_length // 50 + 2)]
    assert frames[0].image.shape == (120, 200, 3)
    assert [f.meta["offset"] for f in frames[:3]] == [0, 50, 100]
    assert frames[-2].meta["offset"] == 0 and np.array_equal(frames[-2].image, frames[0].image)
    assert frames[0].meta["stem"] == source.stems[0]


def test_closing_ends_the_demo():
    source = DemoSource(fps=1000)
    source.close()
    assert source.state is SourceState.ENDED and source.read(timeout=0.1) is None and list(source) == []


def test_bad_options_and_missing_images(tmp_path):
    with pytest.raises(SourceError, match="unknown mode"):
        DemoSource(mode="zoom")  # type: ignore[arg-type]
    with pytest.raises(SourceError, match="demo images are missing"):
        DemoSource(folder=tmp_path)
