"""The review store as a sink: each defect event's best frame, saved once, when the event closes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grace_core.sinks.base import InspectionRecord, SinkStats
from grace_core.store.review_store import ReviewStore
from grace_core.store.writer import FlaggedFrameWriter


class StoreSink:
    """Saves the evidence of every closed event to a :class:`ReviewStore` through a :class:`FlaggedFrameWriter`
    (its own thread, bounded queue, quota). A frame that is the best sighting of several events is saved once."""

    def __init__(self, store_factory: Callable[[], ReviewStore], name: str = "store", **writer_options) -> None:
        self.name = name
        self.writer = FlaggedFrameWriter(store_factory, **writer_options)

    @classmethod
    def at(cls, root: str | Path, **options) -> StoreSink:
        return cls(lambda: ReviewStore.open(Path(root)), name=f"store:{root}", **options)

    def submit(self, record: InspectionRecord) -> bool:
        accepted = True
        saved: set[int] = set()
        for event in record.events.closed:
            evidence = event.evidence  # the FrameResult of the event's best sighting
            if evidence is None or id(evidence) in saved:
                continue
            saved.add(id(evidence))
            accepted &= self.writer.submit(
                evidence.frame, evidence.decision, evidence.prediction, record.model, evidence.thresholds
            )
        return accepted

    def stats(self) -> SinkStats:
        s = self.writer.stats()
        detail = {"evicted": s.evicted, "over_quota": s.over_quota, "orphans_removed": s.orphans_removed}
        return SinkStats(self.name, s.written, s.dropped, s.errors, s.pending, True, s.last_error, detail)

    def close(self, timeout: float = 10.0) -> bool:
        return self.writer.close(timeout)
