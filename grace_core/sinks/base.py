"""The output side of inspection: what leaves the loop (:class:`InspectionRecord`) and where it goes (``Sink``).

Data flows one way — source → engine → decision → **sinks** — and every output is a sink behind one protocol: the
review store, JSON lines and CSV files, annotated images, the plant's MQTT broker and OPC UA server. A sink takes
records without ever making inspection wait (most are :class:`~grace_core.sinks.background.BackgroundWorker`\\ s),
counts what it delivered and dropped, and closes cleanly. ``open_sink(spec)`` (:mod:`grace_core.sinks.registry`)
makes one from a URL-like spec, as ``open_source`` does for inputs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from grace_core.events import DefectEvent, EventUpdate


@dataclass(frozen=True)
class InspectionContext:
    """Where and what is being inspected: the station, the coil (product) on the line, the source."""

    station: str = "station"
    coil: str | None = None
    source: str = ""  # the source's id (a stream URL without its password)

    def to_record(self) -> dict:
        return {"station": self.station, "coil": self.coil, "source": self.source}


@dataclass(frozen=True)
class InspectionRecord:
    """One inspected frame as it leaves the loop: its result, the events it opened or closed, the model and the
    context. ``result`` is a :class:`~grace_core.inspection.FrameResult`; ``model`` the engine's info."""

    result: Any
    events: EventUpdate
    model: Any
    context: InspectionContext
    time: float = field(default_factory=time.time)

    @property
    def closed_events(self) -> tuple[DefectEvent, ...]:
        return self.events.closed

    @property
    def opened_events(self) -> tuple[DefectEvent, ...]:
        return self.events.opened


@dataclass(frozen=True)
class SinkStats:
    """What a sink did: ``delivered`` records (or messages), ``dropped`` (queue full, closed), ``errors``,
    ``pending``; ``connected`` for sinks that talk to a server; ``detail`` anything specific to the sink."""

    name: str
    delivered: int = 0
    dropped: int = 0
    errors: int = 0
    pending: int = 0
    connected: bool = True
    last_error: str | None = None
    detail: dict = field(default_factory=dict)


class Sink(Protocol):
    """An output of inspection. ``submit`` never blocks; ``close`` delivers what is pending within ``timeout``."""

    name: str

    def submit(self, record: InspectionRecord) -> bool: ...

    def stats(self) -> SinkStats: ...

    def close(self, timeout: float = 10.0) -> bool: ...
