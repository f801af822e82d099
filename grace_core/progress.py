"""Counting work done for a ``progress(done, total)`` callback (importers, exports, the app's progress bars)."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]


class ProgressCounter:
    """``tick(n)`` adds ``n`` steps and reports ``(done, total)``; reports ``(0, total)`` when made."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self._callback = total, 0, callback
        if callback is not None:
            callback(0, total)

    def tick(self, step: int = 1) -> None:
        self.done += step
        if self._callback is not None:
            self._callback(self.done, self.total)
