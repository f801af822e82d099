"""The current coil as the live tab follows it: its id, how far along it the line is, and its defect events placed
on it — the data behind the live coil map (Qt-free).

Events arrive with every frame the GUI takes (:class:`~app.workers.inspection.DisplayUpdate` carries the closed
events of the frames the screen skipped too). Only *closed* events are taken: an event is closed exactly once,
whereas it may be open over many frames; the ids taken are remembered as well, so an event delivered twice is
still one dot. Events of another coil (closed after the operator applied a new one, but seen before) belong to
that coil's map, not this one, and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from grace_core.coil_report import CoilDefect, CoilMap, build_coil_map


class CoilTrack:
    """One coil's events; :meth:`reset` when another coil (or a new session, whose positions restart) begins."""

    def __init__(self, coil: str | None = None) -> None:
        self.coil: str | None = coil
        self.position_m: float | None = None  # metres of this coil passed at the newest frame (None: unknown)
        self.defects: list[CoilDefect] = []
        self.unplaced = 0  # events of this coil without a position along it (no strip scale, line speed or encoder)
        self._seen: set[str] = set()

    def reset(self, coil: str | None) -> None:
        self.coil, self.position_m, self.defects, self.unplaced, self._seen = coil or None, None, [], 0, set()

    @property
    def events(self) -> int:
        """Events of this coil taken so far, placed or not."""
        return len(self.defects) + self.unplaced

    def add(self, events: Iterable[Any]) -> int:
        """Take closed :class:`~grace_core.events.DefectEvent` s; returns how many were new events of this coil."""
        added = 0
        for event in events:
            if event.id in self._seen or (event.coil or None) != self.coil:
                continue
            self._seen.add(event.id)
            added += 1
            defect = CoilDefect.from_event(event)
            if defect is None:
                self.unplaced += 1
            else:
                self.defects.append(defect)
        return added

    def coil_map(self, class_names: Sequence[str] | None = None) -> CoilMap:
        """The map so far: as long as the line has gone on this coil (or to its farthest defect)."""
        farthest = max((d.coil_m for d in self.defects), default=0.0)
        length = max(self.position_m or 0.0, farthest)
        return build_coil_map(self.defects, self.coil, length or None, class_names, self.unplaced)

    def describe(self) -> str:
        """E.g. "C4711 · 12.3 m · 17 events (2 not placed)"."""
        parts = [self.coil or "no coil set"]
        if self.position_m is not None:
            parts.append(f"{self.position_m:.1f} m")
        events = f"{self.events} event" + ("" if self.events == 1 else "s")
        if self.unplaced:
            events += f" ({self.unplaced} not placed)"
        parts.append(events)
        return " · ".join(parts)
