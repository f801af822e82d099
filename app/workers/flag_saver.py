"""Saving the live tab's flagged frames for review, without the copies an unchanged scene would make.

A static scene with a defect flags every frame; at 10 frames a second the review store's quota then evicts
unreviewed evidence within a shift. The live tab's sessions therefore run without a writer of their own
(``store_factory=None``): the inspection worker offers every inspected frame here, the core's
:class:`~grace_core.flagging.RepeatFilter` says whether a flagged frame is news, and news goes to the core's
:class:`~grace_core.store.writer.FlaggedFrameWriter` (its own thread, bounded queue, quota). Repeats are counted
for the status panel. Frames still count as *flagged* (the verdict on screen is NG either way); only their
copies are skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from grace_core.engine.base import EngineInfo
from grace_core.flagging import REPEAT_WINDOW_S, RepeatFilter
from grace_core.inspection import FrameResult
from grace_core.store.review_store import ReviewStore
from grace_core.store.writer import FlaggedFrameWriter, WriterStats


class FlagSaver:
    """Owned by one inspection worker (its thread calls ``offer``); ``window_s`` may be set from any thread."""

    def __init__(
        self,
        store_factory: Callable[[], ReviewStore],
        window_s: float = REPEAT_WINDOW_S,
        max_pending: int = 32,
    ) -> None:
        self._writer = FlaggedFrameWriter(store_factory, max_pending=max_pending)
        self._repeats = RepeatFilter(window_s=window_s)

    @property
    def window_s(self) -> float:
        return self._repeats.window_s

    @window_s.setter
    def window_s(self, value: float) -> None:
        self._repeats.window_s = float(value)  # one float assignment: safe from the GUI thread

    @property
    def repeats(self) -> int:
        """Flagged frames not saved because they repeated an unchanged scene."""
        return self._repeats.repeats

    def offer(self, result: FrameResult, engine_info: EngineInfo) -> bool:
        """Save ``result`` if it is flagged and news, with the coil and position it was seen at; True when it was
        handed to the writer."""
        decision, frame = result.decision, result.frame
        if not self._repeats.admit(frame.source_id, frame.timestamp, decision):
            return False
        return self._writer.submit(
            frame, decision, result.prediction, engine_info, result.thresholds, coil=result.coil, coil_m=result.coil_m
        )

    def stats(self) -> WriterStats:
        return self._writer.stats()

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is pending and stop the writer's thread."""
        return self._writer.close(timeout=timeout)
