"""Merging the detections of overlapping tiles into the frame's detections.

Three things happen where tiles meet:

1. A defect that lies in the overlap is seen whole by two tiles: two near-identical boxes → class-wise NMS (IoU).
2. A defect larger than the overlap is cut by a tile border: each tile sees a piece, and each piece touches the
   border of its tile that lies inside the frame. Pieces of one class from different tiles that overlap join into
   one box (their union) when their intersection-over-smaller passes ``join_ios`` — IoU would not do: the pieces of
   a slender scratch share a thin strip, a small IoU but a large share of the smaller piece.
3. One tile sees a defect whole, a neighbour only a piece of it: the piece lies inside the whole box, so a cut
   piece lying ``contained_ios`` inside a stronger box of its class is dropped as a duplicate. A box its tile saw
   whole is kept even inside another: it is a defect of its own (measured: dropping those too lost 3 % recall on
   NEU-DET mosaics).

The merged box keeps the best confidence of its parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from grace_core.detections import Detections

CUT_MARGIN = 2.0  # pixels: a box this close to an inner tile border is taken as cut by it


@dataclass(frozen=True)
class TileDetections:
    tile: object  # grace_core.engine.slicing.Tile (x0, y0, x1, y1 in frame pixels)
    detections: Detections  # in frame pixels


def intersection_over_smaller(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection area over the smaller box's area, for boxes ``a`` (N, 4) and ``b`` (M, 4) in xyxy."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-9), 0.0)


def overlapping_pairs(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, of the boxes that intersect with a positive area — without the N × N
    matrices of :func:`intersection_over_smaller`: a whole frame's thousands of boxes each meet only a few others,
    and a dense matrix of 10 000 boxes is gigabytes. Sweeps along x (boxes sorted by their left edge; each box meets
    only those starting before its right edge), then checks y."""
    if len(xyxy) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(xyxy[:, 0], kind="stable")
    boxes = xyxy[order]
    ends = np.searchsorted(boxes[:, 0], boxes[:, 2], side="left")  # boxes that start before this one's right edge
    counts = np.maximum(ends - np.arange(len(boxes)) - 1, 0)
    first = np.repeat(np.arange(len(boxes)), counts)
    second = first + 1 + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    low, high = np.maximum(boxes[first, :2], boxes[second, :2]), np.minimum(boxes[first, 2:], boxes[second, 2:])
    meet = (high > low).all(axis=1)
    a, b = order[first[meet]], order[second[meet]]
    return np.minimum(a, b), np.maximum(a, b)


def pair_ios(xyxy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Intersection over the smaller box's area for the box pairs ``(i[k], j[k])``."""
    a, b = xyxy[i], xyxy[j]
    inter = np.prod(np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None), axis=1)
    area = np.prod(np.clip(xyxy[:, 2:] - xyxy[:, :2], 0, None), axis=1)
    smaller = np.minimum(area[i], area[j])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-9), 0.0)


LEFT, TOP, RIGHT, BOTTOM = 1, 2, 4, 8
_FACING = ((RIGHT, LEFT, 0), (LEFT, RIGHT, 0), (BOTTOM, TOP, 1), (TOP, BOTTOM, 1))  # (a's side, b's side, axis)


def cut_sides(xyxy: np.ndarray, tile, width: int, height: int, margin: float = CUT_MARGIN) -> np.ndarray:
    """Per box, the borders of its tile that cut it (bit flags LEFT | TOP | RIGHT | BOTTOM): borders that lie
    inside the frame and that the box touches, so the defect may go on beyond them."""
    x1, y1, x2, y2 = xyxy.T
    sides = np.zeros(len(xyxy), dtype=np.int32)
    sides |= np.where((tile.x0 > 0) & (x1 <= tile.x0 + margin), LEFT, 0)
    sides |= np.where((tile.y0 > 0) & (y1 <= tile.y0 + margin), TOP, 0)
    sides |= np.where((tile.x1 < width) & (x2 >= tile.x1 - margin), RIGHT, 0)
    sides |= np.where((tile.y1 < height) & (y2 >= tile.y1 - margin), BOTTOM, 0)
    return sides


def _extent_overlap(a: np.ndarray, b: np.ndarray, axis: int) -> float:
    """Overlap of two boxes' extents along ``axis`` (0: x, 1: y) over the shorter extent."""
    low, high = max(a[axis], b[axis]), min(a[axis + 2], b[axis + 2])
    shorter = min(a[axis + 2] - a[axis], b[axis + 2] - b[axis])
    return max(0.0, high - low) / max(shorter, 1e-9)


def pieces_of_one_defect(a: np.ndarray, b: np.ndarray, sides_a: int, sides_b: int, align: float = 0.5) -> bool:
    """Two cut pieces continue each other: cut on facing borders (a on its right, b on its left — or top/bottom),
    and lined up across that border (their extents along it overlap by ``align`` of the shorter)."""
    for side_a, side_b, axis in _FACING:
        if sides_a & side_a and sides_b & side_b:
            ahead = a[axis] <= b[axis] if side_a in (RIGHT, BOTTOM) else b[axis] <= a[axis]
            if ahead and _extent_overlap(a, b, 1 - axis) >= align:
                return True
    return False


def merge_tile_detections(
    parts: Sequence[TileDetections],
    width: int,
    height: int,
    iou: float,
    join_ios: float = 0.1,
    contained_ios: float = 0.8,
) -> Detections:
    """The frame's detections from every tile's (see the module doc)."""
    parts = [p for p in parts if len(p.detections)]
    if not parts:
        return Detections.empty()
    xyxy = np.concatenate([p.detections.xyxy for p in parts]).astype(np.float32)
    confidence = np.concatenate([p.detections.confidence for p in parts])
    class_id = np.concatenate([p.detections.class_id for p in parts])
    tile_index = np.concatenate([np.full(len(p.detections), i) for i, p in enumerate(parts)])
    sides = np.concatenate([cut_sides(p.detections.xyxy, p.tile, width, height) for p in parts])
    xyxy, confidence, class_id, sides = join_cut_pieces(xyxy, confidence, class_id, tile_index, sides, join_ios)
    keep = _class_nms(xyxy, confidence, class_id, iou)
    xyxy, confidence, class_id, sides = xyxy[keep], confidence[keep], class_id[keep], sides[keep]
    keep = drop_contained(xyxy, confidence, class_id, contained_ios, droppable=sides != 0)
    return Detections(xyxy[keep], confidence[keep], class_id[keep])


def join_cut_pieces(
    xyxy: np.ndarray,
    confidence: np.ndarray,
    class_id: np.ndarray,
    tile_index: np.ndarray,
    sides: np.ndarray,
    join_ios: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Union of every group of pieces that continue each other across tile borders (same class, different tiles,
    overlapping by ``join_ios``, :func:`pieces_of_one_defect`); other boxes pass unchanged. Groups are connected
    components, so a scratch across three tiles becomes one box. Returns the boxes, scores, classes and cut sides
    (a joined box counts as whole: 0)."""
    parent = np.arange(len(xyxy))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pieces = np.flatnonzero(sides)
    first, second = overlapping_pairs(xyxy[pieces])
    first, second = pieces[first], pieces[second]
    candidate = (class_id[first] == class_id[second]) & (tile_index[first] != tile_index[second])
    candidate &= pair_ios(xyxy, first, second) > join_ios
    for i, j in zip(first[candidate], second[candidate], strict=True):
        if pieces_of_one_defect(xyxy[i], xyxy[j], sides[i], sides[j]) or pieces_of_one_defect(
            xyxy[j], xyxy[i], sides[j], sides[i]
        ):
            parent[root(i)] = root(j)
    roots = np.array([root(i) for i in range(len(xyxy))])
    order = np.argsort(roots, kind="stable")
    groups, starts = np.unique(roots[order], return_index=True)
    if len(groups) == len(xyxy):
        return xyxy, confidence, class_id, sides
    merged = [
        (
            np.concatenate([xyxy[members, :2].min(axis=0), xyxy[members, 2:].max(axis=0)]),
            confidence[members].max(),
            class_id[members[0]],
            sides[members[0]] if len(members) == 1 else 0,
        )
        for members in np.split(order, starts[1:])
    ]
    boxes, scores, classes, cut = zip(*merged, strict=True)
    return (
        np.array(boxes, dtype=np.float32),
        np.array(scores, dtype=np.float32),
        np.array(classes, dtype=np.int32),
        np.array(cut, dtype=np.int32),
    )


def _class_nms(xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray, iou: float) -> np.ndarray:
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), confidence.tolist(), class_id.tolist(), 0.0, iou)
    kept = np.asarray(kept, dtype=int).reshape(-1)
    return kept[np.argsort(-confidence[kept], kind="stable")]


def drop_contained(
    xyxy: np.ndarray,
    confidence: np.ndarray,
    class_id: np.ndarray,
    contained_ios: float,
    droppable: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the boxes to keep: a box lying ``contained_ios`` inside a stronger box of its class goes, if it is
    ``droppable`` (all are by default).

    ``xyxy`` must be sorted by falling confidence (as NMS leaves it).
    """
    if len(xyxy) < 2:
        return np.arange(len(xyxy))
    if contained_ios <= 0:
        raise ValueError(f"contained_ios must be positive, got {contained_ios}")
    stronger, weaker = overlapping_pairs(xyxy)  # i < j: i is the stronger box
    area = np.prod(xyxy[:, 2:] - xyxy[:, :2], axis=1)
    inside = (pair_ios(xyxy, stronger, weaker) >= contained_ios) & (class_id[stronger] == class_id[weaker])
    inside &= area[weaker] <= area[stronger]  # only the smaller box of a pair is the duplicate
    if droppable is not None:
        inside &= np.asarray(droppable, dtype=bool)[weaker]
    keep = np.ones(len(xyxy), dtype=bool)
    keep[weaker[inside]] = False
    return np.flatnonzero(keep)
