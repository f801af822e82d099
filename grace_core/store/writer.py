"""``FlaggedFrameWriter``: saves flagged frames on its own thread so the live loop never waits for the disk.

Drop policy: at most ``max_pending`` frames wait (queued or being written). A frame submitted beyond that is
dropped on the spot, counted, and its reason recorded: a backlog means the disk cannot keep up, and stalling
inspection to save review copies would be the worse failure. Write errors (a full disk, a locked or full
database) are counted, reported through ``on_error`` and never stop the thread; the next frame is tried as usual.
Frames already saved are never touched by a failed write. When it first opens the store, the writer removes the
files an earlier crash left without a row (``ReviewStore.cleanup_orphans``) and counts them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import FlagDecision, Thresholds
from grace_core.store.review_store import ReviewStore
from grace_core.types import Frame

log = logging.getLogger(__name__)

QUEUE_FULL = "queue_full"
CLOSED = "closed"


@dataclass(frozen=True)
class WriterStats:
    """Counters since the writer started. ``drop_reasons`` counts drops by reason (``queue_full``, ``closed``);
    ``orphans_removed`` the crash leftovers removed when the store was opened."""

    written: int
    dropped: int
    errors: int
    pending: int
    evicted: int = 0
    drop_reasons: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    over_quota: bool = False
    orphans_removed: int = 0


@dataclass(frozen=True)
class _Job:
    frame: Frame
    decision: FlagDecision
    prediction: Prediction
    engine_info: EngineInfo
    thresholds: Thresholds


_STOP = object()


class FlaggedFrameWriter:
    """Background writer of flagged frames into a :class:`ReviewStore`.

    ``store_factory`` is called on the writer's thread (SQLite connections belong to their thread), again after
    a failed open when the next frame comes. ``on_error(exc)`` is called on the writer's thread; a GUI must hand
    it over to its own thread. After each write the store's quota is enforced (``enforce_quota=False`` to skip).
    Once the store is open, files older than a minute that no row references are removed (``cleanup_orphans=False``
    to skip). Submitted frames are not copied: do not modify their arrays afterwards.
    """

    def __init__(
        self,
        store_factory: Callable[[], ReviewStore],
        max_pending: int = 32,
        on_error: Callable[[BaseException], None] | None = None,
        enforce_quota: bool = True,
        cleanup_orphans: bool = True,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._factory = store_factory
        self._max_pending = max_pending
        self._on_error = on_error
        self._enforce_quota = enforce_quota
        self._cleanup_pending = cleanup_orphans
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()  # bounded by _pending below
        self._lock = threading.Condition()
        self._pending = 0
        self._closed = False
        self._written = self._errors = self._evicted = self._orphans_removed = 0
        self._drops: Counter[str] = Counter()
        self._last_error: str | None = None
        self._over_quota = False
        self._thread = threading.Thread(target=self._run, name="flagged-frame-writer", daemon=True)
        self._thread.start()

    # -- caller side --------------------------------------------------------------------------------------------

    def submit(
        self,
        frame: Frame,
        decision: FlagDecision,
        prediction: Prediction,
        engine_info: EngineInfo,
        thresholds: Thresholds,
    ) -> bool:
        """Queue a flagged frame for saving; returns at once. False when it was dropped (see ``stats()``)."""
        if not decision.flagged:
            raise ValueError("only flagged frames (defect or uncertain) are saved for review")
        with self._lock:
            reason = CLOSED if self._closed else QUEUE_FULL if self._pending >= self._max_pending else None
            if reason is not None:
                self._drops[reason] += 1
                return False
            self._pending += 1
            # Under the lock, so a concurrent close() cannot slip its stop marker in before this job.
            self._queue.put(_Job(frame, decision, prediction, engine_info, thresholds))
        return True

    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(
                written=self._written,
                dropped=sum(self._drops.values()),
                errors=self._errors,
                pending=self._pending,
                evicted=self._evicted,
                drop_reasons=dict(self._drops),
                last_error=self._last_error,
                over_quota=self._over_quota,
                orphans_removed=self._orphans_removed,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every accepted frame is written (or failed); False if ``timeout`` ran out first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Stop accepting frames, write those pending, close the store and join the thread.

        Returns False if the thread is still writing after ``timeout`` seconds (it is a daemon thread: at worst
        an interrupted write leaves an orphan file, which ``cleanup_orphans`` removes).
        """
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> FlaggedFrameWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writer thread ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        store = self._open()
        try:
            while (job := self._queue.get()) is not _STOP:
                assert isinstance(job, _Job)
                try:
                    store = store or self._open(raise_error=True)
                    self._write(store, job)
                except Exception as exc:  # the thread must outlive any one frame: count, report, go on
                    self._failed(exc)
                finally:
                    with self._lock:
                        self._pending -= 1
                        self._lock.notify_all()
        finally:
            if store is not None:
                store.close()

    def _open(self, raise_error: bool = False) -> ReviewStore | None:
        try:
            store = self._factory()
        except Exception as exc:
            if raise_error:
                raise
            self._failed(exc)  # reported now; retried with the next frame
            return None
        if self._cleanup_pending:
            self._cleanup_pending = False
            self._cleanup(store)
        return store

    def _cleanup(self, store: ReviewStore) -> None:
        """Remove the files a crash left without a row (once, on the first open). Young files are left alone:
        another writer may be about to insert their row."""
        try:
            removed = store.cleanup_orphans()
        except Exception as exc:  # a leftover costs disk space, not correctness: report it, keep writing frames
            log.warning("could not remove leftover files from the review store %s: %s", store.root, exc)
            return
        with self._lock:
            self._orphans_removed += len(removed)
        if removed:
            log.info("removed %d orphan files (crash leftovers without a row) from %s", len(removed), store.root)

    def _write(self, store: ReviewStore, job: _Job) -> None:
        store.add_frame(job.frame, job.decision, job.prediction, job.engine_info, job.thresholds)
        with self._lock:
            self._written += 1
        if self._enforce_quota:
            report = store.enforce_quota()
            with self._lock:
                self._evicted += len(report.removed)
                self._over_quota = report.over_quota

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
        if self._on_error is None:
            log.warning("could not save a flagged frame: %s", exc)
            return
        try:
            self._on_error(exc)
        except Exception:
            log.exception("the writer's on_error callback failed")
