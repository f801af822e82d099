"""Sliced inference: a frame larger than the model's physical scale is cut into overlapping tiles at that scale.

A detector trained on 200-pixel NEU-DET tiles at imgsz 224 sees defects at that pixel scale only; letterboxing a
4096×2048 camera frame into 224 pixels shrinks a 200-pixel defect to 11 and the model finds nothing. So a frame
larger than the model's field (its image size in source pixels — by default one source pixel per model pixel;
``pixel_scale`` changes that for cameras whose mm/px differ from the training images') is cut into tiles seen at
that scale, overlapping by ``overlap`` of the field, run through the runtime in batches, and the detections merged
(:mod:`grace_core.engine.merging`). The Lite-FEN heatmap is stitched on a canvas of at most ``heat_max_side``
pixels a side, never at the full size of a huge frame.

The model is fully convolutional, so where the runtime takes any input size (PyTorch; ONNX and OpenVINO exports
with dynamic height and width) a tile may be larger than the field at the same scale — up to ``window`` network
pixels a side. Fewer, larger tiles share less overlap: a 4096×2048 frame costs ~1.8× its own pixels in 224-pixel
tiles with a quarter overlap, ~1.2× in tiles of up to 896 (:func:`tile_for_frame`; measured in docs/results.md §8).
The network's cost per pixel is flat up to about that size on a CPU, and its attention block grows with the square
of the tile's area beyond it.

Frames no larger than the field × (1 + slack) keep the single-image path (letterbox to the model's size).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from grace_core.detections import Detections
from grace_core.engine.merging import TileDetections, merge_tile_detections
from grace_core.engine.processing import decode, letterbox
from grace_core.errors import GraceError

MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class SliceConfig:
    """How large frames are sliced. ``tile``: the model's field in source pixels (None: the model's image size /
    ``pixel_scale``); it sets the scale every tile is seen at."""

    mode: str = "auto"  # auto: slice frames larger than a tile; always; never (letterbox every frame whole)
    tile: int | None = None
    overlap: float = 0.25  # fraction of the field shared by neighbouring tiles (the longest defect a border may cut)
    # Model pixels per source pixel; None: the scale the model was trained at (EngineInfo.pixel_scale), right for a
    # camera that resolves the strip as finely as the training images. Halve it for a camera twice as fine.
    pixel_scale: float | None = None
    batch: int = 8  # field-sized tiles per runtime call (fewer when tiles are larger)
    # Largest network input per tile side, in model pixels, for runtimes that take any size; the model's image size
    # (one field per tile, as older fixed-size exports need) when smaller.
    window: int = 896
    slack: float = 0.25  # a frame up to this much larger than a tile is letterboxed whole, not sliced
    heat_max_side: int = 2048  # the stitched heatmap's longest side, in pixels
    join_ios: float = 0.1  # pieces of one defect cut by tile borders join above this intersection-over-smaller
    contained_ios: float = 0.8  # a box this much inside a stronger box of its class is a duplicate of it

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GraceError(f"slicing mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.tile is not None and self.tile < 32:
            raise GraceError(f"--tile must be at least 32 pixels, got {self.tile}")
        if not 0.0 <= self.overlap < 0.9:
            raise GraceError(f"--overlap must be in [0, 0.9), got {self.overlap}")
        if self.pixel_scale is not None and not 0.05 <= self.pixel_scale <= 20:
            raise GraceError(f"--pixel-scale must be between 0.05 and 20, got {self.pixel_scale}")
        if self.window < 32:
            raise GraceError(f"--window must be at least 32 pixels, got {self.window}")
        if self.batch < 1 or self.heat_max_side < 16:
            raise GraceError("slicing batch must be at least 1 and heat_max_side at least 16")

    def tile_size(self, imgsz: int, model_scale: float = 1.0) -> int:
        """Source pixels per tile side: ``tile``, or the model's size at the pixel scale (``model_scale``, the
        model's own, unless this config sets one)."""
        return int(self.tile or round(imgsz / (self.pixel_scale or model_scale)))

    def slices(self, width: int, height: int, imgsz: int, model_scale: float = 1.0) -> bool:
        """Whether a frame of this size is sliced."""
        if self.mode != "auto":
            return self.mode == "always"
        return max(width, height) > self.tile_size(imgsz, model_scale) * (1.0 + self.slack)


@dataclass(frozen=True)
class Tile:
    """A tile's place in the frame, in source pixels: columns ``x0:x1``, rows ``y0:y1``."""

    x0: int
    y0: int
    x1: int
    y1: int


def axis_starts(length: int, tile: int, overlap: float) -> list[int]:
    """Tile start positions along one axis: first at 0, last flush with the end, evenly spread, each step at most
    ``tile × (1 − overlap)``. One tile when the frame is no longer than a tile."""
    if length <= tile:
        return [0]
    step = max(1, math.floor(tile * (1.0 - overlap) + 1e-9))
    count = math.ceil((length - tile) / step) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def plan_tiles(width: int, height: int, tile: int, overlap: float) -> list[Tile]:
    """Row-major grid of overlapping tiles covering a ``width × height`` frame."""
    xs, ys = axis_starts(width, tile, overlap), axis_starts(height, tile, overlap)
    return [Tile(x, y, min(x + tile, width), min(y + tile, height)) for y in ys for x in xs]


STRIDE = 32  # network inputs are multiples of the model's largest stride


def network_side(tile: int, scale: float) -> int:
    """The network input side (model pixels, a multiple of the stride) that holds a ``tile`` at ``scale``."""
    return STRIDE * math.ceil(round(tile * scale, 6) / STRIDE)


def tile_for_frame(width: int, height: int, field: int, scale: float, window: int, overlap_px: int) -> int:
    """The square tile side (source pixels, from ``field`` up to what fits ``window`` network pixels) that covers a
    ``width × height`` frame with the fewest network pixels, its tiles overlapping by at least ``overlap_px``.

    Candidates are the sides that split either axis into equal tiles exactly; a side needing the same tiles as a
    smaller one only costs more, so the search is short.
    """
    largest = max(field, math.floor(window / scale))
    while largest > field and network_side(largest, scale) > window:
        largest -= 1
    if largest <= field:
        return field
    candidates = {field, largest}
    for length in (width, height):
        for count in range(1, math.ceil(length / max(1, field - overlap_px)) + 2):
            side = math.ceil((length + (count - 1) * overlap_px) / count)
            if side < field:
                break
            if side <= largest:
                candidates.add(side)

    def cost(side: int) -> tuple[int, int]:
        overlap = overlap_px / side
        tiles = len(axis_starts(width, side, overlap)) * len(axis_starts(height, side, overlap))
        return tiles * network_side(side, scale) ** 2, side

    return min(candidates, key=cost)


def predict_sliced(engine, image: np.ndarray, config: SliceConfig, class_conf: np.ndarray | None = None):
    """Tiles → batched runtime calls → per-tile decoding → merged detections and a stitched heatmap.

    ``engine`` is a :class:`~grace_core.engine.base.PipelineEngine` (``info``, ``conf``, ``iou``, ``run``).
    Returns a :class:`~grace_core.engine.base.Prediction` whose ``tiles`` lists the grid.
    """
    from grace_core.engine.base import Prediction

    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    imgsz = engine.info.imgsz
    field = config.tile_size(imgsz, engine.info.pixel_scale)
    scale = imgsz / field  # the model sees every tile at its trained scale
    overlap_px = round(config.overlap * field)
    size, side = field, imgsz
    if getattr(engine, "any_size", False) and config.window > imgsz:
        size = tile_for_frame(width, height, field, scale, config.window, overlap_px)
        side = max(imgsz, network_side(size, scale))
    tiles = plan_tiles(width, height, size, overlap_px / size)
    batch = max(1, config.batch * imgsz**2 // side**2)
    heat = HeatCanvas(width, height, config.heat_max_side) if engine.info.has_heatmap else None
    parts: list[TileDetections] = []
    timings = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
    for first in range(0, len(tiles), batch):
        chunk = tiles[first : first + batch]
        t0 = time.perf_counter()
        placed = [letterbox(image[t.y0 : t.y1, t.x0 : t.x1], side, scale=scale) for t in chunk]
        t1 = time.perf_counter()
        raw, attention = engine.run(np.concatenate([tensor for tensor, _ in placed], axis=0))
        t2 = time.perf_counter()
        for i, (tile, (_, box)) in enumerate(zip(chunk, placed, strict=True)):
            found = decode(raw[i : i + 1], box, engine.conf, engine.iou, class_conf=class_conf)
            parts.append(TileDetections(tile, _shifted(found, tile.x0, tile.y0)))
            if heat is not None and attention is not None:
                heat.add(attention[i : i + 1], box, tile)
        timings["preprocess"] += 1000 * (t1 - t0)
        timings["inference"] += 1000 * (t2 - t1)
        timings["postprocess"] += 1000 * (time.perf_counter() - t2)
    merging_started = time.perf_counter()
    detections = merge_tile_detections(
        parts, width, height, engine.iou, join_ios=config.join_ios, contained_ios=config.contained_ios
    )
    heatmap = heat.result() if heat is not None else None
    timings["postprocess"] += 1000 * (time.perf_counter() - merging_started)
    return Prediction(detections, heatmap, timings, tiles=tuple(tiles))


def _shifted(found: Detections, dx: int, dy: int) -> Detections:
    if not len(found):
        return found
    return Detections(found.xyxy + np.array([dx, dy, dx, dy], dtype=np.float32), found.confidence, found.class_id)


class HeatCanvas:
    """The frame's Lite-FEN map on a canvas of at most ``max_side`` pixels a side; overlapping tiles keep the max."""

    def __init__(self, width: int, height: int, max_side: int) -> None:
        self.factor = max(1.0, max(width, height) / max_side)  # source pixels per canvas pixel
        self.width, self.height = width, height
        self.canvas = np.zeros((max(1, round(height / self.factor)), max(1, round(width / self.factor))), np.float32)

    def add(self, attention: np.ndarray, box, tile: Tile) -> None:
        """One tile's map (1, 1, h, w) over its letterboxed input, cropped to the tile's content and placed."""
        grid = np.asarray(attention, dtype=np.float32).reshape(attention.shape[-2:])
        stride = box.imgsz / grid.shape[0]
        top, left = box.pad_y / stride, box.pad_x / stride
        bottom, right = (box.pad_y + box.content_h) / stride, (box.pad_x + box.content_w) / stride
        crop = grid[int(top) : max(int(top) + 1, math.ceil(bottom)), int(left) : max(int(left) + 1, math.ceil(right))]
        x0, y0 = round(tile.x0 / self.factor), round(tile.y0 / self.factor)
        x1 = max(x0 + 1, min(self.canvas.shape[1], round(tile.x1 / self.factor)))
        y1 = max(y0 + 1, min(self.canvas.shape[0], round(tile.y1 / self.factor)))
        placed = cv2.resize(crop, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        np.maximum(self.canvas[y0:y1, x0:x1], placed, out=self.canvas[y0:y1, x0:x1])

    def result(self) -> np.ndarray:
        return np.clip(self.canvas, 0.0, 1.0)
