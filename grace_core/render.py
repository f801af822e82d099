"""Drawing results onto images with OpenCV (for ``grace detect`` outputs and reports; the app renders with Qt).

The heatmap colour scale is fixed: 0 → the colormap's first colour, 1 → its last, whatever the image. A clean strip
therefore stays dark; nothing is stretched per image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from grace_core.detections import Detections

COLORMAP = cv2.COLORMAP_INFERNO


def class_color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per class."""
    hue = (class_id * 47) % 180
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def heatmap_colors(heatmap: np.ndarray) -> np.ndarray:
    """[0, 1] float map → BGR uint8 image on the fixed colour scale."""
    return cv2.applyColorMap(np.clip(heatmap * 255.0, 0, 255).astype(np.uint8), COLORMAP)


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.4) -> np.ndarray:
    return cv2.addWeighted(image, 1.0 - opacity, heatmap_colors(heatmap), opacity, 0.0)


def draw_detections(image: np.ndarray, detections: Detections, class_names: Sequence[str]) -> np.ndarray:
    """Boxes with "class score" labels; returns a new image."""
    out = image.copy()
    thickness = max(1, round(min(image.shape[:2]) / 300))
    scale = max(0.35, min(image.shape[:2]) / 900)
    for (x1, y1, x2, y2), score, class_id in zip(
        detections.xyxy.astype(int), detections.confidence, detections.class_id, strict=True
    ):
        color = class_color(int(class_id))
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        label = f"{class_names[int(class_id)]} {score:.2f}"
        (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(0, y1 - h - base - 2)
        cv2.rectangle(out, (x1, top), (x1 + w + 2, top + h + base + 2), color, -1)
        cv2.putText(out, label, (x1 + 1, top + h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def annotate(
    image: np.ndarray,
    detections: Detections,
    class_names: Sequence[str],
    heatmap: np.ndarray | None = None,
    opacity: float = 0.4,
) -> np.ndarray:
    base = overlay_heatmap(image, heatmap, opacity) if heatmap is not None else image
    return draw_detections(base, detections, class_names)
