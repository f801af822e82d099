"""The store's image files: where they go, how they are encoded, and how they are written atomically."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from grace_core.errors import StoreError

FRAMES_DIR = "frames"
JPEG_QUALITY = 92
TMP_SUFFIX = ".tmp"


def relative_paths(uid: str, captured_at: float, with_heatmap: bool) -> tuple[str, str | None]:
    """``frames/YYYY/MM/DD/<uid>.jpg`` and ``…/<uid>_heat.png`` (POSIX, relative to the store root; UTC date)."""
    day = time.gmtime(captured_at)
    folder = f"{FRAMES_DIR}/{day.tm_year:04d}/{day.tm_mon:02d}/{day.tm_mday:02d}"
    return f"{folder}/{uid}.jpg", (f"{folder}/{uid}_heat.png" if with_heatmap else None)


def confined(root: Path, rel: str) -> Path:
    """``root / rel``, after checking that it resolves (``..`` and links followed) to a file inside ``root/frames``.

    The stored paths come from the database's rows, and a damaged or tampered row must never make the store read,
    copy or delete a file elsewhere (``../victim.txt``, an absolute path, or ``review.db`` itself). Raises
    StoreError otherwise; the check costs a ``resolve()`` per file.
    """
    frames = (root / FRAMES_DIR).resolve()
    path = root / rel
    resolved = path.resolve()
    if not rel or resolved == frames or not resolved.is_relative_to(frames):
        raise StoreError(
            f"the review store {root} has a row that points outside its {FRAMES_DIR} folder ({rel!r}); it was not "
            "followed. The database may be damaged or edited by hand."
        )
    return path


def encode_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"cannot encode a {image.dtype} image of shape {image.shape} as JPEG")
    return buffer.tobytes()


def heatmap_to_u8(heatmap: np.ndarray) -> np.ndarray:
    """[0, 1] float → uint8 on the fixed scale ``round(255·h)`` (never rescaled per frame: 0.2 always reads 0.2)."""
    values = np.nan_to_num(np.asarray(heatmap, dtype=np.float32), nan=0.0)
    return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_heatmap(heatmap: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", heatmap_to_u8(heatmap))
    if not ok:
        raise ValueError(f"cannot encode a heatmap of shape {np.shape(heatmap)} as PNG")
    return buffer.tobytes()


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read the stored image {path}")
    return image


def read_heatmap(path: Path) -> np.ndarray:
    """The stored heatmap as float32 in [0, 1]."""
    values = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if values is None:
        raise FileNotFoundError(f"cannot read the stored heatmap {path}")
    return values.astype(np.float32) / 255.0


def decode_image(data: bytes, what: str) -> np.ndarray:
    """Stored JPEG bytes → BGR uint8; StoreError naming ``what`` when they do not decode."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise StoreError(f"the stored image of {what} cannot be decoded")
    return image


def decode_heatmap(data: bytes, what: str) -> np.ndarray:
    """Stored PNG bytes → float32 in [0, 1]."""
    values = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) if data else None
    if values is None:
        raise StoreError(f"the stored heatmap of {what} cannot be decoded")
    return values.astype(np.float32) / 255.0


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``: readers see all of it or nothing.

    With ``durable`` the data is fsync'ed before the rename, so a database row committed afterwards never points
    at a file whose content did not reach the disk. On error the temporary file is removed and the error raised.
    """
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        with _create(tmp) as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_all(root: Path, payloads: dict[str, bytes]) -> list[Path]:
    """:func:`write_atomic` each ``{relative path: data}`` under ``root``; all or none (removed again on error).

    The folders' entries are fsync'ed too, so the new names survive a power cut before any row refers to them.
    """
    written: list[Path] = []
    try:
        for rel, data in payloads.items():
            path = root / rel
            write_atomic(path, data)
            written.append(path)
        for folder in dict.fromkeys(path.parent for path in written):
            _fsync_folder(folder)
    except BaseException:
        for path in written:
            remove_quietly(path)
        raise
    return written


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder to fsync it; NTFS journals renames itself
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return open(path, "wb")
    except FileNotFoundError:  # orphan cleanup removed the (empty) day folder in between: make it again
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
