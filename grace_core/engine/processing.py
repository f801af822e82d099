"""Pre- and post-processing shared by every backend: letterbox, box decoding, NMS, heatmap mapping.

Every backend runs the network on a square ``imgsz`` letterboxed input and returns its raw outputs; everything that
turns them into source-pixel detections and a source-sized heatmap happens here, in numpy/OpenCV, identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from grace_core.detections import Detections

PAD_VALUE = 114  # ultralytics' letterbox grey


@dataclass(frozen=True)
class Letterbox:
    """How a source image was placed in the square network input."""

    scale: float
    pad_x: int
    pad_y: int
    source_w: int
    source_h: int
    imgsz: int

    @property
    def content_w(self) -> int:
        return round(self.source_w * self.scale)

    @property
    def content_h(self) -> int:
        return round(self.source_h * self.scale)


def letterbox(image: np.ndarray, imgsz: int, scale: float | None = None) -> tuple[np.ndarray, Letterbox]:
    """BGR uint8 HxWx3 → float32 1x3ximgszximgsz RGB in [0, 1], centred with grey padding; and the placement.

    ``scale`` None fits the image to the square; a given scale (a tile at the model's physical scale) is kept, and
    the image must then fit at it.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    source_h, source_w = image.shape[:2]
    fit = min(imgsz / source_h, imgsz / source_w)
    if scale is not None and scale > fit + 1e-9:
        raise ValueError(f"a {source_w}x{source_h} image does not fit {imgsz} pixels at scale {scale}")
    scale = fit if scale is None else scale
    new_w, new_h = round(source_w * scale), round(source_h * scale)
    resized = (
        image
        if (new_w, new_h) == (source_w, source_h)
        else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    pad_x, pad_y = (imgsz - new_w) // 2, (imgsz - new_h) // 2
    canvas = np.full((imgsz, imgsz, 3), PAD_VALUE, dtype=np.uint8)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), Letterbox(scale, pad_x, pad_y, source_w, source_h, imgsz)


def decode(
    raw: np.ndarray,
    box: Letterbox,
    conf: float = 0.25,
    iou: float = 0.7,
    max_det: int = 300,
    class_conf: np.ndarray | None = None,
) -> Detections:
    """Raw head output (1, 4 + nc, A) — centre-x, centre-y, w, h in input pixels, then class probabilities — into
    source-pixel detections: best class per anchor, confidence floor (``class_conf`` per class overrides ``conf``),
    class-wise NMS, at most ``max_det``, mapped back through the letterbox and clipped to the image."""
    prediction = np.asarray(raw, dtype=np.float32)[0]
    scores_all = prediction[4:]
    class_id = scores_all.argmax(axis=0)
    confidence = scores_all[class_id, np.arange(scores_all.shape[1])]
    floor = class_conf[class_id] if class_conf is not None else conf
    keep = (confidence >= floor) & (prediction[2] > 0) & (prediction[3] > 0)  # no degenerate boxes
    if not keep.any():
        return Detections.empty()
    cx, cy, w, h = prediction[:4, keep]
    confidence, class_id = confidence[keep], class_id[keep]
    xywh = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
    indices = cv2.dnn.NMSBoxesBatched(xywh.tolist(), confidence.tolist(), class_id.tolist(), 0.0, iou)
    indices = np.asarray(indices, dtype=int).reshape(-1)
    indices = indices[np.argsort(-confidence[indices], kind="stable")][:max_det]
    xyxy = np.concatenate([xywh[indices, :2], xywh[indices, :2] + xywh[indices, 2:]], axis=1)
    xyxy[:, [0, 2]] = ((xyxy[:, [0, 2]] - box.pad_x) / box.scale).clip(0, box.source_w)
    xyxy[:, [1, 3]] = ((xyxy[:, [1, 3]] - box.pad_y) / box.scale).clip(0, box.source_h)
    return Detections(xyxy, confidence[indices], class_id[indices])


def heatmap_to_source(attention: np.ndarray, box: Letterbox) -> np.ndarray:
    """Lite-FEN's map (1, 1, h, w) over the square input → float32 (source_h, source_w) on the fixed [0, 1] scale.

    The padded border is cut away first; values are never re-normalised per image.
    """
    grid = np.asarray(attention, dtype=np.float32).reshape(attention.shape[-2:])
    stride_y, stride_x = box.imgsz / grid.shape[0], box.imgsz / grid.shape[1]
    top, left = box.pad_y / stride_y, box.pad_x / stride_x
    bottom, right = (box.pad_y + box.content_h) / stride_y, (box.pad_x + box.content_w) / stride_x
    # Sub-cell crop by an affine warp: keeps the map aligned with the image even when padding is not cell-aligned.
    matrix = np.array(
        [
            [(right - left) / box.source_w, 0, left - 0.5 + 0.5 * (right - left) / box.source_w],
            [0, (bottom - top) / box.source_h, top - 0.5 + 0.5 * (bottom - top) / box.source_h],
        ],
        dtype=np.float64,
    )
    mapped = cv2.warpAffine(
        grid,
        matrix,
        (box.source_w, box.source_h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.clip(mapped, 0.0, 1.0)
