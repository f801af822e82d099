"""Pacing for sources that could go as fast as they like (files, demo): one frame every 1/fps seconds."""

from __future__ import annotations

import threading
import time


class Pacer:
    """Says when the next frame is due; ``fps=None`` means unpaced (always due).

    A slow consumer is never answered with a burst of catch-up frames: once behind by more than a frame period,
    the schedule restarts from now.
    """

    def __init__(self, fps: float | None, wake: threading.Event) -> None:
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.period = 1.0 / fps if fps else 0.0
        self._wake = wake  # set by close(): ends a wait early
        self._due = time.monotonic()

    def wait(self, timeout: float) -> bool:
        """Wait until the next frame is due, at most ``timeout`` s; True if due (and not woken by close)."""
        if self.period == 0.0:
            return not self._wake.is_set()
        delay = self._due - time.monotonic()
        if delay > 0 and self._wake.wait(min(delay, max(timeout, 0.0))):
            return False
        return time.monotonic() >= self._due and not self._wake.is_set()

    def tick(self) -> None:
        """Call once a frame has been emitted: schedule the next one."""
        now = time.monotonic()
        self._due += self.period
        if self._due < now - self.period:  # behind by more than a frame: restart the schedule
            self._due = now
