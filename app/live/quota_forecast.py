"""How long the review store's quota lasts at the current rate of saved flagged frames. No Qt.

The rate is measured over the last ``window_s`` seconds of the writer's ``written`` counter; the bytes per frame
are the store's average (its usage over its frame count). Before the quota is full: how long until it is. Once it
is: how many hours of flagged frames it holds — older unreviewed frames are removed to make room, so that is how
long an unreviewed frame survives.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 300.0  # rate over the last five minutes
MIN_SPAN_S = 10.0  # a rate needs this much history


class SaveRate:
    """Frames saved per second over a sliding window, from samples of a growing counter."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, saved: int) -> None:
        if self._samples and saved < self._samples[-1][1]:  # a new session: its counter starts again
            self._samples.clear()
        self._samples.append((now, saved))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def reset(self) -> None:
        self._samples.clear()

    def per_second(self) -> float | None:
        """None until ``MIN_SPAN_S`` of history exists."""
        if len(self._samples) < 2:
            return None
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        if t1 - t0 < MIN_SPAN_S:
            return None
        return (n1 - n0) / (t1 - t0)


def format_duration(seconds: float) -> str:
    """40 min, 1.5 h, 6 h, 3 days: as precise as a forecast from a rate deserves."""
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h" if seconds >= 3 * 3600 else f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def forecast(used_bytes: int, quota_bytes: int, bytes_per_frame: float | None, frames_per_s: float | None) -> str:
    """One line for the status panel."""
    if frames_per_s is None or bytes_per_frame is None:
        return "measuring the flag rate…"
    per_minute = frames_per_s * 60
    if frames_per_s <= 0:
        return "no frame saved lately: the quota is not being used up"
    bytes_per_s = frames_per_s * bytes_per_frame
    rate = f"{per_minute:.1f} saved/min" if per_minute < 10 else f"{per_minute:.0f} saved/min"
    if used_bytes < quota_bytes:
        return f"quota lasts ≈ {format_duration((quota_bytes - used_bytes) / bytes_per_s)} at the current rate ({rate})"
    return (
        f"quota full: it holds ≈ {format_duration(quota_bytes / bytes_per_s)} of flagged frames at the current rate "
        f"({rate}); older unreviewed ones are removed"
    )
