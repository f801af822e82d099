"""The one place numpy images become Qt images (BGR convention in the core; Qt wants RGB)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from grace_core.render import class_color, heat_strength, strength_colors


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A BGR uint8 H×W×3 array → an independent QImage (safe to create off the GUI thread)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 H×W×3 image, got {image.dtype} {image.shape}")
    rgb = np.ascontiguousarray(image[..., ::-1])
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def heatmap_to_qimage(heatmap: np.ndarray, heat_range: tuple[float, float]) -> QImage:
    """Lite-FEN map → premultiplied-free RGBA QImage on the model's fixed scale: colour and alpha both grow with
    the attention, so calm steel stays see-through. Opacity is applied when painting."""
    return strength_to_qimage(heat_strength(heatmap, heat_range))


def strength_to_qimage(strength: np.ndarray) -> QImage:
    """A display-strength map in [0, 1] (as the review store keeps it) → the same RGBA overlay."""
    strength = np.clip(np.asarray(strength, dtype=np.float32), 0.0, 1.0)
    colors = strength_colors(strength)[..., ::-1]  # BGR → RGB
    alpha = (strength * 255.0).astype(np.uint8)
    rgba = np.ascontiguousarray(np.dstack([colors, alpha]))
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


def legend_qimage(height: int = 256, width: int = 16) -> QImage:
    """The heatmap colour ramp, strongest at the top, for the legend."""
    ramp = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None].repeat(width, axis=1)
    return bgr_to_qimage(strength_colors(ramp))


def qcolor_for_class(class_id: int) -> QColor:
    b, g, r = class_color(class_id)
    return QColor(r, g, b)
