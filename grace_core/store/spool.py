"""A station's link to the central store that survives the network: store and forward through a local spool.

Every flagged frame is first saved in a local SQLite store, the **spool** (a folder on this machine, bounded by its
quota), by the writer thread as before: inspection never waits for the network. A forwarder thread then copies the
spooled frames to the central store in the order they were saved, and removes each from the spool once the central
store has committed it. While the server is away, frames pile up in the spool (``status().backlog``) and the
forwarder retries with a growing pause (0.5 s up to 30 s); when it is back, the backlog drains by itself.

No duplicates, even when the connection breaks mid-commit (the station cannot know whether that commit landed): a
frame is keyed by its uid, and the central store ignores a uid it already holds (see
:mod:`grace_core.store.transfer`). A crash between the central commit and the spool's delete only makes the frame
go again, to the same effect.

Bounded: the spool enforces its quota like any local store, removing the **oldest** spooled frames when an outage
outlasts it. Each such frame is lost to the central store; they are counted (``status().evicted``), logged, and
reported to the central store as a ``spool_evicted`` audit event once it is reachable again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grace_core.engine.base import EngineInfo, Prediction
from grace_core.errors import StoreError
from grace_core.flagging import FlagDecision, Thresholds
from grace_core.paths import user_data_dir
from grace_core.store import transfer
from grace_core.store.database import StoreUnavailable
from grace_core.store.location import StoreLocation, parse_location
from grace_core.store.records import QuotaReport
from grace_core.store.review_store import DEFAULT_QUOTA_BYTES, ReviewStore
from grace_core.types import Frame

log = logging.getLogger(__name__)

BATCH = 20  # frames forwarded between two spool deletes
RETRY_INITIAL_S = 0.5
RETRY_MAX_S = 30.0
SPOOL_EVICTED = "spool_evicted"  # central audit action: frames a station's full spool dropped during an outage


TARGET_KEY = "spool_target"  # spool meta: the central store its frames are for


def default_spool_dir(central: StoreLocation | None = None) -> Path:
    """``user_data_dir()/spool/<12 hex>``, one folder per central store (so a spool never sends its frames to
    another store than the one they were meant for); the parent folder without ``central``."""
    root = user_data_dir() / "spool"
    if central is None:
        return root
    return root / hashlib.sha256(central.display().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SpoolStatus:
    """Where the station's frames are. ``backlog``: frames saved here, not yet in the central store (``bytes`` of
    images); ``forwarded`` since start; ``central_reachable``: the last attempt reached the server;
    ``evicted``: frames the full spool had to drop (lost to the central store)."""

    backlog: int
    backlog_bytes: int
    forwarded: int
    central_reachable: bool
    evicted: int
    last_error: str | None
    last_forwarded_at: float | None
    central: str
    spool: str

    def describe(self) -> str:
        """One line for a status bar or a log."""
        where = "reachable" if self.central_reachable else "NOT reachable"
        text = f"central store {self.central} {where}; {self.backlog} frames waiting in the spool"
        if self.evicted:
            text += f"; {self.evicted} frames dropped by the full spool"
        return text


class Spool:
    """Store-and-forward from ``folder`` (a local spool) to the central store at ``central``; thread-safe.

    Give :meth:`open_store` to a :class:`~grace_core.store.writer.FlaggedFrameWriter` (or the store sink) as its
    store factory. :meth:`close` stops the forwarder (what is still spooled stays for the next start).
    """

    def __init__(
        self,
        central: str | StoreLocation,
        folder: Path | None = None,
        station: str | None = None,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        retry_max_s: float = RETRY_MAX_S,
        start: bool = True,
    ) -> None:
        self.central = parse_location(central)
        if not self.central.is_central:
            raise StoreError(f"a spool forwards to a central (postgresql://) store, not to {self.central}")
        self.folder = Path(folder) if folder is not None else default_spool_dir(self.central)
        self.station = station
        self.quota_bytes = quota_bytes
        self.retry_max_s = retry_max_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition(self._lock)
        with self._local() as spool:  # the backlog a previous run left, before any writer adds to it
            self._claim(spool)
            self._backlog = spool.count()
            self._backlog_bytes = spool.usage_bytes()
        self._forwarded = self._evicted = self._evicted_unreported = 0
        self._reachable = False
        self._last_error: str | None = None
        self._last_forwarded_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="spool-forwarder", daemon=True)
        if start:
            self._thread.start()

    # -- the writer's side ----------------------------------------------------------------------------------------

    def open_store(self) -> SpoolingStore:
        """A store for the calling thread (the writer's): frames go into the spool, and the forwarder is woken."""
        return SpoolingStore(self, self._local())

    def _claim(self, spool: ReviewStore) -> None:
        """Record which central store this spool is for; refuse one that holds frames for another."""
        target = self.central.display()
        row = spool.database.execute("SELECT value FROM meta WHERE key = ?", (TARGET_KEY,)).fetchone()
        if row is not None and row[0] != target and spool.count():
            raise StoreError(
                f"the spool {self.folder} holds {spool.count()} frames for the central store {row[0]}, not {target}: "
                "forward them there first (start the station with that store), or give another spool folder"
            )
        if row is None or row[0] != target:
            with spool.database.write() as database:
                database.execute("DELETE FROM meta WHERE key = ?", (TARGET_KEY,))
                database.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (TARGET_KEY, target))

    def _local(self) -> ReviewStore:
        return ReviewStore.open(self.folder, quota_bytes=self.quota_bytes, station=self.station)

    def _added(self, nbytes: int) -> None:
        with self._lock:
            self._backlog += 1
            self._backlog_bytes += nbytes
        self._wake.set()

    def _evicted_frames(self, report: QuotaReport) -> None:
        if not report.removed:
            return
        with self._lock:
            self._backlog = max(0, self._backlog - len(report.removed))
            self._backlog_bytes = max(0, self._backlog_bytes - report.freed_bytes)
            self._evicted += len(report.removed)
            self._evicted_unreported += len(report.removed)
        log.warning(
            "the spool %s is full: dropped the %d oldest frames not yet in the central store %s",
            self.folder, len(report.removed), self.central,
        )  # fmt: skip

    # -- status ---------------------------------------------------------------------------------------------------

    def status(self) -> SpoolStatus:
        with self._lock:
            return SpoolStatus(
                backlog=self._backlog,
                backlog_bytes=self._backlog_bytes,
                forwarded=self._forwarded,
                central_reachable=self._reachable,
                evicted=self._evicted,
                last_error=self._last_error,
                last_forwarded_at=self._last_forwarded_at,
                central=self.central.display(),
                spool=str(self.folder),
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the spool is empty (everything is in the central store); False if ``timeout`` ran out."""
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: self._backlog == 0, timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop forwarding (what is spooled stays there for the next start); False if the thread is still busy."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the forwarder thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        spool: ReviewStore | None = None
        central: ReviewStore | None = None
        delay = RETRY_INITIAL_S
        try:
            while not self._stop.is_set():
                try:
                    spool = spool or self._local()
                    if spool.count() == 0:
                        self._set_backlog(spool)
                        self._wake.wait(1.0)  # new frames wake it at once; the timeout re-checks the spool
                        self._wake.clear()
                        continue
                    central = central or ReviewStore.open(self.central, station=self.station)
                    self._reachable_now(central)
                    moved = self._forward_batch(spool, central)
                    self._set_backlog(spool, forwarded=moved)
                    delay = RETRY_INITIAL_S
                except StoreUnavailable as exc:
                    central = _closed(central)
                    self._failed(exc, reachable=False)
                    self._stop.wait(delay)
                    delay = min(2 * delay, self.retry_max_s)
                except Exception as exc:  # a damaged spool, a refused row...: say so, keep trying
                    central, spool = _closed(central), _closed(spool)
                    self._failed(exc, reachable=self._reachable)
                    self._stop.wait(delay)
                    delay = min(2 * delay, self.retry_max_s)
        finally:
            _closed(central)
            _closed(spool)

    def _forward_batch(self, spool: ReviewStore, central: ReviewStore) -> int:
        """Copy the oldest spooled frames, in order, then delete them from the spool; returns how many."""
        batch = spool.frames_in_order(0, BATCH)
        done: list[int] = []
        classes: dict[str, list[str] | None] = {}
        try:
            present = central.known_uids([record.uid for record in batch])
            for record in batch:
                if record.uid not in present:
                    try:
                        transfer.copy_frame(spool, central, record, classes)
                    except (OSError, AssertionError) as exc:  # evicted meanwhile by the writer's quota pass
                        if spool.frame_by_uid(record.uid) is not None:
                            raise StoreError(f"cannot read spooled frame {record.uid}: {exc}") from exc
                done.append(record.id)
        finally:  # what the central store has committed leaves the spool, even if a later frame failed
            if done:
                spool.delete_frames(done, "system", "forwarded to the central store")
        return len(done)

    def _reachable_now(self, central: ReviewStore) -> None:
        with self._lock:
            self._reachable = True
            unreported, self._evicted_unreported = self._evicted_unreported, 0
        if unreported:
            details = {"station": central.station, "frames": unreported, "spool": str(self.folder)}
            central.record_event("system", SPOOL_EVICTED, details)

    def _set_backlog(self, spool: ReviewStore, forwarded: int = 0) -> None:
        count, nbytes = spool.count(), spool.usage_bytes()
        with self._idle:
            self._backlog, self._backlog_bytes = count, nbytes
            self._forwarded += forwarded
            if forwarded:
                self._last_forwarded_at = time.time()
            self._idle.notify_all()

    def _failed(self, exc: BaseException, reachable: bool) -> None:
        with self._lock:
            first = self._reachable or self._last_error != str(exc)
            self._reachable = reachable
            self._last_error = str(exc)
        if first:
            log.warning("spool %s: %s", self.folder, exc)


def _closed(store: ReviewStore | None) -> None:
    if store is not None:
        try:
            store.close()
        except Exception as exc:  # a broken connection may fail to close: it is gone either way
            log.debug("closing %s failed: %s", store.location, exc)
    return None


class SpoolingStore:
    """What the writer thread gets from :meth:`Spool.open_store`: the local spool, plus waking the forwarder.

    Has the part of :class:`ReviewStore` the writer uses (``add_frame``, ``enforce_quota``, ``cleanup_orphans``,
    ``close``, ``quota_bytes``, ``location``); anything else is the spool store's.
    """

    def __init__(self, spool: Spool, store: ReviewStore) -> None:
        self.spool = spool
        self.store = store

    @property
    def location(self) -> StoreLocation:
        return self.store.location

    @property
    def quota_bytes(self) -> int:
        return self.store.quota_bytes

    @quota_bytes.setter
    def quota_bytes(self, value: int) -> None:  # the live tab changes the quota of its writers' stores
        self.store.quota_bytes = value

    def add_frame(
        self,
        frame: Frame,
        decision: FlagDecision,
        prediction: Prediction,
        engine_info: EngineInfo,
        thresholds: Thresholds,
        source_kind: str | None = None,
        *,
        station: str | None = None,
        uid: str | None = None,
        coil: str | None = None,
        coil_m: float | None = None,
    ) -> int:
        frame_id = self.store.add_frame(
            frame,
            decision,
            prediction,
            engine_info,
            thresholds,
            source_kind,
            station=station,
            uid=uid,
            coil=coil,
            coil_m=coil_m,
        )
        self.spool._added(self.store.frame(frame_id).bytes)
        return frame_id

    def enforce_quota(self) -> QuotaReport:
        report = self.store.enforce_quota()
        self.spool._evicted_frames(report)
        return report

    def cleanup_orphans(self, min_age_s: float = 60.0) -> list[str]:
        return self.store.cleanup_orphans(min_age_s)

    def close(self) -> None:
        self.store.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __enter__(self) -> SpoolingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
