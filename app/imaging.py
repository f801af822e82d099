"""The one place numpy images become Qt images (BGR convention in the core; Qt wants RGB or says which order).

Camera frames can be large (a 4096×2048 area scan, an 8192×1024 line-scan segment: 24–25 MB each). A frame
becomes a ``Format_BGR888`` QImage with exactly one copy (a ``memcpy`` of the BGR bytes: no channel swap and no
intermediate array); Qt paints it scaled by sampling only the pixels it shows. Qt 6's 256 MB allocation limit
applies to images *read from files* (``QImageReader``), not to these; :func:`app.qt_env.allow_large_images` raises
it for the app.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from grace_core.render import class_color, heat_strength, strength_colors

# The overlay never hides the steel: the strongest attention is drawn at most this opaque (times the operator's
# opacity setting), and weaker attention fades faster than linearly (alpha = strength ** HEAT_GAMMA), so a frame
# the model finds interesting everywhere (patches) is tinted, not painted over.
HEAT_MAX_OPACITY = 0.5
HEAT_GAMMA = 1.6


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A BGR uint8 H×W×3 array → an independent QImage (safe to create off the GUI thread): one copy."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 H×W×3 image, got {image.dtype} {image.shape}")
    bgr = np.ascontiguousarray(image)  # a view of a larger image (a crop) is copied once here, else not at all
    height, width = bgr.shape[:2]
    qimage = QImage(bgr.data, width, height, 3 * width, QImage.Format.Format_BGR888).copy()
    if qimage.isNull():
        raise MemoryError(f"cannot allocate a {width}×{height} picture")
    return qimage


def heatmap_to_qimage(heatmap: np.ndarray, heat_range: tuple[float, float]) -> QImage:
    """Lite-FEN map → RGBA QImage on the model's fixed scale (see :func:`strength_to_qimage`)."""
    return strength_to_qimage(heat_strength(heatmap, heat_range))


def strength_to_qimage(strength: np.ndarray) -> QImage:
    """A display-strength map in [0, 1] (as the review store keeps it) → the RGBA overlay: colour on the legend's
    scale, alpha ``strength ** HEAT_GAMMA`` (calm steel stays see-through). Opacity is applied when painting."""
    strength = np.clip(np.asarray(strength, dtype=np.float32), 0.0, 1.0)
    colors = strength_colors(strength)[..., ::-1]  # BGR → RGB
    alpha = (np.power(strength, HEAT_GAMMA) * 255.0).astype(np.uint8)
    rgba = np.ascontiguousarray(np.dstack([colors, alpha]))
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


def legend_qimage(length: int = 256, thickness: int = 16, horizontal: bool = False) -> QImage:
    """The heatmap colour ramp for the legend: strongest at the top (vertical) or at the right (horizontal)."""
    ramp = np.linspace(1.0, 0.0, length, dtype=np.float32)[:, None].repeat(thickness, axis=1)
    if horizontal:
        ramp = np.ascontiguousarray(ramp.T[:, ::-1])
    return bgr_to_qimage(strength_colors(ramp))


def qcolor_for_class(class_id: int) -> QColor:
    b, g, r = class_color(class_id)
    return QColor(r, g, b)
