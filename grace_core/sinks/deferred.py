"""A sink opened on its own thread, for a program that must not wait for its outputs or fail because of them.

``grace detect`` opens its sinks before inspecting and stops on one that cannot open (a port in use is a wrong
argument). The desktop app cannot do either: an OPC UA server takes seconds to start (the window would freeze), and
a sink that cannot open must not keep the line from being inspected. :class:`DeferredSink` opens ``open_sink(spec)``
on a thread of its own; meanwhile it keeps the first records (bounded) and hands them over, in order, once the sink
is open. A sink that fails to open says so in :meth:`stats` (``errors``, ``last_error``, ``connected=False``) and
counts every record it could not take as dropped; inspection goes on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from grace_core.sinks.base import InspectionRecord, Sink, SinkStats
from grace_core.sinks.registry import open_sink
from grace_core.sources.stream import redact_url

log = logging.getLogger(__name__)

MAX_WAITING = 32  # records kept while the sink opens (each holds a frame): beyond this they are dropped, counted


class DeferredSink:
    """``open_sink(spec, **options)`` on a thread (``opener`` for tests); a :class:`~grace_core.sinks.base.Sink`.
    ``close_timeout`` caps how long :meth:`close` lets the sink deliver what is pending (a window that stops
    inspection must not wait 10 s for a broker that is away; what is left is dropped and counted)."""

    def __init__(
        self,
        spec: str,
        opener: Callable[..., Sink] = open_sink,
        max_waiting: int = MAX_WAITING,
        close_timeout: float | None = None,
        **options: Any,
    ) -> None:
        self.spec = str(spec).strip()
        self.close_timeout = close_timeout
        self.name = redact_url(self.spec)
        self._lock = threading.Lock()
        self._waiting: deque[InspectionRecord] = deque()
        self._max_waiting = max_waiting
        self._sink: Sink | None = None
        self._error: str | None = None
        self._dropped = 0  # records this wrapper could not hand over (before opening, or after a failed open)
        self._closing = False
        self._thread = threading.Thread(
            target=self._open, args=(opener, options), name=f"grace-sink-open[{self.name}]", daemon=True
        )
        self._thread.start()

    @property
    def state(self) -> str:
        """``opening``, ``open`` or ``failed``."""
        with self._lock:
            return "open" if self._sink is not None else "failed" if self._error is not None else "opening"

    @property
    def sink(self) -> Sink | None:
        """The sink once it is open (None before, or if it failed)."""
        return self._sink

    def wait_open(self, timeout: float) -> bool:
        """Wait until the sink has opened or failed; True if it is open."""
        self._thread.join(timeout)
        return self._sink is not None

    def submit(self, record: InspectionRecord) -> bool:
        with self._lock:
            sink = self._sink
            if sink is None:
                if self._error is None and not self._closing and len(self._waiting) < self._max_waiting:
                    self._waiting.append(record)
                    return True
                self._dropped += 1
                return False
        return sink.submit(record)

    def stats(self) -> SinkStats:
        with self._lock:
            sink, error, dropped, waiting = self._sink, self._error, self._dropped, len(self._waiting)
        if sink is not None:
            stats = sink.stats()
            return replace(stats, dropped=stats.dropped + dropped, detail={**stats.detail, "state": "open"})
        if error is not None:
            return SinkStats(self.name, 0, dropped, 1, 0, False, error, {"state": "failed"})
        return SinkStats(self.name, 0, dropped, 0, waiting, False, None, {"state": "opening"})

    def close(self, timeout: float = 10.0) -> bool:
        """Close the sink once it has opened (within ``timeout``); one still opening closes itself when it opens."""
        with self._lock:
            self._closing = True
        self._thread.join(timeout)
        with self._lock:
            sink, self._sink = self._sink, None
            self._waiting.clear()
        if sink is None:
            return not self._thread.is_alive()
        return sink.close(timeout if self.close_timeout is None else min(timeout, self.close_timeout))

    def _open(self, opener: Callable[..., Sink], options: dict[str, Any]) -> None:
        try:
            sink = opener(self.spec, **options)
        except Exception as error:  # a port in use, a folder that cannot be made, a missing library: said, not raised
            message = str(error) or type(error).__name__
            log.warning("sink %s cannot be opened: %s; inspection goes on without it", self.name, message)
            with self._lock:
                self._error = message
                self._dropped += len(self._waiting)
                self._waiting.clear()
            return
        with self._lock:
            if self._closing:  # closed while opening: nobody will use it
                closing = True
            else:
                closing = False
                for record in self._waiting:  # in order, before any newer record (submit waits on the lock)
                    sink.submit(record)
                self._waiting.clear()
                self._sink = sink
                self.name = getattr(sink, "name", self.name)
        if closing:
            sink.close()
