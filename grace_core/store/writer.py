"""``FlaggedFrameWriter``: saves flagged frames on its own thread so the live loop never waits for the disk
(:class:`~grace_core.sinks.background.BackgroundWorker`, the base every output shares).

Drop policy: at most ``max_pending`` frames wait (queued or being written). A frame submitted beyond that is
dropped on the spot, counted, and its reason recorded: a backlog means the disk cannot keep up, and stalling
inspection to save review copies would be the worse failure. Write errors (a full disk, a locked or full
database) are counted, reported through ``on_error`` and never stop the thread; the next frame is tried as usual.
Frames already saved are never touched by a failed write. When it first opens the store, the writer removes the
files an earlier crash left without a row (``ReviewStore.cleanup_orphans``) and counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from grace_core.engine.base import EngineInfo, Prediction
from grace_core.flagging import FlagDecision, Thresholds
from grace_core.sinks.background import CLOSED, QUEUE_FULL, BackgroundWorker
from grace_core.store.review_store import ReviewStore
from grace_core.types import Frame

log = logging.getLogger(__name__)

__all__ = ["CLOSED", "QUEUE_FULL", "FlaggedFrameWriter", "WriterStats"]


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
    station: str | None = None
    coil: str | None = None
    coil_m: float | None = None


class FlaggedFrameWriter(BackgroundWorker[_Job]):
    """Background writer of flagged frames into a :class:`ReviewStore` (a :class:`BackgroundWorker`).

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
        super().__init__("flagged-frame-writer", max_pending=max_pending, on_error=on_error, connect_at_start=True)
        self._factory = store_factory
        self._enforce_quota = enforce_quota
        self._cleanup_pending = cleanup_orphans
        self._evicted = self._orphans_removed = 0
        self._over_quota = False
        self.start()

    def submit(  # type: ignore[override]  (the store's own, more explicit signature)
        self,
        frame: Frame,
        decision: FlagDecision,
        prediction: Prediction,
        engine_info: EngineInfo,
        thresholds: Thresholds,
        station: str | None = None,
        coil: str | None = None,
        coil_m: float | None = None,
    ) -> bool:
        """Queue a flagged frame for saving; returns at once. False when it was dropped (see ``stats()``).
        ``station`` names the station in the frame's row (default: the store's); ``coil`` and ``coil_m`` the coil
        on the line and the metres of it passed at this frame (None: not known)."""
        if not decision.flagged:
            raise ValueError("only flagged frames (defect or uncertain) are saved for review")
        return super().submit(_Job(frame, decision, prediction, engine_info, thresholds, station, coil, coil_m))

    def stats(self) -> WriterStats:
        delivery = self.delivery_stats()
        with self._lock:
            return WriterStats(
                written=delivery.delivered,
                dropped=delivery.dropped,
                errors=delivery.errors,
                pending=delivery.pending,
                evicted=self._evicted,
                drop_reasons=delivery.drop_reasons,
                last_error=delivery.last_error,
                over_quota=self._over_quota,
                orphans_removed=self._orphans_removed,
            )

    def __enter__(self) -> FlaggedFrameWriter:
        return self

    # -- writer thread ------------------------------------------------------------------------------------------

    def _connect(self) -> ReviewStore:
        store = self._factory()
        if self._cleanup_pending:
            self._cleanup_pending = False
            self._cleanup(store)
        return store

    def _disconnect(self, store: ReviewStore) -> None:
        store.close()

    def _transient(self, exc: BaseException) -> bool:
        return False  # a full disk or a locked database: the frame is given up, counted and reported

    def _cleanup(self, store: ReviewStore) -> None:
        """Remove the files a crash left without a row (once, on the first open). Young files are left alone:
        another writer may be about to insert their row."""
        try:
            removed = store.cleanup_orphans()
        except Exception as exc:  # a leftover costs disk space, not correctness: report it, keep writing frames
            log.warning("could not remove leftover files from the review store %s: %s", store.location, exc)
            return
        with self._lock:
            self._orphans_removed += len(removed)
        if removed:
            log.info("removed %d orphan files (crash leftovers without a row) from %s", len(removed), store.location)

    def _deliver(self, store: ReviewStore, job: _Job) -> None:
        store.add_frame(
            job.frame,
            job.decision,
            job.prediction,
            job.engine_info,
            job.thresholds,
            station=job.station,
            coil=job.coil,
            coil_m=job.coil_m,
        )
        if self._enforce_quota:
            report = store.enforce_quota()
            with self._lock:
                self._evicted += len(report.removed)
                self._over_quota = report.over_quota
