"""The review store as a sink: each defect event's best frame, saved once, when the event closes.

``store:FOLDER`` (or ``store:sqlite:///FOLDER``) saves into a local store. ``store:postgresql://user@host:port/db``
saves into the plant's central store through this station's spool (:mod:`grace_core.store.spool`): inspection goes
on while the server is away, and the spooled frames follow, in order, when it is back. Every frame carries the
station's name (``grace detect --station NAME``), and the coil on the line with the metres of it passed at that frame
(``--coil``, ``--line-speed``; docs/coils.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grace_core.sinks.base import InspectionRecord, SinkStats
from grace_core.store.location import parse_location
from grace_core.store.review_store import ReviewStore, default_root
from grace_core.store.spool import Spool
from grace_core.store.writer import FlaggedFrameWriter

FLUSH_ON_CLOSE_S = 5.0  # at the end of a run, how long the spool may keep forwarding before it is left for next time


class StoreSink:
    """Saves the evidence of every closed event to a :class:`ReviewStore` through a :class:`FlaggedFrameWriter`
    (its own thread, bounded queue, quota). A frame that is the best sighting of several events is saved once."""

    def __init__(
        self,
        store_factory: Callable[[], Any],
        name: str = "store",
        spool: Spool | None = None,
        **writer_options: Any,
    ) -> None:
        self.name = name
        self.spool = spool
        self.writer = FlaggedFrameWriter(store_factory, **writer_options)

    @classmethod
    def at(
        cls,
        where: str | Path,
        station: str | None = None,
        spool_dir: str | Path | None = None,
        **options: Any,
    ) -> StoreSink:
        """The sink for ``where``: a folder, ``sqlite:///…`` or ``postgresql://…`` (through a spool in
        ``spool_dir``, default ``user_data_dir()/spool``)."""
        location = parse_location(str(where), default_root())
        if location.is_central:
            spool = Spool(location, Path(spool_dir) if spool_dir is not None else None, station=station)
            return cls(spool.open_store, name=f"store:{location.display()}", spool=spool, **options)
        return cls(lambda: ReviewStore.open(location, station=station), name=f"store:{where}", **options)

    def submit(self, record: InspectionRecord) -> bool:
        accepted = True
        saved: set[int] = set()
        for event in record.events.closed:
            evidence = event.evidence  # the FrameResult of the event's best sighting
            if evidence is None or id(evidence) in saved:
                continue
            saved.add(id(evidence))
            accepted &= self.writer.submit(
                evidence.frame,
                evidence.decision,
                evidence.prediction,
                record.model,
                evidence.thresholds,
                station=record.context.station,
                coil=evidence.coil,
                coil_m=evidence.coil_m,
            )
        return accepted

    def stats(self) -> SinkStats:
        s = self.writer.stats()
        detail: dict[str, Any] = {"evicted": s.evicted, "over_quota": s.over_quota}
        detail["orphans_removed"] = s.orphans_removed
        connected = True
        if self.spool is not None:
            status = self.spool.status()
            connected = status.central_reachable
            detail.update(
                backlog=status.backlog,
                backlog_bytes=status.backlog_bytes,
                forwarded=status.forwarded,
                spool_evicted=status.evicted,
                central_error=status.last_error,
            )
        return SinkStats(self.name, s.written, s.dropped, s.errors, s.pending, connected, s.last_error, detail)

    def close(self, timeout: float = 10.0) -> bool:
        closed = self.writer.close(timeout)
        if self.spool is not None:
            self.spool.flush(min(timeout, FLUSH_ON_CLOSE_S))  # what is left stays spooled for the next start
            closed &= self.spool.close(timeout)
        return closed
