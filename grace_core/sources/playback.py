"""Shared machinery of finite sources (video file, image folder): every frame in order, optional pacing and loop."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np

from grace_core.errors import SourceError
from grace_core.sources.base import FrameSource
from grace_core.sources.pacing import Pacer
from grace_core.sources.types import Frame, SourceState

Item = tuple[np.ndarray, Mapping[str, Any]]  # (BGR image, frame meta)


class PlaybackSource(FrameSource):
    """Plays items from ``_next_item()`` until it returns None (end of a pass), then ends or rewinds (``loop``).

    ``fps`` paces playback (None: as fast as the consumer reads). A pass that yields no frame at all fails the
    source rather than looping forever over unreadable files.
    """

    def __init__(self, source_id: str, *, fps: float | None, loop: bool) -> None:
        super().__init__(source_id)
        self.loop = loop
        self._pacer = Pacer(fps, self._closed)
        self._io_lock = threading.Lock()  # close() must not release the file under a read in another thread
        self._ended = False
        self._pass_frames = 0
        self._size: tuple[int, int] | None = None

    @abstractmethod
    def _next_item(self) -> Item | None:
        """The next frame of this pass, or None at its end."""

    @abstractmethod
    def _rewind(self) -> None:
        """Start a new pass from the first frame."""

    @abstractmethod
    def _empty_pass_message(self) -> str:
        """Why a pass produced nothing, and what to do."""

    @property
    def state(self) -> SourceState:
        if self._error is not None:
            return SourceState.FAILED
        return SourceState.ENDED if self._ended or self.closed else SourceState.LIVE

    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next frame in order; None at the end (state ENDED), when closed, or when pacing says not yet."""
        self._raise_if_failed()
        if self._ended or self.closed or not self._pacer.wait(timeout):
            return None
        with self._io_lock:
            item = None if self.closed else self._advance()
        if item is None:
            return None
        image, meta = item
        index = self._counters["frames"]
        self._counters["frames"] += 1
        self._counters["delivered"] += 1
        self._size = (int(image.shape[1]), int(image.shape[0]))
        self._last_frame_at = time.monotonic()
        self._pacer.tick()
        return Frame(image=image, index=index, timestamp=time.time(), source_id=self.source_id, meta=meta)

    def _advance(self) -> Item | None:
        item = self._next_item()
        if item is None:
            if self._pass_frames == 0:
                raise self._fail(self._empty_pass_message())
            if not self.loop:
                self._ended = True
                return None
            try:
                self._rewind()
            except SourceError as error:
                raise self._fail(str(error)) from None
            self._pass_frames = 0
            item = self._next_item()
            if item is None:
                raise self._fail(self._empty_pass_message())
        self._pass_frames += 1
        return item
