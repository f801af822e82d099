"""What the live tab opens from the plant settings: where flagged frames go, and each session's sinks and coil.

Flagged frames go to the configured review store: a local one directly, a central one (``postgresql://``) through
this station's spool (:mod:`grace_core.store.spool`), so that a dropped network loses nothing and never slows
inspection. The spool lives as long as the link, not one session: its backlog keeps draining while inspection is
stopped. Each session gets the configured sinks, opened on their own threads
(:class:`~grace_core.sinks.deferred.DeferredSink`: an OPC UA server's start never freezes the window, and a sink that
cannot open is a warning, not a stop), the station and source in its context, and the coil reader (the session
follows it and closes it when it ends). Qt-free; the same core functions as ``grace detect``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from app.settings import PlantSettings
from grace_core.plant import COIL_WAIT_S
from grace_core.sinks import InspectionContext
from grace_core.sinks.deferred import DeferredSink
from grace_core.sources import redact_url
from grace_core.store import ReviewStore, StoreLocation, parse_location
from grace_core.store.review_store import DEFAULT_QUOTA_BYTES, default_root
from grace_core.store.spool import Spool, SpoolingStore, SpoolStatus, default_spool_dir

log = logging.getLogger(__name__)

SINK_CLOSE_S = 2.0  # stopping inspection: how long a sink may deliver what is pending (the window waits for it)
SPOOL_FLUSH_ON_CLOSE_S = 3.0  # closing the app: how long the spool may keep forwarding before it waits for next time


class PlantLink:
    """The plant settings made into things to open. ``store_override`` (a folder or URL) replaces the settings'
    store: tests and ``MainWindow(store_root=…)`` use it."""

    coil_wait_s = COIL_WAIT_S  # a session waits this long for the plant's coil id before its first frame

    def __init__(self, settings: PlantSettings, store_override: Path | str | None = None) -> None:
        self.settings = settings
        where = store_override if store_override is not None else (settings.store.strip() or None)
        self.location: StoreLocation = parse_location(where, default_root())
        self.station = settings.station_name()
        self._spool: Spool | None = None
        self._lock = threading.Lock()

    @property
    def central(self) -> bool:
        return self.location.is_central

    @property
    def review_location(self) -> Path | StoreLocation:
        """What the review and training tabs and the audit log open: a local store's folder, or the central store."""
        return self.location.path if self.location.path is not None else self.location

    @property
    def disk_root(self) -> Path:
        """The local folder whose disk use the store quota bounds: the local store, or this station's spool."""
        return self.location.path if self.location.path is not None else default_spool_dir(self.location)

    def open_writer_store(self, quota_bytes: int = DEFAULT_QUOTA_BYTES) -> ReviewStore | SpoolingStore:
        """The flagged-frame writer's store (called on the writer's thread): the local store, or the spool."""
        if not self.central:
            return ReviewStore.open(self.location, quota_bytes=quota_bytes, station=self.station)
        with self._lock:
            if self._spool is None:
                self._spool = Spool(self.location, station=self.station, quota_bytes=quota_bytes)
            spool = self._spool
        spool.quota_bytes = quota_bytes
        return spool.open_store()

    def spool_status(self) -> SpoolStatus | None:
        """The central store's link: its backlog (None for a local store, or before the first flagged frame)."""
        with self._lock:
            spool = self._spool
        return spool.status() if spool is not None else None

    def sinks(self) -> list[DeferredSink]:
        """A new session's sinks, each opening on its own thread (the session closes them when it ends)."""
        return [DeferredSink(spec, close_timeout=SINK_CLOSE_S) for spec in self.settings.sinks]

    def context(self, source: str, coil: str | None = None) -> InspectionContext:
        """A new session's context: this station, the source without its password, the coil on the line."""
        return InspectionContext(station=self.station, coil=coil or None, source=redact_url(str(source)))

    @property
    def coil_from(self) -> str | None:
        """The plant's coil id to follow (a session's ``coil_from``), None when the operator types it."""
        return self.settings.coil_from.strip() or None

    def close(self, flush_s: float = SPOOL_FLUSH_ON_CLOSE_S) -> None:
        """Stop the spool's forwarder after giving it ``flush_s`` to drain (what is left goes at the next start)."""
        with self._lock:
            spool, self._spool = self._spool, None
        if spool is not None:
            if flush_s > 0 and not spool.flush(flush_s):
                log.info("%s", spool.status().describe())
            spool.close()
