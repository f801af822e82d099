"""A video file, every frame in order, through OpenCV; optional pacing and looping."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from grace_core.errors import SourceError
from grace_core.sources.convert import to_bgr_uint8
from grace_core.sources.live import sane_fps
from grace_core.sources.playback import Item, PlaybackSource
from grace_core.sources.types import SourceInfo

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv", ".mpg", ".mpeg", ".webm", ".ts", ".mts", ".m2ts", ".flv", ".3gp"}
)


def _open(path: Path) -> tuple[cv2.VideoCapture, np.ndarray]:
    """Open ``path`` and read its first frame; SourceError when either fails."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise SourceError(
            f"{path}: cannot open this video (not a video, or an unsupported codec); "
            "convert it to MP4 (H.264) or AVI (MJPG) and try again."
        )
    ok, first = capture.read()
    if not ok or first is None or first.size == 0:
        capture.release()
        raise SourceError(f"{path}: the video has no frames it can decode; choose another file.")
    return capture, to_bgr_uint8(first)


class VideoSource(PlaybackSource):
    """Frames of the video at ``path``.

    ``fps`` paces playback: None (default) as fast as the consumer reads, a number, or ``"native"`` for the file's
    own rate. ``info.fps`` is always the file's rate; ``info.length`` its frame count as the container reports it
    (None when it does not). At the end the state is ENDED, unless ``loop``.
    """

    def __init__(self, path: str | Path, *, fps: float | Literal["native"] | None = None, loop: bool = False) -> None:
        video = Path(path).expanduser()
        if not video.is_file():
            raise SourceError(f"{video}: no such file; check the path.")
        capture, first = _open(video)
        self.native_fps = sane_fps(capture.get(cv2.CAP_PROP_FPS))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.length = count if count > 0 else None
        if fps == "native" and self.native_fps is None:
            log.warning("%s: the file does not say its frame rate; playing unpaced", video)
        pace = self.native_fps if fps == "native" else fps
        super().__init__(f"video:{video}", fps=pace, loop=loop)
        self.path = video
        self._capture: cv2.VideoCapture | None = capture
        self._pending: np.ndarray | None = first
        self._position = 0
        self._size = (int(first.shape[1]), int(first.shape[0]))
        self.ended_early = False  # a pass stopped before the announced frame count (warned once)

    @property
    def info(self) -> SourceInfo:
        rate = f"{self.native_fps:g} fps" if self.native_fps else "unknown fps"
        frames = f"{self.length} frames" if self.length else "unknown length"
        description = f"Video {self.path.name} ({frames}, {rate})"
        return SourceInfo(fps=self.native_fps, size=self._size, length=self.length, live=False, description=description)

    def _next_item(self) -> Item | None:
        image, self._pending = self._pending, None
        if image is None and self._capture is not None:
            ok, image = self._capture.read()
            if not ok or image is None or image.size == 0:
                self._check_complete()
                return None
        if image is None:
            return None
        position, self._position = self._position, self._position + 1
        return to_bgr_uint8(image), {"path": str(self.path), "position": position}

    def _check_complete(self) -> None:
        """Warn (once) when the video ends before the frame count its container announces: a truncated or
        damaged file would otherwise look like a shorter, complete video."""
        if self.ended_early or not self.length or self._position >= self.length:
            return
        self.ended_early = True
        log.warning(
            "%s: the video ended after %d of the %d frames it announces; the file may be truncated or damaged",
            self.path,
            self._position,
            self.length,
        )

    def _rewind(self) -> None:
        """Reopen rather than seek: seeking to frame 0 is unreliable with some codecs."""
        if self._capture is not None:
            self._capture.release()
        self._capture = None
        self._capture, self._pending = _open(self.path)
        self._position = 0

    def _empty_pass_message(self) -> str:
        return f"{self.path}: the video has no frames it can decode; choose another file."

    def _release(self) -> None:
        with self._io_lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None
            self._pending = None
