"""Bring any decoded image to the core's convention: BGR uint8 H×W×3, contiguous."""

from __future__ import annotations

import cv2
import numpy as np


def to_bgr_uint8(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as BGR uint8 H×W×3; the same array when it already is one (the common case, no copy)."""
    if image.dtype != np.uint8:
        # 16-bit or float sensors: scale by the dtype's range rather than clip, so the picture keeps its contrast.
        top = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
        image = np.clip(image.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"unsupported image shape {image.shape}")
    return np.ascontiguousarray(image)


def decode_image_file(path: str) -> np.ndarray | None:
    """Decode an image file to BGR uint8, or None when it is unreadable.

    Reads the bytes with numpy and decodes in memory: ``cv2.imread`` cannot open non-ASCII paths on Windows.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if image is None else to_bgr_uint8(image)
