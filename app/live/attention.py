"""Strong attention without a box: where Lite-FEN looked hard but no detection is shown — worth a glance.

A region is a connected area of the heatmap whose display strength (the model's fixed scale, see
``grace_core.render``) exceeds ``STRONG``, large enough not to be a speck. The regions are found once per frame on
the worker thread (:func:`strong_regions`, on the heatmap's own, bounded resolution); which of them lack a box
depends on the thresholds on screen, so :func:`unboxed` is applied whenever the boxes change. No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

STRONG = 0.8  # display strength above which attention counts as strong
MIN_AREA_FRACTION = 0.002  # of the map's pixels: smaller strong spots are specks, not regions
MAX_REGIONS = 12  # the largest ones; a frame with more is better read from the heatmap itself

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels


def strong_regions(
    strength: np.ndarray, frame_width: int, frame_height: int, threshold: float = STRONG
) -> tuple[Box, ...]:
    """Bounding boxes, in frame pixels, of the strong-attention regions of a display-strength map (which may be
    smaller than the frame), largest first."""
    mask = (np.asarray(strength) > threshold).astype(np.uint8)
    if not mask.any():
        return ()
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_area = max(4.0, MIN_AREA_FRACTION * mask.size)
    sx, sy = frame_width / mask.shape[1], frame_height / mask.shape[0]
    found = sorted((s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= min_area), key=lambda s: -s[4])
    return tuple(
        (float(x * sx), float(y * sy), float((x + w) * sx), float((y + h) * sy))
        for x, y, w, h, _ in found[:MAX_REGIONS]
    )


def unboxed(regions: Sequence[Box], boxes: Sequence[Box]) -> list[Box]:
    """The regions that no box touches."""
    return [r for r in regions if not any(_overlap(r, b) for b in boxes)]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
