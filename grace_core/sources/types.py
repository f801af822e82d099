"""Value types of the frame-source layer: what a source is (info), how it is doing (state), what it wraps."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import numpy as np

from grace_core.types import Frame

__all__ = ["CaptureLike", "Frame", "SourceInfo", "SourceState"]


class SourceState(Enum):
    """Health of a source, for the app's watchdog banner.

    CONNECTING: opening for the first time. LIVE: frames arriving. STALE: connected but no new frame for longer
    than ``stale_after``. RECONNECTING: lost (or never opened) and retrying with backoff. ENDED: a file ran out or
    the source was closed. FAILED: gave up; ``read()`` raises the :class:`~grace_core.errors.SourceError`.
    """

    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source. ``size`` is (width, height) of the latest frame (None before the first).

    ``fps``: the rate frames come at (a camera's or file's reported rate, or the pacing rate); None when unknown
    or unpaced. ``length``: frame count of a finite source, None for live or looping ones. ``strip``: its frames
    continue each other down a moving strip, so they are stitched (``Frame.meta["strip_row"]`` gives a frame's first
    row on the strip when the source knows it).
    """

    fps: float | None
    size: tuple[int, int] | None
    length: int | None
    live: bool
    description: str
    strip: bool = False  # frames are consecutive segments of a moving strip (line-scan): see grace_core/strip.py
    mm_per_px: float | None = None  # the strip's resolution, when the source knows it (rows and columns alike)
    sequence: bool = True  # consecutive frames show one scene in time (a camera, a video); False: unrelated images


class CaptureLike(Protocol):
    """The part of ``cv2.VideoCapture`` a live source uses; tests pass fakes with the same methods."""

    def isOpened(self) -> bool: ...  # OpenCV's name

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...

    def get(self, prop: int) -> Any: ...
