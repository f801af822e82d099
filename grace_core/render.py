"""Drawing results onto images with OpenCV (for ``grace detect`` outputs and reports; the app renders with Qt).

The heatmap scale is fixed per model, whatever the image. It is read in the gate's *logit* units,
``log(a / (1 - a))``: a trained sigmoid gate often sits near 1 over the whole strip (the shipped model's median is
0.99999), where the [0, 1] values differ only in the fifth decimal but the logits still spread out (≈ 4 on plain
steel, ≈ 16 on a defect). ``heat_range`` = (low, high), in logits, comes from the model's calibration
(``EngineInfo.heat_range``, see ``engine/calibration.py``); values at or below ``low`` are transparent, and
``low`` → ``high`` runs through the colormap with growing opacity. Nothing is stretched per image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from grace_core.detections import Detections

COLORMAP = cv2.COLORMAP_INFERNO
DEFAULT_HEAT_RANGE = (0.0, 4.0)  # uncalibrated, in logits: the gate's neutral value (0.5) up to 0.982
_EPS = 1e-7  # float32 resolves a sigmoid to about 6e-8 below 1: logits saturate near ±16


# Okabe–Ito's colour-blind-safe set (without black, invisible on dark steel), as BGR: the first seven classes
CLASS_PALETTE = (
    (0, 159, 230),  # orange
    (233, 180, 86),  # sky blue
    (115, 158, 0),  # bluish green
    (66, 228, 240),  # yellow
    (178, 114, 0),  # blue
    (0, 94, 213),  # vermillion
    (167, 121, 204),  # reddish purple
)


def class_color(class_id: int) -> tuple[int, int, int]:
    """A stable BGR colour per class: distinct (and colour-blind safe) for the first seven, golden-angle hues after."""
    if 0 <= class_id < len(CLASS_PALETTE):
        return CLASS_PALETTE[class_id]
    hue = int(class_id * 137.508) % 180
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def attention_logits(heatmap: np.ndarray) -> np.ndarray:
    """The gate's values in [0, 1] → logits, saturating at about ±16 (float32's resolution near 0 and 1)."""
    a = np.clip(heatmap.astype(np.float32, copy=False), _EPS, 1.0 - _EPS)
    return np.log(a) - np.log1p(-a)


def heat_strength(heatmap: np.ndarray, heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE) -> np.ndarray:
    """Attention in [0, 1] → display strength in [0, 1] on the model's fixed logit scale: 0 at or below low, 1 at
    high."""
    low, high = heat_range
    return np.clip((attention_logits(heatmap) - low) / max(high - low, 1e-6), 0.0, 1.0)


def strength_colors(strength: np.ndarray) -> np.ndarray:
    """Display strength in [0, 1] → BGR uint8 image on the colour scale (0 → first colour, 1 → last)."""
    values = np.clip(np.nan_to_num(np.asarray(strength, dtype=np.float32)), 0.0, 1.0)
    return cv2.applyColorMap((values * 255.0).astype(np.uint8), COLORMAP)


def heatmap_colors(heatmap: np.ndarray, heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE) -> np.ndarray:
    """Attention map → BGR uint8 image on the fixed colour scale (low → first colour, high → last)."""
    return strength_colors(heat_strength(heatmap, heat_range))


BLEND_ROWS = 256  # rows blended at a time: a huge frame never gets full-size float copies


def overlay_heatmap(
    image: np.ndarray,
    heatmap: np.ndarray,
    opacity: float = 0.6,
    heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE,
) -> np.ndarray:
    """Blend the coloured map over the image, each pixel as opaque as it is strong (times ``opacity``).

    The map may be smaller than the image (a sliced frame's map has a bounded size): it is scaled up band by band,
    so the extra memory is a few hundred rows, not copies of the whole frame.
    """
    height, width = image.shape[:2]
    strength = heat_strength(heatmap, heat_range)
    colors = strength_colors(strength)
    out = np.empty_like(image)
    for top in range(0, height, BLEND_ROWS):
        bottom = min(height, top + BLEND_ROWS)
        band_strength = _band(strength, top, bottom, height, width)
        band_colors = _band(colors, top, bottom, height, width)
        alpha = (opacity * band_strength)[..., None]
        out[top:bottom] = (image[top:bottom] * (1.0 - alpha) + band_colors * alpha).astype(np.uint8)
    return out


def _band(values: np.ndarray, top: int, bottom: int, height: int, width: int) -> np.ndarray:
    """Rows ``top:bottom`` of ``values`` scaled to ``height × width`` (the map's own rows when sizes agree)."""
    if values.shape[:2] == (height, width):
        return values[top:bottom]
    matrix = np.array(
        [[values.shape[1] / width, 0.0, 0.5 * values.shape[1] / width - 0.5],
         [0.0, values.shape[0] / height, (top + 0.5) * values.shape[0] / height - 0.5]],
        dtype=np.float64,
    )  # fmt: skip
    return cv2.warpAffine(
        values, matrix, (width, bottom - top), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


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
    opacity: float = 0.6,
    heat_range: tuple[float, float] = DEFAULT_HEAT_RANGE,
) -> np.ndarray:
    base = overlay_heatmap(image, heatmap, opacity, heat_range) if heatmap is not None else image
    return draw_detections(base, detections, class_names)
