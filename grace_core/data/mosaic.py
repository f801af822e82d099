"""Large frames built from small annotated tiles: what a camera frame of many NEU-DET-sized defect patches looks
like, with every box known. Used to measure sliced inference (``benchmarks/sliced_inference.py``), in tests, and by
the demo's wide strip.

Tiles are laid on a steel-grey background in reading order, on a grid with equal gaps; their boxes move with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grace_core.data.voc import parse_voc


@dataclass(frozen=True)
class AnnotatedImage:
    """An image and its boxes: ``boxes`` (N, 4) xyxy float32 in its pixels, ``classes`` (N,) int."""

    image: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    name: str = ""


@dataclass(frozen=True)
class Mosaic(AnnotatedImage):
    placements: list[tuple[int, int]] = field(default_factory=list)  # top-left (x, y) of each tile, in order


def steel_background(width: int, height: int, level: int = 128, seed: int = 0) -> np.ndarray:
    """A plain rolled-steel grey: a level, faint streaks along the rolling direction (rows), fine sensor noise."""
    rng = np.random.default_rng(seed)
    streaks = rng.normal(0.0, 3.0, size=(1, width)).astype(np.float32)
    noise = rng.normal(0.0, 2.0, size=(height, width)).astype(np.float32)
    grey = np.clip(level + streaks + noise, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def compose_mosaic(
    tiles: Sequence[AnnotatedImage], width: int, height: int, columns: int, rows: int, seed: int = 0
) -> Mosaic:
    """Lay up to ``columns × rows`` tiles (all of one size) on a ``width × height`` background, equal gaps between.

    Raises ValueError when they do not fit.
    """
    tile_h, tile_w = tiles[0].image.shape[:2]
    gap_x = (width - columns * tile_w) / (columns + 1)
    gap_y = (height - rows * tile_h) / (rows + 1)
    if gap_x < 0 or gap_y < 0:
        raise ValueError(f"{columns}x{rows} tiles of {tile_w}x{tile_h} do not fit {width}x{height}")
    canvas = steel_background(width, height, seed=seed)
    boxes, classes, placements = [], [], []
    for index, tile in enumerate(tiles[: columns * rows]):
        if tile.image.shape[:2] != (tile_h, tile_w):
            raise ValueError(
                f"tile {tile.name or index} is {tile.image.shape[1]}x{tile.image.shape[0]}, not {tile_w}x{tile_h}"
            )
        row, column = divmod(index, columns)
        x = round(gap_x + column * (tile_w + gap_x))
        y = round(gap_y + row * (tile_h + gap_y))
        canvas[y : y + tile_h, x : x + tile_w] = tile.image
        boxes.append(tile.boxes + np.array([x, y, x, y], dtype=np.float32))
        classes.append(tile.classes)
        placements.append((x, y))
    return Mosaic(
        image=canvas,
        boxes=np.concatenate(boxes).astype(np.float32) if boxes else np.zeros((0, 4), np.float32),
        classes=np.concatenate(classes).astype(int) if classes else np.zeros(0, int),
        name=f"mosaic-{width}x{height}",
        placements=placements,
    )


def load_voc_tiles(images: Sequence[Path], annotations: Path, class_names: Sequence[str]) -> list[AnnotatedImage]:
    """NEU-DET-style tiles: each image with the boxes of ``annotations/<stem>.xml`` (classes by ``class_names``)."""
    import cv2

    index = {name: i for i, name in enumerate(class_names)}
    tiles = []
    for path in images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: cannot be read as an image")
        record = parse_voc(annotations / f"{path.stem}.xml")
        boxes = [(o.xmin, o.ymin, o.xmax, o.ymax) for o in record.objects]
        classes = [index[o.name] for o in record.objects]
        tiles.append(
            AnnotatedImage(image, np.array(boxes, np.float32).reshape(-1, 4), np.array(classes, int), path.stem)
        )
    return tiles
