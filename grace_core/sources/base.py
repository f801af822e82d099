"""The ``FrameSource`` protocol every source implements: context manager, iterator, ``read(timeout)``, stats.

Consumer contract:

* ``read(timeout)`` returns the next new :class:`Frame`, or ``None`` when none came within ``timeout`` seconds
  (check ``state``: STALE / RECONNECTING for a live source, ENDED when a file is done or the source is closed).
  It raises :class:`~grace_core.errors.SourceError` once the source has FAILED. It never blocks longer than
  ``timeout``.
* Iterating (``for frame in source``) yields frames only; it stops at ENDED or after ``close()`` (from any thread)
  and raises SourceError at FAILED. While a live source is down it keeps waiting, so a loop that must do other
  work meanwhile (a stop flag, a status banner) should call ``read(timeout)`` instead.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

from grace_core.errors import SourceError
from grace_core.sources.types import Frame, SourceInfo, SourceState

FINISHED_STATES = frozenset({SourceState.ENDED, SourceState.FAILED})
STAT_KEYS = ("frames", "delivered", "dropped", "reconnects", "skipped")
_S = TypeVar("_S", bound="FrameSource")


class FrameSource(ABC):
    """Base of all sources. Subclasses implement ``info``, ``state``, ``read`` and ``_release``."""

    poll_interval: float = 0.5  # seconds per wait slice when iterating; bounds how late a close() is noticed

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self._closed = threading.Event()
        self._close_lock = threading.Lock()
        self._counters: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._error: SourceError | None = None
        self._opened_at = time.monotonic()
        self._last_frame_at: float | None = None  # monotonic time of the latest frame

    @property
    @abstractmethod
    def info(self) -> SourceInfo: ...

    @property
    @abstractmethod
    def state(self) -> SourceState: ...

    @abstractmethod
    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next new frame, or None if none within ``timeout`` s; raises SourceError once FAILED."""

    @abstractmethod
    def _release(self) -> None:
        """Stop threads and free the device or file; called once by :meth:`close`."""

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def finished(self) -> bool:
        """True at ENDED or FAILED: no frame will come any more."""
        return self.state in FINISHED_STATES

    @property
    def got_frames(self) -> bool:
        """True once any frame was captured: tells "cannot connect" (never a frame) from "connection lost"."""
        return self._last_frame_at is not None

    @property
    def seconds_since_last_frame(self) -> float:
        """Seconds since the latest frame was captured (since opening, before the first one)."""
        last = self._last_frame_at
        return time.monotonic() - (self._opened_at if last is None else last)

    def stats(self) -> dict[str, float]:
        """Counters: frames (captured), delivered, dropped (overwritten unread), reconnects, skipped (unreadable);
        and ``seconds_since_last_frame``."""
        stats: dict[str, float] = dict(self._counters)
        stats["seconds_since_last_frame"] = self.seconds_since_last_frame
        return stats

    def close(self) -> None:
        """Release the device or file and join threads (with a timeout). Idempotent, callable from any thread."""
        with self._close_lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._release()

    def _fail(self, message: str) -> SourceError:
        """Record a permanent failure; ``read`` raises it from now on."""
        self._error = SourceError(message)
        return self._error

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __iter__(self: _S) -> _S:
        return self

    def __next__(self) -> Frame:
        while True:
            frame = self.read(self.poll_interval)
            if frame is not None:
                return frame
            if self.finished or self.closed:
                raise StopIteration

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.source_id!r} {self.state.value}>"
