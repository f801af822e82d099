"""Seeded synthetic steel-strip images with defect-like marks and their true boxes (for tests and demos).

The texture is a grey strip: horizontal rolling streaks, low-frequency shading and fine noise. Each defect is drawn
as a soft mask and darkens (or, for some scratches, brightens) the strip; its box is the tight box of the mask.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from grace_core.data.records import Box
from grace_core.data.voc import write_voc

SYNTHETIC_CLASSES: tuple[str, ...] = ("scratch", "pit", "patch", "inclusion")
_MASK_LEVEL = 0.25  # mask value above which a pixel belongs to the defect's box

Drawer = Callable[[np.random.Generator, int, int], tuple[np.ndarray, float]]


def _smooth_noise(rng: np.random.Generator, h: int, w: int, grid: tuple[int, int]) -> np.ndarray:
    """Unit-variance-ish noise on a coarse ``grid`` (rows, cols), upsampled smoothly to h x w."""
    coarse = rng.standard_normal(grid).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = rng.uniform(105, 165)
    streaks = _smooth_noise(rng, h, w, (max(2, h // 2), max(2, w // 40))) * rng.uniform(4, 9)
    shading = _smooth_noise(rng, h, w, (3, 4)) * rng.uniform(6, 14)
    return np.float32(base) + streaks + shading


def _canvas(h: int, w: int) -> np.ndarray:
    return np.zeros((h, w), np.uint8)


def _point(rng: np.random.Generator, h: int, w: int, margin: float = 0.1) -> tuple[int, int]:
    return int(rng.uniform(margin, 1 - margin) * w), int(rng.uniform(margin, 1 - margin) * h)


def _scratch(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, float]:
    """A thin, slightly bent line, bright or dark."""
    side = min(h, w)
    x, y = _point(rng, h, w)
    angle = rng.uniform(0, np.pi)
    length = rng.uniform(0.3, 0.8) * side
    bend = rng.uniform(-0.1, 0.1) * length
    t = np.linspace(-0.5, 0.5, 12)
    xs = x + t * length * np.cos(angle) - bend * (1 - 4 * t**2) * np.sin(angle)
    ys = y + t * length * np.sin(angle) + bend * (1 - 4 * t**2) * np.cos(angle)
    mask = _canvas(h, w)
    points = np.round(np.stack([xs, ys], axis=1)).astype(np.int32)
    cv2.polylines(mask, [points], False, 255, thickness=max(1, round(side / 120)), lineType=cv2.LINE_AA)
    tone = rng.uniform(45, 75) * (1 if rng.random() < 0.35 else -1)
    return mask.astype(np.float32) / 255, tone


def _pits(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, float]:
    """A cluster of small dark round pits."""
    side = min(h, w)
    x, y = _point(rng, h, w, 0.15)
    mask = _canvas(h, w)
    spread = max(2.0, side * rng.uniform(0.04, 0.1))
    for _ in range(int(rng.integers(3, 10))):
        cx, cy = int(x + rng.normal(0, spread)), int(y + rng.normal(0, spread))
        cv2.circle(mask, (cx, cy), max(1, round(side * rng.uniform(0.006, 0.02))), 255, -1, cv2.LINE_AA)
    return mask.astype(np.float32) / 255, -rng.uniform(55, 85)


def _patch(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, float]:
    """A larger irregular darker region with soft edges."""
    side = min(h, w)
    x, y = _point(rng, h, w, 0.2)
    radius = side * rng.uniform(0.1, 0.22)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 11))
    radii = radius * rng.uniform(0.55, 1.0, angles.size)
    points = np.stack([x + radii * np.cos(angles) * 1.3, y + radii * np.sin(angles)], axis=1)
    mask = _canvas(h, w)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255, cv2.LINE_AA)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(0.8, radius / 6))
    mottled = soft * (0.75 + 0.25 * _smooth_noise(rng, h, w, (6, 6)).clip(-1, 1))
    return mottled.clip(0, 1), -rng.uniform(35, 60)


def _inclusions(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, float]:
    """Dark specks elongated along the rolling direction, strung out in a row."""
    side = min(h, w)
    x, y = _point(rng, h, w, 0.15)
    mask = _canvas(h, w)
    for _ in range(int(rng.integers(1, 5))):
        length = max(2, round(side * rng.uniform(0.03, 0.1)))
        thickness = max(1, round(side * rng.uniform(0.005, 0.015)))
        cv2.ellipse(mask, (x, y), (length, thickness), rng.uniform(-8, 8), 0, 360, 255, -1, cv2.LINE_AA)
        x += int(length * rng.uniform(1.5, 3.0))
        y += int(rng.normal(0, thickness))
    return mask.astype(np.float32) / 255, -rng.uniform(50, 80)


_DRAWERS: tuple[Drawer, ...] = (_scratch, _pits, _patch, _inclusions)  # indexed like SYNTHETIC_CLASSES


def make_steel_image(
    rng_or_seed: np.random.Generator | int,
    size: tuple[int, int] = (200, 200),
    n_defects: tuple[int, int] = (1, 4),
) -> tuple[np.ndarray, list[Box]]:
    """One BGR uint8 image of ``size`` (h, w) with ``n_defects`` (inclusive range) defects, and their boxes."""
    rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)
    h, w = size
    image = _texture(rng, h, w)
    boxes: list[Box] = []
    for _ in range(int(rng.integers(n_defects[0], n_defects[1] + 1))):
        class_id = int(rng.integers(len(_DRAWERS)))
        mask, tone = _DRAWERS[class_id](rng, h, w)
        ys, xs = np.nonzero(mask > _MASK_LEVEL)
        if xs.size == 0:
            continue
        image += mask * tone
        boxes.append(Box(class_id, int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    image += rng.normal(0, 5.0, (h, w)).astype(np.float32)
    grey = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), boxes


def write_synthetic_voc(out_dir: str | Path, n_images: int, seed: int = 0, size: tuple[int, int] = (200, 200)) -> Path:
    """Write a NEU-DET-style ``IMAGES/`` + ``ANNOTATIONS/`` set (JPEG + VOC XML, synthetic class names)."""
    out = Path(out_dir)
    images, annotations = out / "IMAGES", out / "ANNOTATIONS"
    images.mkdir(parents=True, exist_ok=True)
    annotations.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(n_images):
        image, boxes = make_steel_image(rng, size)
        name = f"steel_{index:04d}"
        if not cv2.imwrite(str(images / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f"cannot write {images / name}.jpg")
        objects = [(SYNTHETIC_CLASSES[box.class_id], box.x1, box.y1, box.x2, box.y2) for box in boxes]
        write_voc(annotations / f"{name}.xml", f"{name}.jpg", (size[1], size[0], 3), objects, folder="IMAGES")
    return out


def write_synthetic_yolo(
    out_dir: str | Path,
    n_images: int,
    seed: int = 0,
    size: tuple[int, int] = (200, 200),
    split: Sequence[float] = (0.75, 0.25),
) -> Path:
    """Write a ready YOLO dataset (through the ``voc`` importer) and return its data.yaml."""
    from grace_core.data.importer import import_dataset

    with tempfile.TemporaryDirectory(prefix="grace-synthetic-") as tmp:
        source = write_synthetic_voc(Path(tmp) / "voc", n_images, seed, size)
        import_dataset("voc", source, out_dir, split=split, seed=seed, classes=SYNTHETIC_CLASSES)
    return Path(out_dir) / "data.yaml"
