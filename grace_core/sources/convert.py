"""Bring any decoded image to the core's convention: BGR uint8 H×W×3, contiguous."""

from __future__ import annotations

import os

import cv2
import numpy as np

from grace_core.errors import SourceError
from grace_core.sources.image_header import claimed_size

MAX_PIXELS = 1 << 28  # 268 Mpx (16384 x 16384): the largest image decoded; about 0.8 GB as BGR
MAX_PIXELS_ENV = "GRACE_MAX_IMAGE_PIXELS"  # overrides MAX_PIXELS (a positive integer)


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


class ImageTooLarge(SourceError):
    """An image file whose header claims more pixels than the cap: refused before decoding."""


def max_pixels() -> int:
    """The pixel cap: ``$GRACE_MAX_IMAGE_PIXELS`` when it is a positive integer, else :data:`MAX_PIXELS`."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else MAX_PIXELS


def decode_image_file(path: str, limit: int | None = None) -> np.ndarray | None:
    """Decode an image file to BGR uint8, or None when it is unreadable.

    The size its header claims is checked first: more than ``limit`` pixels (default :func:`max_pixels`) raises
    :class:`ImageTooLarge` without decoding. Reads the bytes with numpy and decodes in memory: ``cv2.imread``
    cannot open non-ASCII paths on Windows.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    check_pixel_count(path, claimed_size(memoryview(data)), max_pixels() if limit is None else limit)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:  # OpenCV's own limits (OPENCV_IO_MAX_IMAGE_PIXELS), or a header it rejects
        return None
    return None if image is None else to_bgr_uint8(image)


def check_pixel_count(path: str, size: tuple[int, int] | None, limit: int) -> None:
    """Raise :class:`ImageTooLarge` when ``size`` (width, height) has more than ``limit`` pixels."""
    if size is None or size[0] * size[1] <= limit:
        return
    width, height = size
    raise ImageTooLarge(
        f"{path}: its header claims {width}x{height} pixels ({width * height / 1e6:,.0f} Mpx), more than the "
        f"{limit:,} pixel cap ({limit / 1e6:,.0f} Mpx); not decoded. If the image is genuine, raise the cap with "
        f"{MAX_PIXELS_ENV}=<pixels>."
    )
