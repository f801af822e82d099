"""``BackgroundWorker``: hand items to a slow or unreliable destination without ever making the caller wait.

Every output of inspection — the review store on a disk, a broker on the network, a PLC — can be slow or gone; the
live loop must not notice. One shape serves them all:

* ``submit(item)`` returns at once. At most ``max_pending`` items wait (queued or being delivered); one submitted
  beyond that is **dropped and counted** by reason (``queue_full``, ``closed``).
* One thread delivers in order. It connects lazily (``_connect``), and again after a failure.
* A **transient** failure (``_transient(exc)``: by default a lost connection or a timeout — a broker outage) keeps
  the item and retries it after a backoff that doubles up to ``retry_max`` seconds, so a returning server gets
  everything that waited, in order; items that arrive meanwhile queue up to the bound. Any other failure (a full
  disk, a bad item) is counted, reported through ``on_error``, and the item is given up — a full disk is the same
  failure for the store as a dead broker is for MQTT: counted, visible, never a stall.
* ``close()`` delivers what is pending (within its timeout), disconnects and joins the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

QUEUE_FULL = "queue_full"
CLOSED = "closed"
_STOP = object()
T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryStats:
    """Counters since the worker started."""

    delivered: int
    dropped: int
    errors: int
    pending: int
    connected: bool
    drop_reasons: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    retries: int = 0


class BackgroundWorker(Generic[T]):
    """See the module doc. Subclasses implement ``_deliver(connection, item)`` and, when they connect to something,
    ``_connect() -> connection`` and ``_disconnect(connection)``."""

    def __init__(
        self,
        name: str,
        max_pending: int = 64,
        on_error: Callable[[BaseException], None] | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        connect_at_start: bool = False,
        wait_when_full: bool = False,
    ) -> None:
        """``connect_at_start``: connect as soon as the thread starts (a failure is reported then, and the connection
        tried again with the first item) rather than with the first item. ``wait_when_full``: ``submit`` waits for
        room instead of dropping — for offline inputs (a folder, a video), where every result must be written and
        nothing is lost by going slower; live sources keep the default (drop, count, go on)."""
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.name = name
        self._max_pending = max_pending
        self._on_error = on_error
        self._retry_initial, self._retry_max = retry_initial, retry_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # bounded by _pending
        self._lock = threading.Condition()
        self._pending = 0
        self._closed = False
        self._stopping = threading.Event()
        self._delivered = self._errors = self._retries = 0
        self._drops: Counter[str] = Counter()
        self._last_error: str | None = None
        self._connection: Any = None
        self._connect_at_start = connect_at_start
        self._wait_when_full = wait_when_full
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}", daemon=True)

    def start(self) -> None:
        """Start the delivery thread (subclasses call it at the end of their ``__init__``)."""
        self._thread.start()

    # -- caller side ---------------------------------------------------------------------------------------------

    def submit(self, item: T) -> bool:
        """Queue ``item``; returns at once. False when it was dropped (see :meth:`delivery_stats`)."""
        with self._lock:
            if self._wait_when_full:
                self._lock.wait_for(lambda: self._closed or self._pending < self._max_pending)
            reason = CLOSED if self._closed else QUEUE_FULL if self._pending >= self._max_pending else None
            if reason is not None:
                self._drops[reason] += 1
                return False
            self._pending += 1
            self._queue.put(item)  # under the lock: a concurrent close() cannot put its stop marker before it
        return True

    def delivery_stats(self) -> DeliveryStats:
        with self._lock:
            return DeliveryStats(
                delivered=self._delivered,
                dropped=sum(self._drops.values()),
                errors=self._errors,
                pending=self._pending,
                connected=self._connection is not None,
                drop_reasons=dict(self._drops),
                last_error=self._last_error,
                retries=self._retries,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every accepted item is delivered (or given up); False if ``timeout`` ran out first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Stop accepting items, deliver those pending, disconnect and join the thread; False if it is still busy
        after ``timeout`` seconds (it is a daemon thread: it cannot keep the process alive)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stopping.set()  # give up retrying: the process is going away
        return not self._thread.is_alive()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for subclasses -----------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        """Open the destination (called on the worker thread, lazily and after failures). Default: nothing."""
        return True

    def _deliver(self, connection: Any, item: T) -> None:
        raise NotImplementedError

    def _disconnect(self, connection: Any) -> None:
        """Close the destination (on the worker thread)."""

    def _transient(self, exc: BaseException) -> bool:
        """Whether a failure may pass by itself (keep the item, reconnect, retry)."""
        return isinstance(exc, (ConnectionError, TimeoutError))

    def _delivered_one(self, item: T) -> None:
        """Called after each successful delivery (e.g. to enforce a quota)."""

    # -- worker thread ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        if self._connect_at_start:
            try:
                connection = self._connect()
                with self._lock:
                    self._connection = connection
            except Exception as exc:
                self._failed(exc)
        try:
            while (item := self._queue.get()) is not _STOP:
                try:
                    self._deliver_with_retries(item)
                finally:
                    with self._lock:
                        self._pending -= 1
                        self._lock.notify_all()
        finally:
            self._drop_connection()

    def _deliver_with_retries(self, item: T) -> None:
        delay = self._retry_initial
        while True:
            try:
                if self._connection is None:
                    connection = self._connect()
                    with self._lock:
                        self._connection = connection
                self._deliver(self._connection, item)
            except Exception as exc:  # the thread must outlive any one item: count, report, retry or go on
                self._failed(exc)
                if not self._transient(exc) or self._stopping.is_set():
                    return
                self._drop_connection()
                with self._lock:
                    self._retries += 1
                if self._stopping.wait(delay):
                    return
                delay = min(2 * delay, self._retry_max)
                continue
            with self._lock:
                self._delivered += 1
            self._delivered_one(item)
            return

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                self._disconnect(connection)
            except Exception as exc:
                log.debug("%s: closing failed: %s", self.name, exc)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
        if self._on_error is None:
            log.warning("%s: %s", self.name, exc)
            return
        try:
            self._on_error(exc)
        except Exception:
            log.exception("%s: the on_error callback failed", self.name)
