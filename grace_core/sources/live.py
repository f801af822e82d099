"""Live sources: a reader thread that keeps only the newest frame, reconnects with backoff, reports staleness.

Latest-frame-wins: the reader owns the capture and writes each frame into one slot; a frame still in the slot
when the next arrives is overwritten and counted as dropped. Memory is bounded (one pending frame) however slow
the consumer is, and the consumer always gets the freshest picture (DESIGN pitfall 8).

The capture comes from an injected ``capture_factory`` (``cv2.VideoCapture`` in production, fakes in tests) and
is opened, read and released only by the reader thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from grace_core.sources.base import FrameSource
from grace_core.sources.convert import to_bgr_uint8
from grace_core.sources.types import CaptureLike, Frame, SourceInfo, SourceState

log = logging.getLogger(__name__)

CaptureFactory = Callable[[], CaptureLike]
MAX_SANE_FPS = 1000.0  # OpenCV reports 0, NaN or 90000 (the RTP clock) when a stream does not say


def sane_fps(value: object) -> float | None:
    """A capture's reported fps, or None when it is missing or absurd."""
    try:
        fps = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return fps if math.isfinite(fps) and 0 < fps <= MAX_SANE_FPS else None


def backoff_delays(initial: float = 0.5, maximum: float = 10.0) -> Iterator[float]:
    """Reconnect waits: ``initial``, doubling each time, capped at ``maximum`` (0.5, 1, 2, 4, 8, 10, 10, ...)."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * 2, maximum)


class LiveSource(FrameSource):
    """A camera or stream read by a background thread (see the module doc).

    ``fps``: the expected rate, used for ``info`` and the default ``stale_after`` when the capture reports none.
    ``stale_after``: seconds without a new frame before the state is STALE (default ``max(1.0, 5 / fps)``, 1 s
    when the fps is unknown). Reconnect waits ``backoff_initial`` seconds, doubling up to ``backoff_max``, reset
    after a frame. ``max_reconnects``: give up (FAILED) after that many attempts in a row without a frame (a link
    that drops and recovers is not used up by its drops); None retries forever. ``max_read_failures``: consecutive
    failed reads that count as a lost connection. ``join_timeout``: how long ``close()`` waits for the reader thread.

    A source that has never delivered a frame says "cannot connect" in its log lines and its FAILED error; one that
    had frames and lost them says "connection lost" (``got_frames`` tells the two apart).
    """

    live = True
    hint = "check the device or address, then open the source again"

    def __init__(
        self,
        capture_factory: CaptureFactory,
        *,
        source_id: str = "live",
        description: str | None = None,
        fps: float | None = None,
        stale_after: float | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        max_reconnects: int | None = None,
        max_read_failures: int = 3,
        join_timeout: float = 2.0,
    ) -> None:
        if not 0 < backoff_initial <= backoff_max:
            raise ValueError(f"need 0 < backoff_initial <= backoff_max, got {backoff_initial}, {backoff_max}")
        if max_read_failures < 1:
            raise ValueError(f"max_read_failures must be at least 1, got {max_read_failures}")
        super().__init__(source_id)
        self.description = description or source_id
        self._factory = capture_factory
        self._nominal_fps = fps
        self._reported_fps: float | None = None
        self._stale_after = stale_after
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_reconnects = max_reconnects
        self._max_read_failures = max_read_failures
        self._join_timeout = join_timeout

        self._cond = threading.Condition()
        self._slot: tuple[np.ndarray, float, int] | None = None  # (image, timestamp, index): the one pending frame
        self._phase = SourceState.CONNECTING
        self._size: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._run, name=f"grace-source-reader[{source_id}]", daemon=True)
        self._thread.start()

    # -- consumer side ---------------------------------------------------------------------------------------

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(fps=self.fps, size=self._size, length=None, live=True, description=self.description)

    @property
    def fps(self) -> float | None:
        return self._nominal_fps or self._reported_fps

    @property
    def stale_after(self) -> float:
        if self._stale_after is not None:
            return self._stale_after
        fps = self.fps
        return max(1.0, 5.0 / fps) if fps else 1.0

    @property
    def state(self) -> SourceState:
        phase = self._phase
        if phase is SourceState.LIVE and self.seconds_since_last_frame > self.stale_after:
            return SourceState.STALE
        return phase

    def read(self, timeout: float = 1.0) -> Frame | None:
        """The newest frame not yet returned; None after ``timeout`` s without one (or once closed)."""
        with self._cond:
            self._cond.wait_for(self._readable, max(timeout, 0.0))
            slot = None if self.closed else self._slot
            self._slot = None
            if slot is not None:
                self._counters["delivered"] += 1
        if slot is None:
            self._raise_if_failed()
            return None
        image, timestamp, index = slot
        return Frame(image=image, index=index, timestamp=timestamp, source_id=self.source_id)

    def stats(self) -> dict[str, float]:
        with self._cond:
            return super().stats()

    def _readable(self) -> bool:
        return self._slot is not None or self.closed or self._phase is SourceState.FAILED

    def _release(self) -> None:
        with self._cond:
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(self._join_timeout)
        if self._thread.is_alive():
            # OpenCV cannot interrupt a blocked read(); releasing the capture under it can crash. The daemon
            # thread releases it itself as soon as read() returns.
            log.warning("%s: reader thread still blocked in read() after %.1f s", self.description, self._join_timeout)
        with self._cond:
            self._slot = None
            if self._phase is not SourceState.FAILED:
                self._phase = SourceState.ENDED
            self._cond.notify_all()

    # -- reader thread ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        delays = backoff_delays(self._backoff_initial, self._backoff_max)
        attempts = 0  # reconnect attempts since the last frame: what max_reconnects limits
        while not self.closed:
            if self._session():
                delays = backoff_delays(self._backoff_initial, self._backoff_max)  # a working link resets both
                attempts = 0
            if self.closed:
                break
            if self._max_reconnects is not None and attempts >= self._max_reconnects:
                self._give_up(attempts)
                return
            self._set_phase(SourceState.RECONNECTING)
            if self._closed.wait(next(delays)):
                break
            attempts += 1
            with self._cond:
                self._counters["reconnects"] += 1

    def _session(self) -> bool:
        """Open the capture and read until it fails or the source closes; True if any frame came."""
        capture = self._open()
        if capture is None:
            return False
        try:
            return self._pump(capture)
        finally:
            try:
                capture.release()
            except Exception:  # a broken driver must not kill the reader
                log.debug("%s: release() failed", self.description, exc_info=True)

    def _open(self) -> CaptureLike | None:
        try:
            capture = self._factory()
            if capture.isOpened():
                self._reported_fps = sane_fps(capture.get(cv2.CAP_PROP_FPS)) or self._reported_fps
                return capture
            capture.release()
        except Exception:
            log.debug("%s: opening failed", self.description, exc_info=True)
        if self._phase is SourceState.CONNECTING:  # the first open; a lost link was logged where it was lost
            log.warning("%s: cannot connect; retrying with backoff (%s)", self.description, self.hint)
        return None

    def _pump(self, capture: CaptureLike) -> bool:
        got_frame = False
        failures = 0
        while not self.closed:
            try:
                ok, image = capture.read()
            except Exception:
                log.debug("%s: read() raised", self.description, exc_info=True)
                ok, image = False, None
            if not ok or image is None or image.size == 0:
                failures += 1
                if failures >= self._max_read_failures:
                    if got_frame:
                        log.warning(
                            "%s: connection lost after %d failed reads; reconnecting", self.description, failures
                        )
                    elif self._phase is SourceState.CONNECTING:
                        log.warning(
                            "%s: cannot connect: opened but gives no frames; retrying with backoff", self.description
                        )
                    return got_frame
                continue
            failures = 0
            got_frame = True
            self._publish(to_bgr_uint8(image))
        return got_frame

    def _publish(self, image: np.ndarray) -> None:
        timestamp = time.time()
        size = (int(image.shape[1]), int(image.shape[0]))
        with self._cond:
            if self.closed:
                return
            if self._slot is not None:
                self._counters["dropped"] += 1
            index = self._counters["frames"]
            self._counters["frames"] += 1
            self._slot = (image, timestamp, index)
            self._last_frame_at = time.monotonic()
            previous_size, self._size = self._size, size
            previous, self._phase = self._phase, SourceState.LIVE
            self._cond.notify_all()
        if previous_size is not None and previous_size != size:
            log.info("%s: frame size changed from %s to %s", self.description, previous_size, size)
        if previous is SourceState.RECONNECTING:
            log.info("%s: live again after %d reconnect attempt(s)", self.description, self._counters["reconnects"])

    def _set_phase(self, phase: SourceState) -> None:
        with self._cond:
            if not self.closed:  # once closed the state stays ENDED
                self._phase = phase
                self._cond.notify_all()

    def _give_up(self, attempts: int) -> None:
        waited = self.seconds_since_last_frame
        if self.got_frames:
            what = f"connection lost: no frame for {waited:.1f} s after {self._counters['frames']} frame(s)"
        else:
            what = f"cannot connect: no frame in {waited:.1f} s"
        error = self._fail(f"{self.description}: {what} ({attempts} reconnect attempt(s)); {self.hint}.")
        log.error("%s", error)
        with self._cond:
            self._phase = SourceState.FAILED
            self._cond.notify_all()
