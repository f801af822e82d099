"""Built-in demo: real NEU-DET steel images played as a moving strip, so the app has something to inspect with no
hardware.

``mode="tiles"`` (default) yields the 200×200 images one after another, unchanged but for a little sensor noise:
detection runs on exact NEU tiles and each frame's ``meta["stem"]`` names the image, so the self-test can compare
with ``resources/demo/annotations/<stem>.xml``. ``mode="strip"`` (what the app shows as "demo") is a line-scan
camera over a wide strip: the images lie several across on a steel-grey band (:func:`build_wide_strip`) and each
frame is the next ``segment`` rows of it, with ``meta["strip_row"]`` giving its place on the strip, so the
inspection stitches frames and slices them like a real line camera's. ``mode="scroll"`` yields a window sliding
down the images stacked into one narrow strip, ``speed`` pixels per frame. All loop forever, paced at ``fps``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from grace_core.errors import SourceError
from grace_core.paths import resource_path
from grace_core.sources.base import FrameSource
from grace_core.sources.convert import decode_image_file
from grace_core.sources.folder import list_images
from grace_core.sources.pacing import Pacer
from grace_core.sources.types import Frame, SourceInfo, SourceState

DemoMode = Literal["tiles", "strip", "scroll"]
DEMO_MM_PER_PX = 0.25  # the demo strip's (invented) resolution: 1200 pixels ≈ a 300 mm wide strip


@dataclass(frozen=True)
class DemoImage:
    stem: str
    image: np.ndarray  # BGR uint8
    annotation: Path  # its VOC XML (may be missing for a user-supplied folder)


def demo_dir() -> Path:
    """The bundled demo images (checkout or frozen bundle)."""
    return resource_path("demo")


def defect_class(stem: str) -> str:
    """NEU's file-name class: ``rolled-in_scale_3`` → ``rolled-in_scale``."""
    return stem.rsplit("_", 1)[0]


def interleave_classes(paths: list[Path]) -> list[Path]:
    """Round-robin over the classes (crazing, inclusion, …, crazing, …) so the demo shows variety at once."""
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(defect_class(path.stem), []).append(path)
    rounds = max(len(group) for group in groups.values())
    return [group[i] for i in range(rounds) for group in groups.values() if i < len(group)]


def load_demo_images(folder: Path | None = None) -> list[DemoImage]:
    """Decode the demo images of ``folder`` (default :func:`demo_dir`), interleaved by class."""
    folder = demo_dir() if folder is None else Path(folder)
    paths = list_images(folder) if folder.is_dir() else []
    if not paths:
        raise SourceError(f"{folder}: the demo images are missing; reinstall GRACE Inspect or restore resources/demo.")
    images = []
    for path in interleave_classes(paths):
        image = decode_image_file(str(path))
        if image is None:
            raise SourceError(f"{path}: a demo image is corrupt; reinstall GRACE Inspect or restore resources/demo.")
        images.append(DemoImage(path.stem, image, folder / "annotations" / f"{path.stem}.xml"))
    return images


def build_strip(images: list[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack the images into one vertical strip ``width`` pixels wide (resizing any of another width).

    Returns the strip and the row where each image ends (cumulative heights).
    """
    rows = [
        im if im.shape[1] == width else cv2.resize(im, (width, max(1, round(im.shape[0] * width / im.shape[1]))))
        for im in images
    ]
    return np.concatenate(rows, axis=0), np.cumsum([im.shape[0] for im in rows])


def build_wide_strip(
    images: list[np.ndarray], width: int = 1200, per_row: int = 5, seed: int = 0
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The images several across on a steel-grey band, ``width`` pixels wide: bands of up to ``per_row`` images at
    random places across, random gaps along. Returns the strip and each image's top-left (x, y)."""
    from grace_core.data.mosaic import steel_background

    rng = np.random.default_rng(seed)
    rows: list[list[np.ndarray]] = []
    for image in images:
        if not rows or len(rows[-1]) >= rng.integers(2, per_row + 1):
            rows.append([])
        rows[-1].append(image)
    places, y = [], 40
    for row in rows:
        height = max(im.shape[0] for im in row)
        free = width - sum(im.shape[1] for im in row)
        gaps = np.diff(np.sort(np.concatenate([[0, free], rng.integers(0, free + 1, len(row))])))
        x = 0
        for image, gap in zip(row, gaps[: len(row)], strict=True):
            x += int(gap)
            places.append((x, y + int(rng.integers(0, height - image.shape[0] + 1))))
            x += image.shape[1]
        y += height + int(rng.integers(30, 160))
    strip = steel_background(width, y, seed=seed)
    for image, (x, top) in zip(images, places, strict=True):
        strip[top : top + image.shape[0], x : x + image.shape[1]] = image
    return strip, places


class DemoSource(FrameSource):
    """The demo strip (see the module doc). ``noise``: standard deviation of the gray sensor noise in levels
    (0 for exact images); ``seed`` makes it reproducible. ``window``: scroll-mode frame height in pixels.
    ``folder``: other images to use instead of the bundled ones.
    """

    def __init__(
        self,
        *,
        mode: DemoMode = "tiles",
        fps: float = 10.0,
        speed: int = 20,
        window: int = 200,
        segment: int = 160,
        noise: float = 2.0,
        seed: int = 0,
        folder: str | Path | None = None,
        source_id: str = "demo",
    ) -> None:
        if mode not in ("tiles", "strip", "scroll"):
            raise SourceError(f"demo: unknown mode '{mode}'; use 'tiles', 'strip' or 'scroll'.")
        if not fps > 0 or speed < 1 or window < 1 or segment < 1 or noise < 0:
            raise SourceError(
                f"demo: need fps > 0, speed >= 1, window >= 1, noise >= 0 (got {fps}, {speed}, {window}, {noise})."
            )
        super().__init__(source_id)
        self.mode = mode
        self.fps = float(fps)
        self.speed = int(speed)
        self.noise = float(noise)
        self.images = load_demo_images(None if folder is None else Path(folder))
        self._rng = np.random.default_rng(seed)
        self._pacer = Pacer(self.fps, self._closed)
        self._size: tuple[int, int] | None = None
        self.segment = int(segment)
        if mode == "strip":
            strip, self.places = build_wide_strip([d.image for d in self.images], seed=seed)
            self._strip = np.concatenate([strip, strip[: self.segment]], axis=0)  # so segments wrap seamlessly
            self._strip_length = strip.shape[0]
            self._size = (strip.shape[1], self.segment)
        elif mode == "scroll":
            width = self.images[0].image.shape[1]
            strip, self._tile_ends = build_strip([d.image for d in self.images], width)
            self.window = min(int(window), strip.shape[0])
            self._strip = np.concatenate([strip, strip[: self.window]], axis=0)  # so the window wraps seamlessly
            self._strip_length = strip.shape[0]
            self._size = (width, self.window)
        else:
            self.window = int(window)  # unused: tiles keep their own size
            first = self.images[0].image
            self._size = (int(first.shape[1]), int(first.shape[0]))

    @property
    def stems(self) -> list[str]:
        """The image stems in the order the tiles play."""
        return [d.stem for d in self.images]

    @property
    def info(self) -> SourceInfo:
        description = f"Demo: {len(self.images)} NEU-DET steel images, {self.mode} mode"
        strip = self.mode == "strip"
        return SourceInfo(
            fps=self.fps,
            size=self._size,
            length=None,
            live=True,
            description=description,
            strip=strip,
            mm_per_px=DEMO_MM_PER_PX if strip else None,
            sequence=self.mode != "tiles",  # tiles are unrelated images; strip and scroll move on one strip
        )

    @property
    def state(self) -> SourceState:
        return SourceState.ENDED if self.closed else SourceState.LIVE

    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next frame when it is due (at ``fps``); None if not due within ``timeout`` s or once closed."""
        if self.closed or not self._pacer.wait(timeout):
            return None
        index = self._counters["frames"]
        image, meta = {"tiles": self._tile, "strip": self._segment, "scroll": self._scroll}[self.mode](index)
        if self.noise > 0:
            image = self._add_noise(image)
        self._counters["frames"] += 1
        self._counters["delivered"] += 1
        self._last_frame_at = time.monotonic()
        self._pacer.tick()
        return Frame(image=image, index=index, timestamp=time.time(), source_id=self.source_id, meta=meta)

    def _tile(self, index: int) -> tuple[np.ndarray, dict[str, object]]:
        position = index % len(self.images)
        demo = self.images[position]
        meta = {"stem": demo.stem, "tile": position, "annotation": str(demo.annotation)}
        return demo.image.copy(), meta

    def _segment(self, index: int) -> tuple[np.ndarray, dict[str, object]]:
        """The strip's next rows; ``strip_row`` keeps counting as the pattern repeats (the next coil goes by)."""
        offset = (index * self.segment) % self._strip_length
        return self._strip[offset : offset + self.segment].copy(), {"strip_row": index * self.segment}

    def _scroll(self, index: int) -> tuple[np.ndarray, dict[str, object]]:
        offset = (index * self.speed) % self._strip_length
        image = self._strip[offset : offset + self.window].copy()
        center = (offset + self.window // 2) % self._strip_length
        stem = self.images[int(np.searchsorted(self._tile_ends, center, side="right"))].stem
        return image, {"stem": stem, "offset": offset}

    def _add_noise(self, image: np.ndarray) -> np.ndarray:
        """Gray (same on all channels) Gaussian noise, as a monochrome line camera would add."""
        noise = np.rint(self._rng.normal(0.0, self.noise, size=(*image.shape[:2], 1))).astype(np.int16)
        return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    def _release(self) -> None:
        """Nothing to release: the images are in memory."""
